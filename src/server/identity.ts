/**
 * Names that belong to their owners (PROTOCOL.md, "Owned names"): `CHALLENGE` and
 * `IDENTIFY <name> <key> <signature>` written to `server`, before REGISTER (a proof for this
 * connection and name) or after it (a claim of the name, with `identity` agreed), and the rule
 * REGISTER keeps: an owned name, or any lookalike of one, only on a connection proven for
 * exactly that name.
 *
 * Signatures are checked with WebCrypto Ed25519, which answers later: each answer goes in the
 * SEND's reserved slot, so answers stay in request order. Nothing a client writes can make a
 * check throw out of the router: a malformed key or signature is `bad-proof`.
 *
 * @module
 */
import { isReservedName, isValidName, nameKey } from "../protocol/mod.ts";
import {
  challengeAnswer,
  Ext,
  identityAnswer,
  reasonError,
  type ReasonToken,
} from "./extensions.ts";
import type { Link, Slot } from "./link.ts";
import type { Router } from "./router.ts";

const CHALLENGE_BYTES = new TextEncoder().encode("CHALLENGE");
const IDENTIFY_BYTES = new TextEncoder().encode("IDENTIFY ");

/**
 * True when a SEND to `to` with `body` is `CHALLENGE` or `IDENTIFY …` written to `server`:
 * checked on the bytes, without decoding, for the rate limit's exemption.
 */
export function isIdentityRequest(to: string, body: Uint8Array): boolean {
  if (to.length !== 6 || !isReservedName(to)) return false;
  const word = body[0] === 0x43 ? CHALLENGE_BYTES : body[0] === 0x49 ? IDENTIFY_BYTES : null;
  if (word === null || body.length < word.length || body.length > 1024) return false;
  for (let i = 0; i < word.length; i++) if (body[i] !== word[i]) return false;
  return word === IDENTIFY_BYTES || body.length === word.length;
}

/** The text a proof signs, before the challenge and the name. */
export const PROOF_CONTEXT = "chat-identity-1";

/** A public key in base64: 32 bytes, 44 characters with its padding. */
const KEY_TEXT = /^[A-Za-z0-9+/]{43}=$/;
/** A signature in base64: 64 bytes, 88 characters with its padding. */
const SIGNATURE_TEXT = /^[A-Za-z0-9+/]{86}==$/;

/** A 32-byte encoding of 0xff bytes between `first` and a last byte 0x7f. */
function highEncoding(first: number): number[] {
  return [first, ...new Array<number>(30).fill(0xff), 0x7f];
}

/**
 * Encodings of the Ed25519 points of small order (libsodium's list; the sign bit is ignored).
 * WebCrypto accepts such a public key, and with it signatures that verify for many messages
 * without any private key (measured here: the all-zero key and the all-zero signature verify).
 * A key that is one of them proves nothing.
 */
const SMALL_ORDER: readonly (readonly number[])[] = [
  new Array<number>(32).fill(0),
  [1, ...new Array<number>(31).fill(0)],
  [
    0x26,
    0xe8,
    0x95,
    0x8f,
    0xc2,
    0xb2,
    0x27,
    0xb0,
    0x45,
    0xc3,
    0xf4,
    0x89,
    0xf2,
    0xef,
    0x98,
    0xf0,
    0xd5,
    0xdf,
    0xac,
    0x05,
    0xd3,
    0xc6,
    0x33,
    0x39,
    0xb1,
    0x38,
    0x02,
    0x88,
    0x6d,
    0x53,
    0xfc,
    0x05,
  ],
  [
    0xc7,
    0x17,
    0x6a,
    0x70,
    0x3d,
    0x4d,
    0xd8,
    0x4f,
    0xba,
    0x3c,
    0x0b,
    0x76,
    0x0d,
    0x10,
    0x67,
    0x0f,
    0x2a,
    0x20,
    0x53,
    0xfa,
    0x2c,
    0x39,
    0xcc,
    0xc6,
    0x4e,
    0xc7,
    0xfd,
    0x77,
    0x92,
    0xac,
    0x03,
    0x7a,
  ],
  highEncoding(0xec),
  highEncoding(0xed),
  highEncoding(0xee),
];

/** True when `key` encodes a point of small order: a key anyone can "sign" for. */
export function isSmallOrderKey(key: Uint8Array): boolean {
  return key.length === 32 &&
    SMALL_ORDER.some((point) => point.every((b, i) => (i === 31 ? key[i]! & 0x7f : key[i]) === b));
}

/** Bytes from base64 already checked against one of the patterns above. */
function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** `bytes` in base64 (standard alphabet, with padding). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The bytes a proof for `name` answering `challenge` signs. */
export function proofBytes(challenge: string, name: string): Uint8Array {
  return new TextEncoder().encode(`${PROOF_CONTEXT} ${challenge} ${name}`);
}

/** True when `a` and `b` hold the same bytes. */
export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * True when `signature` is `key`'s Ed25519 signature of `message`; false for a signature that
 * does not verify and for a key WebCrypto refuses (it never throws).
 */
export async function verifyProof(
  key: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  try {
    const raw = key as Uint8Array<ArrayBuffer>;
    const k = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    const sig = signature as Uint8Array<ArrayBuffer>;
    return await crypto.subtle.verify(
      { name: "Ed25519" },
      k,
      sig,
      message as Uint8Array<ArrayBuffer>,
    );
  } catch {
    return false;
  }
}

/** Answers `CHALLENGE` in `slot`: a fresh challenge for `link`, replacing any earlier one. */
export function answerChallenge(router: Router, link: Link, to: string, slot: Slot): void {
  const random = crypto.getRandomValues(new Uint8Array(32));
  const challenge = link.challenge = toBase64(random);
  router.answerSend(link, slot, challengeAnswer(to, challenge));
}

