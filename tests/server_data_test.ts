/**
 * `chat server release` and `chat server names`, called as functions (their output captured),
 * on real data directories in temp dirs.
 */
import assert from "node:assert/strict";
import { NAMES_HELP, RELEASE_HELP, serverDataMain } from "../src/commands/server_data.ts";
import { UsageError } from "../src/commands/cli.ts";
import { openServerData } from "../src/store/open.ts";
import { runChat, startChatServer } from "./spawn.ts";

const noEnv = () => undefined;

/** Runs serverDataMain with console.log and console.error captured. */
async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...xs: unknown[]) => out.push(xs.join(" "));
  console.error = (...xs: unknown[]) => err.push(xs.join(" "));
  try {
    return { code: await serverDataMain(args), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-server-data-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A data directory where alice and bob own their names and mail waits for alice. */
async function seed(dir: string): Promise<void> {
  const data = await openServerData({ data: dir, env: noEnv });
  await data.claim("alice", new Uint8Array(32).fill(1), Date.UTC(2026, 11, 2, 23, 10));
  await data.claim("bob", new Uint8Array(32).fill(2), Date.UTC(2026, 11, 2, 23, 11));
  for (let i = 0; i < 3; i++) await data.put("bob", "alice", new Uint8Array([i]), 1000 + i);
  await data.put("carol", "alice", new Uint8Array([9]), 2000);
  await data.close();
}

Deno.test("serverDataMain: names lists owned names with claim time, mail waiting and key", () =>
  withDir(async (dir) => {
    await seed(dir);
    const r = await run(["names", "--data", dir]);
    assert.equal(r.code, 0);
    assert.deepEqual(r.out, [
      `alice  claimed 2026-12-02T23:10:00.000Z  waiting 4  key ${btoa("\x01".repeat(32))}`,
      `bob    claimed 2026-12-02T23:11:00.000Z  waiting 0  key ${btoa("\x02".repeat(32))}`,
    ]);
    assert.deepEqual(r.err, [
      `2 owned names, 4 messages and 0 receipts waiting, in "${dir}/chat.db".`,
    ]);
  }));

Deno.test("serverDataMain: release forgets the owner and drops its mail, with receipts", () =>
  withDir(async (dir) => {
    await seed(dir);
    const r = await run(["release", "AIice", "--data", dir]);
    assert.equal(r.code, 0, r.err.join("\n"));
    assert.deepEqual(r.out, [
      `Released "alice": anyone may register it now; 4 waiting messages deleted.`,
    ]);
    const again = await run(["release", "alice", "--data", dir]);
    assert.equal(again.code, 1);
    assert.match(again.err[0]!, /^Nobody owns "alice" .* nothing to release/);
    const data = await openServerData({ data: dir, env: noEnv });
    assert.equal(data.owner("alice"), undefined);
    assert.deepEqual(data.receipts("bob").map((r) => r.event), [
      "released",
      "released",
      "released",
    ]);
    assert.deepEqual(data.receipts("carol"), [], "carol owns no name: no receipt waits for her");
    await data.close();
  }));

Deno.test("serverDataMain: data in use by a running server is refused with a sentence", () =>
  withDir(async (dir) => {
    await seed(dir);
    const server = await openServerData({ data: dir, env: noEnv });
    try {
      for (const args of [["release", "alice", "--data", dir], ["names", "--data", dir]]) {
        const r = await run(args);
        assert.equal(r.code, 1);
        assert.deepEqual(r.out, []);
        assert.match(r.err.join("\n"), /in use by another chat server: stop that server/);
      }
      assert.equal(server.owner("alice")?.name, "alice");
    } finally {
      await server.close();
    }
  }));

Deno.test("serverDataMain: usage mistakes throw UsageError; help fits one screen", async () => {
  await assert.rejects(serverDataMain(["release"]), UsageError);
  await assert.rejects(serverDataMain(["release", "a", "b"]), /Unexpected argument "b"/);
  await assert.rejects(serverDataMain(["names", "x"]), /Unexpected argument "x"/);
  await assert.rejects(serverDataMain(["names", "--bogus"]), /Unknown option "--bogus"/);
  for (const sub of ["release", "names"]) {
    const r = await run([sub, "--help"]);
    assert.equal(r.code, 0);
    const lines = r.out.join("\n").split("\n");
    assert.ok(lines.length <= 24, `${sub}: ${lines.length} rows`);
    for (const line of lines) assert.ok(line.length <= 80, `${sub}: too wide: ${line}`);
    assert.match(r.out.join("\n"), /README\.md/);
  }
  assert.ok(RELEASE_HELP.includes("--data DIR") && NAMES_HELP.includes("--data DIR"));
});

Deno.test("chat server names / release: work on stopped data, refuse a running server's", () =>
  withDir(async (dir) => {
    await seed(dir);
    const names = await runChat(["server", "names", "--data", dir]);
    assert.equal(names.code, 0, names.stderr);
    assert.match(names.stdout, /^alice {2}claimed 2026-12-02T23:10:00\.000Z {2}waiting 4 {2}key /);
    assert.match(names.stderr, /2 owned names, 4 messages and 0 receipts waiting/);

    const { server } = await startChatServer(["--data", dir]);
    try {
      const locked = await runChat(["server", "release", "alice", "--data", dir]);
      assert.equal(locked.code, 1);
      assert.equal(locked.stdout, "");
      assert.match(locked.stderr, /in use by another chat server: stop that server/);
    } finally {
      server.kill("SIGTERM");
      await server.exit();
    }

    const released = await runChat(["server", "release", "alice", "--data", dir]);
    assert.equal(released.code, 0, released.stderr);
    assert.equal(
      released.stdout,
      `Released "alice": anyone may register it now; 4 waiting messages deleted.`,
    );
    const usage = await runChat(["server", "release", "--data", dir]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Usage: chat server release NAME/);
    const help = await runChat(["server", "release", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: chat server release NAME \[--data DIR\]/);
  }));
