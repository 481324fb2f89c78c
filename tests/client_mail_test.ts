/**
 * Mail for offline users end to end: piped `chat client` senders and owners against the real
 * `chat server`. A message to an owned name whose owner is offline is stored (exit 0, a stored
 * line), delivered in order with the time it was sent when the owner comes back, and the
 * sender still waiting within --wait prints the delivered receipt and leaves early.
 */
import assert from "node:assert/strict";
import { PipedClient, runChat, startChatServer } from "./spawn.ts";

const STORED = /^Message stored for bob, who is offline: it will be delivered when they come back$/;

/** Runs `chat client NAME` piped to the server at `port` with `input`. */
function client(name: string, port: number, input: string, wait = "3s") {
  return runChat(["client", name, "127.0.0.1", "--port", String(port), "--wait", wait], {
    stdin: input,
  });
}

Deno.test("chat client piped: messages to an offline owner are stored (exit 0), then delivered in order with their time", async () => {
  const { server, port } = await startChatServer();
  let bob: PipedClient | undefined;
  try {
    assert.equal((await client("bob", port, "")).code, 0, "bob claims his name and leaves");
    const before = Date.now();
    const sent = await client("amy", port, "@bob one\n@bob two\n@bob three\n", "1s");
    assert.equal(sent.code, 0, sent.stderr);
    const lines = sent.stdout.split("\n");
    assert.equal(lines.length, 3, sent.stdout);
    for (const line of lines) assert.match(line, STORED);

    bob = new PipedClient("bob", port, ["--wait", "1s"]);
    await bob.registered();
    await bob.process.waitFor(/three$/);
    const got = bob.stdout.filter((l) => l.startsWith("amy"));
    assert.equal(got.length, 3, bob.stdout.join("\n"));
    const texts = got.map((l) => /^amy \(sent (\d{4}-\d\d-\d\d \d\d:\d\d)\): (.*)$/.exec(l));
    assert.deepEqual(texts.map((m) => m?.[2]), ["one", "two", "three"]);
    const shown = Date.parse(texts[0]![1]!.replace(" ", "T"));
    // Local time to the minute: within a day of when it was sent, whatever the time zone.
    assert.ok(Math.abs(shown - before) < 26 * 3600_000, texts[0]![1]);
    assert.equal(await bob.exit(), 0);

    // Delivered once: bob's next run gets nothing more.
    const again = await client("bob", port, "", "1s");
    assert.equal(again.code, 0);
    assert.equal(again.stdout, "");
  } finally {
    await bob?.dispose();
    server.kill("SIGTERM");
    await server.exit();
  }
});

Deno.test("chat client piped prints the delivered receipt that comes within --wait, and leaves then", async () => {
  const { server, port } = await startChatServer();
  let bob: PipedClient | undefined;
  try {
    assert.equal((await client("bob", port, "")).code, 0);
    const started = Date.now();
    const amy = new PipedClient("amy", port, ["--wait", "20s"]);
    try {
      await amy.registered();
      await amy.type("@bob are you there?");
      await amy.endInput();
      await amy.process.waitFor(STORED);
      bob = new PipedClient("bob", port, ["--wait", "1s"]);
      await bob.process.waitFor(/^amy \(sent .*\): are you there\?$/);
      await amy.process.waitFor(/^Message delivered to bob/);
      assert.equal((await amy.process.exit()).code, 0);
      assert.ok(Date.now() - started < 15_000, "left once the receipt came, not after --wait");
      assert.deepEqual(amy.stdout.filter((l) => /bob/.test(l)).length, 2, amy.stdout.join("\n"));
    } finally {
      await amy.dispose();
    }
    assert.equal(await bob.exit(), 0);
  } finally {
    await bob?.dispose();
    server.kill("SIGTERM");
    await server.exit();
  }
});

Deno.test("chat client piped to a name nobody owns, offline, is not stored (exit 1)", async () => {
  const { server, port } = await startChatServer();
  try {
    const r = await client("amy", port, "@nobody hello\n", "1s");
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stdout, /stored/);
    assert.match(r.stdout + r.stderr, /nobody/);
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
});

Deno.test("chat client piped says which mailbox limit refused a message, with its number (exit 1)", async () => {
  const { server, port } = await startChatServer(["--mail-max-messages", "2"]);
  try {
    assert.equal((await client("bob", port, "")).code, 0, "bob claims his name and leaves");
    const sent = await client("amy", port, "@bob one\n@bob two\n@bob three\n", "1s");
    assert.equal(sent.code, 1, "one line was neither delivered nor stored");
    const lines = sent.stdout.split("\n");
    assert.match(lines[0] ?? "", STORED);
    assert.match(lines[1] ?? "", STORED);
    assert.equal(
      lines[2],
      "Message to bob not delivered: bob is offline and as many messages as the server keeps (2) " +
        "wait for them already; try again once they have read them",
    );
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
});
