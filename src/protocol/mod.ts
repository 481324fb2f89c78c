/**
 * The two-socket chat protocol: typed messages, a canonical encoder and an
 * incremental, tolerant decoder. Pure: no I/O, no timers, no globals.
 *
 * See PROTOCOL.md for the wire contract this module implements.
 *
 * @module
 */

/** Which half of a user a connection is: the one the client sends on, or the one it receives on. */
export type Half = "TOSEND" | "TORECV";

/** Error codes of the base protocol (100–103) and of our extensions (104 and up). */
export const ErrorCode = {
  /** The username is not letters and digits only, or is `ALL`. */
  MalformedUsername: 100,
  /** Something other than REGISTER arrived before the connection was registered. */
  NoUserRegistered: 101,
  /** The message could not be delivered (no such user, or no acknowledgement). */
  UnableToSend: 102,
  /** The header could not be parsed; the sender closes the connection after this. */
  HeaderIncomplete: 103,
  /** Extension: that half of that username is already registered by another connection. */
  UsernameTaken: 104,
  /** Extension: the server has too many connections (in all, or from this address). */
  TooManyConnections: 105,
  /** Extension: the sender is over its message rate limit; this message was not sent. */
  RateLimited: 106,
} as const;

/** The canonical text the encoder writes after each error code. */
export const ERROR_TEXT: Readonly<Record<number, string>> = {
  100: "Malformed username",
  101: "No user registered",
  102: "Unable to send",
  103: "Header incomplete",
  104: "Username taken",
  105: "Too many connections",
  106: "Rate limit exceeded",
};

/** One protocol message, in either direction. Bodies are raw bytes: Content-length counts bytes. */
export type Message =
  | { type: "REGISTER"; half: Half; name: string }
  | { type: "REGISTERED"; half: Half; name: string }
  | { type: "SEND"; to: string; body: Uint8Array }
  | { type: "SENT"; to: string }
  | { type: "FORWARD"; from: string; body: Uint8Array }
  | { type: "RECEIVED"; from: string }
  | { type: "ERROR"; code: number; text: string }
  | { type: "UNREGISTER"; name: string }
  | { type: "UNREGISTERED"; name: string };

/** The verb of a message, such as `"SEND"`. */
export type MessageType = Message["type"];

/** Why the decoder could not turn some input into a message. */
export type DecodeError =
  | {
    /** The header grew past `maxHeaderBytes` without ending: the stream is unusable. */
    code: "header-too-large";
    limit: number;
    fatal: true;
  }
  | {
    /** Content-length is above `maxBodyBytes`: the body was skipped without being buffered. */
    code: "body-too-large";
    /** The message's verb and the name on its first line, so the receiver can answer. */
    verb: string;
    name: string;
    length: number;
    limit: number;
    fatal: false;
  }
  | {
    /** The first line's verb is not one this protocol has. */
    code: "unknown-verb";
    line: string;
    fatal: boolean;
  }
  | {
    /** The header is not well formed (missing or bad Content-length, bad line, bad half...). */
    code: "malformed";
    reason: string;
    line: string;
    /** True when the next message's start cannot be found: the stream is unusable. */
    fatal: boolean;
  };

/** What the decoder produces: a message, or an error in place of one. */
export type DecodeEvent =
  | { kind: "message"; message: Message }
  | { kind: "error"; error: DecodeError };

/** Options of {@link Decoder}. */
export interface DecoderOptions {
  /** Most bytes a header (first line, header lines, blank line) may take. Default 8 KiB. */
  maxHeaderBytes?: number;
  /** Most bytes a body may take; longer bodies are skipped and reported. Default 64 KiB. */
  maxBodyBytes?: number;
  /**
   * Who writes the bytes being decoded. With `"server"`, a bare `SEND name` without
   * Content-length is read as `SENT name` (a typo in one edition of the assignment that some
   * servers copied). Default `"client"`.
   */
  from?: "client" | "server";
}

