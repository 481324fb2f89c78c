/**
 * The web port's Host check (DNS rebinding), over real sockets to the real `chat server`: a page
 * whose DNS name was rebound to the server's address asks for it by that name, and is refused
 * with 403 on the page and on `/ws` alike, while addresses, localhost, the machine's own name and
 * the names given with `--web-name` are answered; each refused name is logged once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { acceptKey } from "../src/net/websocket.ts";
import { type ChatProcess, runChat, startWebServer } from "./spawn.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The 403's sentence for `name`. */
function refusal(name: string): string {
  return `This server does not answer to the name "${name}"; if that is its name, start it ` +
    `with --web-name ${name}.`;
}

/**
 * Sends `request` to the web port `port` on 127.0.0.1 and reads the answer: until the server
 * closes, or (an upgrade) to the end of the 101's head, then closes.
 */
async function exchange(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  try {
    await conn.write(enc.encode(request));
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n), { stream: true });
      if (text.startsWith("HTTP/1.1 101 ") && text.includes("\r\n\r\n")) break;
    }
  } finally {
    conn.close();
  }
  return text;
}

/** `GET path` with `Host: host`. */
function get(port: number, host: string, path = "/"): Promise<string> {
  return exchange(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** A browser's upgrade to `/ws` by the name `host`, from the page of that same name. */
function upgrade(port: number, host: string): Promise<string> {
  return exchange(
    port,
    `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n` +
      `Origin: http://${host}\r\n\r\n`,
  );
}

/** Checks that `answer` is the 403 for `name`. */
function assertRefused(answer: string, name: string): void {
  assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/, answer);
  assert.ok(answer.endsWith(`\r\n\r\n${refusal(name)}\n`), answer);
}

/** Checks that `answer` is the page, or (`ws`) the switch to WebSocket. */
async function assertAnswered(answer: string, ws = false): Promise<void> {
  if (ws) {
    assert.match(answer, /^HTTP\/1\.1 101 Switching Protocols\r\n/, answer);
    assert.ok(answer.includes(`\r\nSec-WebSocket-Accept: ${await acceptKey(KEY)}\r\n`), answer);
  } else {
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/, answer);
    assert.match(answer, /<!doctype html>/i);
  }
}

/** Stops `server` and waits for it to exit 0. */
async function stop(server: ChatProcess): Promise<void> {
  server.kill("SIGTERM");
  assert.equal((await server.exit()).code, 0, server.stderr.join("\n"));
}

/** The name of this machine, as Deno.hostname() has it (uname -n), or null. */
async function machine(): Promise<string | null> {
  if (Deno.build.os === "windows") return null;
  try {
    const out = await new Deno.Command("uname", { args: ["-n"], stdout: "piped" }).output();
    const name = dec.decode(out.stdout).trim();
    return out.success && /^[A-Za-z0-9.-]+$/.test(name) && !/^[\d.]+$/.test(name) ? name : null;
  } catch {
    return null;
  }
}

Deno.test("chat server's web port refuses a rebound name on / and /ws with 403 and one sentence", async () => {
  const { server, webPort } = await startWebServer();
  try {
    const evil = `evil.example:${webPort}`;
    assertRefused(await get(webPort, evil), "evil.example");
    assertRefused(await get(webPort, evil, "/app.js"), "evil.example");
    assertRefused(await get(webPort, "EVIL.Example.", "/app.css"), "evil.example");
    // Origin and Host agree (the rebound page's own origin): the Origin check alone let it in.
    assertRefused(await upgrade(webPort, evil), "evil.example");
  } finally {
    await stop(server);
  }
});

Deno.test("chat server's web port answers 127.0.0.1, [::1]-style literals, localhost and the machine's name", async () => {
  const { server, webPort } = await startWebServer();
  try {
    for (const host of [`127.0.0.1:${webPort}`, `localhost:${webPort}`, "127.1", "[::1]"]) {
      await assertAnswered(await get(webPort, host));
    }
    await assertAnswered(await upgrade(webPort, `127.0.0.1:${webPort}`), true);
    await assertAnswered(await upgrade(webPort, `localhost:${webPort}`), true);
    await assertAnswered(await upgrade(webPort, `chat.localhost:${webPort}`), true);
    const name = await machine();
    if (name !== null) {
      // --allow-sys=hostname, among the shipped permissions, lets the server read its name.
      await assertAnswered(await get(webPort, `${name}:${webPort}`));
      await assertAnswered(await get(webPort, `${name.replace(/\.local$/, "")}.local`));
    }
  } finally {
    await stop(server);
  }
});

Deno.test("chat server --web-name lets that name through; other names stay refused", async () => {
  const { server, webPort } = await startWebServer(["--web-name", "chat.test"]);
  try {
    await assertAnswered(await get(webPort, `chat.test:${webPort}`));
    await assertAnswered(await get(webPort, "CHAT.TEST."));
    await assertAnswered(await upgrade(webPort, `chat.test:${webPort}`), true);
    assertRefused(await get(webPort, `evil.example:${webPort}`), "evil.example");
    assertRefused(await upgrade(webPort, `x.chat.test:${webPort}`), "x.chat.test");
  } finally {
    await stop(server);
  }
});

Deno.test("chat server --web-name '*' answers any name", async () => {
  const { server, webPort } = await startWebServer(["--web-name", "*"]);
  try {
    await assertAnswered(await get(webPort, `evil.example:${webPort}`));
    await assertAnswered(await upgrade(webPort, `evil.example:${webPort}`), true);
  } finally {
    await stop(server);
  }
});

Deno.test("chat server logs a refused name once, however often it is asked for", async () => {
  const { server, webPort } = await startWebServer();
  try {
    for (let i = 0; i < 5; i++) {
      assertRefused(await get(webPort, `evil.example:${webPort}`), "evil.example");
    }
    assertRefused(await upgrade(webPort, `evil.example:${webPort}`), "evil.example");
    // Another name after them: once its line is out, every line of the first is too.
    assertRefused(await get(webPort, "other.example"), "other.example");
    await server.waitFor(/"other\.example"/);
    const lines = server.stdout.filter((l) => l.includes('"evil.example"'));
    assert.equal(lines.length, 1, server.stdout.join("\n"));
    assert.match(
      lines[0]!,
      /Dropped 127\.0\.0\.1:\d+: asked the web port for the host name "evil\.example", which this server does not answer to \(.*--web-name evil\.example\); further requests for this name are not logged$/,
    );
  } finally {
    await stop(server);
  }
});

Deno.test("chat server --web-name refuses a value that is not a host name, and goes with --web only", async () => {
  const bad = await runChat(["server", "--web-name", "chat.test/x", "--web", "0"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^Invalid --web-name "chat\.test\/x": give the host name the web page is opened by, such as "chat\.example\.com", or "\*" for any\.$/m,
  );
  const off = await runChat(["server", "--web-name", "chat.test", "--no-web"]);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /--web-name names the web port, but --no-web serves none/);
});
