/**
 * The byte-stream interfaces every edge and the client engine are written against: types only,
 * no runtime API, so the client engine can use them in a browser too. `transport.ts` implements
 * them over TCP.
 *
 * @module
 */

/** Which socket API carries the bytes. */
export type TransportKind = "deno" | "node";

/** One open byte stream. Writes are queued in order; each queued chunk is one write call. */
export interface Conn {
  /** The peer's address as `host:port` (IPv6 in brackets). */
  readonly remote: string;
  /** The peer's host alone, for per-address limits. */
  readonly remoteHost: string;
  /** Bytes queued but not yet handed to the kernel. */
  readonly queuedBytes: number;
  /** Bytes handed to the kernel so far (with `"node"`, counted in whole written chunks). */
  readonly sentBytes: number;
  /** True once closed by either side. */
  readonly closed: boolean;
  /** Resolves when the connection is closed and its reads and writes have all ended. */
  readonly done: Promise<void>;
  /** Queues bytes to send. Ignored after close. */
  write(bytes: Uint8Array): void;
  /** Closes after the queued bytes are sent. */
  end(): void;
  /** Closes now, dropping queued bytes. Safe to call more than once. */
  close(): void;
}

/** What a connection's owner is told. */
export interface ConnHandler {
  /** Bytes arrived. The chunk may be reused after the call returns. */
  data(chunk: Uint8Array): void;
  /** The connection closed (by either side, or on error); called exactly once. */
  closed(error?: Error): void;
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Host name or address of the server. */
  hostname: string;
  /** Server port. */
  port: number;
  /** Socket API to use. Default `"deno"`. */
  transport?: TransportKind;
  /**
   * Speak TLS. `caCerts` (PEM text) are trusted in addition to the system's authorities with
   * `"deno"`, and instead of them with `"node"` (adding them there would need --allow-sys).
   */
  tls?: { caCerts?: string[] };
}

/** Opens a connection; `handler` receives its bytes. Rejects if the connection fails. */
export type ConnectFn = (options: ConnectOptions, handler: ConnHandler) => Promise<Conn>;
