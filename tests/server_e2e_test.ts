/**
 * End-to-end tests of `chat server` as a process: the real command (see tests/cli_cmd.ts, set
 * CHAT_CMD to test a compiled binary), spoken to over loopback as a plain client would.
 */
import assert from "node:assert/strict";
import { runChat, startChatServer } from "./spawn.ts";
import { withWires } from "./wire.ts";
import { drainRefusesNewFinishesInFlight, messageInFlight } from "./drain.ts";
import { conformanceCases, runCase } from "./conformance.ts";

Deno.test("chat server relays the original sample session and logs it in the original's style", async () => {
  const { server, port } = await startChatServer();
  try {
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      const abc = await w.user("abc");
      const xyz = await w.user("xyz");
      await abc.tosend.send("SEND xyz\nContent-length: 4\n\nHiii");
      const fwd = await xyz.torecv.next();
      assert.equal(fwd.type, "FORWARD");
      assert.equal(fwd.type === "FORWARD" && new TextDecoder().decode(fwd.body), "Hiii");
      await xyz.torecv.send("RECEIVED abc\n\n");
      assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "xyz" });
      await xyz.tosend.send("SEND abc\nContent-length: 5\n\nHello");
      assert.equal((await abc.torecv.next()).type, "FORWARD");
      await abc.torecv.send("RECEIVED xyz\n\n");
      assert.deepEqual(await xyz.tosend.next(), { type: "SENT", to: "abc" });
    });
    await server.waitFor(/Message successfully forwarded from xyz to abc$/);
    server.kill("SIGTERM");
    const status = await server.exit();
    assert.equal(status.code, 0);
    // Each line starts with the local date and time, then the original's text.
    const stamp = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /;
    for (const line of server.stdout) assert.match(line, stamp);
    const log = server.stdout.map((l) => l.replace(stamp, ""));
    for (
      const line of [
        "abc : REGISTERED TOSEND",
        "abc : REGISTERED TORECV",
        "abc : JOINED from 127.0.0.1 (1 online)",
        "xyz : REGISTERED TOSEND",
        "xyz : REGISTERED TORECV",
        "xyz : JOINED from 127.0.0.1 (2 online)",
        "Message successfully forwarded from abc to xyz",
        "Server stopped",
      ]
    ) {
      assert.ok(log.includes(line), `missing log line ${JSON.stringify(line)} in ${log}`);
    }
    assert.match(log[0] ?? "", /^Chat server listening on 127\.0\.0\.1:\d+$/);
  } finally {
    server.kill("SIGKILL");
    await server.exit();
  }
});

Deno.test("chat server --log-format json writes one JSON object per line", async () => {
  const { server, port } = await startChatServer(["--log-format", "json"]);
  try {
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      await w.user("abc");
    });
    await server.waitFor(/"event":"disconnected"/);
    const events = server.stdout.map((l) => JSON.parse(l));
    assert.equal(events[0].event, "listening");
    assert.ok(events.some((e) => e.event === "registered" && e.name === "abc"));
    assert.ok(events.every((e) => typeof e.time === "string"));
  } finally {
    server.kill("SIGTERM");
    assert.equal((await server.exit()).code, 0);
  }
});

Deno.test("chat server --quiet logs only its startup line", async () => {
  const { server, port } = await startChatServer(["--quiet"]);
  try {
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      await w.user("abc");
    });
  } finally {
    server.kill("SIGINT");
    assert.equal((await server.exit()).code, 0);
  }
  assert.equal(server.stdout.length, 1, server.stdout.join("\n"));
});

Deno.test("chat server survives garbage and keeps relaying for others", async () => {
  const { server, port } = await startChatServer();
  try {
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      const abc = await w.user("abc");
      const xyz = await w.user("xyz");
      const junk = await w.connect("junk");
      const bytes = new Uint8Array(4096);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
      await junk.send(bytes);
      await junk.send("SEND xyz\nContent-length: 99999999999\n\n");
      await abc.tosend.send("SEND xyz\nContent-length: 2\n\nok");
      await xyz.torecv.next();
      await xyz.torecv.send("RECEIVED abc\n\n");
      assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "xyz" });
    });
  } finally {
    server.kill("SIGTERM");
    assert.equal((await server.exit()).code, 0);
  }
});

