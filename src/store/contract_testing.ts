/**
 * The behaviour every {@link ServerData} must have, as Deno tests that run against any
 * implementation: `memory_test.ts` runs them for `MemoryData`, `sqlite_test.ts` for `SqliteData`
 * (and there, also across a close and a reopen).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Mail, ServerData } from "./data.ts";

/** How the contract gets a store to test, fresh for each test. */
export interface DataFactory {
  /** Opens the store: the first call gives an empty one; later calls reopen the same data. */
  open(): Promise<ServerData>;
  /** True if {@link open} after a close gives back what was stored (false: memory). */
  readonly durable: boolean;
  /** Removes whatever the store left behind (temp files). */
  cleanup(): Promise<void>;
}

const KEY_A = new Uint8Array(32).fill(1);
const KEY_B = new Uint8Array(32).fill(2);
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Runs `body` on a fresh store from `make`, closing it and cleaning up whatever happens. */
async function withData(
  make: () => Promise<DataFactory>,
  body: Case,
): Promise<void> {
  const factory = await make();
  let data: ServerData | undefined;
  try {
    data = await factory.open();
    data = (await body(data, factory)) ?? data;
  } finally {
    await data?.close();
    await factory.cleanup();
  }
}

/** Closes `data` and opens it again if the store is durable; else returns `data`. */
async function reopen(data: ServerData, factory: DataFactory): Promise<ServerData> {
  if (!factory.durable) return data;
  await data.close();
  return await factory.open();
}

/** A contract case: gets a fresh store (and its factory, to reopen it); may return a new one. */
type Case = (data: ServerData, factory: DataFactory) => Promise<ServerData | void>;

