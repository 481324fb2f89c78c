/**
 * `chat server`'s web port over real sockets: the page and its files over HTTP, and the protocol
 * over WebSocket (a raw client written on the codec, tests/web_wire.ts) beside TCP users, with
 * the same rules: Origin, bad frames, huge frames, the registration deadline, the connection
 * limits, the port being taken, `--no-web`, TLS, and the shutdown.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CONTENT_SECURITY_POLICY } from "../src/server/web_http.ts";
import { encodeFrame, Opcode } from "../src/net/websocket.ts";
import { makeCertificate, needsOpenssl, withTempDir } from "./certs.ts";
import { startChatServer, startWebServer, WEB_LINE } from "./spawn.ts";
import { withWires } from "./wire.ts";
import { rawHttp, WsWire } from "./web_wire.ts";

const local = (port: number) => ({ hostname: "127.0.0.1", port });
const enc = new TextEncoder();

/** A WebSocket user: both halves registered over `/ws`. */
async function webUser(port: number, name: string): Promise<{ tosend: WsWire; torecv: WsWire }> {
  const tosend = await WsWire.open({ port });
  const torecv = await WsWire.open({ port });
  assert.equal(tosend.answer.status, 101, tosend.answer.body);
  await tosend.register("TOSEND", name);
  await torecv.register("TORECV", name);
  return { tosend, torecv };
}

Deno.test("chat server --web 0: a WebSocket user and a TCP user chat both ways, and SEND ALL reaches both", async () => {
  const { server, port, webPort, url } = await startWebServer(["--memory"]);
  try {
    assert.equal(url, `http://127.0.0.1:${webPort}/`);
    const line = server.stdout.find((l) => WEB_LINE.test(l)) ?? "";
    assert.match(
      line,
      /Web client listening on 127\.0\.0\.1:\d+ \(open http:\/\/127\.0\.0\.1:\d+\/\)$/,
    );
    await withWires(local(port), async (w) => {
      const tcp = await w.user("tcp");
      const web = await webUser(webPort, "web");
      try {
        // Browser to terminal.
        await web.tosend.send("SEND tcp\nContent-length: 5\n\nhello");
        const f = await tcp.torecv.next();
        assert.deepEqual([f.type, f.type === "FORWARD" && f.from], ["FORWARD", "web"]);
        await tcp.torecv.send("RECEIVED web\n\n");
        assert.deepEqual(await web.tosend.next(), { type: "SENT", to: "tcp" });
        // Terminal to browser.
        await tcp.tosend.send("SEND web\nContent-length: 3\n\nhey");
        const g = await web.torecv.next();
        assert.equal(g.type, "FORWARD");
        assert.equal(g.type === "FORWARD" && new TextDecoder().decode(g.body), "hey");
        await web.torecv.send("RECEIVED tcp\n\n");
        assert.deepEqual(await tcp.tosend.next(), { type: "SENT", to: "web" });
        // SEND ALL from each side reaches the other.
        await web.tosend.send("SEND ALL\nContent-length: 3\n\nall");
        assert.equal((await tcp.torecv.next()).type, "FORWARD");
        await tcp.torecv.send("RECEIVED web\n\n");
        assert.deepEqual(await web.tosend.next(), { type: "SENT", to: "ALL" });
        await tcp.tosend.send("SEND ALL\nContent-length: 3\n\nall");
        assert.equal((await web.torecv.next()).type, "FORWARD");
        await web.torecv.send("RECEIVED tcp\n\n");
        assert.deepEqual(await tcp.tosend.next(), { type: "SENT", to: "ALL" });
      } finally {
        await web.tosend.close();
        await web.torecv.close();
      }
    });
  } finally {
    server.kill("SIGTERM");
    assert.equal((await server.exit()).code, 0);
  }
});

