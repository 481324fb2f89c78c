/**
 * Runs a test body against our server started in-process on a free loopback port, with raw
 * wires to it and the server's log events, and stops everything afterwards whatever happens.
 *
 * @module
 */
import { type ChatServer, type ServerOptions, startServer } from "../src/server/server.ts";
import type { LogEvent } from "../src/server/log.ts";
import { type Wires, withWires } from "./wire.ts";

/** Starts a server with `options`, runs `body`, then closes every wire and the server. */
export async function withServer(
  options: Partial<ServerOptions>,
  body: (server: ChatServer, w: Wires, log: LogEvent[]) => Promise<void>,
): Promise<void> {
  const log: LogEvent[] = [];
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    log: (e) => log.push(e),
    ...options,
  });
  try {
    await withWires({ hostname: "127.0.0.1", port: server.port }, (w) => body(server, w, log));
  } finally {
    await server.close({ drain: false });
  }
}

/** True if this machine can listen on IPv6 loopback (tests on ::1 are skipped, and say so). */
export function hasIPv6(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}
