/**
 * FORWARDs for a server to encode fast: the start of a sender's FORWARDs once, then each message
 * with no string built. The bytes are exactly those `encode` writes.
 *
 * @module
 */
import { CONTENT_LENGTH } from "./vocabulary.ts";

const utf8Encoder = new TextEncoder();
const LF = 10;
const ZERO = 48;

/**
 * The bytes of a FORWARD from `from` up to its Content-length value (`FORWARD from`, a line end,
 * `Content-length: `). Kept per sender, it makes {@link encodeForward} the only work per message.
 */
export function forwardHead(from: string): Uint8Array {
  return utf8Encoder.encode(`FORWARD ${from}\n${CONTENT_LENGTH}: `);
}

/**
 * The FORWARD of `body` whose start is `head` (from {@link forwardHead}), with no extra headers:
 * the same bytes as `encode({ type: "FORWARD", from, body })`, in one allocation.
 */
export function encodeForward(head: Uint8Array, body: Uint8Array): Uint8Array {
  const length = body.length;
  let digits = 1;
  for (let x = length; x >= 10; x = Math.floor(x / 10)) digits++;
  const end = head.length + digits;
  const out = new Uint8Array(end + 2 + length);
  out.set(head);
  for (let k = end - 1, x = length; k >= head.length; k--, x = Math.floor(x / 10)) {
    out[k] = ZERO + (x % 10);
  }
  out[end] = LF;
  out[end + 1] = LF;
  out.set(body, end + 2);
  return out;
}