/** What an `IDENTIFY` body says. */
export interface IdentifyRequest {
  /** The name proven or claimed. */
  readonly name: string;
  /** The public key, in base64. */
  readonly key: string;
  /** The signature, in base64. */
  readonly signature: string;
}

/**
 * Answers `IDENTIFY` (`request`, or null when the body was malformed) in `slot`: before
 * REGISTER a proof for `link`, after it a claim of the name. The challenge is used up either way.
 */
export function answerIdentify(
  router: Router,
  link: Link,
  to: string,
  request: IdentifyRequest | null,
  slot: Slot,
): void {
  const challenge = link.challenge;
  link.challenge = null;
  const name = request?.name ?? "?";
  const fail = (token: ReasonToken, why: string) => {
    router.log({ event: "identity", remote: link.endpoint.remote, name, outcome: why });
    router.answerSend(link, slot, reasonError(token, router.options.maxBodyBytes));
  };
  if (request === null) return fail("bad-proof", "refused: the IDENTIFY body is malformed");
  if (challenge === null) {
    return fail("bad-proof", "refused: no challenge was asked on this connection, or it was used");
  }
  if (!isValidName(name) || !KEY_TEXT.test(request.key)) {
    return fail("bad-proof", "refused: the name or the key is malformed");
  }
  if (!SIGNATURE_TEXT.test(request.signature)) {
    return fail("bad-proof", "refused: the signature is malformed");
  }
  const user = link.user;
  if (user !== null) {
    if (!link.has("TOSEND") || user.name !== name) {
      return fail("bad-proof", `refused: a claim goes on the TOSEND connection of "${name}"`);
    }
    if ((link.ext & Ext.Identity) === 0) {
      return fail("bad-proof", "refused: a claim needs the identity extension agreed first");
    }
  }
  const key = fromBase64(request.key);
  if (isSmallOrderKey(key)) return fail("bad-proof", "refused: the key is a point of small order");
  const signature = fromBase64(request.signature);
  verifyProof(key, signature, proofBytes(challenge, name)).then((ok) => {
    if (!ok) return fail("bad-proof", "refused: the signature does not verify");
    if (user === null) return proven(router, link, to, name, key, slot, fail);
    if (link.user !== user) return fail("bad-proof", "refused: the user left before its claim");
    claim(router, link, to, name, key, slot, fail);
  });
}

/** The signature verified before REGISTER: `link` is proven for `name` if `key` owns it. */
function proven(
  router: Router,
  link: Link,
  to: string,
  name: string,
  key: Uint8Array,
  slot: Slot,
  fail: (token: ReasonToken, why: string) => void,
): void {
  const owner = router.data.owner(name);
  if (owner !== undefined && (owner.name !== name || !sameKey(owner.key, key))) {
    return fail(
      "not-owner",
      owner.name === name
        ? `refused: "${name}" belongs to another key`
        : `refused: "${name}" looks like "${owner.name}", which is owned`,
    );
  }
  link.proven = { name, key };
  const state = owner === undefined ? "unclaimed" : "owner";
  router.log({
    event: "identity",
    remote: link.endpoint.remote,
    name,
    outcome: `proven (${state})`,
  });
  router.answerSend(link, slot, identityAnswer(to, state));
}

/** The signature verified after REGISTER: claims `name` for `key`, once durable. */
function claim(
  router: Router,
  link: Link,
  to: string,
  name: string,
  key: Uint8Array,
  slot: Slot,
  fail: (token: ReasonToken, why: string) => void,
): void {
  const owner = router.data.owner(name);
  if (owner !== undefined) {
    if (owner.name === name && sameKey(owner.key, key)) {
      link.proven = { name, key };
      return router.answerSend(link, slot, identityAnswer(to, "owner"));
    }
    return fail("not-owner", `refused: "${name}" (or a name like it) belongs to another key`);
  }
  const k = nameKey(name);
  const alike = lookalikeOnline(router, name, k);
  if (alike !== undefined || router.claiming.has(k)) {
    const who = alike === undefined ? "another user claiming it now" : `"${alike}"`;
    return fail("lookalike", `claim refused: ${who} looks the same and is registered`);
  }
  router.claiming.add(k);
  router.data.claim(name, key, router.wall.now()).then(
    () => {
      router.claiming.delete(k);
      link.proven = { name, key };
      router.log({ event: "identity", remote: link.endpoint.remote, name, outcome: "claimed" });
      router.answerSend(link, slot, identityAnswer(to, "claimed"));
    },
    (error) => {
      router.claiming.delete(k);
      const why = error instanceof Error ? error.message : String(error);
      if (router.data.owner(name) !== undefined) return fail("not-owner", `claim refused: ${why}`);
      fail("not-stored", `claim not stored: ${why}`);
    },
  );
}

/** The name of another registered user whose name has the ownership key `k`, if any. */
function lookalikeOnline(router: Router, name: string, k: string): string | undefined {
  for (const u of router.directory.users()) {
    if (u.name !== name && nameKey(u.name) === k) return u.name;
  }
  return undefined;
}

/**
 * Why REGISTER of `name` on `link` is refused for ownership (`ERROR 104`), or null: an owned
 * name, or a lookalike of one, on a connection not proven for exactly that name and key.
 */
export function ownershipRefusal(router: Router, link: Link, name: string): string | null {
  const owner = router.data.owner(name);
  if (owner === undefined) return null;
  if (owner.name !== name) return `"${name}" looks like "${owner.name}", which belongs to a key`;
  const p = link.proven;
  if (p === null || p.name !== name || !sameKey(p.key, owner.key)) {
    return `"${name}" belongs to a key, and this connection did not prove it holds it`;
  }
  return null;
}
