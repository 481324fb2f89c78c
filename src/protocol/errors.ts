/**
 * Errors in words and as messages: what to log about input that could not be read, and the
 * canonical ERROR to answer with.
 *
 * @module
 */
import type { DecodeError } from "./decoding.ts";
import type { Message } from "./message.ts";
import { ERROR_TEXT } from "./vocabulary.ts";

/**
 * Builds the canonical ERROR message for `code`, with the vocabulary's text (`"Error"` for a
 * code it does not have).
 *
 * @example Answering a message that could not be read
 * ```ts
 * import assert from "node:assert/strict";
 * import { Decoder, describeDecodeError, encode, ErrorCode, errorMessage } from "./mod.ts";
 *
 * const [event] = new Decoder().push(new TextEncoder().encode("SEND bob\n\nhi"));
 * assert.ok(event?.kind === "error" && event.error.fatal);
 * const answer = errorMessage(ErrorCode.HeaderIncomplete);
 * assert.deepEqual(answer, { type: "ERROR", code: 103, text: "Header incomplete" });
 * assert.equal(new TextDecoder().decode(encode(answer)), "ERROR 103 Header incomplete\n\n");
 * assert.equal(
 *   describeDecodeError(event.error),
 *   'SEND has no Content-length header in "SEND bob"',
 * );
 * ```
 */
export function errorMessage(code: number): Message {
  return { type: "ERROR", code, text: ERROR_TEXT[code] ?? "Error" };
}

/**
 * Says in words what the decoder could not read, for logs and error messages.
 *
 * @example Logging what could not be read
 * ```ts
 * import assert from "node:assert/strict";
 * import { Decoder, describeDecodeError, errorMessage } from "./mod.ts";
 *
 * const [event] = new Decoder().push(new TextEncoder().encode("HELLO there\n\n"));
 * assert.ok(event?.kind === "error" && !event.error.fatal);
 * assert.equal(describeDecodeError(event.error), 'unknown message "HELLO there"');
 * // A code the vocabulary does not have gets a generic text.
 * assert.deepEqual(errorMessage(999), { type: "ERROR", code: 999, text: "Error" });
 * ```
 */
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
