/**
 * The options of a client session ({@link ChatSessionOptions}), and what the command line
 * tells a face (terminal or piped) of `chat client`. Types only.
 *
 * @module
 */
import type { ConnectFn, ConnectOptions } from "../net/conn.ts";
import type { Backoff } from "./backoff.ts";
import type { ClientEvent } from "./events.ts";
import type { ClientKey } from "./identity.ts";

/**
 * Where a session keeps its identity (PROTOCOL.md, "Owned names"): one key per server and name.
 * The terminal and piped faces pass the identity files (`identity_file.ts`); a browser could
 * pass its own storage.
 */
export interface IdentityStore {
  /**
   * The key for `name` on `server` (`host:port`), or null when there is none yet. Rejects with
   * an Error whose message is one sentence for the user (a file that cannot be read).
   */
  load(server: string, name: string): Promise<ClientKey | null>;
  /**
   * Keeps the new key for `name` on `server`. Rejects with an Error whose message is one
   * sentence for the user; the session then does not claim the name.
   */
  save(server: string, name: string, key: ClientKey): Promise<void>;
  /**
   * The mail already shown to `name` on `server` in earlier runs, to drop a message or receipt
   * the server delivers again after a crash (delivery is at least once), or null to remember
   * only within this session. Called at most once per session, when the first mail arrives.
   */
  seenMail?(server: string, name: string): SeenMail | null;
}

/**
 * Mail shown to one user, kept across runs: keys such as `m 17 1764716400000` (a message,
 * its mail id and when it was stored) or `r 17 1764716400000` (a receipt). Synchronous, so a
 * key is noted before its event reaches the face.
 */
export interface SeenMail {
  /** True if `key` was shown in an earlier run. */
  has(key: string): boolean;
  /** Notes that `key` is shown now. */
  add(key: string): void;
}

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
  /**
   * Where the user's identity is kept. With it, the session proves its key before each
   * REGISTER, or makes a key and claims the name once a server agreed to `identity`; without
   * it, the session never makes or uses a key.
   */
  identity?: IdentityStore;
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
  /** --identity FILE: the identity to use, in place of the one in the config directory. */
  identityFile?: string;
  /** --no-identity: never make or use a key. */
  noIdentity: boolean;
}

/** The session options that come from the command line, for either face. */
export type Settings =
  & Pick<ChatSessionOptions, "timeoutMs" | "reconnect" | "tls" | "identity">
  & {
    /**
     * Where the identity of `name` on `server` is kept, for people (`~` for the home
     * directory), or undefined when there is none (`--no-identity`, no config directory).
     */
    keyFile?: (server: string, name: string) => string | undefined;
  };
