/**
 * The two-socket chat protocol: typed messages, a canonical encoder and an incremental, tolerant
 * decoder, with the vocabulary (verbs, error codes, header names) they share. Pure: no I/O, no
 * timers, no globals; it runs in a browser as well as in Deno. Everyone imports it from here.
 *
 * See PROTOCOL.md for the wire contract this module implements. The files behind it:
 *
 * - `vocabulary.ts`: the tables of verbs, error codes and header names, and what derives from them;
 * - `message.ts`: `Message` and `Header`, the values the other files pass around;
 * - `names.ts`: the username rule;
 * - `decoding.ts`: the decoder's options and events; `decoder.ts`: the `Decoder`;
 * - `encode.ts`: the canonical encoder; `forward.ts`: FORWARDs from a head encoded once per
 *   sender (the server's hot path); `bytes.ts`: bodies as bytes and text;
 * - `errors.ts`: decode errors in words, and canonical ERROR messages;
 * - `scan.ts`: the decoder's scanners (internal), with the byte-level ones of its fast path for
 *   canonical headers.
 *
 * A file with `@example`s exports only what those examples use: `deno test --doc` imports every
 * export of a file into each of its examples, and `noUnusedLocals` rejects the unused ones
 * (denoland/deno#26900).
 *
 * @module
 */
export {
  BODY_VERBS,
  CONTENT_LENGTH,
  ERROR_TEXT,
  ErrorCode,
  type ErrorName,
  ERRORS,
  type ErrorSpec,
  HEADERS,
  type HeaderSpec,
  isVerb,
  type Origin,
  type Verb,
  VERBS,
  type VerbSpec,
} from "./vocabulary.ts";
export type { Half, Header, Message, MessageType } from "./message.ts";
export {
  BROADCAST,
  isReservedName,
  isValidName,
  MAX_NAME_LENGTH,
  nameKey,
  SERVER_NAME,
} from "./names.ts";
export {
  type DecodeError,
  type DecodeEvent,
  type DecoderOptions,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
} from "./decoding.ts";
export { Decoder } from "./decoder.ts";
export { encode } from "./encode.ts";
export { encodeForward, forwardHead } from "./forward.ts";
export { bodyText, utf8Bytes } from "./bytes.ts";
export { describeDecodeError, errorMessage } from "./errors.ts";