/** Default most bytes in a header. */
export const DEFAULT_MAX_HEADER_BYTES = 8 * 1024;
/** Default most bytes in a body. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

const BODY_VERBS = new Set(["SEND", "FORWARD"]);
const KNOWN_VERBS = new Set([
  "REGISTER",
  "REGISTERED",
  "SEND",
  "SENT",
  "FORWARD",
  "RECEIVED",
  "ERROR",
  "UNREGISTER",
  "UNREGISTERED",
]);

const utf8 = new TextDecoder();
const EMPTY = new Uint8Array(0);
const utf8Encoder = new TextEncoder();

/** Decodes `bytes[start, end)` as UTF-8, with a fast path for ASCII. */
function decodeText(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii && end - start <= 256) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  return utf8.decode(bytes.subarray(start, end));
}

/** Index just past the last byte of `bytes[start, end)` that is not CR, space or tab. */
function trimEnd(bytes: Uint8Array, start: number, end: number): number {
  while (end > start) {
    const b = bytes[end - 1];
    if (b !== CR && b !== SPACE && b !== TAB) break;
    end--;
  }
  return end;
}

/** Splits `text` at its first run of spaces: `[head, rest]`, both trimmed. */
function splitFirst(text: string): [string, string] {
  // Fast path for ASCII text (every canonical message): no regular expression, no match array.
  let start = 0;
  let end = text.length;
  while (start < end && isAsciiSpace(text.charCodeAt(start))) start++;
  while (end > start && isAsciiSpace(text.charCodeAt(end - 1))) end--;
  let cut = start;
  for (; cut < end; cut++) {
    const c = text.charCodeAt(cut);
    if (c >= 0x80) return splitFirstUnicode(text);
    if (isAsciiSpace(c)) break;
  }
  let rest = cut;
  while (rest < end && isAsciiSpace(text.charCodeAt(rest))) rest++;
  for (let k = rest; k < end; k++) {
    if (text.charCodeAt(k) >= 0x80) return splitFirstUnicode(text);
  }
  return [text.slice(start, cut), text.slice(rest, end)];
}

/** {@link splitFirst} for text with non-ASCII characters, where `\s` includes Unicode spaces. */
function splitFirstUnicode(text: string): [string, string] {
  const m = /^(\S*)\s*(.*)$/s.exec(text.trim());
  return m ? [m[1]!, m[2]!.trim()] : ["", ""];
}

/** True for the ASCII characters that `\s` matches: space, tab, LF, VT, FF, CR. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Incremental decoder: feed it bytes as they arrive, split or coalesced in any way, and it
 * emits complete messages in order. Memory is bounded by the header and body limits; it never
 * throws on any input.
 *
 * Tolerated on input (always written canonically by {@link encode}): CRLF line ends, trailing
 * spaces and tabs on any line, blank lines between messages, and `Content-length` in any letter
 * case.
 */
export class Decoder {
  readonly #maxHeader: number;
  readonly #maxBody: number;
  readonly #fromServer: boolean;

  // Header state: completed lines of the current header, and the unfinished line's bytes.
  #lines: string[] = [];
  #partial: Uint8Array = new Uint8Array(0);
  #partialLen = 0;
  #headerBytes = 0;

  // Body state: the expected length (-1 between bodies) and the bytes so far. The buffer
  // grows as bytes arrive, so a header alone never pins a body-sized allocation.
  #bodyLength = -1;
  #body: Uint8Array = EMPTY;
  #bodyFilled = 0;
  #skip = 0;
  #pending: { verb: string; arg: string } | null = null;

  #dead = false;

  /** Creates a decoder with the given limits. */
  constructor(options: DecoderOptions = {}) {
    this.#maxHeader = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.#maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#fromServer = options.from === "server";
  }

  /** True after a fatal error: further input is ignored. */
  get dead(): boolean {
    return this.#dead;
  }

