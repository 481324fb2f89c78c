/**
 * What the soak's hostile clients (`hostile.ts`) write and read: the junk they send, a reader of
 * the server's messages just good enough to count answers, and the WebSocket side: the upgrade,
 * frames, and the malformed frames the WebSocket attackers send.
 *
 * @module
 */
import {
  closePayload,
  encodeFrame,
  FrameDecoder,
  type FrameEvent,
  Opcode,
} from "../src/net/websocket.ts";
import { headEnd, newKey, upgradeRequest } from "./ws.ts";

const LF = 10;
const ENC = new TextEncoder();

/** Protocol junk the garbage clients send (raw on TCP, in well-formed frames on WebSocket). */
export const JUNK = [
  "HELLO\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: chat\r\n\r\n",
  "SEND\n\n",
  "REGISTER TOSEND\n\n",
  "REGISTER TOSEND bad name!\n\n",
  "REGISTER TORECV ALL\n\n",
  "REGISTER SIDEWAYS x\n\n",
  "RECEIVED\n\n",
  "FORWARD u0\nContent-length: 3\n\nabc",
  "SENT u0\n\n",
  "ERROR 102 Unable to send\n\n",
  "\n\n\n\n",
  "\u0000\u0001\u0002\u00ff\n\n",
];

/** Joins two arrays. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * The server's messages, by first line: FORWARD bodies are skipped by their length. Only what a
 * hostile client needs: counting answers and noticing FORWARDs and REGISTERED.
 */
export class Reader {
  #buf = new Uint8Array(0);
  #skip = 0;

  constructor(readonly onMessage: (line: string) => void) {}

  feed(chunk: Uint8Array): void {
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, chunk.length);
      this.#skip -= n;
      chunk = chunk.subarray(n);
    }
    if (chunk.length === 0) return;
    const buf = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk);
    let pos = 0;
    for (;;) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, buf.length - pos);
        this.#skip -= n;
        pos += n;
        if (this.#skip > 0) break;
      }
      // The end of the header: LF LF (the server writes LF only).
      let end = -1;
      for (let i = buf.indexOf(LF, pos); i !== -1; i = buf.indexOf(LF, i + 1)) {
        if (i + 1 < buf.length && buf[i + 1] === LF) {
          end = i;
          break;
        }
      }
      if (end === -1) break;
      const header = new TextDecoder().decode(buf.subarray(pos, end));
      pos = end + 2;
      const nl = header.indexOf("\n");
      const first = nl === -1 ? header : header.slice(0, nl);
      if (first.startsWith("FORWARD ")) {
        const m = /content-length:\s*(\d+)/i.exec(header);
        this.#skip = m ? Number(m[1]) : 0;
      }
      this.onMessage(first);
    }
    this.#buf = pos >= buf.length ? new Uint8Array(0) : buf.slice(pos);
    if (this.#buf.length > 1 << 20) this.#buf = new Uint8Array(0); // not the server's output
  }
}

/**
 * The client end of a hostile WebSocket after its upgrade request: the HTTP answer (its status
 * counted as `HTTP <code>`), then the server's frames, whose payload goes to `onBytes` and whose
 * close frames are counted as `WS close <code>`.
 */
export class WsReader {
  #head: Uint8Array | null = new Uint8Array(0);
  readonly #decoder = new FrameDecoder({ masked: false });
  readonly #onEvent: (event: FrameEvent) => void;

