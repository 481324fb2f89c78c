/**
 * The options of a client session ({@link ChatSessionOptions}), and what the command line
 * tells a face (terminal or piped) of `chat client`. Types only.
 *
 * @module
 */
import type { ConnectFn, ConnectOptions } from "../net/conn.ts";
import type { Backoff } from "./backoff.ts";
import type { ClientEvent } from "./events.ts";

/** Options of `ChatSession`. */
export interface ChatSessionOptions {
  /** Server host name or address. */
  host: string;
  /** Server port. */
  port: number;
  /** Username to register. */
  name: string;
  /** How long connecting and registering may take. */
  timeoutMs: number;
  /** Receives every event to show. */
  onEvent: (event: ClientEvent) => void;
  /** Opens a connection (the faces pass the TCP transport's `connect`). */
  connect: ConnectFn;
  /** Speak TLS on both connections; `caCerts` (PEM text) are trusted too. */
  tls?: ConnectOptions["tls"];
  /**
   * When the connection is lost once registered, reconnect (with {@link reconnectBackoff})
   * instead of ending; until it is back, messages sent are queued.
   */
  reconnect?: boolean;
  /** Waits between reconnect attempts. Default `RECONNECT_BACKOFF`. */
  reconnectBackoff?: Backoff;
  /** Waits before resending messages refused with ERROR 106. Default `RATE_RETRY_BACKOFF`. */
  rateRetryBackoff?: Backoff;
  /** Rounds of ERROR 106 in a row, with nothing delivered, before giving up. Default 5. */
  rateRetryRounds?: number;
  /** Reconnect attempts that may find the name taken before giving up. Default 5. */
  nameTakenTries?: number;
  /** Most messages awaiting answers at once. Default 32. */
  window?: number;
  /** Most messages waiting to go out; `ChatSession.send` refuses more. Default 100. */
  maxQueued?: number;
  /**
   * The extensions to ask the server for after each registration (PROTOCOL.md, "Negotiation"),
   * each one word. Default `["who", "joins", "to", "reason", "unregister"]`; `[]` sends no probe
   * and keeps the session to the base protocol.
   */
  extensions?: readonly string[];
  /** Random numbers in [0, 1) for the jitter; default `Math.random`. */
  random?: () => number;
}

/** The command line, checked. */
export interface ClientArgs {
  /** Username, when given. */
  name?: string;
  /** Server host, when given. */
  host?: string;
  /** Server port. */
  port: number;
  /** True when --port was given. */
  portGiven: boolean;
  /** --timeout in milliseconds. */
  timeoutMs: number;
  /** --wait in milliseconds. */
  waitMs: number;
  /** --tls. */
  tls: boolean;
  /** --ca file. */
  ca?: string;
  /** --reconnect. */
  reconnect: boolean;
}

/** The session options that come from the command line, for either face. */
export type Settings = Pick<ChatSessionOptions, "timeoutMs" | "reconnect" | "tls">;
