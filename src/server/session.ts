/**
 * The edge between a byte stream and the router: one {@link Session} per connection decodes
 * what arrives and hands messages to the router. The only part of the server that knows what a
 * {@link Conn} is; a WebSocket edge would be another class like it.
 *
 * @module
 */
import { type DecodeEvent, Decoder } from "../protocol/mod.ts";
import type { Conn, ConnHandler } from "../net/conn.ts";
import type { Link, Router } from "./router.ts";

/** Limits of the decoder of each connection. */
export interface SessionLimits {
  /** Largest header accepted, in bytes. */
  maxHeaderBytes: number;
  /** Largest message body accepted, in bytes. */
  maxBodyBytes: number;
}

/** One connection: its decoder, and its routing state in the router. */
export class Session implements ConnHandler {
  /** The connection. */
  readonly conn: Conn;
  /** Its state in the router. */
  readonly link: Link;
  readonly #router: Router;
  readonly #decoder: Decoder;
  /** True when the listener it came from speaks TLS. */
  readonly #tls: boolean;
  /** The open sessions of its hub, which it leaves when it closes. */
  readonly #open: Set<Session>;
  /** True until the first bytes arrive. */
  #firstRead = true;
  /** Events decoded so far (to tell when a read finished one message and started another). */
  #events = 0;
  readonly #onEvent = (e: DecodeEvent) => {
    this.#events++;
    if (e.kind === "message") this.#router.receive(this.link, e.message);
    else this.#router.decodeError(this.link, e.error);
  };

  /** Takes `conn` into `router` (which may refuse it) and joins `open`. */
  constructor(router: Router, conn: Conn, limits: SessionLimits, tls: boolean, open: Set<Session>) {
    this.#router = router;
    this.conn = conn;
    this.#tls = tls;
    this.#open = open;
    this.#decoder = new Decoder({
      maxHeaderBytes: limits.maxHeaderBytes,
      maxBodyBytes: limits.maxBodyBytes,
    });
    open.add(this);
    this.link = router.accept(conn);
  }

  /** See {@link ConnHandler.data}. */
  data(chunk: Uint8Array): void {
    const link = this.link;
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
    // A message that ended in this chunk means the unfinished one started in it too.
    else if (link.partialSince === 0 || this.#events !== before) {
      link.partialSince = this.#router.clock.now();
    }
  }

  /** See {@link ConnHandler.closed}. */
  closed(error?: Error): void {
    this.#open.delete(this);
    this.#router.closed(this.link, error);
  }
}
