import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { dataContract } from "./contract_testing.ts";
import type { ReceiptEvent } from "./data.ts";
import { SqliteData } from "./sqlite.ts";

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
