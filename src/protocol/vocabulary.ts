/**
 * The protocol's vocabulary in one place: its verbs, its error codes with their canonical texts,
 * and its header names. The decoder, the encoder, {@link ErrorCode} and {@link ERROR_TEXT} all
 * derive from these tables, and PROTOCOL.md's "Extension registry" mirrors their extension part
 * (a test keeps the two in step).
 *
 * Every entry has an {@link Origin}: `"base"` for the classic protocol, `"extension"` for ours
 * that a base-protocol peer can meet safely (an error code it reads as an error; an answer only a
 * peer that used the extension gets), `"negotiated"` for ours that may flow only on connections
 * whose other end has shown, by a base-protocol exchange, that it understands them.
 *
 * @module
 */
import type { MessageType } from "./message.ts";

/**
 * Where a vocabulary entry comes from: the classic protocol (`"base"`), our extension that base
 * peers may meet safely (`"extension"`), or our extension that flows only after both ends have
 * shown they understand it (`"negotiated"`).
 */
export type Origin = "base" | "extension" | "negotiated";

/** What the vocabulary says about one verb. */
export interface VerbSpec {
  /** True when the message carries `Content-length` and a body. */
  readonly body: boolean;
  /** Which end writes this verb: a client, a server, or either (ERROR). */
  readonly sentBy: "client" | "server" | "both";
  /** Where the verb comes from. */
  readonly origin: Origin;
}

/**
 * Every verb the protocol has. `Message["type"]` is exactly this table's keys (checked by the
 * compiler), so a verb is added here and in `Message` together.
 */
export const VERBS = {
  REGISTER: { body: false, sentBy: "client", origin: "base" },
  REGISTERED: { body: false, sentBy: "server", origin: "base" },
  SEND: { body: true, sentBy: "client", origin: "base" },
  SENT: { body: false, sentBy: "server", origin: "base" },
  FORWARD: { body: true, sentBy: "server", origin: "base" },
  RECEIVED: { body: false, sentBy: "client", origin: "base" },
  ERROR: { body: false, sentBy: "both", origin: "base" },
  UNREGISTER: { body: false, sentBy: "client", origin: "extension" },
  UNREGISTERED: { body: false, sentBy: "server", origin: "extension" },
} as const satisfies Readonly<Record<MessageType, VerbSpec>>;

/** A verb of the protocol, such as `"SEND"`. */
export type Verb = keyof typeof VERBS;

/** What the vocabulary says about one error code. */
export interface ErrorSpec {
  /** The number on the wire. */
  readonly code: number;
  /** The canonical text the encoder writes after the code (readers accept any text). */
  readonly text: string;
  /** Where the code comes from. */
  readonly origin: Origin;
}

/** Every error code, by the name {@link ErrorCode} gives it. */
export const ERRORS = {
  /** The username is not letters and digits only, or is `ALL`. */
  MalformedUsername: { code: 100, text: "Malformed username", origin: "base" },
  /** Something other than REGISTER arrived before the connection was registered. */
  NoUserRegistered: { code: 101, text: "No user registered", origin: "base" },
  /** The message could not be delivered (no such user, or no acknowledgement). */
  UnableToSend: { code: 102, text: "Unable to send", origin: "base" },
  /** The header could not be parsed; the sender closes the connection after this. */
  HeaderIncomplete: { code: 103, text: "Header incomplete", origin: "base" },
  /** That half of that username is already registered by another connection. */
  UsernameTaken: { code: 104, text: "Username taken", origin: "extension" },
  /** The server has too many connections (in all, or from this address). */
  TooManyConnections: { code: 105, text: "Too many connections", origin: "extension" },
  /** The sender is over its message rate limit; this message was not sent. */
  RateLimited: { code: 106, text: "Rate limit exceeded", origin: "extension" },
} as const satisfies Readonly<Record<string, ErrorSpec>>;

/** What the vocabulary says about one header name. */
export interface HeaderSpec {
  /** The name exactly as written on the wire (readers accept any letter case). */
  readonly name: string;
  /** Where the header comes from. */
  readonly origin: Origin;
}

