import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { dataContract } from "./contract_testing.ts";
import type { ReceiptEvent } from "./data.ts";
import { LAZY_COMMIT_MS, SqliteData } from "./sqlite.ts";

dataContract("SqliteData", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-test-" });
  return {
    open: () => Promise.resolve(new SqliteData(`${dir}/chat.db`)),
    durable: true,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-sqlite-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("SqliteData: the changes of one turn share one commit, resolved after it", () =>
  withDir(async (dir) => {
    const data = new SqliteData(`${dir}/chat.db`);
    const before = data.commits;
    let resolved = 0;
    const puts = [];
    for (let i = 0; i < 100; i++) {
      puts.push(data.put("bob", "alice", bytes(`${i}`), i).then((m) => (resolved++, m)));
    }
    await Promise.resolve();
    assert.equal(resolved, 0, "nothing resolves before the commit");
    assert.equal(data.commits, before);
    await Promise.all(puts);
    assert.equal(data.commits, before + 1);
    await data.put("bob", "alice", bytes("later"), 200);
    assert.equal(data.commits, before + 2);
    await data.close();
  }));

Deno.test("SqliteData: settles wait for the next commit, lazily, and resolve after it", () =>
  withDir(async (dir) => {
    const data = new SqliteData(`${dir}/chat.db`);
    const ms = await Promise.all(
      [1, 2, 3, 4].map((i) => data.put("bob", "alice", bytes(`${i}`), i)),
    );
    const before = data.commits;
    // Settles in separate turns (as RECEIVEDs arrive) share one commit within LAZY_COMMIT_MS.
    const t0 = performance.now();
    const first = data.settle(ms[0]!, "delivered", 10, true);
    await new Promise((r) => setTimeout(r, 1));
    const second = data.settle(ms[1]!, "delivered", 11, true);
    const done = data.receiptDone(ms[0]!.id);
    await Promise.all([first, second, done]);
    assert.equal(data.commits, before + 1, "one commit for the three");
    assert.ok(performance.now() - t0 >= LAZY_COMMIT_MS - 2, "it waited for the lazy commit");
    // A put makes the commit come after this turn, and takes a waiting settle with it.
    const third = data.settle(ms[2]!, "delivered", 12, false);
    const put = data.put("bob", "alice", bytes("5"), 13);
    const t1 = performance.now();
    await Promise.all([third, put]);
    assert.ok(performance.now() - t1 < LAZY_COMMIT_MS, "the put did not wait for the lazy timer");
    assert.equal(data.commits, before + 2);
    // close commits what waits.
    const last = data.settle(ms[3]!, "refused", 14, false);
    await data.close();
    assert.equal((await last)?.event, "refused");
    const again = new SqliteData(`${dir}/chat.db`);
    assert.deepEqual(again.mail("alice", 0, 10).map((m) => new TextDecoder().decode(m.body)), [
      "5",
    ]);
    assert.deepEqual(again.receipts("bob").map((r) => r.mail), [ms[1]!.id]);
    await again.close();
  }));

Deno.test("SqliteData: a second open of the same file while it is open fails as locked", () =>
  withDir(async (dir) => {
    const data = new SqliteData(`${dir}/chat.db`);
    assert.throws(() => new SqliteData(`${dir}/chat.db`), /database is locked/);
    assert.throws(() => new DatabaseSync(`${dir}/chat.db`).exec("SELECT 1 FROM owners"), /locked/);
    await data.close();
    const again = new SqliteData(`${dir}/chat.db`);
    await again.close();
  }));

Deno.test("SqliteData: a failed change rolls back its whole turn, and nothing of it is kept", () =>
  withDir(async (dir) => {
    let data = new SqliteData(`${dir}/chat.db`);
    const kept = await data.put("bob", "alice", bytes("kept"), 1);
    // In one turn: a put, then a settle whose receipt the schema refuses (CHECK on the event),
    // after its DELETE ran.
    const lost = data.put("bob", "alice", bytes("lost"), 2);
    const bad = data.settle(kept, "bogus" as ReceiptEvent, 3, true);
    const results = await Promise.allSettled([lost, bad]);
    assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /CHECK constraint/);
    assert.deepEqual(data.mail("alice", 0, 10).map((m) => m.id), [kept.id]);
    assert.deepEqual(data.size("alice"), { count: 1, bytes: 4 });
    assert.deepEqual(data.summary(), { owners: 0, mail: 1, receipts: 0 });
    const next = await data.put("bob", "alice", bytes("next"), 4);
    assert.ok(next.id > kept.id + 1, "the rolled-back id is not handed out again");
    await data.close();
    data = new SqliteData(`${dir}/chat.db`);
    assert.deepEqual(data.mail("alice", 0, 10).map((m) => m.id), [kept.id, next.id]);
    await data.close();
  }));

Deno.test("SqliteData: mailbox sizes, owners and counts come back from the file", () =>
  withDir(async (dir) => {
    let data = new SqliteData(`${dir}/chat.db`);
    await data.claim("alice", new Uint8Array(32).fill(7), 1);
    for (let i = 0; i < 5; i++) await data.put("bob", "alice", new Uint8Array(i), i);
    await data.close();
    data = new SqliteData(`${dir}/chat.db`);
    assert.deepEqual(data.size("alice"), { count: 5, bytes: 10 });
    assert.deepEqual(data.owner("ALICE")?.key, new Uint8Array(32).fill(7));
    assert.deepEqual(data.check(true), ["ok"]);
    await data.close();
  }));

/** Mounts a 512 KiB tmpfs on a new temp dir (root only); null where mounting is not allowed. */
async function smallDisk(): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "chat-full-disk-test-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=512k", "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  if (mount?.success) return dir;
  await Deno.remove(dir);
  return null;
}

const disk = await smallDisk();
if (disk) await new Deno.Command("umount", { args: [disk] }).output();

Deno.test({
  name: "SqliteData: a full disk rejects the changes it stops, keeps the rest, then goes on" +
    (disk ? "" : " (skipped: mounting a small tmpfs needs root)"),
  ignore: disk === null,
  fn: async () => {
    const dir = (await smallDisk())!;
    try {
      await Deno.writeFile(`${dir}/filler`, new Uint8Array(100_000));
      let data = new SqliteData(`${dir}/chat.db`);
      const stored: number[] = [];
      let refusal: unknown = null;
      for (let i = 0; i < 1000 && refusal === null; i++) {
        await data.put("bob", "alice", new Uint8Array(4000).fill(i), i).then(
          (m) => stored.push(m.id),
          (e) => refusal = e,
        );
      }
      assert.match(String(refusal), /database or disk is full/);
      assert.ok(stored.length > 5, `${stored.length} stored before the disk was full`);
      assert.deepEqual(data.size("alice"), { count: stored.length, bytes: stored.length * 4000 });
      assert.deepEqual(data.mail("alice", 0, 1000).map((m) => m.id), stored);
      await Deno.remove(`${dir}/filler`); // room again
      stored.push((await data.put("bob", "alice", bytes("room"), 2000)).id);
      await data.close();
      data = new SqliteData(`${dir}/chat.db`);
      assert.deepEqual(data.mail("alice", 0, 1000).map((m) => m.id), stored);
      assert.deepEqual(data.check(true), ["ok"]);
      await data.close();
    } finally {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
