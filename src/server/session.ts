/**
 * The edge between a byte stream and the router: one {@link Session} per connection decodes
 * what arrives and hands messages to the router. The only part of the server that knows what a
 * {@link Conn} is; a WebSocket edge would be another class like it.
 *
 * @module
 */
import { type DecodeEvent, Decoder } from "../protocol/mod.ts";
import type { Conn, ConnHandler } from "../net/conn.ts";
import type { InputClock } from "./clock.ts";
import type { Link, Router } from "./router.ts";

/** Limits of the decoder of each connection. */
export interface SessionLimits {
  /** Largest header accepted, in bytes. */
  maxHeaderBytes: number;
  /** Largest message body accepted, in bytes. */
  maxBodyBytes: number;
}

/** What a session needs of its hub. */
export interface SessionHost {
  /** The routing core. */
  readonly router: Router;
  /** The router's clock, told as input arrives. */
  readonly clock: InputClock;
  /** The open sessions, which a session joins and leaves. */
  readonly sessions: Set<Session>;
  /** The decoder's limits. */
  readonly limits: SessionLimits;
}

/** One connection: its decoder, and its routing state in the router. */
export class Session implements ConnHandler {
  /** The connection. */
  readonly conn: Conn;
  /** Its state in the router. */
  readonly link: Link;
  readonly #host: SessionHost;
  readonly #router: Router;
  readonly #decoder: Decoder;
  /**
   * True when its bytes cannot be a stray TLS handshake: they come from a TLS listener, or they
   * are a WebSocket's payloads (the web edge checks the raw bytes itself).
   */
  readonly #tls: boolean;
  /** True until the first bytes arrive. */
  #firstRead = true;
  /** Events decoded so far (to tell when a read finished one message and started another). */
  #events = 0;
  readonly #onEvent = (e: DecodeEvent) => {
    this.#events++;
    if (e.kind === "message") this.#router.receive(this.link, e.message);
    else this.#router.decodeError(this.link, e.error);
  };

  /**
   * Takes `conn` into `host`'s router (which may refuse it); `tls`: its bytes need no check for a
   * TLS handshake (a TLS listener, or a WebSocket).
   */
  constructor(host: SessionHost, conn: Conn, tls: boolean) {
    this.#host = host;
    this.#router = host.router;
    this.conn = conn;
    this.#tls = tls;
    this.#decoder = new Decoder({
      maxHeaderBytes: host.limits.maxHeaderBytes,
      maxBodyBytes: host.limits.maxBodyBytes,
    });
    host.sessions.add(this);
    host.clock.tick();
    this.link = host.router.accept(conn);
  }

  /** See {@link ConnHandler.data}. */
  data(chunk: Uint8Array): void {
    const link = this.link;
    this.#host.clock.tick();
    if (this.#firstRead) {
      this.#firstRead = false;
      // 0x16 0x03: a TLS handshake record. No protocol message starts so; say why and close
      // rather than let the client wait for the registration deadline.
      if (chunk[0] === 0x16 && chunk[1] === 0x03 && !this.#tls) {
        this.#router.drop(link, "it speaks TLS, but this server does not (no --tls-cert)");
        return;
      }
    }
    const before = this.#events;
    this.#decoder.feed(chunk, this.#onEvent);
    if (this.#decoder.idle) link.partialSince = 0;
    // A message that ended in this chunk means the unfinished one started in it too. The wait
    // for its rest starts now, once the chunk is handled, not when the chunk came (the time the
    // clock still holds): a chunk of two thousand messages took over the stall timeout to
    // handle on a busy machine, and the sweep right after blamed the client for the server's
    // own work.
    else if (link.partialSince === 0 || this.#events !== before) {
      this.#host.clock.tick();
      link.partialSince = this.#router.clock.now();
    }
  }

  /** See {@link ConnHandler.closed}. */
  closed(error?: Error): void {
    this.#host.sessions.delete(this);
    this.#host.clock.tick();
    // A TLS peer that just hangs up without close_notify has simply closed.
    this.#router.closed(this.link, error && /close_notify/.test(error.message) ? undefined : error);
  }
}
