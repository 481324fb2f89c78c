/**
 * The incremental, tolerant decoder: bytes in, in any split, messages or errors out, in order,
 * with memory bounded by the header and body limits.
 *
 * @module
 */
import {
  type DecodeError,
  type DecodeEvent,
  type DecoderOptions,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
} from "./decoding.ts";
import type { Header, Message } from "./message.ts";
import { bytesAre, decodeText, nameVerbAt, skipAlnum, splitFirst, trimEnd } from "./scan.ts";
import { BODY_VERBS, CONTENT_LENGTH, isVerb, type Verb } from "./vocabulary.ts";

const LF = 10;
const SPACE = 32;
const EMPTY = new Uint8Array(0);
const CONTENT_LENGTH_LOWER = CONTENT_LENGTH.toLowerCase();
/** The Content-length line as the encoder writes it, up to the number. */
const CONTENT_LENGTH_PREFIX = `${CONTENT_LENGTH}: `;
/** Longest name argument the fast path takes (longer ones take the general path). */
const MAX_FAST_NAME = 256;

/**
 * Incremental decoder: feed it bytes as they arrive, split or coalesced in any way, and it
 * emits complete messages in order. Memory is bounded by the header and body limits; it never
 * throws on any input.
 *
 * Tolerated on input (always written canonically by `encode`): CRLF line ends, trailing spaces
 * and tabs on any line, blank lines between messages, and `Content-length` in any letter case.
 * Header lines other than `Content-length` are kept on the message as `headers` (name and value,
 * in order; present only when there were some); they count toward `maxHeaderBytes`.
 *
 * A header written canonically and wholly inside one chunk (`SEND bob`, `Content-length: 5`, a
 * blank line; or `RECEIVED alice` and a blank line) takes a fast path that reads it byte by byte:
 * no line strings, and the same name string as last time when the name is the same. Everything
 * else, errors included, takes the general path; both give the same events.
 *
 * @example A message split over two reads
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyText, Decoder } from "./mod.ts";
 *
 * const decoder = new Decoder();
 * const bytes = new TextEncoder().encode("SEND bob\nContent-length: 5\n\nhello");
 * assert.deepEqual(decoder.push(bytes.subarray(0, 12)), []); // not complete yet
 * const [event] = decoder.push(bytes.subarray(12));
 * assert.ok(event?.kind === "message" && event.message.type === "SEND");
 * assert.equal(event.message.to, "bob");
 * assert.equal(bodyText(event.message.body), "hello");
 * assert.ok(decoder.idle);
 * ```
 *
 * @example Header lines the protocol does not know are kept
 * ```ts
 * import assert from "node:assert/strict";
 * import { Decoder } from "./mod.ts";
 *
 * const [event] = new Decoder().push(
 *   new TextEncoder().encode("FORWARD alice\r\nContent-Length: 2\r\nX-Id: 7\r\n\r\nhi"),
 * );
 * assert.ok(event?.kind === "message");
 * assert.deepEqual(event.message.headers, [["X-Id", "7"]]);
 * ```
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

  // What #scanHeaderLines found; fields rather than a result object, so as not to allocate.
  #length = -1;
  #problem = "";
  #conflicting = false;
  #extra: Header[] | undefined = undefined;

  // Body state: the expected length (-1 between bodies) and the bytes so far. The buffer
  // grows as bytes arrive, so a header alone never pins a body-sized allocation.
  #bodyLength = -1;
  #body: Uint8Array = EMPTY;
  #bodyFilled = 0;
  #skip = 0;
  // The message whose body is being read (fields rather than an object, so as not to allocate).
  #pendingVerb: Verb = "SEND";
  #pendingArg = "";
  #pendingHeaders: readonly Header[] | undefined = undefined;
  /** The name argument decoded last: the same name again yields this string, not a new one. */
  #name = "";

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
      } else if (this.#bodyLength !== -1) {
        i = this.#takeBody(chunk, i, emit);
      } else {
        i = this.#takeLine(chunk, i, emit);
      }
    }
  }

  /** Takes body bytes from `chunk[i...]`; returns the index after them. */
  #takeBody(chunk: Uint8Array, i: number, emit: (event: DecodeEvent) => void): number {
    const length = this.#bodyLength;
    const take = Math.min(length - this.#bodyFilled, chunk.length - i);
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
    if (this.#bodyFilled === length) this.#finishBody(emit);
    return i + take;
  }

  /** Takes header bytes from `chunk[i...]` up to a line end; returns the index after them. */
  #takeLine(chunk: Uint8Array, i: number, emit: (event: DecodeEvent) => void): number {
    if (this.#lines.length === 0 && this.#partialLen === 0) {
      const end = this.#takeCanonical(chunk, i, emit);
      if (end !== -1) return end;
    }
    const n = chunk.length;
    const nl = chunk.indexOf(LF, i);
    if (nl === -1) {
      // Bytes of an unfinished line count toward the header limit as they arrive.
      if (this.#headerBytes + this.#partialLen + n - i > this.#maxHeader) {
        this.#tooLarge(emit);
      } else {
        this.#appendPartial(chunk, i, n);
      }
      return n;
    }
    this.#headerBytes += this.#partialLen + nl + 1 - i;
    if (this.#headerBytes > this.#maxHeader) {
      this.#tooLarge(emit);
      return n;
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
    if (line.trim() === "") {
      if (this.#lines.length === 0) {
        this.#headerBytes = 0; // a stray blank line between messages
      } else {
        this.#finishHeader(emit);
      }
    } else {
      this.#lines.push(line);
    }
    return nl + 1;
  }

  /**
   * The fast path, for a header that starts at `chunk[i]` and ends in `chunk`, written as the
   * encoder writes it: `VERB name` and a blank line, or `VERB name`, `Content-length: N` and a
   * blank line, where VERB takes a plain name and the name is ASCII letters and digits. Does what
   * the general path would do with it, with no string but the name (none when it is the same
   * name as last time) and no array; returns the index after the header, or -1 to leave it to
   * the general path (anything else, including every case that is an error).
   */
  #takeCanonical(chunk: Uint8Array, i: number, emit: (event: DecodeEvent) => void): number {
    const n = chunk.length;
    const space = chunk.indexOf(SPACE, i);
    if (space === -1 || space - i > 12) return -1;
    const verb = nameVerbAt(chunk, i, space);
    if (verb === null) return -1;
    const nameEnd = skipAlnum(chunk, space + 1);
    if (nameEnd === space + 1 || nameEnd - space - 1 > MAX_FAST_NAME) return -1;
    if (nameEnd + 1 >= n || chunk[nameEnd] !== LF) return -1;
    let end = nameEnd + 1;
    let length = -1;
    if (chunk[end] === LF) {
      end++;
    } else {
      if (!bytesAre(chunk, end, CONTENT_LENGTH_PREFIX)) return -1;
      const digits = end + CONTENT_LENGTH_PREFIX.length;
      let at = digits;
      length = 0;
      for (; at < n && at - digits < 16; at++) {
        const c = chunk[at]!;
        if (c < 48 || c > 57) break;
        length = length * 10 + c - 48;
      }
      if (at === digits || at - digits > 15 || at + 1 >= n) return -1;
      if (chunk[at] !== LF || chunk[at + 1] !== LF) return -1;
      end = at + 2;
    }
    if (end - i > this.#maxHeader) return -1;
    if (length === -1 ? BODY_VERBS.has(verb) : length > this.#maxBody) return -1;
    const name = this.#nameAt(chunk, space + 1, nameEnd);
    if (length > 0) this.#expectBody(verb, name, undefined, length);
    else this.#emitMessage(emit, verb, name, EMPTY, null, undefined);
    return end;
  }

  /** The ASCII name in `chunk[start, end)`: the string of the last name if it is the same. */
  #nameAt(chunk: Uint8Array, start: number, end: number): string {
    const last = this.#name;
    if (last.length === end - start) {
      let k = 0;
      while (k < last.length && last.charCodeAt(k) === chunk[start + k]) k++;
      if (k === last.length) return last;
    }
    const name = String.fromCharCode.apply(null, chunk.subarray(start, end) as unknown as number[]);
    this.#name = name;
    return name;
  }

  /** A header is done and a body of `length` (> 0) bytes follows. */
  #expectBody(
    verb: Verb,
    arg: string,
    headers: readonly Header[] | undefined,
    length: number,
  ): void {
    this.#pendingVerb = verb;
    this.#pendingArg = arg;
    this.#pendingHeaders = headers;
    this.#bodyLength = length;
    this.#body = EMPTY;
    this.#bodyFilled = 0;
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

  /**
   * Reads the header lines after the first: the Content-length (into #length, -1 when absent),
   * the first problem (into #problem), two different Content-lengths (into #conflicting), and
   * the other well-formed lines in order (into #extra, undefined when there are none).
   */
  #scanHeaderLines(lines: readonly string[]): void {
    let length = -1;
    let problem = "";
    let conflicting = false;
    let extra: Header[] | undefined;
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      const colon = line.indexOf(":");
      if (colon <= 0) {
        problem ||= `header line ${JSON.stringify(line.trim())} is not "Name: value"`;
        continue;
      }
      const name = line.slice(0, colon).trim();
      if (name.toLowerCase() !== CONTENT_LENGTH_LOWER) {
        // A line whose name is only spaces was ignored before headers were kept: it still is.
        if (name !== "") (extra ??= []).push([name, line.slice(colon + 1).trim()]);
        continue;
      }
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
    this.#length = length;
    this.#problem = problem;
    this.#conflicting = conflicting;
    this.#extra = extra;
  }

  #finishHeader(emit: (event: DecodeEvent) => void): void {
    const lines = this.#lines;
    this.#lines = [];
    this.#headerBytes = 0;
    const first = lines[0]!.trim();
    const [verb, arg] = splitFirst(first);
    let length = -1;
    let problem = "";
    let headers: readonly Header[] | undefined;
    if (lines.length > 1) {
      this.#scanHeaderLines(lines);
      length = this.#length;
      problem = this.#problem;
      headers = this.#extra;
      this.#extra = undefined;
      if (this.#conflicting) {
        const reason = "two different Content-length headers";
        this.#fail(emit, { code: "malformed", reason, line: first, fatal: true });
        return;
      }
    }
    if (length === -1 && BODY_VERBS.has(verb)) {
      if (this.#fromServer && verb === "SEND" && lines.length === 1) {
        emit({ kind: "message", message: { type: "SENT", to: arg } });
        return;
      }
      const reason = problem || `${verb} has no Content-length header`;
      this.#fail(emit, { code: "malformed", reason, line: first, fatal: true });
      return;
    }
    // From here on the body's end is known: an error skips the body to stay in step.
    if (problem) {
      this.#skip = Math.max(length, 0);
      this.#fail(emit, { code: "malformed", reason: problem, line: first, fatal: false });
      return;
    }
    if (!isVerb(verb)) {
      this.#skip = Math.max(length, 0);
      this.#fail(emit, { code: "unknown-verb", line: first, fatal: false });
      return;
    }
    if (length > this.#maxBody) {
      this.#skip = length;
      const limit = this.#maxBody;
      this.#fail(emit, {
        code: "body-too-large",
        verb,
        name: arg,
        length,
        limit,
        fatal: false,
      });
      return;
    }
    if (length > 0) {
      // Non-body verbs that carry a body anyway: it is read to stay in step, then dropped.
      this.#expectBody(verb, arg, headers, length);
      return;
    }
    this.#emitMessage(emit, verb, arg, EMPTY, first, headers);
  }

  #finishBody(emit: (event: DecodeEvent) => void): void {
    const body = this.#body;
    const verb = this.#pendingVerb, arg = this.#pendingArg, headers = this.#pendingHeaders;
    this.#bodyLength = -1;
    this.#body = EMPTY;
    this.#pendingArg = "";
    this.#pendingHeaders = undefined;
    this.#emitMessage(emit, verb, arg, body, null, headers);
  }

  /** Reports a message whose first line was read but is not well formed; the stream goes on. */
  #malformed(emit: (event: DecodeEvent) => void, reason: string, line: string): void {
    this.#fail(emit, { code: "malformed", reason, line, fatal: false });
  }

  #emitMessage(
    emit: (event: DecodeEvent) => void,
    verb: Verb,
    arg: string,
    body: Uint8Array,
    first: string | null,
    headers: readonly Header[] | undefined,
  ): void {
    // The line is only needed to report a failure: not built for the messages that pass.
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
      case "UNREGISTERED":
        message = { type: verb, name: arg };
        break;
      case "REGISTER":
      case "REGISTERED": {
        const [half, name] = splitFirst(arg);
        if (half !== "TOSEND" && half !== "TORECV") {
          const reason = `${verb} must be followed by TOSEND or TORECV, not ${
            JSON.stringify(half)
          }`;
          this.#malformed(emit, reason, first ?? `${verb} ${arg}`);
          return;
        }
        message = { type: verb, half, name };
        break;
      }
      case "ERROR": {
        const [code, text] = splitFirst(arg);
        if (!/^\d{1,9}$/.test(code)) {
          const reason = `ERROR must be followed by a number, not ${JSON.stringify(code)}`;
          this.#malformed(emit, reason, first ?? `${verb} ${arg}`);
          return;
        }
        message = { type: "ERROR", code: Number(code), text };
        break;
      }
    }
    if (headers !== undefined) message.headers = headers;
    emit({ kind: "message", message });
  }
}