/** The contract, case by case: the name says the behaviour. */
const CASES: Record<string, Case> = {
  "claim makes an owner found by its name and by every lookalike": async (d, f) => {
    assert.equal(d.owner("alice"), undefined);
    await d.claim("alice", KEY_A, 1000);
    d = await reopen(d, f);
    for (const n of ["alice", "Alice", "ALICE", "AIice", "ai1ce"]) {
      const o = d.owner(n);
      assert.equal(o?.name, "alice", n);
      assert.deepEqual(o?.key, KEY_A);
      assert.equal(o?.claimedAt, 1000);
    }
    assert.equal(d.owner("bob"), undefined);
    assert.deepEqual(d.owners().map((o) => o.name), ["alice"]);
    return d;
  },

  "claim of an owned name or of a lookalike rejects and keeps the owner": async (d) => {
    await d.claim("b0b", KEY_A, 1000);
    await assert.rejects(d.claim("b0b", KEY_B, 2000), /"b0b" is owned already/);
    await assert.rejects(d.claim("Bob", KEY_B, 2000), /"Bob" looks like "b0b"/);
    assert.deepEqual(d.owner("bob")?.key, KEY_A);
    assert.equal(d.summary().owners, 1);
  },

  "put stores in order, mail pages by after and limit": async (d, f) => {
    await d.claim("alice", KEY_A, 1000);
    const ids: number[] = [];
    // All in one turn: the durable store commits them together.
    const puts = [];
    for (let i = 0; i < 10; i++) {
      puts.push(d.put(i % 2 ? "bob" : "carol", "alice", bytes(`m${i}`), 2000 + i));
    }
    for (const m of await Promise.all(puts)) ids.push(m.id);
    const more = await d.put("bob", "dave", bytes("x"), 3000);
    assert.deepEqual([...ids].sort((a, b) => a - b), ids, "ids grow in call order");
    assert.equal(new Set([...ids, more.id]).size, 11, "ids are unique");
    d = await reopen(d, f);
    const all = d.mail("alice", 0, 100);
    assert.deepEqual(all.map((m) => m.id), ids);
    assert.deepEqual(all.map((m) => text(m.body)), ids.map((_, i) => `m${i}`));
    assert.deepEqual(all[1], {
      id: ids[1],
      from: "bob",
      to: "alice",
      body: bytes("m1"),
      sentAt: 2001,
    });
    assert.deepEqual(d.mail("alice", 0, 3).map((m) => m.id), ids.slice(0, 3));
    assert.deepEqual(d.mail("alice", ids[2]!, 3).map((m) => m.id), ids.slice(3, 6));
    assert.deepEqual(d.mail("alice", ids[9]!, 3), []);
    assert.deepEqual(d.mail("nobody", 0, 3), []);
    assert.deepEqual(d.mail("dave", 0, 3).map((m) => m.id), [more.id]);
    return d;
  },

  "size counts messages and body bytes per mailbox": async (d, f) => {
    assert.deepEqual(d.size("alice"), { count: 0, bytes: 0 });
    await d.put("bob", "alice", bytes("hello"), 1000);
    const m = await d.put("bob", "alice", new Uint8Array(1000), 1001);
    await d.put("bob", "Alice", bytes("x"), 1002);
    assert.deepEqual(d.size("alice"), { count: 2, bytes: 1005 });
    assert.deepEqual(d.size("Alice"), { count: 1, bytes: 1 });
    d = await reopen(d, f);
    assert.deepEqual(d.size("alice"), { count: 2, bytes: 1005 });
    await d.settle(m, "delivered", 2000, false);
    assert.deepEqual(d.size("alice"), { count: 1, bytes: 5 });
    assert.deepEqual(d.summary(), { owners: 0, mail: 2, receipts: 0 });
    return d;
  },

  "settle deletes the mail and makes its receipt, kept only when asked": async (d, f) => {
    const a = await d.put("bob", "alice", bytes("a"), 1000);
    const b = await d.put("carol", "alice", bytes("b"), 1001);
    const c = await d.put("bob", "alice", bytes("c"), 1002);
    const ra = await d.settle(a, "delivered", 2000, true);
    assert.deepEqual(ra, {
      mail: a.id,
      sender: "bob",
      recipient: "alice",
      event: "delivered",
      sentAt: 1000,
      at: 2000,
    });
    assert.equal((await d.settle(b, "refused", 2001, false))?.event, "refused");
    assert.equal((await d.settle(c, "expired", 2002, true))?.event, "expired");
    d = await reopen(d, f);
    assert.deepEqual(d.mail("alice", 0, 10), []);
    assert.deepEqual(d.receipts("bob").map((r) => [r.mail, r.event]), [
      [a.id, "delivered"],
      [c.id, "expired"],
    ]);
    assert.deepEqual(d.receipts("carol"), []);
    assert.deepEqual(d.summary(), { owners: 0, mail: 0, receipts: 2 });
    return d;
  },

  "a second settle of the same id resolves null and keeps no receipt": async (d) => {
    const a = await d.put("bob", "alice", bytes("a"), 1000);
    const [first, second] = await Promise.all([
      d.settle(a, "delivered", 2000, true),
      d.settle(a, "delivered", 2001, true),
    ]);
    assert.equal(first?.at, 2000);
    assert.equal(second, null);
    assert.equal(await d.settle(a, "refused", 2002, true), null);
    assert.deepEqual(d.receipts("bob").map((r) => r.at), [2000]);
  },

  "receiptDone deletes one receipt; receipts come oldest first": async (d, f) => {
    const ms: Mail[] = [];
    for (let i = 0; i < 3; i++) ms.push(await d.put("bob", "alice", bytes(`${i}`), 1000 + i));
    for (const [i, m] of ms.entries()) await d.settle(m, "delivered", 3000 - i, true);
    assert.deepEqual(d.receipts("bob").map((r) => r.at), [2998, 2999, 3000]);
    await d.receiptDone(ms[1]!.id);
    await d.receiptDone(ms[1]!.id); // again: nothing happens
    await d.receiptDone(999_999);
    d = await reopen(d, f);
    assert.deepEqual(d.receipts("bob").map((r) => r.mail), [ms[2]!.id, ms[0]!.id]);
    assert.equal(d.summary().receipts, 2);
    return d;
  },

  "release drops the mail, with receipts kept for senders who own a name": async (d, f) => {
    await d.claim("alice", KEY_A, 1000);
    await d.claim("bob", KEY_B, 1000);
    const a = await d.put("bob", "alice", bytes("a"), 1001);
    await d.put("carol", "alice", bytes("b"), 1002); // carol owns no name
    await d.put("Bob", "alice", bytes("c"), 1003); // a lookalike of an owned name is not it
    const kept = await d.put("carol", "bob", bytes("d"), 1004);
    assert.deepEqual(await d.release("AIice", 5000), { name: "alice", mail: 3 });
    assert.equal(await d.release("alice", 5001), null);
    d = await reopen(d, f);
    assert.equal(d.owner("alice"), undefined);
    assert.deepEqual(d.size("alice"), { count: 0, bytes: 0 });
    assert.deepEqual(d.mail("alice", 0, 10), []);
    assert.deepEqual(d.receipts("bob"), [{
      mail: a.id,
      sender: "bob",
      recipient: "alice",
      event: "released",
      sentAt: 1001,
      at: 5000,
    }]);
    assert.deepEqual(d.receipts("carol"), []);
    assert.deepEqual(d.receipts("Bob"), []);
    assert.deepEqual(d.mail("bob", 0, 10).map((m) => m.id), [kept.id]);
    await d.claim("Alice", KEY_B, 6000); // a released name may be claimed again, by anyone
    assert.equal(d.owner("alice")?.name, "Alice");
    return d;
  },

  "expire deletes old mail (receipts for owners) and old receipts": async (d, f) => {
    await d.claim("bob", KEY_B, 100);
    const old = await d.put("bob", "alice", bytes("old"), 1000);
    await d.put("carol", "alice", bytes("old too"), 1500);
    const fresh = await d.put("bob", "alice", bytes("new"), 3000);
    const r = await d.put("bob", "dave", bytes("r"), 900);
    await d.settle(r, "delivered", 1000, true); // an old receipt
    const expired = await d.expire(2000, 2500);
    assert.deepEqual(expired.map((m) => text(m.body)), ["old", "old too"]);
    d = await reopen(d, f);
    assert.deepEqual(d.mail("alice", 0, 10).map((m) => m.id), [fresh.id]);
    assert.deepEqual(d.size("alice"), { count: 1, bytes: 3 });
    assert.deepEqual(d.receipts("bob"), [{
      mail: old.id,
      sender: "bob",
      recipient: "alice",
      event: "expired",
      sentAt: 1000,
      at: 2500,
    }]);
    assert.deepEqual(d.receipts("carol"), []);
    assert.deepEqual(await d.expire(2000, 2600), []);
    assert.deepEqual(d.summary(), { owners: 1, mail: 1, receipts: 1 });
    return d;
  },

  "summary counts owners, waiting mail and waiting receipts": async (d, f) => {
    assert.deepEqual(d.summary(), { owners: 0, mail: 0, receipts: 0 });
    await d.claim("alice", KEY_A, 1);
    await d.claim("bob", KEY_B, 1);
    const m = await d.put("bob", "alice", bytes("1"), 2);
    await d.put("bob", "alice", bytes("2"), 3);
    await d.settle(m, "delivered", 4, true);
    d = await reopen(d, f);
    assert.deepEqual(d.summary(), { owners: 2, mail: 1, receipts: 1 });
    return d;
  },

  "ids are never reused, also once everything was deleted and reopened": async (d, f) => {
    const seen = new Set<number>();
    for (let round = 0; round < 3; round++) {
      const ms = await Promise.all([1, 2, 3].map((i) => d.put("bob", "alice", bytes(`${i}`), i)));
      for (const m of ms) {
        assert.ok(!seen.has(m.id), `id ${m.id} reused`);
        seen.add(m.id);
        await d.settle(m, "delivered", 10, true);
        await d.receiptDone(m.id);
      }
      assert.deepEqual(d.summary(), { owners: 0, mail: 0, receipts: 0 });
      d = await reopen(d, f);
    }
    return d;
  },

  "changes made together resolve together, each with its own result": async (d) => {
    const [claim, m1, m2] = await Promise.all([
      d.claim("alice", KEY_A, 1),
      d.put("bob", "alice", bytes("1"), 2),
      d.put("bob", "alice", bytes("2"), 3),
      d.claim("Alice", KEY_B, 4).then(() => "claimed", (e: Error) => e.message),
    ]).then(([c, a, b, lookalike]) => {
      assert.match(String(lookalike), /looks like "alice"/);
      return [c, a, b] as const;
    });
    assert.equal(claim, undefined);
    assert.equal(m2.id, m1.id + 1);
    assert.deepEqual(d.size("alice"), { count: 2, bytes: 2 });
  },

  "close waits for the changes made before it": async (_d, f) => {
    let d = _d;
    const puts = [d.put("bob", "alice", bytes("1"), 2), d.put("bob", "alice", bytes("2"), 3)];
    await d.close();
    const ms = await Promise.all(puts);
    d = await f.open();
    if (f.durable) assert.deepEqual(d.mail("alice", 0, 10).map((m) => m.id), ms.map((m) => m.id));
    return d;
  },
};

/**
 * Registers the contract's Deno tests for the store `make` gives, named after `name`.
 *
 * @example
 * ```ts ignore
 * import { dataContract } from "./contract_testing.ts";
 * import { MemoryData } from "./memory.ts";
 *
 * dataContract("MemoryData", () =>
 *   Promise.resolve({
 *     open: () => Promise.resolve(new MemoryData()),
 *     durable: false,
 *     cleanup: () => Promise.resolve(),
 *   }));
 * ```
 */
export function dataContract(name: string, make: () => Promise<DataFactory>): void {
  for (const [what, body] of Object.entries(CASES)) {
    Deno.test(`${name}: ${what}`, () => withData(make, body));
  }
}
