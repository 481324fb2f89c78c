/**
 * Edge cases of the web port's HTTP stage, over real sockets to a server started in this process
 * (startServer with `web`): HEAD of an error, connections refused at a limit, TLS or garbage on a
 * plain port, a client that half-closes after its request, a script that is slow to bundle, and
 * how idle connections are logged. tests/server_web_test.ts covers the rest over the real command.
 *
 * @module
 */
import { hasIPv6 } from "./harness.ts";
import assert from "node:assert/strict";
import { type ServerOptions, startServer } from "../src/server/server.ts";
import type { LogEvent } from "../src/server/log.ts";
import { acceptKeyNow, type ScriptResult, type WebAssets } from "../src/server/web.ts";
import { acceptKey } from "../src/net/websocket.ts";
import { WsWire } from "./web_wire.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Assets whose script is `script`. */
function assets(script: () => Promise<ScriptResult> = () => Promise.resolve(JS)): WebAssets {
  return { html: "<!doctype html>", css: "a{}", script };
}
const JS: ScriptResult = { ok: true, js: enc.encode("ok();") };

/** A server with a web port, its log kept; `options` adds to it. */
async function webServer(
  options: Partial<ServerOptions> = {},
  web: WebAssets = assets(),
) {
  const log: LogEvent[] = [];
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    log: (e) => log.push(e),
    web: { port: 0, assets: web },
    ...options,
  });
  return { server, log, webPort: server.web!.port };
}

/**
 * Connects to `port`, sends `request` (half-closing after it when `halfClose`), and reads until
 * the server closes: everything it sent, and how long the whole took.
 */
async function exchange(
  port: number,
  request: string | Uint8Array,
  { halfClose = false, hostname = "127.0.0.1" } = {},
): Promise<{ text: string; ms: number }> {
  const started = performance.now();
  const conn = await Deno.connect({ hostname, port });
  const parts: Uint8Array[] = [];
  try {
    const bytes = typeof request === "string" ? enc.encode(request) : request;
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    if (halfClose) await conn.closeWrite();
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      parts.push(buf.slice(0, n));
    }
  } finally {
    conn.close();
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) all.set(p, (at += p.length) - p.length);
  return { text: dec.decode(all), ms: performance.now() - started };
}

