/**
 * Why a connection attempt failed, from the error the transport threw, worded the same for
 * Deno's and node's sockets. No runtime API: errors are told apart by name and message.
 *
 * @module
 */
import type { ClientEvent, ConnectFailure } from "./events.ts";
import { printable } from "./render.ts";

/** Where a connection attempt went, as a `connect-failed` event tells it. */
export interface ConnectAttempt {
  /** The server as `host:port`. */
  server: string;
  /** The host as given (made printable in the event). */
  host: string;
  /** How long connecting and registering could take. */
  timeoutMs: number;
  /** True if it spoke TLS. */
  tls: boolean;
}

/** The `connect-failed` event for an attempt at `at` that failed for `reason`. */
export function connectFailed(
  at: ConnectAttempt,
  reason: ConnectFailure,
  detail: string,
): Extract<ClientEvent, { type: "connect-failed" }> {
  return {
    type: "connect-failed",
    server: at.server,
    host: printable(at.host),
    timeoutMs: at.timeoutMs,
    ...(at.tls ? { tls: true } : {}),
    reason,
    detail,
  };
}

/**
 * Turns the error of a failed connection attempt into the event that explains it. With `tls`,
 * certificate and handshake failures (as worded by Deno's rustls and by node:tls) get their own
 * reasons.
 */
export function classifyConnectError(
  error: unknown,
  host: string,
  server: string,
  timeoutMs: number,
  tls = false,
): ClientEvent {
  const message = error instanceof Error ? error.message : String(error);
  // Deno's error classes (Deno.errors.ConnectionRefused, ...) carry their class name.
  const name = error instanceof Error ? error.name : "";
  const at = { server, host, timeoutMs, tls };
  const bare = withoutOsError(message);
  if (name === "ConnectionRefused" || /ECONNREFUSED/.test(message)) {
    return connectFailed(at, "refused", message);
  }
  if (
    name === "NotFound" ||
    /lookup address|not known|ENOTFOUND|EAI_|nodename nor servname|No address/i.test(message)
  ) {
    return connectFailed(at, "unknown-host", message);
  }
  if (tls) {
    const peer = /invalid peer certificate:\s*(.*)$/is.exec(message)?.[1]?.trim();
    if (/not valid for name|NotValidForName|altnames|does not match certificate/i.test(message)) {
      const only = /only valid for (.*)$/is.exec(message)?.[1]?.trim();
      return connectFailed(at, "tls-name", only ? `it is only valid for ${only}` : (peer ?? bare));
    }
    if (
      peer !== undefined ||
      /certificate|self[- ]signed|unable to verify|UnknownIssuer|CERT_/i.test(message)
    ) {
      return connectFailed(at, "tls-untrusted", peer ?? bare);
    }
    if (
      name === "UnexpectedEof" ||
      name === "ConnectionReset" ||
      /unexpected end of file|UnexpectedEof|before secure TLS connection|corrupt message|InvalidContentType|wrong version number|packet length|ECONNRESET|reset by peer|handshake/i
        .test(message)
    ) {
      return connectFailed(at, "tls-handshake", bare);
    }
  }
  if (name === "TimedOut" || /ETIMEDOUT|timed out/i.test(message)) {
    return connectFailed(at, "timeout", message);
  }
  return connectFailed(at, "other", bare);
}

/** `message` without the ` (os error N)` that Deno's errors end with. */
export function withoutOsError(message: string): string {
  return message.replace(/\s*\(os error \d+\)$/, "");
}

/**
 * True if `bytes` start like a TLS record (an alert or a handshake, version 3.x): what a TLS
 * server answers a client that speaks plain text to it.
 */
export function looksLikeTls(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && (bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03;
}
