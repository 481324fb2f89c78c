/**
 * The WebSocket frame codec (RFC 6455), pure: no I/O, no Deno or node API, so it runs in a
 * browser too. The server's web edge and the bench's load generator feed it the bytes of a TCP
 * connection; it hands on the payload of data frames as the bytes arrive (a frame of any announced
 * length is never held whole), buffers the small control frames, and reports the first protocol
 * error with its close code.
 *
 * No extension is ever negotiated, so any reserved bit is an error. Text and binary messages are
 * both handed on as bytes (the chat protocol is a byte stream; a text message's bytes are its
 * UTF-8): text is not checked for valid UTF-8 here, the chat protocol's decoder judges the bytes.
 *
 * @example A client frame decoded by the server, and a close handshake
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   acceptKey,
 *   closePayload,
 *   encodeFrame,
 *   FrameDecoder,
 *   type FrameEvent,
 *   Opcode,
 * } from "./websocket.ts";
 *
 * // The upgrade answer's Sec-WebSocket-Accept, from the request's Sec-WebSocket-Key.
 * assert.equal(await acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
 *
 * // A client masks its frames; the server's decoder requires that.
 * const mask = new Uint8Array([1, 2, 3, 4]);
 * const wire = encodeFrame(Opcode.Binary, new TextEncoder().encode("REGISTER TOSEND ann\n\n"), mask);
 * const decoder = new FrameDecoder({ masked: true });
 * const events: FrameEvent[] = [];
 * let text = "";
 * const emit = (event: FrameEvent) => {
 *   // Data bytes are only valid during the call: use or copy them now.
 *   if (event.type === "data") text += new TextDecoder().decode(event.bytes);
 *   else events.push(event);
 * };
 * decoder.push(wire.subarray(0, 5), emit); // any split: bytes are handed on as they arrive
 * decoder.push(wire.subarray(5), emit);
 * assert.equal(text, "REGISTER TOSEND ann\n\n");
 *
 * decoder.push(encodeFrame(Opcode.Close, closePayload(1000, "bye"), mask), emit);
 * assert.deepEqual(events, [{ type: "close", code: 1000, reason: "bye" }]);
 *
 * // An unmasked frame from a client is a protocol error (close code 1002).
 * const strict = new FrameDecoder({ masked: true });
 * strict.push(encodeFrame(Opcode.Binary, new Uint8Array([1])), (event) => events.push(event));
 * assert.equal(events.at(-1)?.type, "error");
 * ```
 *
 * @module
 */

/** Frame opcodes (RFC 6455 section 5.2); every other value is unknown and a protocol error. */
export const Opcode = {
  Continuation: 0,
  Text: 1,
  Binary: 2,
  Close: 8,
  Ping: 9,
  Pong: 10,
} as const;

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const utf8Encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The `Sec-WebSocket-Accept` value for a request's `Sec-WebSocket-Key`: base64 of the SHA-1 of the
 * key and the RFC 6455 GUID, computed with WebCrypto (browser and Deno alike).
 *
 * @param key The request's `Sec-WebSocket-Key`, as sent (the base64 of 16 random bytes).
 * @returns The base64 accept value the answer must carry.
 */
export async function acceptKey(key: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-1", utf8Encoder.encode(key + GUID)),
  );
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * What a {@linkcode FrameDecoder} reports, in wire order.
 *
 * - `data`: payload bytes of a text or binary message (any fragment of it), unmasked, as they
 *   arrived: possibly a part of a frame. The event and its array are valid **only during the
 *   `emit` call**: the decoder reuses the event object, and the array is a view of its reusable
 *   buffer (masked input) or of the pushed chunk (unmasked input); copy what you keep. Message
 *   and frame boundaries are not reported: they mean nothing to the chat protocol.
 * - `ping` / `pong`: a whole control frame's payload (at most 125 bytes), a copy the caller owns.
 * - `close`: the peer's close frame: its code (absent when the payload was empty) and UTF-8 reason.
 *   The decoder ignores input after it.
 * - `error`: the first protocol error, with the close code to answer (1002 protocol error, 1007
 *   invalid UTF-8 in a close reason, 1009 a frame too long to count) and one sentence saying what
 *   was wrong (at most 123 bytes, so it fits in a close frame). The decoder ignores input after it.
 */
