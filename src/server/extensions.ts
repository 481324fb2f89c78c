/**
 * The server's side of the negotiated extensions (PROTOCOL.md, "The server's pseudo-user and
 * negotiated extensions"), as pure functions: which extensions there are and how a user's set is
 * kept (a bit mask), what the pseudo-user `server` reads in a body, and the bytes of every
 * answer and notice that carries extension headers. Nothing here touches a connection.
 *
 * @module
 */
import { encode, ErrorCode, errorMessage, HEADERS, SERVER_NAME } from "../protocol/mod.ts";

/** Bits of a user's negotiated extensions (see {@link Link.ext}). */
export const Ext = {
  /** `who`: the online list after the answer, and `Event: online` as the answer to `who`. */
  Who: 1,
  /** `joins`: `Event: joined` and `Event: left` notices. */
  Joins: 2,
  /** `to`: `To: ALL` on the FORWARD of a broadcast. */
  To: 4,
  /** `reason`: `Reason:` on ERROR 102, `Delivered:` and `Recipients:` on a SEND ALL's answer. */
  Reason: 8,
  /** `unregister`: UNREGISTER is understood (it is, from everyone; listed so a client knows). */
  Unregister: 16,
  /** `identity`: names that belong to their owners (claims after REGISTER). */
  Identity: 32,
  /** `mail`: messages stored for owners who are offline, `Mail:` headers and receipts. */
  Mail: 64,
} as const;

/** The extensions this server supports, by name, with their bits. */
export const SUPPORTED_EXTENSIONS: ReadonlyMap<string, number> = new Map([
  ["who", Ext.Who],
  ["joins", Ext.Joins],
  ["to", Ext.To],
  ["reason", Ext.Reason],
  ["unregister", Ext.Unregister],
  ["identity", Ext.Identity],
  ["mail", Ext.Mail],
]);

/** The word that starts a negotiation body. */
export const EXTENSIONS_WORD = "EXTENSIONS";
/** The body that asks for a challenge (`identity`). */
export const CHALLENGE_WORD = "CHALLENGE";
/** The word that starts a proof or a claim: `IDENTIFY <name> <key> <signature>`. */
export const IDENTIFY_WORD = "IDENTIFY";

/** Why a message was not delivered, as the `Reason:` header says it. */
export type ReasonToken =
  | "offline"
  | "too-large"
  | "queue-full"
  | "busy"
  | "no-ack"
  | "refused"
  | "gone"
  | "shutdown"
  | "partial"
  | "mailbox-full"
  | "mailbox-bytes"
  | "not-stored"
  | "not-owner"
  | "bad-proof"
  | "lookalike";

/** What a body written to `server` asks. */
export type ServerRequest =
  | { kind: "who" }
  | { kind: "challenge" }
  | { kind: "identify"; name: string; key: string; signature: string }
  | { kind: "malformed-identify" }
  | { kind: "extensions"; names: string[]; mask: number }
  | { kind: "other" };

/** Bodies longer than this are neither `who` nor a negotiation: they are not even decoded. */
const LONGEST_REQUEST = 1024;
const utf8 = new TextDecoder();

/**
 * Reads a body written to `server`: `who` (any letter case, spaces around it ignored),
 * `EXTENSIONS name name…` (the agreed names are the supported ones asked, in the client's order,
 * each once), `CHALLENGE`, `IDENTIFY <name> <key> <signature>` (with any other number of words
 * it is `malformed-identify`), or anything else.
 */
export function readServerRequest(body: Uint8Array): ServerRequest {
  if (body.length > LONGEST_REQUEST) return { kind: "other" };
  const text = utf8.decode(body).trim();
  if (text.toLowerCase() === "who") return { kind: "who" };
  const words = text.split(/\s+/);
  if (words[0] === CHALLENGE_WORD && words.length === 1) return { kind: "challenge" };
  if (words[0] === IDENTIFY_WORD) {
    const [, name, key, signature] = words;
    if (words.length !== 4 || !name || !key || !signature) return { kind: "malformed-identify" };
    return { kind: "identify", name, key, signature };
  }
  if (words[0] !== EXTENSIONS_WORD) return { kind: "other" };
  const names: string[] = [];
  let mask = 0;
  for (const word of words.slice(1)) {
    const bit = SUPPORTED_EXTENSIONS.get(word);
    if (bit === undefined || (mask & bit) !== 0) continue;
    mask |= bit;
    names.push(word);
  }
  return { kind: "extensions", names, mask };
}

/**
 * The answer to a negotiation: `SENT <to>` with `Extensions:` (the agreed names, in order) and
 * `Max-body:`. `to` is the recipient as the client wrote it.
 */
export function negotiationAnswer(
  to: string,
  names: readonly string[],
  maxBody: number,
): Uint8Array {
  const agreed = names.length === 0
    ? `${HEADERS.Extensions.name}:`
    : `${HEADERS.Extensions.name}: ${names.join(" ")}`;
  return utf8Encoder.encode(`SENT ${to}\n${agreed}\n${HEADERS.MaxBody.name}: ${maxBody}\n\n`);
}

const utf8Encoder = new TextEncoder();

