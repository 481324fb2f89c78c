/**
 * One hub, any number of listeners: every listener's connections become sessions of one
 * router, so users on a TLS port and on a plain port share one namespace. The hub also drives
 * the router's deadlines with a timer and runs the graceful shutdown.
 *
 * @module
 */
import { type Conn, listen, type Listener, type TransportKind } from "../net/transport.ts";
import { InputClock, WALL_CLOCK } from "./clock.ts";
import { Router, type RouterOptions } from "./router.ts";
import { SweepPacer } from "./deadlines.ts";
import { Session, type SessionLimits } from "./session.ts";
import type { ServerData } from "../store/data.ts";
import type { LogEvent } from "./log.ts";
import { type WebAssets, WebConnection, type WebHost, WebSite } from "./web.ts";
import { hostName, webNames } from "./web_names.ts";

/** One address to listen on. */
export interface ListenSpec {
  /** Interface to listen on. */
  hostname: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Socket API. */
  transport: TransportKind;
  /** Serve TLS with this certificate chain and key (PEM text); plain TCP when absent. */
  tls?: { cert: string; key: string };
}

/** An address a hub listens on. */
export interface BoundAddress {
  /** The address actually bound. */
  readonly hostname: string;
  /** The port actually bound (port 0 becomes a real port). */
  readonly port: number;
  /** True if it speaks TLS. */
  readonly tls: boolean;
}

/** What a hub needs: the router's rules, the decoder's limits and the drain time. */
export interface HubOptions extends RouterOptions, SessionLimits {
  /** On shutdown, how long to wait for messages in flight to be acknowledged. */
  drainTimeoutMs: number;
  /**
   * Owned names and stored mail; default in memory. The hub does not close it: whoever opened
   * it closes it after the hub (see `chat server`).
   */
  data?: ServerData;
}

/** A router, its listeners, its sessions and its deadline timer. */
export class Hub implements WebHost {
  /** The routing core. */
  readonly router: Router;
  /** Open sessions, on every listener. */
  readonly sessions = new Set<Session>();
  readonly #options: HubOptions;
  /** The decoder's limits, for the sessions. */
  readonly limits: SessionLimits;
  readonly #listeners: Listener[] = [];
  readonly #addresses: BoundAddress[] = [];
  readonly #timer: ReturnType<typeof setInterval>;
  #closing: Promise<void> | null = null;

  /** The router's clock, ticked as input arrives. */
  readonly clock = new InputClock();

  /** See {@link WebHost.unusedWeb}. */
  readonly unusedWeb = new Set<WebConnection>();

  /** A hub with no listener yet; its deadlines run from now until {@link close}. */
  constructor(options: HubOptions) {
    this.#options = options;
    this.limits = { maxHeaderBytes: options.maxHeaderBytes, maxBodyBytes: options.maxBodyBytes };
    const clock = this.clock;
    this.router = new Router(options, {
      clock,
      wall: WALL_CLOCK,
      ...(options.data !== undefined ? { data: options.data } : {}),
    });
    const shortest = Math.min(
      options.ackTimeoutMs,
      options.registerTimeoutMs,
      options.stallTimeoutMs,
    );
    const every = Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
    const pacer = new SweepPacer(every, clock.now());
    this.#timer = setInterval(() => {
      clock.tick();
      const now = clock.now();
      if (!pacer.due(now)) return;
      this.#closeUnusedWeb(now);
      this.router.sweep(now);
    }, every);
  }

  /** Closes, at the registration deadline, web connections that sent nothing (see web.ts). */
  #closeUnusedWeb(now: number): void {
    const limit = this.#options.registerTimeoutMs;
    // In the order they were accepted: the first one not yet due ends the search.
    for (const c of this.unusedWeb) {
      if (now - c.session.link.openedAt < limit) break;
      c.closeUnused();
    }
  }

  /** The addresses listened on, in the order they were added. */
  get addresses(): readonly BoundAddress[] {
    return this.#addresses;
  }

  /** Logs an event (see {@link Router.log}). */
  log(event: LogEvent): void {
    this.router.log(event);
  }

  /**
   * Starts the web port on `spec`: HTTP answered with `assets` to requests for one of `names`
   * (`"*"`: any; IP literals, localhost and the name listened on always: see web_names.ts), and
   * WebSocket connections on `/ws` joining this hub as sessions (see web.ts). A connection
   * counts against the connection limits, and is closed at the registration deadline, from the
   * moment it is accepted.
   */
  async listenWeb(
    spec: ListenSpec,
    assets: WebAssets,
    names: readonly string[] = [],
  ): Promise<BoundAddress> {
    const tls = spec.tls !== undefined;
    // The name listened on (--host chat.lan) is one of the port's names; an address needs none.
    const own = hostName(spec.hostname) === null ? [] : [spec.hostname];
    const site = new WebSite(assets, (e) => this.log(e), webNames([...names, ...own]));
    const listener = await listen(
      spec,
      (raw: Conn) => new WebConnection(this, raw, tls, site).handler,
    );
    this.#listeners.push(listener);
    return { hostname: listener.hostname, port: listener.port, tls };
  }

  /** Starts listening on `spec`; its connections join this hub. */
  async listen(spec: ListenSpec): Promise<BoundAddress> {
    const tls = spec.tls !== undefined;
    const listener = await listen(spec, (conn: Conn) => new Session(this, conn, tls));
    this.#listeners.push(listener);
    const bound = { hostname: listener.hostname, port: listener.port, tls };
    this.#addresses.push(bound);
    return bound;
  }

  /**
   * Stops accepting, waits up to `drainTimeoutMs` for messages in flight to be acknowledged
   * (new ones are refused meanwhile), closes every connection and resolves when all are closed.
   * With `{ drain: false }`, closes at once.
   */
  close({ drain = true }: { drain?: boolean } = {}): Promise<void> {
    this.#closing ??= this.#close(drain);
    return this.#closing;
  }

  async #close(drain: boolean): Promise<void> {
    const router = this.router;
    router.draining = true;
    // Not awaited yet: node:net's listener only finishes closing once every connection has.
    const stopped = Promise.all(this.#listeners.map((l) => l.close()));
    if (drain) await this.#drain();
    clearInterval(this.#timer);
    const sessions = [...this.sessions];
    for (const s of sessions) s.conn.close();
    await Promise.all(sessions.map((s) => s.conn.done));
    await stopped;
  }

  /** Waits for messages in flight, fails what is left, and ends every connection cleanly. */
  async #drain(): Promise<void> {
    const router = this.router;
    const until = performance.now() + this.#options.drainTimeoutMs;
    while (!router.quiet() && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // What is still unacknowledged will not be: its senders get ERROR 102 before the end.
    router.failAll("did not acknowledge it before the server stopped");
    // Close cleanly: what was written still reaches the clients.
    for (const s of this.sessions) s.conn.end();
    const ended = Promise.all([...this.sessions].map((s) => s.conn.done));
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([ended, new Promise((r) => t = setTimeout(r, 1000))]);
    clearTimeout(t);
  }
}