  constructor(
    readonly onBytes: (bytes: Uint8Array) => void,
    readonly onLine: (line: string) => void,
  ) {
    this.#onEvent = (event) => {
      if (event.type === "data") onBytes(event.bytes);
      else if (event.type === "close") onLine(`WS close ${event.code ?? "none"}`);
      else if (event.type === "error") onLine(`WS bad frame from server ${event.code}`);
    };
  }

  /** True once the server answered 101. */
  upgraded = false;

  feed(chunk: Uint8Array): void {
    if (this.#head === null) return this.#decoder.push(chunk, this.#onEvent);
    this.#head = concat(this.#head, chunk);
    const end = headEnd(this.#head);
    if (end === -1) {
      if (this.#head.length > 16 * 1024) this.#head = null;
      return;
    }
    const status = /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(this.#head.subarray(0, 12)));
    this.onLine(`HTTP ${status?.[1] ?? "?"}`);
    const rest = this.#head.subarray(end);
    this.#head = null;
    if (status?.[1] !== "101") return;
    this.upgraded = true;
    if (rest.length > 0) this.#decoder.push(rest, this.#onEvent);
  }
}

/** A masked client frame of `opcode` (FIN set) around `payload`. */
export function frame(opcode: number, payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === "string" ? ENC.encode(payload) : payload;
  return encodeFrame(opcode, bytes, crypto.getRandomValues(new Uint8Array(4)));
}

/** A valid upgrade request to `/ws` of `host:port`. */
export function wsUpgrade(host: string, port: number): Uint8Array {
  return upgradeRequest({ host, port }, newKey());
}

/**
 * Upgrade requests the server must refuse (each answered with a 4xx status, or closed): a foreign
 * `Origin`, no key, a wrong version, another path, a head that never ends.
 */
export function badUpgrades(host: string, port: number): Uint8Array[] {
  const h = `Host: ${host}:${port}\r\n`;
  const up = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  const key = `Sec-WebSocket-Key: ${newKey()}\r\n`;
  return [
    `GET /ws HTTP/1.1\r\n${h}${up}${key}Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n`,
    `GET /ws HTTP/1.1\r\n${h}${up}Sec-WebSocket-Version: 13\r\n\r\n`,
    `GET /ws HTTP/1.1\r\n${h}${up}${key}Sec-WebSocket-Version: 8\r\n\r\n`,
    `GET /nope HTTP/1.1\r\n${h}\r\n\r\n`,
    `GET /ws HTTP/1.1\r\n${h}X-Pad: ${"a".repeat(16 * 1024)}`,
  ].map((text) => ENC.encode(text));
}

/** Sets the first byte of a masked frame, to build what `encodeFrame` refuses. */
function withFirstByte(b0: number, bytes: Uint8Array): Uint8Array {
  bytes[0] = b0;
  return bytes;
}

/**
 * Malformed frames, each of which the server must answer with a close frame (1002) and a
 * closed connection, never a crash.
 */
export function badFrames(): Uint8Array[] {
  return [
    encodeFrame(Opcode.Binary, ENC.encode("REGISTER TOSEND x\n\n")), // not masked
    withFirstByte(0xc2, frame(Opcode.Binary, "x")), // RSV1: no extension was negotiated
    withFirstByte(0x83, frame(Opcode.Binary, "x")), // opcode 3
    withFirstByte(0x8b, frame(Opcode.Binary, "x")), // opcode 11
    withFirstByte(0x09, frame(Opcode.Binary, "x")), // a fragmented ping
    withFirstByte(0x89, frame(Opcode.Binary, new Uint8Array(200))), // a 200-byte ping
    frame(Opcode.Continuation, "x"), // nothing to continue
    frame(Opcode.Close, new Uint8Array([3])), // a 1-byte close payload
    frame(Opcode.Close, closePayload(1005, "")), // a code no peer may send
    frame(Opcode.Close, new Uint8Array([0x03, 0xe8, 0xff])), // a reason that is not UTF-8
    // A 64-bit length with the top bit set.
    new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]),
    crypto.getRandomValues(new Uint8Array(256)), // noise
  ];
}

/**
 * The header of a masked binary frame announcing `length` payload bytes (up to 2^53), and its
 * mask; the payload is then written with {@link maskInto}, piece by piece.
 */
export function hugeFrameHeader(length: number): { header: Uint8Array; mask: Uint8Array } {
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const header = new Uint8Array(14);
  header[0] = 0x82;
  header[1] = 0xff;
  const high = Math.floor(length / 0x1_0000_0000);
  const low = length >>> 0;
  new DataView(header.buffer).setUint32(2, high);
  new DataView(header.buffer).setUint32(6, low);
  header.set(mask, 10);
  return { header, mask };
}

/** Masks `bytes` (at payload offset `offset`) with `mask`, into a new array. */
export function maskInto(bytes: Uint8Array, mask: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! ^ mask[(offset + i) & 3]!;
  return out;
}
