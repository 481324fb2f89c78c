/**
 * The canonical encoder: what every message looks like on the wire when we write it.
 *
 * @module
 */
import type { Header, Message } from "./message.ts";
import { CONTENT_LENGTH } from "./vocabulary.ts";

const CONTENT_LENGTH_PREFIX = `${CONTENT_LENGTH}: `;
const utf8Encoder = new TextEncoder();

/**
 * Encodes a message as its canonical bytes: LF line ends, `Content-length: N` counting the body's
 * bytes, and the message's extra `headers` (if any) after it, one `Name: value` line each.
 *
 * Throws a `RangeError` for a header that would not be read back as the same header (an empty
 * name; a name holding `:`; a line end in a name or value; spaces around either; a second
 * `Content-length`).
 *
 * @example Encoding a SEND and a SENT
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode, utf8Bytes } from "./mod.ts";
 *
 * const send = encode({ type: "SEND", to: "bob", body: utf8Bytes("hi") });
 * assert.equal(new TextDecoder().decode(send), "SEND bob\nContent-length: 2\n\nhi");
 * const sent = encode({ type: "SENT", to: "bob" });
 * assert.equal(new TextDecoder().decode(sent), "SENT bob\n\n");
 * ```
 *
 * @example Extra headers go after Content-length
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode, utf8Bytes } from "./mod.ts";
 *
 * const bytes = encode({
 *   type: "FORWARD",
 *   from: "alice",
 *   body: utf8Bytes("hi"),
 *   headers: [["X-Id", "7"]],
 * });
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   "FORWARD alice\nContent-length: 2\nX-Id: 7\n\nhi",
 * );
 * ```
 */
export function encode(message: Message): Uint8Array {
  const headers = message.headers;
  switch (message.type) {
    case "SEND":
      return encodeWithBody(`SEND ${message.to}\n`, message.body, headers);
    case "FORWARD":
      return encodeWithBody(`FORWARD ${message.from}\n`, message.body, headers);
    case "REGISTER":
    case "REGISTERED":
      return encodeHeader(`${message.type} ${message.half} ${message.name}\n`, headers);
    case "SENT":
      return encodeHeader(`SENT ${message.to}\n`, headers);
    case "RECEIVED":
      return encodeHeader(`RECEIVED ${message.from}\n`, headers);
    case "ERROR":
      return encodeHeader(`ERROR ${message.code} ${message.text}\n`, headers);
    case "UNREGISTER":
    case "UNREGISTERED":
      return encodeHeader(`${message.type} ${message.name}\n`, headers);
  }
}

/** A message without a body: its first line, its extra header lines, the blank line. */
function encodeHeader(firstLine: string, headers: readonly Header[] | undefined): Uint8Array {
  return utf8Encoder.encode(
    headers === undefined ? firstLine + "\n" : firstLine + headerLines(headers) + "\n",
  );
}

/** A message with a body, in one allocation when its header is ASCII (names are, once valid). */
function encodeWithBody(
  firstLine: string,
  body: Uint8Array,
  headers: readonly Header[] | undefined,
): Uint8Array {
  const header = headers === undefined
    ? `${firstLine}${CONTENT_LENGTH_PREFIX}${body.length}\n\n`
    : `${firstLine}${CONTENT_LENGTH_PREFIX}${body.length}\n${headerLines(headers)}\n`;
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

/** `Name: value\n` for each header, after checking that each reads back as itself. */
function headerLines(headers: readonly Header[]): string {
  let out = "";
  for (const [name, value] of headers) {
    if (
      name === "" || name !== name.trim() || name.includes(":") || name.includes("\n") ||
      name.toLowerCase() === CONTENT_LENGTH.toLowerCase()
    ) {
      throw new RangeError(`Cannot write a header named ${JSON.stringify(name)}`);
    }
    if (value !== value.trim() || value.includes("\n")) {
      throw new RangeError(
        `Cannot write header ${JSON.stringify(name)} with value ${JSON.stringify(value)}`,
      );
    }
    out += `${name}: ${value}\n`;
  }
  return out;
}