Deno.test("startServer's web port answers HEAD of an error with its headers and no body", async () => {
  const { server, webPort } = await webServer();
  try {
    const { text } = await exchange(webPort, "HEAD /nope HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert.match(text, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(text, /\r\nContent-Length: \d+\r\n/);
    assert.ok(text.endsWith("\r\n\r\n"), `no body after the head: ${JSON.stringify(text)}`);
    const get = await exchange(webPort, "GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert.match(get.text, /\r\n\r\nNothing is at "\/nope"/, "GET still has it");
  } finally {
    await server.close({ drain: false });
  }
});

Deno.test("startServer's web port answers 503 and closes at once a connection refused at --max-per-address; users from elsewhere still get in", async () => {
  // A limit of 60 in all: the 100 refused below would shut everyone out if they stayed open.
  const { server, log, webPort } = await webServer({
    hostname: "::",
    maxPerAddress: 4,
    maxConnections: 60,
    registerTimeoutMs: 10_000,
  });
  const idle: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      idle.push(await Deno.connect({ hostname: "127.0.0.1", port: webPort }));
    }
    const refused = await Promise.all(
      Array.from({ length: 100 }, () => exchange(webPort, new Uint8Array(0))),
    );
    for (const r of refused) {
      assert.match(r.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
      assert.match(r.text, /too many connections now; try again later\.\n$/);
      // Without a request sent: closed long before the 10 s registration deadline.
      assert.ok(r.ms < 8000, `closed after ${Math.round(r.ms)} ms`);
    }
    assert.equal(
      log.filter((e) => e.event === "dropped" && /^refused/.test(e.reason)).length,
      100,
    );
    // Another address (::1, or 127.0.0.2 on a machine without IPv6; Linux answers all of
    // 127/8): its user is not shut out by the refused ones.
    const ws = await WsWire.open({ hostname: hasIPv6() ? "::1" : "127.0.0.2", port: webPort });
    try {
      assert.equal(ws.answer.status, 101, ws.answer.body);
      await ws.register("TOSEND", "legit");
    } finally {
      await ws.close();
    }
  } finally {
    for (const c of idle) c.close();
    await server.close({ drain: false });
  }
});

Deno.test("acceptKeyNow gives the codec's acceptKey, at once", async () => {
  assert.equal(acceptKeyNow("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  for (let i = 0; i < 20; i++) {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    assert.equal(acceptKeyNow(key), await acceptKey(key));
  }
});

Deno.test("startServer's web port answers a client that half-closes after its request: the upgrade, and the script once made", async () => {
  const { server, webPort } = await webServer();
  try {
    const upgrade = await exchange(
      webPort,
      "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      { halfClose: true },
    );
    assert.match(upgrade.text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(upgrade.text, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    const request = "GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert.match((await exchange(webPort, request)).text, /\r\n\r\nok\(\);$/, "made once");
    const js = await exchange(webPort, request, { halfClose: true });
    assert.match(js.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\(\);$/);
  } finally {
    await server.close({ drain: false });
  }
});

Deno.test("startServer's plain web port closes a TLS handshake at once, saying so in the log, and answers other noise 400 at once", async () => {
  const { server, log, webPort } = await webServer({ registerTimeoutMs: 10_000 });
  try {
    // The start of a ClientHello, as a browser opening https:// sends.
    const hello = Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0xf4, 0x01, 0x00, 0x00, 0xf0, 0x03, 0x03);
    const tls = await exchange(webPort, hello);
    assert.equal(tls.text, "", "closed without an HTTP answer it could not read");
    assert.ok(tls.ms < 8000, `closed after ${Math.round(tls.ms)} ms, not at the deadline`);
    const dropped = log.filter((e) => e.event === "dropped");
    assert.equal(dropped.length, 1);
    assert.match(
      dropped[0]!.event === "dropped" ? dropped[0]!.reason : "",
      /speaks TLS.*http:\/\//,
    );
    const noise = await exchange(webPort, new Uint8Array(300).fill(0x01));
    assert.match(noise.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(noise.ms < 8000, `answered after ${Math.round(noise.ms)} ms, not at the deadline`);
  } finally {
    await server.close({ drain: false });
  }
});

Deno.test("startServer's WebSocket takes a first payload starting 16 03 as protocol bytes, not as TLS", async () => {
  const { server, log, webPort } = await webServer();
  const ws = await WsWire.open({ port: webPort });
  try {
    assert.equal(ws.answer.status, 101);
    await ws.send(Uint8Array.of(0x16, 0x03, 0x0a, 0x0a));
    const m = await ws.next();
    assert.equal(m.type, "ERROR", "answered as the protocol answers a bad message");
    assert.ok(
      !log.some((e) => e.event === "dropped" && /TLS/.test(e.reason)),
      JSON.stringify(log),
    );
  } finally {
    await ws.close();
    await server.close({ drain: false });
  }
});

Deno.test("startServer's web port answers /app.js when the script is made after the registration deadline, and 503 if it fails then", async () => {
  for (const late of [JS, { ok: false, reason: "The bundler stopped." } as ScriptResult]) {
    const slow = () => new Promise<ScriptResult>((r) => setTimeout(() => r(late), 2500));
    const { server, log, webPort } = await webServer({ registerTimeoutMs: 1000 }, assets(slow));
    try {
      const { text } = await exchange(webPort, "GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\n");
      if (late.ok) assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\(\);$/);
      else {assert.match(
          text,
          /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*The bundler stopped\.\n$/,
        );}
      assert.ok(!log.some((e) => e.event === "dropped"), JSON.stringify(log));
    } finally {
      await server.close({ drain: false });
    }
  }
});

Deno.test("startServer's web port closes a connection that sent nothing at the registration deadline, as unused rather than as not registered", async () => {
  const { server, log, webPort } = await webServer({ registerTimeoutMs: 1000 });
  try {
    const unused = exchange(webPort, new Uint8Array(0));
    const half = exchange(webPort, "GET / HTTP/1.1\r\nHost: localhost\r\n");
    assert.equal((await unused).text, "", "closed without an answer");
    assert.equal((await half).text, "", "closed without an answer");
    const reasons = log.flatMap((e) => e.event === "dropped" ? [e.reason] : []).sort();
    assert.equal(reasons.length, 2, JSON.stringify(reasons));
    assert.match(reasons[0]!, /^did not register within 1000 ms$/, "a half request: as before");
    assert.match(reasons[1]!, /^unused: no HTTP request within 1000 ms \(browsers open/);
  } finally {
    await server.close({ drain: false });
  }
});

Deno.test("startServer closes a connection waiting for the script when it shuts down", async () => {
  let release: (r: ScriptResult) => void = () => {};
  const never = new Promise<ScriptResult>((r) => release = r);
  const { server, webPort } = await webServer({ registerTimeoutMs: 500 }, assets(() => never));
  try {
    const waiting = exchange(webPort, "GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await new Promise((r) => setTimeout(r, 1200)); // past the registration deadline: still there
    await server.close({ drain: true });
    assert.equal((await waiting).text, "", "closed without an answer by the shutdown");
  } finally {
    release(JS);
    await server.close({ drain: false });
  }
});