/** The names in the order the pseudo-user lists them: by letter regardless of case. */
export function sortNames(names: string[]): string[] {
  return names.sort((a, b) => {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The answer to `who` for a base client: `N online: a, b, c`. */
export function whoText(sorted: readonly string[]): string {
  return `${sorted.length} online: ${sorted.join(", ")}`;
}

/** The answer to anything written to `server` that it does not understand. */
export const HELP_TEXT = `Write "who" to see who is online. Messages to "server" reach no one.`;

/** What a notice from `server` says, as its `Event:` header. */
export type NoticeEvent = "online" | "joined" | "left";

/** A FORWARD from `server` with a one-line `text` body and no extension header. */
export function plainNotice(text: string): Uint8Array {
  return encode({ type: "FORWARD", from: SERVER_NAME, body: utf8Encoder.encode(text) });
}

/** A FORWARD from `server` with `Event: <event>` and `text` (names) as its body. */
export function eventNotice(event: NoticeEvent, text: string): Uint8Array {
  return encode({
    type: "FORWARD",
    from: SERVER_NAME,
    body: utf8Encoder.encode(text),
    headers: [[HEADERS.Event.name, event]],
  });
}

/** The FORWARD of a broadcast `body` from `from` with `To: ALL` (for users who asked `to`). */
export function forwardToAll(from: string, body: Uint8Array): Uint8Array {
  return encode({ type: "FORWARD", from, body, headers: [[HEADERS.To.name, "ALL"]] });
}

const reasonCache = new Map<string, Uint8Array>();

/**
 * ERROR 102 with `Reason: <token>` (and `Max-body:` for `too-large`), encoded once per token and
 * limit and never modified.
 */
export function reasonError(token: ReasonToken, maxBody: number): Uint8Array {
  const key = token === "too-large" ? `${token} ${maxBody}` : token;
  let bytes = reasonCache.get(key);
  if (bytes === undefined) {
    const headers: [string, string][] = [[HEADERS.Reason.name, token]];
    if (token === "too-large") headers.push([HEADERS.MaxBody.name, String(maxBody)]);
    bytes = encode({ ...errorMessage(ErrorCode.UnableToSend), headers });
    reasonCache.set(key, bytes);
  }
  return bytes;
}

/**
 * The answer to a SEND ALL for a user who asked `reason`: `SENT ALL` when every one of the
 * `recipients` got it, else ERROR 102 with `Reason: partial`; both with `Delivered:` and
 * `Recipients:`.
 */
export function broadcastReport(delivered: number, recipients: number): Uint8Array {
  const counts: [string, string][] = [
    [HEADERS.Delivered.name, String(delivered)],
    [HEADERS.Recipients.name, String(recipients)],
  ];
  if (delivered === recipients) return encode({ type: "SENT", to: "ALL", headers: counts });
  return encode({
    ...errorMessage(ErrorCode.UnableToSend),
    headers: [[HEADERS.Reason.name, "partial"], ...counts],
  });
}

/** Error messages with `Reason:` and `Limit:`, by token and limit (few: one per flag value). */
const limitCache = new Map<string, Uint8Array>();

/**
 * ERROR 102 with `Reason: <token>` and `Limit: <limit>` (`mail`: the mailbox limit that refused
 * a message), encoded once per token and limit and never modified.
 */
export function limitError(token: "mailbox-full" | "mailbox-bytes", limit: number): Uint8Array {
  const key = `${token} ${limit}`;
  let bytes = limitCache.get(key);
  if (bytes === undefined) {
    bytes = encode({
      ...errorMessage(ErrorCode.UnableToSend),
      headers: [[HEADERS.Reason.name, token], [HEADERS.Limit.name, String(limit)]],
    });
    limitCache.set(key, bytes);
  }
  return bytes;
}

/** `SENT <to>` with `Challenge: <challenge>` (the answer to `CHALLENGE`). */
export function challengeAnswer(to: string, challenge: string): Uint8Array {
  return encode({ type: "SENT", to, headers: [[HEADERS.Challenge.name, challenge]] });
}

/** What an accepted `IDENTIFY` says, as its `Identity:` header. */
export type IdentityState = "owner" | "unclaimed" | "claimed";

/** `SENT <to>` with `Identity: <state>` (the answer to an accepted `IDENTIFY`). */
export function identityAnswer(to: string, state: IdentityState): Uint8Array {
  return encode({ type: "SENT", to, headers: [[HEADERS.Identity.name, state]] });
}

/** `SENT <to>` with `Mail: <id>`: the message was stored for its offline owner (one tick). */
export function mailStoredAnswer(to: string, id: number): Uint8Array {
  return encode({ type: "SENT", to, headers: [[HEADERS.Mail.name, String(id)]] });
}

/** A time as `Sent-at:` writes it: ISO 8601 in UTC with milliseconds. */
export function sentAtText(at: number): string {
  return new Date(at).toISOString();
}

/**
 * The FORWARD of a stored message: with `Mail:` and `Sent-at:` for an owner who agreed `mail`
 * (`headers`), else the plain FORWARD a base client reads.
 */
export function storedForward(
  from: string,
  body: Uint8Array,
  id: number,
  sentAt: number,
  headers: boolean,
): Uint8Array {
  if (!headers) return encode({ type: "FORWARD", from, body });
  return encode({
    type: "FORWARD",
    from,
    body,
    headers: [[HEADERS.Mail.name, String(id)], [HEADERS.SentAt.name, sentAtText(sentAt)]],
  });
}

/** What a receipt says of a stored message (its `Event:`). */
export type ReceiptEventName = "delivered" | "expired" | "refused" | "released";

/**
 * A receipt: `FORWARD server` with `Event:`, `Mail:` and `Sent-at:` of the stored message, whose
 * body is the recipient's name.
 */
export function receiptForward(
  event: ReceiptEventName,
  id: number,
  sentAt: number,
  recipient: string,
): Uint8Array {
  return encode({
    type: "FORWARD",
    from: SERVER_NAME,
    body: utf8Encoder.encode(recipient),
    headers: [
      [HEADERS.Event.name, event],
      [HEADERS.Mail.name, String(id)],
      [HEADERS.SentAt.name, sentAtText(sentAt)],
    ],
  });
}