export type FrameEvent =
  | { type: "data"; bytes: Uint8Array }
  | { type: "ping"; payload: Uint8Array }
  | { type: "pong"; payload: Uint8Array }
  | { type: "close"; code?: number; reason: string }
  | { type: "error"; code: number; reason: string };

/** Decoder states. */
const HEADER = 0;
const PAYLOAD = 1;
const CONTROL = 2;
const DONE = 3;

/** The largest piece of masked payload unmasked at once (the reusable buffer's size). */
const SCRATCH_BYTES = 64 * 1024;
/**
 * The buffer masked payload is unmasked into, shared by every decoder (null while one is using
 * it): a server has thousands of decoders, and a buffer each would cost 64 KiB per connection.
 * A `push` made from inside another's `emit` finds it taken and uses a buffer of its own.
 */
let sharedScratch: Uint8Array | null = null;
/** 2^32, to combine the halves of a 64-bit length. */
const TWO_32 = 0x1_0000_0000;

/**
 * An incremental, streaming WebSocket frame decoder for one direction of one connection.
 *
 * Push the bytes as they are read, in any split; the decoder emits events synchronously from
 * `push`. It never holds a data frame's payload: each pushed chunk's payload bytes are emitted
 * (unmasked) before `push` returns, so a frame announcing 2^53 bytes costs no memory. Only control
 * frames (at most 125 bytes) are buffered, and they may arrive between the fragments of a message.
 * After an `error` or `close` event it ignores all further input.
 *
 * With `masked: true` (a server reading a client) every frame must be masked, and the payload is
 * unmasked into a reusable 64 KiB buffer shared by all decoders (a chunk carrying more is emitted
 * in several `data` events), so a decoder costs a few hundred bytes, not 64 KiB; with
 * `masked: false` (a client reading a server) a masked frame is an error and `data` events are
 * views of the pushed chunk. The pushed chunk is never modified.
 */
export class FrameDecoder {
  readonly #masked: boolean;
  #state = HEADER;
  /** The header being collected: at most 2 + 8 + 4 bytes. */
  readonly #header = new Uint8Array(14);
  #headerLength = 0;
  /** The header's full length, known once its first two bytes are in (0 until then). */
  #headerNeed = 0;
  #fin = false;
  #opcode = 0;
  /** Payload bytes of the current frame still to come. */
  #remaining = 0;
  /** The payload bytes of the current frame read so far, mod 4, for the mask. */
  #maskPhase = 0;
  readonly #mask = new Uint8Array(4);
  /** A text or binary message was started by a frame without FIN. */
  #fragmented = false;
  /** Made on the first control frame (most connections never send one). */
  #control: Uint8Array | null = null;
  #controlLength = 0;
  /** The one `data` event, its `bytes` replaced for each piece (no allocation per frame). */
  readonly #data: { type: "data"; bytes: Uint8Array } = { type: "data", bytes: new Uint8Array(0) };

  /**
   * Creates a decoder for one direction of one connection.
   *
   * @param options `masked`: true on the server (clients must mask every frame), false on the
   *   client (servers must not mask).
   */
  constructor(options: { masked: boolean }) {
    this.#masked = options.masked;
  }