/**
 * Every header name the protocol gives a meaning. Header lines with other names are kept on the
 * message as they came (see `Message.headers`); negotiated ones are added here when they exist.
 */
export const HEADERS = {
  /** The body's length in bytes, on SEND and FORWARD. */
  ContentLength: { name: "Content-length", origin: "base" },
  /** On `SENT server`: the extensions the server will use with this user (PROTOCOL.md). */
  Extensions: { name: "Extensions", origin: "negotiated" },
  /** On `SENT server`, and on ERROR 102 for a body too large: the largest body the server takes. */
  MaxBody: { name: "Max-body", origin: "negotiated" },
  /** On a FORWARD from `server`: what the notice is (`online`, `joined`, `left`). */
  Event: { name: "Event", origin: "negotiated" },
  /** On a FORWARD of a broadcast: `ALL`. */
  To: { name: "To", origin: "negotiated" },
  /** On ERROR 102: why the message was not delivered, as one token. */
  Reason: { name: "Reason", origin: "negotiated" },
  /** On the answer to `SEND ALL`: how many recipients acknowledged it. */
  Delivered: { name: "Delivered", origin: "negotiated" },
  /** On the answer to `SEND ALL`: how many other users were online to get it. */
  Recipients: { name: "Recipients", origin: "negotiated" },
  /** On `SENT server`, in answer to `CHALLENGE`: a fresh challenge to sign (base64). */
  Challenge: { name: "Challenge", origin: "negotiated" },
  /** On `SENT server`, in answer to `IDENTIFY`: `owner`, `unclaimed` or `claimed`. */
  Identity: { name: "Identity", origin: "negotiated" },
  /** With `mail`: the stored message's id, on `SENT`, on its `FORWARD`, and on its receipt. */
  Mail: { name: "Mail", origin: "negotiated" },
  /** With `mail`: when a stored message was stored (ISO 8601, UTC), on its FORWARD and receipt. */
  SentAt: { name: "Sent-at", origin: "negotiated" },
  /** With `mail`: the mailbox limit that refused a message (ERROR 102, `mailbox-…`). */
  Limit: { name: "Limit", origin: "negotiated" },
} as const satisfies Readonly<Record<string, HeaderSpec>>;

/** The name of an error code, such as `"UnableToSend"`: a key of {@link ERRORS}. */
export type ErrorName = keyof typeof ERRORS;

/**
 * Error codes by name: the base protocol's (100–103) and our extensions' (104 and up), such as
 * `ErrorCode.UnableToSend` (102).
 */
export const ErrorCode: { readonly [K in ErrorName]: (typeof ERRORS)[K]["code"] } = codesByName(
  ERRORS,
);

/** `{ name: code }` for each entry of an errors table. */
function codesByName<T extends Readonly<Record<string, ErrorSpec>>>(
  errors: T,
): { readonly [K in keyof T]: T[K]["code"] } {
  const codes = Object.entries(errors).map(([name, spec]) => [name, spec.code]);
  return Object.freeze(Object.fromEntries(codes));
}

/**
 * The canonical text the encoder writes after each error code, such as `ERROR_TEXT[103]`
 * (`"Header incomplete"`); undefined for codes the vocabulary does not have.
 */
export const ERROR_TEXT: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.values(ERRORS).map((spec) => [spec.code, spec.text])),
);

/** The verbs whose messages carry a body, for the decoder. */
export const BODY_VERBS: ReadonlySet<string> = new Set(
  Object.entries(VERBS).filter(([, spec]) => spec.body).map(([verb]) => verb),
);

const KNOWN_VERBS: ReadonlySet<string> = new Set(Object.keys(VERBS));

/** True if `verb` is one of the protocol's verbs (exact case). */
export function isVerb(verb: string): verb is Verb {
  return KNOWN_VERBS.has(verb);
}

/** `Content-length` as the encoder writes it. */
export const CONTENT_LENGTH: string = HEADERS.ContentLength.name;