Deno.test("chat server reports a port in use in one sentence and exits 1", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const r = await runChat(["server", "--host", "127.0.0.1", "--port", String(port)]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `Cannot listen on "127.0.0.1:${port}": the port is already in use. ` +
        `Stop the other server or choose another port with --port.`,
    );
  } finally {
    taken.close();
  }
});

Deno.test("chat server rejects bad arguments with exit 2 and the usage line", async () => {
  for (
    const [args, message] of [
      [["--port", "99999"], 'Invalid port "99999": use a number from 0 to 65535.'],
      [["--port", "abc"], 'Invalid port "abc": use a number from 0 to 65535.'],
      [["--port"], 'Option "--port" needs a value.'],
      [["--frobnicate"], 'Unknown option "--frobnicate".'],
      [["--log-format", "xml"], 'Invalid --log-format "xml": use "text" or "json".'],
      [["--ack-timeout", "soon"], 'Invalid --ack-timeout "soon"'],
      [["extra"], 'Unexpected argument "extra".'],
    ] as const
  ) {
    const r = await runChat(["server", ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith(message), `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /Usage: chat server/);
    assert.equal(r.stdout, "");
  }
});

Deno.test("chat --help, --version and subcommand help go to stdout with exit 0", async () => {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  const version = await runChat(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), `chat ${denoJson.version}`);
  const help = await runChat(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /chat server/);
  assert.match(help.stdout, /chat client/);
  const serverHelp = await runChat(["server", "--help"]);
  assert.equal(serverHelp.code, 0);
  assert.match(serverHelp.stdout, /--ack-timeout/);
  assert.equal(serverHelp.stderr, "");
});

Deno.test("chat without a known command exits 2 with the usage line", async () => {
  const none = await runChat([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Missing command/);
  const bad = await runChat(["serve"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^Unknown command "serve": use "server", "client", "conformance" or "identity"\./,
  );
});

Deno.test("chat server passes every conformance case as a process with its default options", async (t) => {
  // One long-lived server for all cases: they use names of their own, as against a real one.
  const { server, port } = await startChatServer();
  try {
    for (const c of conformanceCases) {
      await t.step(`${c.id}: ${c.title}`, () => runCase(c, { hostname: "127.0.0.1", port }));
    }
  } finally {
    server.kill("SIGTERM");
    assert.equal((await server.exit()).code, 0);
  }
});

Deno.test("chat server on SIGINT refuses new messages, lets the one in flight finish and exits 0", async () => {
  const { server, port } = await startChatServer(["--drain-timeout", "60s"]);
  try {
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      const { abc, xyz } = await messageInFlight(w);
      server.kill("SIGINT");
      await server.waitFor(/ Stopping \(SIGINT\)$/);
      await drainRefusesNewFinishesInFlight(abc, xyz);
      for (const wire of [abc.tosend, abc.torecv, xyz.tosend, xyz.torecv]) {
        await wire.expectClosed();
      }
    });
    assert.equal((await server.exit()).code, 0);
    assert.match(server.stdout.at(-1) ?? "", / Server stopped$/);
  } finally {
    server.kill("SIGKILL");
    await server.exit();
  }
});

Deno.test("chat server exits at once with code 130 on a second signal while draining", async () => {
  // The drain would last a minute; exit() kills with SIGKILL (code 137) after 10 s.
  const { server, port } = await startChatServer(["--drain-timeout", "60s"]);
  try {
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      const abc = await w.user("abc");
      const xyz = await w.user("xyz");
      await abc.tosend.send("SEND xyz\nContent-length: 2\n\nhi");
      assert.equal((await xyz.torecv.next()).type, "FORWARD"); // never acknowledged
      server.kill("SIGTERM");
      await server.waitFor(/ Stopping \(SIGTERM\)$/);
      server.kill("SIGINT");
      assert.equal((await server.exit()).code, 130);
    });
    assert.ok(!server.stdout.some((l) => / Server stopped$/.test(l)), server.stdout.join("\n"));
  } finally {
    server.kill("SIGKILL");
    await server.exit();
  }
});
