/**
 * What the decoder is told and what it tells: its options and limits, and its events.
 *
 * @module
 */
import type { Message } from "./message.ts";

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

/** Options of the `Decoder`. */
export interface DecoderOptions {
  /**
   * Most bytes a header (first line, header lines, blank line) may take, the header lines kept
   * on the message included. Default 8 KiB.
   */
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
