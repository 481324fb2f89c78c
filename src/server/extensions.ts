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
} as const;

/** The extensions this server supports, by name, with their bits. */
export const SUPPORTED_EXTENSIONS: ReadonlyMap<string, number> = new Map([
  ["who", Ext.Who],
  ["joins", Ext.Joins],
  ["to", Ext.To],
  ["reason", Ext.Reason],
  ["unregister", Ext.Unregister],
]);

/** The word that starts a negotiation body. */
export const EXTENSIONS_WORD = "EXTENSIONS";

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
  | "partial";

/** What a body written to `server` asks. */
export type ServerRequest =
  | { kind: "who" }
  | { kind: "extensions"; names: string[]; mask: number }
  | { kind: "other" };

/** Bodies longer than this are neither `who` nor a negotiation: they are not even decoded. */
const LONGEST_REQUEST = 1024;
const utf8 = new TextDecoder();

/**
 * Reads a body written to `server`: `who` (any letter case, spaces around it ignored), or
 * `EXTENSIONS name name…` (the agreed names are the supported ones asked, in the client's order,
 * each once), or anything else.
 */
export function readServerRequest(body: Uint8Array): ServerRequest {
  if (body.length > LONGEST_REQUEST) return { kind: "other" };
  const text = utf8.decode(body).trim();
  if (text.toLowerCase() === "who") return { kind: "who" };
  const words = text.split(/\s+/);
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
