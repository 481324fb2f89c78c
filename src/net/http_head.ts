/**
 * A pure, incremental parser of an HTTP/1.x request head (the request line and the header
 * fields, up to the empty line), for the server's web port. It holds at most a fixed number of
 * bytes, says in one sentence what is wrong with a bad head and which status answers it, and
 * hands back the bytes that followed the head (a WebSocket client may send frames at once).
 *
 * No I/O: bytes in, a result out.
 *
 * @example
 * ```ts
 * import {
 *   HeadParser,
 *   type HeadResult,
 *   MAX_HEAD_BYTES,
 *   parseHead,
 *   type RequestHead,
 * } from "./http_head.ts";
 *
 * const parser = new HeadParser(MAX_HEAD_BYTES);
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a:8080\r\n\r\n");
 * const result: HeadResult = parser.push(bytes); // or several pushes, as bytes arrive
 * if (result.state === "done") {
 *   const head: RequestHead = result.head;
 *   console.log(head.target, head.headers.get("host")); // "/" "a:8080"
 * }
 * console.log(parseHead("GET /ws HTTP/2.0\r\n").state); // "error" (status 505)
 * ```
 *
 * @module
 */

/** Default most bytes of a request head: 8 KiB, as most servers allow. */
export const MAX_HEAD_BYTES = 8 * 1024;

/** A parsed request head. */
export interface RequestHead {
  /** The method, as sent (methods are case-sensitive): `GET`, `HEAD`... */
  method: string;
  /** The request target, as sent: `/`, `/ws?x=1`... */
  target: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  version: string;
  /**
   * The header fields by lower-case name; a field sent more than once has its values joined
   * with `, ` (as HTTP allows for list fields).
   */
  headers: Map<string, string>;
  /** How many times each field (by lower-case name) was sent, to refuse a repeated `Host`. */
  counts: Map<string, number>;
}

/** What {@link HeadParser.push} found so far. */
export type HeadResult =
  | { state: "partial" }
  | {
    state: "done";
    head: RequestHead;
    /** Bytes after the head, copied (empty when none). */
    rest: Uint8Array;
  }
  | {
    state: "error";
    /** The status that answers it: 400, 431 (too large) or 505 (not HTTP/1.x). */
    status: 400 | 431 | 505;
    /** One sentence saying what is wrong. */
    reason: string;
  };

const EMPTY = new Uint8Array(0);
const CR = 13;
const LF = 10;
/** RFC 9110 token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters a field value must not hold: controls other than HTAB (obs-text is allowed). */
// deno-lint-ignore no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Characters a request target must not hold. */
// deno-lint-ignore no-control-regex
const BAD_TARGET = /[\x00-\x20\x7f-\xff]/;
const LATIN1 = new TextDecoder("latin1");
const SP = 32;
/** Parts of the request line, as {@link HeadParser} checks it while it arrives. */
const LEADING = 0;
const METHOD = 1;
const REST = 2;
const DONE = 3;
/** TCHAR[b] is true for the bytes of a token. */
const TCHAR: boolean[] = Array.from({ length: 256 }, (_, b) => TOKEN.test(String.fromCharCode(b)));
/** The reason given for bytes that cannot begin an HTTP request. */
const NOT_HTTP =
  'The bytes sent do not begin an HTTP request ("METHOD TARGET HTTP/1.1"); use a web browser.';

/**
 * Reads one request head from bytes pushed as they arrive. After a result other than
 * `partial`, it is finished: further pushes return the same result.
 */
export class HeadParser {
  readonly #max: number;
  /** Bytes held while the head is incomplete (null until a push leaves one unfinished). */
  #buf: Uint8Array | null = null;
  #len = 0;
  /** Where the search for the empty line resumes. */
  #scan = 0;
  #result: HeadResult = { state: "partial" };
  /** How far the request line was checked, and in which part of it (see {@link #lineOk}). */
  #checked = 0;
  #part = LEADING;

  /** A parser that refuses a head longer than `maxBytes` (default {@link MAX_HEAD_BYTES}). */
  constructor(maxBytes: number = MAX_HEAD_BYTES) {
    this.#max = maxBytes;
  }

  /** Bytes held so far (never more than the limit). */
  get heldBytes(): number {
    return this.#len;
  }

