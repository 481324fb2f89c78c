/**
 * A user's identity on a server (PROTOCOL.md, "Owned names"): an Ed25519 key pair made and used
 * with WebCrypto alone, written as base64 (the public key as its 32 raw bytes, the private key
 * as PKCS #8), and the proof the client sends: a signature over `chat-identity-1 <challenge>
 * <name>`. No runtime API: it runs in a browser too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   type ClientKey,
 *   fromBase64,
 *   generateClientKey,
 *   identifyBody,
 *   importClientKey,
 *   proofText,
 *   signChallenge,
 *   toBase64,
 *   verifyProof,
 * } from "./identity.ts";
 *
 * const key: ClientKey = await generateClientKey();
 * assert.equal(key.publicKey.length, 44);
 * const again = await importClientKey(key.publicKey, key.privateKey);
 * const signature = await signChallenge(again, "c2FsdA==", "alice");
 * assert.ok(await verifyProof(key.publicKey, proofText("c2FsdA==", "alice"), signature));
 * assert.equal(fromBase64(signature).length, 64);
 * assert.equal(toBase64(new Uint8Array([1, 2])), "AQI=");
 * assert.match(await identifyBody(key, "c2FsdA==", "alice"), /^IDENTIFY alice \S{44} \S{88}$/);
 * ```
 *
 * @module
 */

const ALGORITHM = "Ed25519";
const encoder = new TextEncoder();

/** A key pair for one name on one server, ready to sign. */
export interface ClientKey {
  /** The public key: its 32 raw bytes in base64 (44 characters). */
  readonly publicKey: string;
  /** The private key: PKCS #8 in base64 (what the identity file keeps). */
  readonly privateKey: string;
  /** The private key, imported for signing. */
  readonly signingKey: CryptoKey;
}

/** Standard base64 (with padding) of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

/** The bytes of standard base64 `text`; throws on anything else. */
export function fromBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error("not base64");
  }
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** Makes a new key pair. */
export async function generateClientKey(): Promise<ClientKey> {
  const pair = await crypto.subtle.generateKey(ALGORITHM, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { publicKey: toBase64(raw), privateKey: toBase64(pkcs8), signingKey: pair.privateKey };
}

/**
 * The key pair written as `publicKey` (raw, base64) and `privateKey` (PKCS #8, base64). Throws
 * an Error saying which part is wrong when either cannot be read, or when they are not one pair
 * (a signature of the private key does not verify with the public key).
 */
export async function importClientKey(publicKey: string, privateKey: string): Promise<ClientKey> {
  let raw: Uint8Array;
  try {
    raw = fromBase64(publicKey);
    if (raw.length !== 32) throw new Error("not 32 bytes");
  } catch {
    throw new Error("its public key is not 32 bytes in base64");
  }
  let signingKey: CryptoKey;
  try {
    signingKey = await crypto.subtle.importKey(
      "pkcs8",
      fromBase64(privateKey) as Uint8Array<ArrayBuffer>,
      ALGORITHM,
      true,
      ["sign"],
    );
  } catch {
    throw new Error("its private key is not an Ed25519 key in PKCS #8 and base64");
  }
  const key: ClientKey = { publicKey, privateKey, signingKey };
  const probe = "chat-identity-1 check";
  const signature = await sign(key, probe);
  if (!(await verifyProof(publicKey, probe, signature))) {
    throw new Error("its public key does not belong to its private key");
  }
  return key;
}

/** The text a proof signs: `chat-identity-1 <challenge> <name>`. */
export function proofText(challenge: string, name: string): string {
  return `chat-identity-1 ${challenge} ${name}`;
}

async function sign(key: ClientKey, text: string): Promise<string> {
  const signature = await crypto.subtle.sign(ALGORITHM, key.signingKey, encoder.encode(text));
  return toBase64(new Uint8Array(signature));
}

/** The signature (base64, 88 characters) of `key` over the proof for `challenge` and `name`. */
export function signChallenge(key: ClientKey, challenge: string, name: string): Promise<string> {
  return sign(key, proofText(challenge, name));
}

/** The body of the `IDENTIFY` message that proves `key` for `name` against `challenge`. */
export async function identifyBody(
  key: ClientKey,
  challenge: string,
  name: string,
): Promise<string> {
  return `IDENTIFY ${name} ${key.publicKey} ${await signChallenge(key, challenge, name)}`;
}

/** True if `signature` (base64) by `publicKey` (raw, base64) verifies over `text`. */
export async function verifyProof(
  publicKey: string,
  text: string,
  signature: string,
): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey(
      "raw",
      fromBase64(publicKey) as Uint8Array<ArrayBuffer>,
      ALGORITHM,
      false,
      ["verify"],
    );
    return await crypto.subtle.verify(
      ALGORITHM,
      key,
      fromBase64(signature) as Uint8Array<ArrayBuffer>,
      encoder.encode(text),
    );
  } catch {
    return false;
  }
}
