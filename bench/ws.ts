/**
 * The bench's WebSocket ends, on the codec of `src/net/websocket.ts`:
 *
 * - {@link openWs}: a client over `node:net` that does the HTTP upgrade to `/ws` itself and then
 *   speaks masked binary frames, one frame per write (as the web client sends one protocol message
 *   per WebSocket message). The load generator and the soak's clients use it for the server's web
 *   port.
 * - {@link acceptWs}: the server side for the relay (`relay.ts --web`): a minimal upgrade, then
 *   frames in and out around an ordinary connection handler.
 *
 * Both trust their peer far more than the real server does: they are yardsticks, not edges.
 *
 * @module
 */
import * as net from "node:net";
import type { Conn, ConnHandler } from "../src/net/conn.ts";
import {
  acceptKey,
  closePayload,
  encodeFrame,
  FrameDecoder,
  type FrameEvent,
  Opcode,
} from "../src/net/websocket.ts";

const ENC = new TextEncoder();
const DEC = new TextDecoder();
/** The most an HTTP head may take before the bench gives up on it. */
const MAX_HEAD = 8192;

/** One open client socket, as the generator needs it. */
export interface WsSock {
  /** Sends `bytes` as one masked binary frame. */
  write(bytes: Uint8Array): void;
  /** Closes the TCP connection at once. */
  close(): void;
}

/** Where a WebSocket client connects, and how. */
export interface WsTarget {
  host: string;
  port: number;
  /** Request path, default `/ws`. */
  path?: string;
  /** An `Origin` header to send (none by default: not a browser). */
  origin?: string;
}

