/**
 * Why a connection attempt failed, from the error the transport threw, worded the same for
 * Deno's and node's sockets. No runtime API: errors are told apart by name and message.
 *
 * @module
 */
import type { ClientEvent } from "./events.ts";
import { printable } from "./render.ts";

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
  const base = {
    type: "connect-failed" as const,
    server,
    host: printable(host),
    timeoutMs,
    ...(tls ? { tls: true } : {}),
  };
  const bare = message.replace(/\s*\(os error \d+\)$/, "");
  if (name === "ConnectionRefused" || /ECONNREFUSED/.test(message)) {
    return { ...base, reason: "refused", detail: message };
  }
  if (
    name === "NotFound" ||
    /lookup address|not known|ENOTFOUND|EAI_|nodename nor servname|No address/i.test(message)
  ) {
    return { ...base, reason: "unknown-host", detail: message };
  }
  if (tls) {
    const peer = /invalid peer certificate:\s*(.*)$/is.exec(message)?.[1]?.trim();
    if (/not valid for name|NotValidForName|altnames|does not match certificate/i.test(message)) {
      const only = /only valid for (.*)$/is.exec(message)?.[1]?.trim();
      return {
        ...base,
        reason: "tls-name",
        detail: only ? `it is only valid for ${only}` : (peer ?? bare),
      };
    }
    if (
      peer !== undefined ||
      /certificate|self[- ]signed|unable to verify|UnknownIssuer|CERT_/i.test(message)
    ) {
      return { ...base, reason: "tls-untrusted", detail: peer ?? bare };
    }
    if (
      name === "UnexpectedEof" ||
      name === "ConnectionReset" ||
      /unexpected end of file|UnexpectedEof|before secure TLS connection|corrupt message|InvalidContentType|wrong version number|packet length|ECONNRESET|reset by peer|handshake/i
        .test(message)
    ) {
      return { ...base, reason: "tls-handshake", detail: bare };
    }
  }
  if (name === "TimedOut" || /ETIMEDOUT|timed out/i.test(message)) {
    return { ...base, reason: "timeout", detail: message };
  }
  return { ...base, reason: "other", detail: bare };
}

/**
 * True if `bytes` start like a TLS record (an alert or a handshake, version 3.x): what a TLS
 * server answers a client that speaks plain text to it.
 */
export function looksLikeTls(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && (bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03;
}
