/**
 * What the command line tells a face (terminal or piped) of `chat client`.
 *
 * @module
 */
import type { ChatSessionOptions } from "./engine.ts";

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
