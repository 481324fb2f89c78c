/**
 * `chat server`: the relay. Users register two connections (TOSEND and TORECV); a SEND on one
 * user's TOSEND becomes a FORWARD on the recipient's TORECV, and the recipient's RECEIVED
 * becomes the sender's SENT.
 *
 * This module is the entry: its options, and {@link startServer}, which builds a hub (hub.ts)
 * with one listener or several. The rules live in router.ts (with link.ts, limits.ts,
 * directory.ts and store.ts; registration.ts for users arriving and leaving; presence.ts and
 * extensions.ts for the pseudo-user `server` and the negotiated extensions; identity.ts and
 * mail.ts for owned names and stored mail, kept in a `ServerData` from src/store/); session.ts
 * is the edge between a connection and the router.
 *
 * @module
 */
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HEADER_BYTES } from "../protocol/mod.ts";
import type { TransportKind } from "../net/transport.ts";
import { type BoundAddress, Hub, type HubOptions, type ListenSpec } from "./hub.ts";
import { SILENT } from "./log.ts";
import type { WebAssets } from "./web.ts";

export type { TransportKind } from "../net/transport.ts";
export type { LogEvent, Logger } from "./log.ts";
export type { BoundAddress, ListenSpec } from "./hub.ts";
export type { RouterOptions } from "./router.ts";
export type { HubOptions } from "./hub.ts";
export type {
  DataSummary,
  Mail,
  MailboxSize,
  Owner,
  Receipt,
  ReceiptEvent,
  ServerData,
} from "../store/data.ts";
export type { SessionLimits } from "./session.ts";
export type { ScriptResult, WebAssets } from "./web.ts";

/**
 * The web port: the web client over HTTP and the protocol over WebSocket (see web.ts), on one
 * more listener of the same hub.
 */
export interface WebOptions {
  /** Interface to listen on; default the server's `hostname`. */
  hostname?: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Serve HTTPS and WSS with this certificate chain and key; default the server's `tls`. */
  tls?: { cert: string; key: string };
  /** The page, its styles and its script. */
  assets: WebAssets;
  /**
   * Host names the web port answers to (`--web-name`; `"*"`: any), besides IP literals,
   * `localhost` and the name it listens on; requests for another name are refused with 403,
   * against DNS rebinding (see web_names.ts). Default none.
   */
  names?: readonly string[];
}

/**
 * Settings of a running server; every field has a default in {@link DEFAULT_SERVER_OPTIONS}.
 * The rules are the hub's (router, decoder limits, drain time); `hostname`, `port`, `transport`
 * and `tls` are the one address listened on unless `listeners` names several.
 */
export interface ServerOptions extends HubOptions, ListenSpec {
  /**
   * Listen on each of these instead of `hostname`, `port` and `tls` (one hub, one namespace:
   * users of a TLS port and of a plain port talk to each other). `transport` is the default of
   * each.
   */
  listeners?: (Omit<ListenSpec, "transport"> & { transport?: TransportKind })[];
  /**
   * Also serve the web client on a web port. If that port cannot be listened on, the server
   * serves without it and says why in {@link ChatServer.webError}.
   */
  web?: WebOptions;
}

/** Defaults of {@link ServerOptions}. */
export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  hostname: "::",
  port: 5500,
  ackTimeoutMs: 30_000,
  maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  maxQueuedForwards: 256,
  maxQueuedBytes: 1024 * 1024,
  maxPendingSends: 256,
  maxWriteQueueBytes: 1024 * 1024,
  registerTimeoutMs: 10_000,
  stallTimeoutMs: 60_000,
  maxConnections: 50_000,
  maxPerAddress: 256,
  rateLimit: 50,
  rateBurst: 100,
  mailMaxMessages: 1000,
  mailMaxBytes: 16 * 1024 * 1024,
  mailMaxAgeMs: 7 * 24 * 3600 * 1000,
  drainTimeoutMs: 5_000,
  // node:net inside Deno: fair to every connection under load, and about a third of the memory
  // per idle user of Deno.listen (figures in bench/README.md).
  transport: "node",
  log: SILENT,
};

/** A running server. */
export interface ChatServer {
  /** The address it listens on (the first, if several). */
  readonly hostname: string;
  /** The port it listens on (the first, if several). */
  readonly port: number;
  /** Every address it listens on, in the order of {@link ServerOptions.listeners}. */
  readonly addresses: readonly BoundAddress[];
  /** The web port's address, or null without one (not asked for, or it failed). */
  readonly web: BoundAddress | null;
  /** Why the web port asked for could not be listened on; null if it was, or was not asked. */
  readonly webError: Error | null;
  /** Names of the users online now (both halves registered). */
  onlineUsers(): string[];
  /** How many connections are open now. */
  connectionCount(): number;
  /**
   * Stops accepting, waits up to `drainTimeoutMs` for messages in flight to be acknowledged
   * (new ones are refused meanwhile), closes every connection and resolves when all are closed.
   * With `{ drain: false }`, closes at once.
   */
  close(options?: { drain?: boolean }): Promise<void>;
}

/** Starts a server with the given options (the rest from {@link DEFAULT_SERVER_OPTIONS}). */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<ChatServer> {
  const opts: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  const hub = new Hub(opts);
  try {
    for (const spec of listenSpecs(opts)) await hub.listen(spec);
  } catch (error) {
    await hub.close({ drain: false });
    throw error;
  }
  let web: BoundAddress | null = null;
  let webError: Error | null = null;
  if (opts.web !== undefined) {
    const w = opts.web;
    const tls = w.tls ?? opts.tls;
    try {
      web = await hub.listenWeb(
        {
          hostname: w.hostname ?? opts.hostname,
          port: w.port,
          transport: opts.transport,
          ...(tls ? { tls } : {}),
        },
        w.assets,
        w.names,
      );
    } catch (error) {
      webError = error instanceof Error ? error : new Error(String(error));
    }
  }
  const first = hub.addresses[0]!;
  const router = hub.router;
  return {
    hostname: first.hostname,
    port: first.port,
    addresses: hub.addresses,
    web,
    webError,
    connectionCount: () => router.links.size,
    onlineUsers: () => router.onlineUsers(),
    close: (closeOptions) => hub.close(closeOptions),
  };
}

/** The listeners `options` ask for: {@link ServerOptions.listeners}, else the one of hostname. */
function listenSpecs(options: ServerOptions): ListenSpec[] {
  if (options.listeners !== undefined && options.listeners.length > 0) {
    return options.listeners.map((l) => ({ transport: options.transport, ...l }));
  }
  return [{
    hostname: options.hostname,
    port: options.port,
    transport: options.transport,
    ...(options.tls ? { tls: options.tls } : {}),
  }];
}