/** A fresh `Sec-WebSocket-Key`: base64 of 16 random bytes. */
export function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/** The upgrade request for `target`, with `key`. */
export function upgradeRequest(target: WsTarget, key: string): Uint8Array {
  const hostHeader = target.host.includes(":") ? `[${target.host}]` : target.host;
  return ENC.encode(
    `GET ${target.path ?? "/ws"} HTTP/1.1\r\nHost: ${hostHeader}:${target.port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      (target.origin ? `Origin: ${target.origin}\r\n` : "") + "\r\n",
  );
}

/** Index just past the `\r\n\r\n` ending an HTTP head in `b`, or -1. */
export function headEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  }
  return -1;
}

/**
 * A cheap per-connection mask source (xorshift32): RFC 6455 wants unpredictable masks against
 * proxies' caches, which do not exist on loopback; the server only has to unmask. One 4-byte
 * array, rewritten per frame (`encodeFrame` copies it).
 */
class Masks {
  #state: number;
  readonly #mask = new Uint8Array(4);
  constructor() {
    this.#state = (Math.random() * 0xffff_ffff) >>> 0 || 1;
  }
  next(): Uint8Array {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    const m = this.#mask;
    m[0] = x & 0xff;
    m[1] = (x >>> 8) & 0xff;
    m[2] = (x >>> 16) & 0xff;
    m[3] = (x >>> 24) & 0xff;
    return m;
  }
}

/**
 * Connects to `target`, upgrades to WebSocket and resolves once the server answered 101 with the
 * right `Sec-WebSocket-Accept`. `onData` then gets the payload bytes of the server's frames (valid
 * only during the call), `onClose` is called once when the connection ends. Pings are answered;
 * a close frame is answered and the socket destroyed. Rejects if the connection or the upgrade
 * fails (with the status line, for the log).
 */
export function openWs(
  target: WsTarget,
  onData: (chunk: Uint8Array) => void,
  onClose: () => void,
): Promise<WsSock> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: target.host, port: target.port });
    const key = newKey();
    const expected = acceptKey(key);
    const masks = new Masks();
    let head = new Uint8Array(0);
    let open = false;
    let settled = false;
    const decoder = new FrameDecoder({ masked: false });
    const sock: WsSock = {
      write(bytes) {
        if (!s.destroyed) s.write(encodeFrame(Opcode.Binary, bytes, masks.next()));
      },
      close() {
        s.destroy();
      },
    };
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      s.destroy();
      reject(error);
    };
    const onEvent = (event: FrameEvent) => {
      if (event.type === "data") onData(event.bytes);
      else if (event.type === "ping") {
        s.write(encodeFrame(Opcode.Pong, event.payload, masks.next()));
      } else if (event.type === "close" || event.type === "error") {
        const code = event.type === "close" ? 1000 : event.code;
        s.end(encodeFrame(Opcode.Close, closePayload(code, ""), masks.next()));
        s.destroy();
      }
    };
    /** Chunks read while the accept value is being checked, fed to the decoder after it. */
    let held: Uint8Array[] | null = null;
    const onBytes = (chunk: Uint8Array) => {
      if (open) return decoder.push(chunk, onEvent);
      if (held !== null) return void held.push(chunk.slice());
      const joined = new Uint8Array(head.length + chunk.length);
      joined.set(head);
      joined.set(chunk, head.length);
      head = joined;
      const end = headEnd(head);
      if (end === -1) {
        if (head.length > MAX_HEAD) fail(new Error("the upgrade answer's head is over 8 KiB"));
        return;
      }
      const text = DEC.decode(head.subarray(0, end));
      const status = text.slice(0, text.indexOf("\r\n"));
      const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(text)?.[1];
      held = [head.slice(end)];
      expected.then((want) => {
        if (!/^HTTP\/1\.1 101 /.test(status)) return fail(new Error(`upgrade refused: ${status}`));
        if (accept !== want) return fail(new Error(`bad Sec-WebSocket-Accept "${accept}"`));
        if (settled) return; // closed meanwhile
        settled = true;
        open = true;
        resolve(sock);
        for (const chunk of held!) decoder.push(chunk, onEvent);
        held = null;
      });
    };
    s.once("error", fail);
    s.once("connect", () => {
      s.setNoDelay(true); // Deno's node:net ignores the noDelay option of connect
      s.write(upgradeRequest(target, key));
    });
    s.on("data", onBytes);
    s.once("close", () => {
      if (!settled) fail(new Error("the connection closed during the upgrade"));
      else onClose();
    });
    s.on("error", () => {/* "close" follows */});
  });
}

/**
 * The server side of a WebSocket for the relay: reads the upgrade request on `conn` (any path),
 * answers 101, then hands the payload of each client frame to the handler `inner` makes, whose
 * writes go out as unmasked binary frames. A bad frame closes the connection with its code.
 */
export function acceptWs(conn: Conn, inner: (ws: Conn) => ConnHandler): ConnHandler {
  let head = new Uint8Array(0);
  let handler: ConnHandler | null = null;
  const decoder = new FrameDecoder({ masked: true });
  const ws: Conn = {
    get remote() {
      return conn.remote;
    },
    get remoteHost() {
      return conn.remoteHost;
    },
    get queuedBytes() {
      return conn.queuedBytes;
    },
    get sentBytes() {
      return conn.sentBytes;
    },
    get closed() {
      return conn.closed;
    },
    get done() {
      return conn.done;
    },
    write: (bytes) => conn.write(encodeFrame(Opcode.Binary, bytes)),
    end: () => conn.end(),
    close: () => conn.close(),
  };
  const onEvent = (event: FrameEvent) => {
    if (event.type === "data") handler?.data(event.bytes);
    else if (event.type === "ping") conn.write(encodeFrame(Opcode.Pong, event.payload));
    else if (event.type === "close") {
      conn.write(encodeFrame(Opcode.Close, closePayload(1000, "")));
      conn.end();
    } else if (event.type === "error") {
      conn.write(encodeFrame(Opcode.Close, closePayload(event.code, event.reason)));
      conn.end();
    }
  };
  /** Chunks read while the answer is being made, fed to the decoder after it. */
  let held: Uint8Array[] | null = null;
  return {
    data(chunk) {
      if (handler !== null) return decoder.push(chunk, onEvent);
      if (held !== null) return void held.push(chunk.slice());
      const joined = new Uint8Array(head.length + chunk.length);
      joined.set(head);
      joined.set(chunk, head.length);
      head = joined;
      const end = headEnd(joined);
      if (end === -1) {
        if (joined.length > MAX_HEAD) conn.close();
        return;
      }
      const text = DEC.decode(joined.subarray(0, end));
      const key = /\r\nsec-websocket-key:\s*(\S+)/i.exec(text)?.[1];
      if (key === undefined) {
        conn.write(ENC.encode("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"));
        conn.end();
        return;
      }
      held = [joined.slice(end)];
      acceptKey(key).then((accept) => {
        conn.write(ENC.encode(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
        ));
        handler = inner(ws);
        for (const chunk of held!) decoder.push(chunk, onEvent);
        held = null;
      });
    },
    closed(error) {
      handler?.closed(error);
    },
  };
}
