/**
 * Tests of the byte transport on both back ends: end() sends what is queued, then closes, and a
 * peer that never reads cannot hold an ended connection open past the grace time.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Conn, listen, type TransportKind } from "../src/net/transport.ts";

const KINDS: TransportKind[] = ["deno", "node"];

/** Starts a listener whose every connection gets `payload` and then end(). */
async function serveAndEnd(kind: TransportKind, payload: Uint8Array, endGraceMs: number) {
  const closed = Promise.withResolvers<number>();
  const opened = performance.now();
  const listener = await listen(
    { hostname: "127.0.0.1", port: 0, transport: kind, endGraceMs },
    (conn: Conn) => {
      conn.write(payload);
      conn.end();
      return { data() {}, closed: () => closed.resolve(performance.now() - opened) };
    },
  );
  return { listener, closed: closed.promise };
}

for (const kind of KINDS) {
  Deno.test(`Conn.end (${kind} transport) delivers everything queued before closing`, async () => {
    const payload = new Uint8Array(1024 * 1024).fill(7);
    const { listener, closed } = await serveAndEnd(kind, payload, 10_000);
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    let got = 0;
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await client.read(buf);
      if (n === null) break;
      got += n;
    }
    client.close();
    await closed;
    await listener.close();
    assert.equal(got, payload.length);
  });

  Deno.test(`Conn.end (${kind} transport) closes after the grace time if the peer never reads`, async () => {
    // More than the loopback socket buffers hold, so that the end cannot complete.
    const payload = new Uint8Array(32 * 1024 * 1024);
    const { listener, closed } = await serveAndEnd(kind, payload, 300);
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      closed.then(() => "closed"),
      new Promise<string>((r) => timer = setTimeout(() => r("still open after 10 s"), 10_000)),
    ]);
    clearTimeout(timer);
    client.close();
    await listener.close();
    assert.equal(outcome, "closed");
  });
}