  /** True when no message is partly received (nothing buffered, no body outstanding). */
  get idle(): boolean {
    return this.#lines.length === 0 && this.#partialLen === 0 && this.#bodyLength === -1 &&
      this.#skip === 0;
  }

  /** Feeds a chunk and returns the events it completes, in order. */
  push(chunk: Uint8Array): DecodeEvent[] {
    const out: DecodeEvent[] = [];
    this.feed(chunk, (e) => out.push(e));
    return out;
  }

  /**
   * Feeds a chunk and calls `emit` for each event it completes, in order. The chunk may be
   * reused by the caller afterwards: bodies are copied out of it.
   */
  feed(chunk: Uint8Array, emit: (event: DecodeEvent) => void): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.#dead) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, n - i);
        this.#skip -= take;
        i += take;
        continue;
      }
      if (this.#bodyLength !== -1) {
        const length = this.#bodyLength;
        const take = Math.min(length - this.#bodyFilled, n - i);
        if (this.#bodyFilled === 0 && take === length) {
          this.#body = chunk.slice(i, i + take); // the whole body in this chunk: one copy
        } else {
          const need = this.#bodyFilled + take;
          if (need > this.#body.length) {
            const grown = new Uint8Array(Math.min(length, Math.max(need, this.#body.length * 2)));
            grown.set(this.#body.subarray(0, this.#bodyFilled));
            this.#body = grown;
          }
          this.#body.set(chunk.subarray(i, i + take), this.#bodyFilled);
        }
        this.#bodyFilled += take;
        i += take;
        if (this.#bodyFilled === length) this.#finishBody(emit);
        continue;
      }
      // Header: find the end of the current line.
      const nl = chunk.indexOf(LF, i);
      if (nl === -1) {
        // Bytes of an unfinished line count toward the header limit as they arrive.
        if (this.#headerBytes + this.#partialLen + n - i > this.#maxHeader) {
          this.#tooLarge(emit);
        } else {
          this.#appendPartial(chunk, i, n);
        }
        return;
      }
      this.#headerBytes += this.#partialLen + nl + 1 - i;
      if (this.#headerBytes > this.#maxHeader) {
        this.#tooLarge(emit);
        return;
      }
      let line: string;
      if (this.#partialLen === 0) {
        line = decodeText(chunk, i, trimEnd(chunk, i, nl));
      } else {
        this.#appendPartial(chunk, i, nl);
        line = decodeText(this.#partial, 0, trimEnd(this.#partial, 0, this.#partialLen));
        this.#partialLen = 0;
        if (this.#partial.length > 1024) this.#partial = new Uint8Array(0);
      }
      i = nl + 1;
      if (line.trim() === "") {
        if (this.#lines.length === 0) {
          this.#headerBytes = 0; // a stray blank line between messages
        } else {
          this.#finishHeader(emit);
        }
      } else {
        this.#lines.push(line);
      }
    }
  }

  #appendPartial(chunk: Uint8Array, start: number, end: number): void {
    const need = this.#partialLen + end - start;
    if (need > this.#partial.length) {
      const grown = new Uint8Array(Math.max(need, this.#partial.length * 2, 64));
      grown.set(this.#partial.subarray(0, this.#partialLen));
      this.#partial = grown;
    }
    this.#partial.set(chunk.subarray(start, end), this.#partialLen);
    this.#partialLen = need;
  }

  #tooLarge(emit: (event: DecodeEvent) => void): void {
    this.#dead = true;
    this.#lines = [];
    this.#partial = new Uint8Array(0);
    this.#partialLen = 0;
    emit({
      kind: "error",
      error: { code: "header-too-large", limit: this.#maxHeader, fatal: true },
    });
  }

  #fail(emit: (event: DecodeEvent) => void, error: DecodeError): void {
    if (error.fatal) this.#dead = true;
    emit({ kind: "error", error });
  }

  #finishHeader(emit: (event: DecodeEvent) => void): void {
    const lines = this.#lines;
    this.#lines = [];
    this.#headerBytes = 0;
    const first = lines[0]!.trim();
    const [verb, arg] = splitFirst(first);
    const hasBody = BODY_VERBS.has(verb);

    // Header lines: only Content-length means anything; other well-formed ones are ignored.
    let length = -1;
    let problem = "";
    let conflicting = false;
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      const colon = line.indexOf(":");
      if (colon <= 0) {
        problem ||= `header line ${JSON.stringify(line.trim())} is not "Name: value"`;
        continue;
      }
      if (line.slice(0, colon).trim().toLowerCase() !== "content-length") continue;
      const value = line.slice(colon + 1).trim();
      if (!/^\d{1,15}$/.test(value)) {
        problem ||= `Content-length ${JSON.stringify(value)} is not a byte count`;
        continue;
      }
      const parsed = Number(value);
      if (length !== -1 && length !== parsed) {
        // Which one is right cannot be known, so neither is the next message's start.
        conflicting = true;
        continue;
      }
      length = parsed;
    }

    if (conflicting) {
      this.#fail(emit, {
        code: "malformed",
        reason: "two different Content-length headers",
        line: first,
        fatal: true,
      });
      return;
    }
    if (hasBody && length === -1) {
      if (this.#fromServer && verb === "SEND" && lines.length === 1) {
        emit({ kind: "message", message: { type: "SENT", to: arg } });
        return;
      }
      this.#fail(emit, {
        code: "malformed",
        reason: problem || `${verb} has no Content-length header`,
        line: first,
        fatal: true,
      });
      return;
    }
    if (problem) {
      // The body's end is known when Content-length parsed; skip it to stay in step.
      this.#skip = Math.max(length, 0);
      this.#fail(emit, { code: "malformed", reason: problem, line: first, fatal: false });
      return;
    }
    if (!KNOWN_VERBS.has(verb)) {
      this.#skip = Math.max(length, 0);
      this.#fail(emit, { code: "unknown-verb", line: first, fatal: false });
      return;
    }
    if (length > this.#maxBody) {
      this.#skip = length;
      this.#fail(emit, {
        code: "body-too-large",
        verb,
        name: arg,
        length,
        limit: this.#maxBody,
        fatal: false,
      });
      return;
    }
    if (length > 0) {
      this.#pending = { verb, arg };
      this.#bodyLength = length;
      this.#body = EMPTY;
      this.#bodyFilled = 0;
      // Non-body verbs that carry a body anyway: read it to stay in step, then drop it.
      return;
    }
    this.#emitMessage(emit, verb, arg, EMPTY, first);
  }

  #finishBody(emit: (event: DecodeEvent) => void): void {
    const body = this.#body;
    const { verb, arg } = this.#pending!;
    this.#bodyLength = -1;
    this.#body = EMPTY;
    this.#pending = null;
    this.#emitMessage(emit, verb, arg, body, verb + " " + arg);
  }

  #emitMessage(
    emit: (event: DecodeEvent) => void,
    verb: string,
    arg: string,
    body: Uint8Array,
    line: string,
  ): void {
    let message: Message;
    switch (verb) {
      case "SEND":
        message = { type: "SEND", to: arg, body };
        break;
      case "FORWARD":
        message = { type: "FORWARD", from: arg, body };
        break;
      case "SENT":
        message = { type: "SENT", to: arg };
        break;
      case "RECEIVED":
        message = { type: "RECEIVED", from: arg };
        break;
      case "UNREGISTER":
        message = { type: "UNREGISTER", name: arg };
        break;
      case "UNREGISTERED":
        message = { type: "UNREGISTERED", name: arg };
        break;
      case "REGISTER":
      case "REGISTERED": {
        const [half, name] = splitFirst(arg);
        if (half !== "TOSEND" && half !== "TORECV") {
          this.#fail(emit, {
            code: "malformed",
            reason: `${verb} must be followed by TOSEND or TORECV, not ${JSON.stringify(half)}`,
            line,
            fatal: false,
          });
          return;
        }
        message = { type: verb, half, name };
        break;
      }
      case "ERROR": {
        const [code, text] = splitFirst(arg);
        if (!/^\d{1,9}$/.test(code)) {
          this.#fail(emit, {
            code: "malformed",
            reason: `ERROR must be followed by a number, not ${JSON.stringify(code)}`,
            line,
            fatal: false,
          });
          return;
        }
        message = { type: "ERROR", code: Number(code), text };
        break;
      }
      default:
        // Unreachable: unknown verbs are reported before the body is read.
        this.#fail(emit, { code: "unknown-verb", line, fatal: false });
        return;
    }
    emit({ kind: "message", message });
  }
}

