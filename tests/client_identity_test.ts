/**
 * Owned names end to end: the real `chat client` (piped) and `chat identity` against the real
 * `chat server`. The first run claims the name and keeps the key in a file only its user can
 * read; the next run proves it; another machine (an empty config directory) is refused; an
 * exported file works there with --identity, or imported; a damaged file stops the client in
 * one sentence and is not replaced.
 */
import assert from "node:assert/strict";
import { runChat, startChatServer, testEnv } from "./spawn.ts";
import { identityPath, parseIdentity } from "../src/client/identity_file.ts";

/** A config directory of its own: another machine. */
function machine(): Record<string, string> {
  const home = Deno.makeTempDirSync({ prefix: "chat-test-machine-" });
  return { XDG_CONFIG_HOME: `${home}/config`, HOME: home };
}

/** The identity file of `name` at 127.0.0.1:`port` under the config home `config`. */
function fileOf(name: string, port: number, config = testEnv().XDG_CONFIG_HOME): string {
  return identityPath(`127.0.0.1:${port}`, name, `${config}/chat`)!;
}

/** Runs `chat client NAME 127.0.0.1 --port PORT` piped with `input` and `more` arguments. */
function client(
  name: string,
  port: number,
  input: string,
  more: string[] = [],
  env: Record<string, string> = {},
) {
  return runChat(
    ["client", name, "127.0.0.1", "--port", String(port), "--wait", "5s", ...more],
    { stdin: input, env },
  );
}

/** Runs `body` with a fresh `chat server`, then stops it. */
async function withChatServer(body: (port: number) => Promise<void>): Promise<void> {
  const { server, port } = await startChatServer();
  try {
    await body(port);
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
}

Deno.test("chat client claims its name on the first run, in a 0600 file, and proves it on the next", async () => {
  await withChatServer(async (port) => {
    const first = await client("ida", port, "");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /"ida" now belongs to you/);
    const path = fileOf("ida", port);
    const info = await Deno.stat(path);
    assert.equal(info.mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(path.slice(0, path.lastIndexOf("/")))).mode! & 0o777, 0o700);
    const record = parseIdentity(await Deno.readTextFile(path), path);
    assert.deepEqual([record.version, record.server, record.name], [1, `127.0.0.1:${port}`, "ida"]);
    assert.equal(record.publicKey.length, 44);

    const second = await client("ida", port, "@ida to myself\n");
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /belongs|taken|key/);
    // The SENT and the FORWARD to oneself come on two connections, in either order.
    assert.deepEqual(second.stdout.split("\n").sort(), [
      "Message successfully sent to ida",
      "ida: to myself",
    ]);
    assert.equal(parseIdentity(await Deno.readTextFile(path), path).publicKey, record.publicKey);
  });
});

Deno.test("chat client on another machine is refused an owned name, and --identity FILE from an export works there", async () => {
  await withChatServer(async (port) => {
    assert.equal((await client("jon", port, "")).code, 0);
    const other = machine();
    const refused = await client("jon", port, "@jon hi\n", [], other);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /"jon" is taken: .*belongs to someone's key/);
    assert.equal(refused.stdout, "");

    const file = `${other.HOME}/jon.json`;
    const exported = await runChat(["identity", "export", "jon", `127.0.0.1:${port}`, file]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    const moved = await client("jon", port, "@jon hi\n", ["--identity", file], other);
    assert.equal(moved.code, 0, moved.stderr);
    assert.deepEqual(moved.stdout.split("\n").sort(), [
      "Message successfully sent to jon",
      "jon: hi",
    ]);

    // Exporting again over the file is refused; to standard output it is the same record.
    const again = await runChat(["identity", "export", "jon", `127.0.0.1:${port}`, file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^File ".*jon\.json" exists already/);
    const out = await runChat(["identity", "export", "jon", `127.0.0.1:${port}`]);
    assert.equal(out.stdout.trim(), (await Deno.readTextFile(file)).trim());
  });
});

Deno.test("chat identity import keeps an exported key for its server and name, and never replaces another silently", async () => {
  await withChatServer(async (port) => {
    assert.equal((await client("kim", port, "")).code, 0);
    const file = `${Deno.makeTempDirSync()}/kim.json`;
    assert.equal((await runChat(["identity", "export", "kim", `127.0.0.1:${port}`, file])).code, 0);
    const other = machine();
    const imported = await runChat(["identity", "import", file], { env: other });
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(
      (await Deno.stat(fileOf("kim", port, other.XDG_CONFIG_HOME))).mode! & 0o777,
      0o600,
    );
    const proven = await client("kim", port, "@kim hi\n", [], other);
    assert.equal(proven.code, 0, proven.stderr);
    const same = await runChat(["identity", "import", file], { env: other });
    assert.equal(same.code, 0);
    assert.match(same.stderr, /already, with this key: nothing to do/);
    const listed = await runChat(["identity", "list"], { env: other });
    assert.match(listed.stdout, new RegExp(`^kim on 127\\.0\\.0\\.1:${port}, made \\d{4}-`));

    // A different key for the same server and name (made on a third machine, which claims a
    // lookalike-free name first, then is edited to say kim).
    const third = machine();
    assert.equal((await client("kimb", port, "", [], third)).code, 0);
    const foreign = await Deno.readTextFile(fileOf("kimb", port, third.XDG_CONFIG_HOME));
    const swapped = `${third.HOME}/swapped.json`;
    await Deno.writeTextFile(swapped, foreign.replace(/"name": "kimb"/, '"name": "kim"'));
    const refused = await runChat(["identity", "import", swapped], { env: other });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^A different key for kim on .* was not replaced; add --force/);
    // That key does not own kim: the client says so, does not register, and exits 1.
    const wrong = await client("kim", port, "@kim hi\n", ["--identity", swapped], third);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stdout, "");
    assert.match(wrong.stderr, /^"kim" belongs to another key .*chat identity export.*release/);
    const forced = await runChat(["identity", "import", swapped, "--force"], { env: other });
    assert.equal(forced.code, 0, forced.stderr);
  });
});

Deno.test("chat client stops in one sentence on a damaged identity file and leaves it as it was", async () => {
  await withChatServer(async (port) => {
    const other = machine();
    const path = fileOf("lea", port, other.XDG_CONFIG_HOME);
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, "{ not json");
    const r = await client("lea", port, "@lea hi\n", [], other);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    const lines = r.stderr.split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^Identity file ".*lea\.json" cannot be used \(it is not JSON\): /);
    assert.equal(await Deno.readTextFile(path), "{ not json");
    const missing = await client("lea", port, "", ["--identity", `${other.HOME}/nope.json`], other);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Identity file ".*nope\.json" does not exist/);
  });
});

Deno.test("chat client --no-identity makes no key and uses none", async () => {
  await withChatServer(async (port) => {
    const other = machine();
    const r = await client("max", port, "", ["--no-identity"], other);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /belongs to you/);
    await assert.rejects(
      Deno.stat(fileOf("max", port, other.XDG_CONFIG_HOME)),
      Deno.errors.NotFound,
    );
    const both = await client("max", port, "", ["--no-identity", "--identity", "x.json"], other);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /"--identity" and "--no-identity" contradict each other/);
  });
});
