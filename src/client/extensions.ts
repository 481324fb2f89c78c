/**
 * The client's side of the negotiated extensions (PROTOCOL.md, "The server's pseudo-user and
 * negotiated extensions"), as pure functions: the probe it sends to `server`, reading the
 * answer, and reading the negotiated header lines on answers and FORWARDs. Only a header of an
 * extension the server agreed to is read; any other is ignored, as the base protocol says.
 *
 * @module
 */
import {
  bodyText,
  BROADCAST,
  type Header,
  HEADERS,
  isReservedName,
  isValidName,
  type Message,
  SERVER_NAME,
} from "../protocol/mod.ts";
import type { ClientEvent } from "./events.ts";

/** The extensions the client asks for unless told otherwise, in the order it asks. */
export const DEFAULT_EXTENSIONS: readonly string[] = Object.freeze([
  "who",
  "joins",
  "to",
  "reason",
  "unregister",
  "identity",
  "mail",
]);

/** The word that starts the probe's body. */
const PROBE_WORD = "EXTENSIONS";

/** What an extension's name may be: one token, so that the probe stays one line. */
const EXTENSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** What a `Reason:` token may be to be passed on (anything else is read as no reason). */
const REASON_TOKEN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A count in a header: decimal digits, no sign, no spaces. */
const COUNT = /^[0-9]{1,15}$/;

/**
 * The extensions to ask for, checked: each one token (letters, digits, `-`, `_`), no repeats.
 * Throws for a name that could not go in the probe's one line.
 */
export function wantedExtensions(names: readonly string[]): string[] {
  for (const name of names) {
    if (!EXTENSION_NAME.test(name)) {
      throw new Error(`Extension name "${name}" is not one word of letters, digits, - or _`);
    }
  }
  return [...new Set(names)];
}

/**
 * True when a session of user `name` asking for `wanted` sends the probe: it asks for
 * something, and the user is not called `server` (in any letter case), since at a base server
 * where that name is free the probe would go to the user itself.
 */
export function sendsProbe(name: string, wanted: readonly string[]): boolean {
  return wanted.length > 0 && !isReservedName(name);
}

/**
 * The probe: a plain `SEND server` whose one-line body asks for `wanted`.
 */
export function probeMessage(wanted: readonly string[]): Message & { type: "SEND" } {
  const body = new TextEncoder().encode([PROBE_WORD, ...wanted].join(" "));
  return { type: "SEND", to: SERVER_NAME, body };
}

/** What the server agreed to: the extensions (in the order asked) and its body limit, if said. */
export interface Agreement {
  /** The extensions the server will use with this user (empty: a base-protocol server). */
  extensions: string[];
  /** The largest body the server accepts, in bytes, when it said. */
  maxBody?: number;
}

/**
 * Reads the answer to the probe. `SENT server` with an `Extensions:` header agrees to those of
 * them that were asked (in the order asked); anything else (ERROR 102 from a base server, or
 * `SENT server` without the header, from a base server where a user called `server` is online)
 * agrees to none.
 */
export function readAgreement(answer: Message, wanted: readonly string[]): Agreement {
  if (answer.type !== "SENT" || !isReservedName(answer.to)) return { extensions: [] };
  const listed = header(answer, HEADERS.Extensions.name);
  if (listed === undefined) return { extensions: [] };
  const names = new Set(listed.split(" ").filter((n) => n !== ""));
  const agreement: Agreement = { extensions: wanted.filter((n) => names.has(n)) };
  const maxBody = count(header(answer, HEADERS.MaxBody.name));
  if (maxBody !== undefined && maxBody > 0) agreement.maxBody = maxBody;
  return agreement;
}

/**
 * The value of the first header line called `name` (in any letter case) on `m`, if any.
 */
export function header(m: Message, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return m.headers?.find(([n]: Header) => n.toLowerCase() === wanted)?.[1];
}

/** A header's value as a count, or undefined when absent or not a plain decimal number. */
function count(value: string | undefined): number | undefined {
  return value !== undefined && COUNT.test(value) ? Number(value) : undefined;
}

/** What the `reason` extension adds to a `sent` or `not-delivered` event. */
export interface AnswerDetails {
  /** Why the message was not delivered (the `Reason:` token), on ERROR. */
  reason?: string;
  /** The server's body limit (with `Reason: too-large`). */
  maxBody?: number;
  /** How many recipients of a broadcast got it. */
  delivered?: number;
  /** How many other users were online to get a broadcast. */
  recipients?: number;
  /** With `mail`: the message was stored for its offline recipient as this mail id (on SENT). */
  mail?: number;
  /** The mailbox limit that refused the message (`Limit:`, with `mailbox-full`/`-bytes`). */
  limit?: number;
}

/**
 * The details the answer `m` (SENT or ERROR) gives about a message under the extensions
 * `agreed`: none unless `reason` was agreed. `Delivered:` and `Recipients:` count only together.
 */
