/**
 * Message bodies as bytes and as text: Content-length counts bytes, so bodies are bytes, and
 * text is UTF-8.
 *
 * @module
 */

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/**
 * Encodes text as UTF-8, for message bodies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyText, utf8Bytes } from "./mod.ts";
 *
 * const body = utf8Bytes("h\u00e9llo");
 * assert.equal(body.length, 6); // bytes, not characters: Content-length counts these
 * assert.equal(bodyText(body), "h\u00e9llo");
 * ```
 */
export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * Decodes a body as UTF-8 text, replacing invalid sequences with U+FFFD.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyText, utf8Bytes } from "./mod.ts";
 *
 * assert.equal(bodyText(utf8Bytes("hi")), "hi");
 * assert.equal(bodyText(new Uint8Array([0x68, 0xff])), "h\ufffd"); // not UTF-8
 * ```
 */
export function bodyText(body: Uint8Array): string {
  return utf8.decode(body);
}