  /**
   * Decodes the next bytes of the stream, emitting every event they complete, in order.
   *
   * @param chunk The next bytes read, in any split (never modified, never kept).
   * @param emit Called for each event before `push` returns; `data` bytes are valid only during
   *   the call.
   */
  push(chunk: Uint8Array, emit: (event: FrameEvent) => void): void {
    let pos = 0;
    const end = chunk.length;
    while (this.#state !== DONE) {
      if (this.#state === HEADER) {
        pos = this.#readHeader(chunk, pos, emit);
        if (this.#state === HEADER) return; // the header needs more bytes
      } else if (this.#state === PAYLOAD) {
        if (this.#remaining > 0) {
          if (pos >= end) return;
          const n = Math.min(this.#remaining, end - pos);
          this.#emitData(chunk, pos, n, emit);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining > 0) return;
        }
        this.#endDataFrame();
      } else {
        if (this.#remaining > 0) {
          if (pos >= end) return;
          const n = Math.min(this.#remaining, end - pos);
          this.#copyControl(chunk, pos, n);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining > 0) return;
        }
        this.#endControlFrame(emit);
      }
    }
  }

  /** Collects header bytes from `pos`; once whole, checks it and moves on. Returns the new pos. */
  #readHeader(chunk: Uint8Array, pos: number, emit: (event: FrameEvent) => void): number {
    const header = this.#header;
    while (pos < chunk.length) {
      header[this.#headerLength++] = chunk[pos++]!;
      if (this.#headerLength === 2) {
        const problem = this.#checkStart(header[0]!, header[1]!);
        if (problem !== undefined) {
          this.#fail(1002, problem, emit);
          return pos;
        }
      }
      if (this.#headerNeed !== 0 && this.#headerLength === this.#headerNeed) {
        this.#startFrame(emit);
        return pos;
      }
    }
    return pos;
  }

  /** Checks a header's first two bytes and works out its length; returns a problem or nothing. */
  #checkStart(b0: number, b1: number): string | undefined {
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const length7 = b1 & 0x7f;
    const maskBit = (b1 & 0x80) !== 0;
    if ((b0 & 0x70) !== 0) {
      return `A frame set the reserved bits "0x${(b0 & 0x70).toString(16)}", ` +
        "but no extension was negotiated.";
    }
    if (opcode >= 8) {
      if (opcode > Opcode.Pong) return `A frame has the unknown opcode "${opcode}".`;
      if (!fin) return `A control frame (opcode "${opcode}") was fragmented, which is not allowed.`;
      if (length7 > 125) {
        return `A control frame (opcode "${opcode}") announced more than 125 bytes.`;
      }
    } else if (opcode > Opcode.Binary) {
      return `A frame has the unknown opcode "${opcode}".`;
    } else if (opcode === Opcode.Continuation && !this.#fragmented) {
      return "A continuation frame came without a fragmented message to continue.";
    } else if (opcode !== Opcode.Continuation && this.#fragmented) {
      return `A new data frame (opcode "${opcode}") came before the fragmented message ended.`;
    }
    if (maskBit !== this.#masked) {
      return this.#masked
        ? "A client frame was not masked; clients must mask every frame."
        : "A server frame was masked; servers must not mask frames.";
    }
    this.#fin = fin;
    this.#opcode = opcode;
    this.#headerNeed = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (maskBit ? 4 : 0);
    return undefined;
  }

  /** The header is whole: reads the length and mask and enters the payload state. */
  #startFrame(emit: (event: FrameEvent) => void): void {
    const header = this.#header;
    const length7 = header[1]! & 0x7f;
    let at = 2;
    let length = length7;
    if (length7 === 126) {
      length = (header[2]! << 8) | header[3]!;
      at = 4;
    } else if (length7 === 127) {
      const high = ((header[2]! << 24) | (header[3]! << 16) | (header[4]! << 8) | header[5]!) >>> 0;
      const low = ((header[6]! << 24) | (header[7]! << 16) | (header[8]! << 8) | header[9]!) >>> 0;
      if (high >= 0x8000_0000) {
        this.#fail(1002, "A frame's 64-bit length has its most significant bit set.", emit);
        return;
      }
      if (high > 0x1f_ffff) {
        this.#fail(1009, "A frame announced more than 2^53 bytes, too long to count.", emit);
        return;
      }
      length = high * TWO_32 + low;
      at = 10;
    }
    if (this.#masked) {
      const mask = this.#mask;
      mask[0] = header[at]!;
      mask[1] = header[at + 1]!;
      mask[2] = header[at + 2]!;
      mask[3] = header[at + 3]!;
    }
    this.#headerLength = 0;
    this.#headerNeed = 0;
    this.#remaining = length;
    this.#maskPhase = 0;
    if (this.#opcode >= 8) {
      this.#controlLength = 0;
      this.#state = CONTROL;
    } else {
      this.#state = PAYLOAD;
    }
  }

  /** Emits `n` payload bytes of `chunk` from `pos`, unmasked. */
  #emitData(chunk: Uint8Array, pos: number, n: number, emit: (event: FrameEvent) => void): void {
    const event = this.#data;
    if (!this.#masked) {
      event.bytes = chunk.subarray(pos, pos + n);
      emit(event);
      return;
    }
    const scratch = sharedScratch ?? new Uint8Array(SCRATCH_BYTES);
    sharedScratch = null;
    try {
      while (n > 0) {
        const piece = Math.min(n, SCRATCH_BYTES);
        this.#unmask(chunk, pos, scratch, 0, piece);
        event.bytes = scratch.subarray(0, piece);
        emit(event);
        pos += piece;
        n -= piece;
      }
    } finally {
      sharedScratch = scratch;
    }
  }