  /** Takes the next bytes; the chunk may be reused by the caller after the call returns. */
  push(chunk: Uint8Array): HeadResult {
    if (this.#result.state !== "partial") return this.#result;
    let data = chunk;
    let start = 0;
    const before = this.#len;
    if (this.#buf !== null) {
      // Hold no more than the limit (and the 4 bytes of an empty line that may end it there).
      const take = chunk.subarray(0, Math.max(0, this.#max + 4 - before));
      this.#grow(before + take.length);
      this.#buf.set(take, before);
      this.#len += take.length;
      data = this.#buf.subarray(0, this.#len);
      start = this.#scan;
    }
    const end = findHeadEnd(data, start);
    if (end === -1) {
      // Bytes that cannot begin a request (a TLS handshake, binary noise...) are refused now,
      // not once 8 KiB or the empty line arrive: nothing would ever make them a request.
      if (!this.#lineOk(data)) return this.#fail(400, NOT_HTTP);
      // Up to 3 bytes past the limit may be the start of the empty line that ends a head of
      // exactly the limit ("\r", "\r\n\r"...): where TCP splits it must not change the answer.
      if (data.length > this.#max + 3) return this.#fail(431, this.#tooLarge());
      if (this.#buf === null) {
        this.#grow(Math.max(512, chunk.length));
        this.#buf!.set(chunk, 0);
        this.#len = chunk.length;
      }
      this.#scan = Math.max(0, this.#len - 3);
      return this.#result;
    }
    if (end.headEnd > this.#max) return this.#fail(431, this.#tooLarge());
    // The head ended in this chunk, at `end.after - before` of it: what follows is the rest.
    const at = end.after - before;
    const rest = at < chunk.length ? chunk.slice(at) : EMPTY;
    this.#result = parseHead(LATIN1.decode(data.subarray(0, end.headEnd)), rest);
    this.#buf = null;
    this.#len = 0;
    return this.#result;
  }

  /** False once the request line so far cannot be one: `METHOD SP` then visible ASCII. */
  #lineOk(data: Uint8Array): boolean {
    for (let i = this.#checked; i < data.length && this.#part !== DONE; i++) {
      const b = data[i]!;
      if (this.#part === LEADING) {
        if (b === CR || b === LF) continue;
        this.#part = METHOD;
      }
      if (this.#part === METHOD) {
        if (b === SP && i > 0 && data[i - 1] !== CR && data[i - 1] !== LF) this.#part = REST;
        else if (!TCHAR[b]) return false;
      } else if (b === LF) this.#part = DONE;
      else if ((b < 0x20 && b !== CR) || b > 0x7e) return false;
    }
    this.#checked = data.length;
    return true;
  }

  #grow(size: number): void {
    if (this.#buf !== null && this.#buf.length >= size) return;
    const doubled = Math.max(size, (this.#buf?.length ?? 0) * 2);
    const next = new Uint8Array(Math.min(this.#max + 4, doubled));
    if (this.#buf !== null) next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #tooLarge(): string {
    return `The request head is larger than ${this.#max} bytes; send a shorter request.`;
  }

  #fail(status: 400 | 431 | 505, reason: string): HeadResult {
    this.#result = { state: "error", status, reason };
    this.#buf = null;
    this.#len = 0;
    return this.#result;
  }
}

/**
 * Where the head in `data` ends (searching from `from`): the index of its empty line's start
 * (`headEnd`) and of the first byte after it (`after`); -1 if not yet. Accepts CRLF and bare LF
 * line ends.
 */
function findHeadEnd(data: Uint8Array, from: number): { headEnd: number; after: number } | -1 {
  // Empty lines before the request line are skipped by the parser: they end nothing.
  let content = 0;
  while (content < data.length && (data[content] === CR || data[content] === LF)) content++;
  for (let i = data.indexOf(LF, from); i !== -1; i = data.indexOf(LF, i + 1)) {
    // The line that ends at i is empty if the byte before it (ignoring one CR) is LF.
    let j = i - 1;
    if (j >= 0 && data[j] === CR) j--;
    if (j < content) continue;
    if (data[j] === LF) return { headEnd: j + 1, after: i + 1 };
  }
  return -1;
}

/** Parses the text of a head (ending with its last field line's line end). */
export function parseHead(text: string, rest: Uint8Array = EMPTY): HeadResult {
  const lines = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  // RFC 9112 2.2: a server should ignore empty lines before the request line.
  while (lines.length > 0 && lines[0] === "") lines.shift();
  if (lines.at(-1) === "") lines.pop();
  const requestLine = lines.shift() ?? "";
  const parts = requestLine.split(" ");
  if (parts.length !== 3) {
    return bad(`The request line "${clip(requestLine)}" is not "METHOD TARGET HTTP/1.1".`);
  }
  const [method = "", target = "", version = ""] = parts;
  if (!TOKEN.test(method)) return bad(`The method "${clip(method)}" is not a valid token.`);
  if (!/^HTTP\/\d\.\d$/.test(version)) {
    return bad(`The request line "${clip(requestLine)}" is not "METHOD TARGET HTTP/1.1".`);
  }
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    return {
      state: "error",
      status: 505,
      reason: `The HTTP version "${version}" is not supported; use HTTP/1.1.`,
    };
  }
  if (target === "" || BAD_TARGET.test(target)) {
    return bad(`The request target "${clip(target)}" holds characters it must not.`);
  }
  const headers = new Map<string, string>();
  const counts = new Map<string, number>();
  for (const line of lines) {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      return bad("A header line starts with white space (obsolete line folding is not accepted).");
    }
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) {
      return bad(`The header line "${clip(line)}" is not "Name: value".`);
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (BAD_VALUE.test(value)) return bad(`The header "${name}" holds a control character.`);
    const key = name.toLowerCase();
    const before = headers.get(key);
    headers.set(key, before === undefined ? value : `${before}, ${value}`);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { state: "done", head: { method, target, version, headers, counts }, rest };
}

function bad(reason: string): HeadResult {
  return { state: "error", status: 400, reason };
}

/** `s` shortened for a message, its control characters shown as `?`. */
function clip(s: string): string {
  // deno-lint-ignore no-control-regex
  const plain = s.replace(/[\x00-\x1f\x7f-\xff]/g, "?");
  return plain.length > 60 ? `${plain.slice(0, 57)}...` : plain;
}
