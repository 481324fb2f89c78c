/**
 * The web port's limits, in a server started in this process (startServer with `web`): a frame
 * announcing 1 GiB is not held (measured in a child process with the heap collected on demand),
 * peers that read nothing are dropped at the write-queue limit whether they flood pings or
 * SENDs, and a client that cannot be bundled is a 503 with one sentence and one log line.
 * tests/server_web_test.ts covers the rest over the real command.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startServer } from "../src/server/server.ts";
import type { LogEvent } from "../src/server/log.ts";
import type { WebAssets } from "../src/server/web.ts";
import { encodeFrame, Opcode } from "../src/net/websocket.ts";

const local = (port: number) => ({ hostname: "127.0.0.1", port });
const enc = new TextEncoder();

/** Assets with no script. */
const NO_SCRIPT: WebAssets = {
  html: "",
  css: "",
  script: () => Promise.resolve({ ok: false, reason: "None." }),
};

Deno.test("startServer's web port does not hold a frame: 64 MiB into a 1 GiB frame, memory stays at its baseline", async () => {
  // In a child process, where the heap can be collected on demand (see web_memory_probe.ts).
  const probe = new URL("./web_memory_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--expose-gc", "--allow-net", "--allow-read", "--allow-run", probe],
    stdout: "piped",
    stderr: "piped",
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  const { baseline, during, answer, connections } = JSON.parse(
    new TextDecoder().decode(out.stdout),
  );
  assert.equal(answer, "ERROR 102");
  assert.equal(connections, 0);
  // Holding the frame would hold 64 MiB; reading it costs the decoders' buffers (~100 KiB).
  assert.ok(during - baseline < 8 * 1024 * 1024, `memory ${baseline} -> ${during} bytes`);
});

/** A WebSocket upgrade request for `/ws` on `port`, as a browser on this host sends it. */
function upgradeRequest(port: number): Uint8Array {
  return enc.encode(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\n\r\n",
  );
}

Deno.test("startServer's web port drops a peer that floods pings and reads none of the pongs", async () => {
  const log: LogEvent[] = [];
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    maxWriteQueueBytes: 64 * 1024,
    registerTimeoutMs: 60_000,
    log: (e) => log.push(e),
    web: {
      port: 0,
      assets: NO_SCRIPT,
    },
  });
  try {
    // A raw socket that sends the upgrade and then never reads a byte.
    const conn = await Deno.connect(local(server.web!.port));
    try {
      await conn.write(upgradeRequest(server.web!.port));
      // 1,000 pings of 125 bytes per write: the pongs fill the socket buffers, then the queue.
      const ping = encodeFrame(Opcode.Ping, new Uint8Array(125), new Uint8Array(4));
      const batch = new Uint8Array(ping.length * 1000);
      for (let i = 0; i < 1000; i++) batch.set(ping, i * ping.length);
      try {
        for (let i = 0; i < 400 && !log.some((e) => e.event === "dropped"); i++) {
          for (let off = 0; off < batch.length;) off += await conn.write(batch.subarray(off));
        }
      } catch { /* reset by the server: expected */ }
      const dropped = log.find((e) => e.event === "dropped");
      assert.ok(dropped, `dropped: ${JSON.stringify(log)}`);
      assert.match(
        dropped.event === "dropped" ? dropped.reason : "",
        /^too slow: it does not read/,
      );
    } finally {
      conn.close();
    }
  } finally {
    await server.close({ drain: false });
  }
});

Deno.test("startServer's web port answers /app.js with 503 and one sentence when the client cannot be bundled, logging it once", async () => {
  const log: LogEvent[] = [];
  let loads = 0;
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    log: (e) => log.push(e),
    web: {
      port: 0,
      assets: {
        html: "<!doctype html>",
        css: "",
        script: () => {
          loads++;
          return Promise.reject(new Error("esbuild is not there"));
        },
      },
    },
  });
  try {
    const url = `http://127.0.0.1:${server.web!.port}/`;
    for (let i = 0; i < 2; i++) {
      const js = await fetch(`${url}app.js`);
      assert.equal(js.status, 503);
      assert.equal(
        await js.text(),
        "The web client could not be loaded: esbuild is not there.\n",
      );
    }
    const page = await fetch(url);
    assert.equal(await page.text(), "<!doctype html>", "the page is still served");
    assert.equal(loads, 2, "asked each time (the real assets cache their result)");
    assert.deepEqual(log.filter((e) => e.event === "web-error"), [
      { event: "web-error", reason: "The web client could not be loaded: esbuild is not there." },
    ]);
  } finally {
    await server.close({ drain: false });
  }
});

Deno.test("startServer drops a WebSocket sender that reads none of its answers at the write-queue limit, as on TCP", async () => {
  const log: LogEvent[] = [];
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    maxWriteQueueBytes: 64 * 1024,
    rateLimit: 0,
    maxPendingSends: 1_000_000,
    log: (e) => log.push(e),
    web: {
      port: 0,
      assets: NO_SCRIPT,
    },
  });
  try {
    // A raw socket (WsWire would read): it upgrades, registers, floods, and never reads.
    const conn = await Deno.connect(local(server.web!.port));
    try {
      await conn.write(upgradeRequest(server.web!.port));
      const mask = new Uint8Array(4);
      await conn.write(encodeFrame(Opcode.Binary, enc.encode("REGISTER TOSEND reader\n\n"), mask));
      // 2,000 SENDs to nobody per frame: each is answered with an ERROR 102 nobody reads.
      const frame = encodeFrame(
        Opcode.Binary,
        enc.encode("SEND nobody\nContent-length: 1\n\nx".repeat(2000)),
        mask,
      );
      try {
        for (let i = 0; i < 500 && !log.some((e) => e.event === "dropped"); i++) {
          for (let off = 0; off < frame.length;) off += await conn.write(frame.subarray(off));
        }
      } catch { /* reset by the server: expected */ }
      const dropped = log.find((e) => e.event === "dropped");
      assert.ok(dropped, `dropped: ${JSON.stringify(log.slice(-3))}`);
      assert.match(
        dropped.event === "dropped" ? dropped.reason : "",
        /^too slow: it does not read/,
      );
    } finally {
      conn.close();
    }
  } finally {
    await server.close({ drain: false });
  }
});