  /** Copies `n` bytes of `from` at `pos` to `to` at `at`, unmasking, and advances the mask phase. */
  #unmask(from: Uint8Array, pos: number, to: Uint8Array, at: number, n: number): void {
    const mask = this.#mask;
    let phase = this.#maskPhase;
    // Line the phase up, then unmask four bytes a round with the mask bytes in registers.
    while (n > 0 && phase !== 0) {
      to[at++] = from[pos++]! ^ mask[phase]!;
      phase = (phase + 1) & 3;
      n--;
    }
    const m0 = mask[0]!, m1 = mask[1]!, m2 = mask[2]!, m3 = mask[3]!;
    const rounds = n >>> 2;
    for (let i = 0; i < rounds; i++) {
      to[at] = from[pos]! ^ m0;
      to[at + 1] = from[pos + 1]! ^ m1;
      to[at + 2] = from[pos + 2]! ^ m2;
      to[at + 3] = from[pos + 3]! ^ m3;
      at += 4;
      pos += 4;
    }
    n &= 3;
    while (n > 0) {
      to[at++] = from[pos++]! ^ mask[phase]!;
      phase = (phase + 1) & 3;
      n--;
    }
    this.#maskPhase = phase;
  }

  /** Copies control payload bytes into the control buffer, unmasked when masked. */
  #copyControl(chunk: Uint8Array, pos: number, n: number): void {
    const control = this.#control ??= new Uint8Array(125);
    if (this.#masked) this.#unmask(chunk, pos, control, this.#controlLength, n);
    else control.set(chunk.subarray(pos, pos + n), this.#controlLength);
    this.#controlLength += n;
  }

  /** A data frame's payload is all in: a FIN ends the message. */
  #endDataFrame(): void {
    this.#fragmented = !this.#fin;
    this.#state = HEADER;
  }

  /** A control frame is whole: emits it. */
  #endControlFrame(emit: (event: FrameEvent) => void): void {
    const payload = this.#control?.slice(0, this.#controlLength) ?? new Uint8Array(0);
    this.#state = HEADER;
    if (this.#opcode === Opcode.Ping) emit({ type: "ping", payload });
    else if (this.#opcode === Opcode.Pong) emit({ type: "pong", payload });
    else this.#close(payload, emit);
  }

  /** Checks and emits a close frame's code and reason. */
  #close(payload: Uint8Array, emit: (event: FrameEvent) => void): void {
    if (payload.length === 0) {
      this.#state = DONE;
      emit({ type: "close", reason: "" });
      return;
    }
    if (payload.length === 1) {
      this.#fail(1002, "A close frame carried a 1-byte payload; a code takes 2 bytes.", emit);
      return;
    }
    const code = (payload[0]! << 8) | payload[1]!;
    if (!validCloseCode(code)) {
      this.#fail(1002, `A close frame carried the invalid close code "${code}".`, emit);
      return;
    }
    let reason: string;
    try {
      reason = strictUtf8.decode(payload.subarray(2));
    } catch {
      this.#fail(1007, "A close frame's reason is not valid UTF-8.", emit);
      return;
    }
    this.#state = DONE;
    emit({ type: "close", code, reason });
  }

  /** Reports an error and ignores all further input. */
  #fail(code: number, reason: string, emit: (event: FrameEvent) => void): void {
    this.#state = DONE;
    emit({ type: "error", code, reason });
  }
}

