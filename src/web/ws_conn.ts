/**
 * A {@link ConnectFn} over the browser's WebSocket (PROTOCOL.md, "Over WebSocket (browsers)"):
 * each connection is one WebSocket to the server's `/ws`, carrying the protocol's bytes in
 * binary messages, so the unchanged client engine (`ChatSession`) runs over it. No runtime API
 * but the standard `WebSocket` and timers: it runs in a browser (and in Deno, for its tests).
 *
 * @module
 */
import type { Conn, ConnectFn, ConnectOptions, ConnHandler } from "../net/conn.ts";

export type { Conn, ConnectFn, ConnectOptions, ConnHandler, TransportKind } from "../net/conn.ts";

/** How long `close()` waits for the server's close frame before it counts the socket as closed. */
const CLOSE_WAIT_MS = 2_000;

/** The WebSocket constructor to use (the global one, or a stand-in in tests). */
export type WebSocketClass = new (url: string | URL) => WebSocket;

/**
 * The WebSocket URL of the chat on the page at `location`: `ws://HOST/ws`, or `wss://HOST/ws`
 * for a page loaded over https (the same host and port as the page, as the server's Origin check
 * wants).
 */
export function chatSocketUrl(location: { protocol: string; host: string }): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/**
 * The host and port of the page at `location`, as `ChatSession` names the server: the host
 * without IPv6 brackets, and the port the page came from (80 or 443 when the URL has none).
 */
export function pageServer(
  location: { protocol: string; hostname: string; port: string },
): { host: string; port: number } {
  const host = location.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = location.port !== ""
    ? Number(location.port)
    : location.protocol === "https:"
    ? 443
    : 80;
  return { host, port };
}

/**
 * A connect function that opens a WebSocket to `url` (see {@link chatSocketUrl}) for every
 * connection, whatever host and port the engine asks for (the page's own server is the only one
 * a browser may reach; `ConnectOptions.tls` is decided by the URL's scheme). A socket that does
 * not open rejects with an Error saying so; browsers do not tell why (refused, not found, a
 * refused Origin all look alike).
 */
export function webSocketConnect(
  url: string,
  WebSocketImpl: WebSocketClass = globalThis.WebSocket,
): ConnectFn {
  return (_options: ConnectOptions, handler: ConnHandler) =>
    openSocket(url, WebSocketImpl, handler);
}

function openSocket(url: string, Impl: WebSocketClass, handler: ConnHandler): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new Impl(url);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      reject(new Error(`the address "${url}" cannot be used for a WebSocket (${why})`));
      return;
    }
    ws.binaryType = "arraybuffer";
    const failed = (event: Event) => {
      ws.onopen = ws.onerror = ws.onclose = null;
      const code = event instanceof CloseEvent ? ` (close code ${event.code})` : "";
      reject(
        new Error(
          `the WebSocket to ${url} did not open${code}: the server may be down or restarting, ` +
            "or may not accept this page's address",
        ),
      );
    };
    ws.onerror = failed;
    ws.onclose = failed;
    ws.onopen = () => {
      ws.onopen = ws.onerror = ws.onclose = null;
      resolve(new WebSocketConn(ws, url, handler));
    };
  });
}

/** One open WebSocket as a {@link Conn}: each write is one binary message. */
class WebSocketConn implements Conn {
  readonly remote: string;
  readonly remoteHost: string;
  readonly done: Promise<void>;
  readonly #ws: WebSocket;
  readonly #handler: ConnHandler;
  #closed = false;
  #written = 0;
  #doneResolve!: () => void;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ws: WebSocket, url: string, handler: ConnHandler) {
    this.#ws = ws;
    this.#handler = handler;
    const host = new URL(url).host;
    this.remote = host;
    this.remoteHost = new URL(url).hostname;
    this.done = new Promise((r) => this.#doneResolve = r);
    ws.onmessage = (event: MessageEvent) => this.#message(event.data);
    ws.onclose = (event: CloseEvent) => this.#onClose(event);
    // An error is always followed by a close event, which reports it.
    ws.onerror = null;
  }

  get queuedBytes(): number {
    return this.#closed ? 0 : this.#ws.bufferedAmount;
  }

  get sentBytes(): number {
    return this.#written - this.queuedBytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #message(data: unknown): void {
    if (this.#closed) return;
    if (data instanceof ArrayBuffer) this.#handler.data(new Uint8Array(data));
    else if (typeof data === "string") this.#handler.data(new TextEncoder().encode(data));
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#written += bytes.length;
    this.#ws.send(bytes as Uint8Array<ArrayBuffer>);
  }

  end(): void {
    // The browser sends what is queued before the close frame.
    this.#shut(1000);
  }

  close(): void {
    // A browser cannot drop what it has queued: the socket closes as soon as it may.
    this.#shut(1000);
  }

  #shut(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#ws.close(code);
    } catch { /* already closing */ }
    // The close event ends it; a server that never answers the close frame does not hold it.
    this.#closeTimer = setTimeout(() => this.#finish(), CLOSE_WAIT_MS);
    this.#handler.closed();
  }

  #onClose(event: CloseEvent): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#handler.closed(closeError(event));
    }
    this.#finish();
  }

  #finish(): void {
    clearTimeout(this.#closeTimer);
    this.#ws.onmessage = this.#ws.onclose = null;
    this.#doneResolve();
  }
}

/**
 * The error a close by the other side means, or undefined for a normal close (1000, 1001, or no
 * code): an abnormal end (1006: the connection broke) or the server's protocol error, with its
 * reason.
 */
export function closeError(event: { code: number; reason: string }): Error | undefined {
  if (event.code === 1000 || event.code === 1001 || event.code === 1005) return undefined;
  if (event.code === 1006) return new Error("the WebSocket broke off without a close frame");
  const reason = event.reason.trim().replace(/\.$/, "");
  return new Error(
    `the server closed the WebSocket with code ${event.code}${reason === "" ? "" : `: ${reason}`}`,
  );
}