Deno.test("chat server's web port refuses a WebSocket from another page's Origin (403) and takes its own or none", async () => {
  const { server, webPort } = await startWebServer(["--memory"]);
  try {
    const foreign = await WsWire.open({ port: webPort, origin: "http://evil.example:8080" });
    await foreign.close();
    assert.equal(foreign.answer.status, 403);
    assert.match(
      foreign.answer.body,
      /^WebSocket connections from the page of "http:\/\/evil\.example:8080" are refused; .*\.\n$/,
    );
    // Same host, another port: another page.
    const port = await WsWire.open({ port: webPort, origin: `http://127.0.0.1:${webPort + 1}` });
    await port.close();
    assert.equal(port.answer.status, 403);
    for (const origin of [`http://127.0.0.1:${webPort}`, undefined]) {
      const ok = await WsWire.open({ port: webPort, ...(origin ? { origin } : {}) });
      try {
        assert.equal(ok.answer.status, 101, `${origin}: ${ok.answer.body}`);
        assert.equal(ok.answer.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        await ok.register("TOSEND", origin ? "withorigin" : "without");
      } finally {
        await ok.close();
      }
    }
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
});

Deno.test("chat server's WebSocket takes a message split over many frames, and several messages in one frame", async () => {
  const { server, port, webPort } = await startWebServer(["--memory"]);
  try {
    await withWires(local(port), async (w) => {
      const tcp = await w.user("tcp");
      const web = await webUser(webPort, "web");
      try {
        // One SEND in 3-byte pieces: the first a binary frame without FIN, then continuations,
        // a ping between them; then the same bytes as separate binary messages.
        const bytes = enc.encode("SEND tcp\nContent-length: 10\n\n0123456789");
        for (let at = 0; at < bytes.length; at += 3) {
          const last = at + 3 >= bytes.length;
          await web.tosend.sendFrame(
            at === 0 ? Opcode.Binary : Opcode.Continuation,
            bytes.subarray(at, at + 3),
            last,
          );
          if (at === 3) await web.tosend.sendFrame(Opcode.Ping, enc.encode("p"));
        }
        const pong = await web.tosend.control("pong");
        assert.deepEqual(pong.type === "pong" && [...pong.payload], [112]);
        const f = await tcp.torecv.next();
        assert.equal(f.type === "FORWARD" && new TextDecoder().decode(f.body), "0123456789");
        await tcp.torecv.send("RECEIVED web\n\n");
        assert.deepEqual(await web.tosend.next(), { type: "SENT", to: "tcp" });
        for (let at = 0; at < bytes.length; at += 4) {
          await web.tosend.send(bytes.subarray(at, at + 4));
        }
        assert.equal((await tcp.torecv.next()).type, "FORWARD");
        await tcp.torecv.send("RECEIVED web\n\n");
        assert.deepEqual(await web.tosend.next(), { type: "SENT", to: "tcp" });
        // Three SENDs in one text frame: three answers, in order.
        const three = "SEND tcp\nContent-length: 1\n\na".repeat(2) +
          "SEND nobody\nContent-length: 1\n\nb";
        await web.tosend.sendFrame(Opcode.Text, enc.encode(three));
        for (let i = 0; i < 2; i++) {
          assert.equal((await tcp.torecv.next()).type, "FORWARD");
          await tcp.torecv.send("RECEIVED web\n\n");
        }
        assert.deepEqual(await web.tosend.next(), { type: "SENT", to: "tcp" });
        assert.deepEqual(await web.tosend.next(), { type: "SENT", to: "tcp" });
        assert.equal((await web.tosend.next()).type, "ERROR");
      } finally {
        await web.tosend.close();
        await web.torecv.close();
      }
    });
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
});

Deno.test("chat server closes a WebSocket that sends an unmasked frame with 1002 and a reason, and logs a protocol error", async () => {
  const { server, webPort } = await startWebServer(["--memory"]);
  try {
    const ws = await WsWire.open({ port: webPort });
    try {
      await ws.sendRaw(encodeFrame(Opcode.Binary, enc.encode("REGISTER TOSEND abc\n\n")));
      const close = await ws.control("close");
      assert.equal(close.type === "close" && close.code, 1002);
      assert.match(close.type === "close" ? close.reason : "", /mask/i);
      await ws.waitEnded();
      assert.deepEqual(ws.messages, [], "nothing of the unmasked frame was taken");
      const line = await server.waitFor(
        /Protocol error from 127\.0\.0\.1:\d+: .*mask.*; connection closed$/i,
      );
      assert.doesNotMatch(line, /\.; connection closed/, "one sentence, no double punctuation");
    } finally {
      await ws.close();
    }
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
});

/** The output of a command, or null if it cannot be run. */
async function output(command: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

Deno.test("chat server answers a SEND over --max-body-bytes inside a 1 GiB WebSocket frame with ERROR 102, as on TCP", async () => {
  const { server, port, webPort } = await startWebServer(["--memory"]);
  try {
    await withWires(local(port), async (w) => {
      await w.user("tcp");
      const web = await webUser(webPort, "web");
      try {
        // A binary frame announcing 1 GiB, masked with zeros (so the payload goes as it is).
        const header = new Uint8Array(14);
        header.set([0x82, 0x80 | 127, 0, 0, 0, 0x40, 0, 0, 0, 0]);
        await web.tosend.sendRaw(header);
        await web.tosend.sendRaw(enc.encode("SEND tcp\nContent-length: 1000000000\n\n"));
        const refused = await web.tosend.next();
        assert.equal(refused.type === "ERROR" && refused.code, 102, JSON.stringify(refused));
        // 100 KiB of the body: skipped as it arrives; the connection stays open.
        await web.tosend.sendRaw(new Uint8Array(100 * 1024).fill(0x61));
        await web.torecv.sendFrame(Opcode.Ping, enc.encode("after"));
        await web.torecv.control("pong");
        assert.equal(web.tosend.ended, false);
      } finally {
        await web.tosend.close();
        await web.torecv.close();
      }
    });
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
});

Deno.test("chat server's web port serves the page, its styles and script with the CSP, 404 elsewhere, 405 for POST", async () => {
  // The script is bundled on the first request: on a loaded machine that can take a while, and
  // this test is not about the registration deadline.
  const { server, webPort, url } = await startWebServer(["--memory", "--register-timeout", "120s"]);
  try {
    const page = await fetch(url);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.equal(page.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.match(html, /<script type="module" src="\/app\.js"><\/script>/);
    assert.doesNotMatch(html, /<script>|<style|style="/, "no inline script or style");
    const css = await fetch(`${url}app.css`);
    await css.text();
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
    assert.equal(css.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    const js = await fetch(`${url}app.js`);
    const script = await js.text();
    assert.equal(js.status, 200, script);
    assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.doesNotMatch(script, /^import /m, "one script: every import bundled in");
    const missing = await fetch(`${url}nope`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), 'Nothing is at "/nope"; the chat page is at "/".\n');
    const post = await fetch(url, { method: "POST", body: "x" });
    await post.text();
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    const plain = await fetch(`${url}ws`);
    assert.equal(plain.status, 426);
    assert.match(await plain.text(), /WebSocket connections only/);
    const garbage = await rawHttp(webPort, "HELLO\r\n\r\n");
    assert.equal(garbage.status, 400);
    assert.match(garbage.body, /^The request line "HELLO" is not "METHOD TARGET HTTP\/1\.1"\.\n$/);
    const huge = await rawHttp(webPort, `GET / HTTP/1.1\r\nX: ${"a".repeat(9000)}\r\n\r\n`);
    assert.equal(huge.status, 431);
    const old = await rawHttp(
      webPort,
      "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n" +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    );
    assert.equal(old.status, 426);
    assert.equal(old.headers.get("sec-websocket-version"), "13");
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
});

Deno.test("chat server closes a web connection that sends nothing, or half a request, at the registration deadline", async () => {
  const { server, webPort } = await startWebServer(["--memory", "--register-timeout", "1s"]);
  try {
    for (const first of ["", "GET / HTTP/1.1\r\nHost: localhost\r\n"]) {
      const conn = await Deno.connect(local(webPort));
      try {
        if (first) await conn.write(enc.encode(first));
        const got = await conn.read(new Uint8Array(100)).catch(() => null);
        assert.equal(got, null, "closed without an answer");
      } finally {
        conn.close();
      }
    }
    await server.waitFor(/Dropped 127\.0\.0\.1:\d+: did not register within 1000 ms/);
    // An upgraded one that does not register is closed too.
    const ws = await WsWire.open({ port: webPort });
    try {
      await ws.waitEnded(10_000);
    } finally {
      await ws.close();
    }
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
});

Deno.test("chat server counts web connections that have not upgraded against --max-per-address; the next one gets 503 at once, WebSocket or not", async () => {
  const { server, webPort } = await startWebServer(["--memory", "--max-per-address", "2"]);
  const idle = [await Deno.connect(local(webPort)), await Deno.connect(local(webPort))];
  try {
    // Refused as it arrives (as the TCP port sends ERROR 105 and closes): a WebSocket too.
    const ws = await WsWire.open({ port: webPort });
    try {
      assert.equal(ws.answer.status, 503);
      assert.match(ws.answer.body, /too many connections/);
      await ws.waitEnded();
    } finally {
      await ws.close();
    }
    const page = await rawHttp(webPort, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert.equal(page.status, 503);
    assert.match(page.body, /too many connections/);
    assert.equal(page.headers.get("retry-after"), "10");
  } finally {
    for (const c of idle) c.close();
    server.kill("SIGTERM");
    await server.exit();
  }
});

Deno.test("chat server with --web on a taken port says so in one line and still serves chat", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const webPort = (taken.addr as Deno.NetAddr).port;
  const { server, port } = await startChatServer(["--memory", "--web", String(webPort)]);
  try {
    const line = await server.waitFor(/Cannot serve the web client/, { stream: "stderr" });
    assert.equal(
      line,
      `Cannot serve the web client on "127.0.0.1:${webPort}": the port is already in use; chat ` +
        `goes on without it (choose another port with --web PORT, or --no-web to not try).`,
    );
    await withWires(local(port), async (w) => {
      const a = await w.user("a");
      await w.user("b");
      await a.tosend.send("SEND b\nContent-length: 1\n\nx");
      assert.equal((await w.open[3]!.next()).type, "FORWARD");
    });
    assert.equal(server.stderr.length, 1, server.stderr.join("\n"));
    assert.ok(!server.stdout.some((l) => /Web client/.test(l)));
  } finally {
    taken.close();
    server.kill("SIGTERM");
    assert.equal((await server.exit()).code, 0);
  }
});

/** The TCP ports process `pid` listens on (by `ss`, Linux), or null where it cannot be told. */
async function listeningPorts(pid: number): Promise<number[] | null> {
  const text = await output("ss", ["-Hltnp"]);
  if (text === null) return null;
  return text.split("\n").filter((l) => l.includes(`pid=${pid},`))
    .map((l) => Number(l.split(/\s+/)[3]?.split(":").pop()));
}

Deno.test("chat server --no-web opens no web port; --web 0 opens one more (counted by ss where there is one; else the web port is asked)", async () => {
  for (const [flag, count] of [["--no-web", 1], ["--web=0", 2]] as const) {
    const { server, port } = await startChatServer(["--memory", flag]);
    try {
      if (flag === "--web=0") {
        const line = await server.waitFor(/Web client listening on/);
        // Whether or not ss can count them: the web port is there and serves the page.
        const webPort = Number(WEB_LINE.exec(line)?.[2]);
        const page = await rawHttp(webPort, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assert.equal(page.status, 200, `${flag}: the web port at ${webPort}`);
      }
      const ports = await listeningPorts(server.child.pid);
      if (ports !== null) {
        assert.equal(new Set(ports).size, count, `${flag}: ${ports}`);
        assert.ok(ports.includes(port));
      } else if (flag === "--no-web") {
        console.warn("ss is missing: the ports of --no-web are not counted, only its log lines");
      }
      if (flag === "--no-web") assert.ok(!server.stdout.some((l) => /Web client/.test(l)));
    } finally {
      server.kill("SIGTERM");
      await server.exit();
    }
  }
});

Deno.test("chat server --web with --no-web, or a bad port, is a usage error", async () => {
  const { runChat } = await import("./spawn.ts");
  const both = await runChat(["server", "--web", "0", "--no-web"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^Give --web PORT or --no-web, not both/);
  const bad = await runChat(["server", "--web", "http"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^Invalid --web port "http": use a number from 0 to 65535, or --no-web\./,
  );
});

Deno.test(
  "chat server with --tls-cert serves the page over HTTPS and the protocol over WSS" + needsOpenssl,
  {
    ignore: needsOpenssl !== "",
  },
  () =>
    withTempDir(async (dir) => {
      const files = await makeCertificate(dir, "server");
      const ca = await Deno.readTextFile(files.cert);
      const { server, webPort, url } = await startWebServer([
        "--memory",
        "--tls-cert",
        files.cert,
        "--tls-key",
        files.key,
      ]);
      const client = Deno.createHttpClient({ caCerts: [ca] });
      try {
        assert.equal(url, `https://127.0.0.1:${webPort}/`);
        const page = await fetch(url, { client });
        assert.equal(page.status, 200);
        assert.match(await page.text(), /<!doctype html>/i);
        const a = {
          tosend: await WsWire.open({ port: webPort, tlsCa: ca }),
          torecv: await WsWire.open({ port: webPort, tlsCa: ca }),
        };
        const b = {
          tosend: await WsWire.open({ port: webPort, tlsCa: ca }),
          torecv: await WsWire.open({ port: webPort, tlsCa: ca }),
        };
        try {
          await a.tosend.register("TOSEND", "a");
          await a.torecv.register("TORECV", "a");
          await b.tosend.register("TOSEND", "b");
          await b.torecv.register("TORECV", "b");
          await a.tosend.send("SEND b\nContent-length: 6\n\nsecret");
          const f = await b.torecv.next();
          assert.equal(f.type === "FORWARD" && new TextDecoder().decode(f.body), "secret");
          await b.torecv.send("RECEIVED a\n\n");
          assert.deepEqual(await a.tosend.next(), { type: "SENT", to: "b" });
        } finally {
          for (const w of [a.tosend, a.torecv, b.tosend, b.torecv]) await w.close();
        }
      } finally {
        client.close();
        server.kill("SIGTERM");
        await server.exit();
      }
    }),
);

Deno.test("chat server on SIGTERM closes WebSocket users cleanly (close frame 1001, going away) and exits 0", async () => {
  const { server, webPort } = await startWebServer(["--memory"]);
  try {
    const web = await webUser(webPort, "web");
    try {
      server.kill("SIGTERM");
      for (const ws of [web.tosend, web.torecv]) {
        const close = await ws.control("close", 10_000);
        assert.deepEqual(close, {
          type: "close",
          code: 1001,
          reason: "The server is shutting down.",
        });
        await ws.waitEnded(10_000);
      }
    } finally {
      await web.tosend.close();
      await web.torecv.close();
    }
    assert.equal((await server.exit()).code, 0);
    assert.match(server.stdout.join("\n"), /web : DISCONNECTED/);
  } finally {
    server.kill("SIGKILL");
    await server.exit();
  }
});