/** Whether a peer may send `code` in a close frame (RFC 6455 section 7.4 and the IANA registry). */
function validCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/**
 * Encodes one whole frame (FIN set) with the shortest length encoding. Without a mask (server
 * frames) the payload follows the header as is; with a mask (client frames, 4 random bytes) a
 * masked copy of it does. The payload is never modified.
 *
 * @param opcode An {@linkcode Opcode}; control frames (Close, Ping, Pong) carry at most 125 bytes.
 * @param payload The frame's payload.
 * @param mask The 4-byte masking key, for frames a client sends.
 * @returns The frame's bytes, header and payload in one array (one write call).
 * @throws {RangeError} If the mask is not 4 bytes or a control payload is over 125 bytes.
 */
export function encodeFrame(opcode: number, payload: Uint8Array, mask?: Uint8Array): Uint8Array {
  if (mask !== undefined && mask.length !== 4) {
    throw new RangeError(`A WebSocket mask must be 4 bytes, not "${mask.length}"; pass 4 bytes.`);
  }
  const length = payload.length;
  if (opcode >= 8 && length > 125) {
    throw new RangeError(
      `A control frame carries at most 125 bytes, not "${length}"; shorten the payload.`,
    );
  }
  const lengthBytes = length < 126 ? 0 : length < 0x1_0000 ? 2 : 8;
  const headerLength = 2 + lengthBytes + (mask === undefined ? 0 : 4);
  const frame = new Uint8Array(headerLength + length);
  frame[0] = 0x80 | (opcode & 0x0f);
  const maskBit = mask === undefined ? 0 : 0x80;
  if (lengthBytes === 0) {
    frame[1] = maskBit | length;
  } else if (lengthBytes === 2) {
    frame[1] = maskBit | 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = maskBit | 127;
    const high = Math.floor(length / TWO_32);
    const low = length >>> 0;
    frame[2] = high >>> 24;
    frame[3] = (high >>> 16) & 0xff;
    frame[4] = (high >>> 8) & 0xff;
    frame[5] = high & 0xff;
    frame[6] = low >>> 24;
    frame[7] = (low >>> 16) & 0xff;
    frame[8] = (low >>> 8) & 0xff;
    frame[9] = low & 0xff;
  }
  if (mask === undefined) {
    frame.set(payload, headerLength);
    return frame;
  }
  const at = headerLength - 4;
  frame.set(mask, at);
  const m0 = mask[0]!, m1 = mask[1]!, m2 = mask[2]!, m3 = mask[3]!;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    frame[headerLength + i] = payload[i]! ^ m0;
    frame[headerLength + i + 1] = payload[i + 1]! ^ m1;
    frame[headerLength + i + 2] = payload[i + 2]! ^ m2;
    frame[headerLength + i + 3] = payload[i + 3]! ^ m3;
  }
  for (; i < length; i++) frame[headerLength + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/**
 * A close frame's payload: the 2-byte code and the UTF-8 reason, the reason cut (at a character
 * boundary) to the 123 bytes a control frame leaves for it.
 *
 * @param code The close code (1000 normal, 1001 going away, 1002 protocol error, 1009 too big...).
 * @param reason One sentence saying why, for people reading logs.
 * @returns The payload for `encodeFrame(Opcode.Close, ...)`.
 */
export function closePayload(code: number, reason: string): Uint8Array {
  const text = utf8Encoder.encode(reason);
  let length = Math.min(text.length, 123);
  // Do not cut a character: back up over continuation bytes (10xxxxxx) to a character's start.
  if (length < text.length) { while (length > 0 && (text[length]! & 0xc0) === 0x80) length--; }
  const payload = new Uint8Array(2 + length);
  payload[0] = (code >>> 8) & 0xff;
  payload[1] = code & 0xff;
  payload.set(text.subarray(0, length), 2);
  return payload;
}