export function answerDetails(m: Message, agreed: ReadonlySet<string>): AnswerDetails {
  if (m.headers === undefined) return {};
  const details: AnswerDetails = {};
  if (agreed.has("mail") && m.type === "SENT" && !isReservedName(m.to)) {
    const mail = count(header(m, HEADERS.Mail.name));
    if (mail !== undefined) details.mail = mail;
  }
  if (!agreed.has("reason")) return details;
  if (m.type === "ERROR") {
    const reason = header(m, HEADERS.Reason.name);
    if (reason !== undefined && REASON_TOKEN.test(reason)) details.reason = reason;
    const maxBody = count(header(m, HEADERS.MaxBody.name));
    if (maxBody !== undefined && maxBody > 0) details.maxBody = maxBody;
    const limit = count(header(m, HEADERS.Limit.name));
    if (limit !== undefined && agreed.has("mail")) details.limit = limit;
  }
  const delivered = count(header(m, HEADERS.Delivered.name));
  const recipients = count(header(m, HEADERS.Recipients.name));
  if (delivered !== undefined && recipients !== undefined && delivered <= recipients) {
    details.delivered = delivered;
    details.recipients = recipients;
  }
  return details;
}

/** The events a FORWARD can become. */
export type IncomingEvent = Extract<
  ClientEvent,
  { type: "message" | "online" | "user-joined" | "user-left" | "receipt" }
>;

/** The `Event:` of a receipt (PROTOCOL.md, "Mail for offline users"). */
const RECEIPTS: ReadonlySet<string> = new Set(["delivered", "expired", "refused", "released"]);

/** The `Mail:` id and `Sent-at:` time (ms since the epoch) on `m`, when both are there. */
function mailHeaders(m: Message): { mail: number; sentAt: number } | undefined {
  const mail = count(header(m, HEADERS.Mail.name));
  const at = header(m, HEADERS.SentAt.name);
  const sentAt = at !== undefined && /^\d{4}-\d\d-\d\dT/.test(at) ? Date.parse(at) : NaN;
  return mail === undefined || Number.isNaN(sentAt) ? undefined : { mail, sentAt };
}

/** The receipt that the FORWARD `m` from `server` is (with `mail` agreed), or null. */
function readReceipt(m: Message & { type: "FORWARD" }, text: string): IncomingEvent | null {
  const event = header(m, HEADERS.Event.name)?.toLowerCase();
  if (event === undefined || !RECEIPTS.has(event) || !isValidName(text)) return null;
  const stamp = mailHeaders(m);
  if (stamp === undefined) return null;
  const kind = event as "delivered" | "expired" | "refused" | "released";
  return { type: "receipt", mail: stamp.mail, to: text, event: kind, sentAt: stamp.sentAt };
}

/**
 * What the FORWARD `m` tells the user under the extensions `agreed`: a notice from `server`
 * (`Event: online` with `who` or `joins`, `joined` or `left` with `joins`), or a message (marked `toAll`
 * when `to` was agreed and it says `To: ALL`). A FORWARD from `server` that is no notice is an
 * ordinary message from "server" (such as its answer to `who` from a base client's point of view).
 */
export function readForward(
  m: Message & { type: "FORWARD" },
  agreed: ReadonlySet<string>,
): IncomingEvent {
  const text = bodyText(m.body);
  if (m.from === SERVER_NAME && m.headers !== undefined) {
    const notice = readNotice(header(m, HEADERS.Event.name), text, agreed) ??
      (agreed.has("mail") ? readReceipt(m, text) : null);
    if (notice !== null) return notice;
  }
  const message: IncomingEvent = { type: "message", from: m.from, text };
  if (agreed.has("to") && header(m, HEADERS.To.name)?.toUpperCase() === BROADCAST) {
    message.toAll = true;
  }
  const stamp = agreed.has("mail") && m.headers !== undefined ? mailHeaders(m) : undefined;
  if (stamp !== undefined) {
    message.mail = stamp.mail;
    message.sentAt = stamp.sentAt;
  }
  return message;
}

/** The notice `event` from `server` with body `text`, or null if it is none the client knows. */
function readNotice(
  event: string | undefined,
  text: string,
  agreed: ReadonlySet<string>,
): IncomingEvent | null {
  switch (event?.toLowerCase()) {
    case "online": {
      // With `joins` too: an online list replaces the joined and left notices the server could
      // not send (PROTOCOL.md, "Notices").
      if (!agreed.has("who") && !agreed.has("joins")) return null;
      const names = text.split(" ").filter((n) => n !== "");
      return names.every(isValidName) ? { type: "online", names } : null;
    }
    case "joined":
      return agreed.has("joins") && isValidName(text) ? { type: "user-joined", name: text } : null;
    case "left":
      return agreed.has("joins") && isValidName(text) ? { type: "user-left", name: text } : null;
    default:
      return null;
  }
}