/** Says in words what the decoder could not read. */
export function describeDecodeError(error: DecodeError): string {
  switch (error.code) {
    case "header-too-large":
      return `a header longer than ${error.limit} bytes`;
    case "body-too-large":
      return `${error.verb} ${error.name} of ${error.length} bytes, over the ${error.limit}-byte limit`;
    case "unknown-verb":
      return `unknown message ${JSON.stringify(error.line.slice(0, 80))}`;
    case "malformed":
      return `${error.reason} in ${JSON.stringify(error.line.slice(0, 80))}`;
  }
}

/** True if `name` may be registered: ASCII letters and digits only, at most 64, and not `ALL`. */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && /^[A-Za-z0-9]+$/.test(name) &&
    name.toUpperCase() !== "ALL";
}

/** Longest username accepted by {@link isValidName}. */
export const MAX_NAME_LENGTH = 64;

/** The broadcast recipient. */
export const BROADCAST = "ALL";

/** Builds the canonical ERROR message for `code`. */
export function errorMessage(code: number): Message {
  return { type: "ERROR", code, text: ERROR_TEXT[code] ?? "Error" };
}

/** Encodes a message as its canonical bytes: LF line ends, `Content-length: N`, no extras. */
export function encode(message: Message): Uint8Array {
  switch (message.type) {
    case "SEND":
      return encodeWithBody(`SEND ${message.to}\nContent-length: `, message.body);
    case "FORWARD":
      return encodeWithBody(`FORWARD ${message.from}\nContent-length: `, message.body);
    case "REGISTER":
    case "REGISTERED":
      return utf8Encoder.encode(`${message.type} ${message.half} ${message.name}\n\n`);
    case "SENT":
      return utf8Encoder.encode(`SENT ${message.to}\n\n`);
    case "RECEIVED":
      return utf8Encoder.encode(`RECEIVED ${message.from}\n\n`);
    case "ERROR":
      return utf8Encoder.encode(`ERROR ${message.code} ${message.text}\n\n`);
    case "UNREGISTER":
    case "UNREGISTERED":
      return utf8Encoder.encode(`${message.type} ${message.name}\n\n`);
  }
}

function encodeWithBody(head: string, body: Uint8Array): Uint8Array {
  const header = `${head}${body.length}\n\n`;
  // One allocation when the header is ASCII (names are, once validated).
  const out = new Uint8Array(header.length + body.length);
  const { read, written } = utf8Encoder.encodeInto(header, out);
  if (read === header.length && written === header.length) {
    out.set(body, written);
    return out;
  }
  const head8 = utf8Encoder.encode(header);
  const all = new Uint8Array(head8.length + body.length);
  all.set(head8);
  all.set(body, head8.length);
  return all;
}

/** Encodes text as UTF-8, for message bodies. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes a body as UTF-8 text, replacing invalid sequences with U+FFFD. */
export function bodyText(body: Uint8Array): string {
  return utf8.decode(body);
}
