/**
 * Unit tests of stored mail in the routing core (PROTOCOL.md, "Mail for offline users"): who
 * gets stored, the order of delivery, receipts, limits, expiry, at-least-once delivery, and the
 * base client's view byte for byte.
 *
 * @module
 */
import assert from "node:assert/strict";
import { newKey, ownedSetup, settled, type TestUser } from "./owned_testing.ts";
import { MemoryData } from "../store/memory.ts";

const E102 = "ERROR 102 Unable to send\n\n";
const ISO = (t: number) => new Date(t).toISOString();

/** Alice claims her name and leaves; bob (agreed `mail`) is online. */
async function aliceAway(options = {}) {
  const setup = ownedSetup(options);
  const key = await newKey();
  (await setup.claimed("alice", key)).leave();
  const bob = await setup.user("bob", { extensions: "mail reason" });
  return { ...setup, key, bob };
}

/** Alice comes back: proves both halves, registers and negotiates `extensions`. */
function back(setup: Awaited<ReturnType<typeof aliceAway>>, extensions = "identity mail") {
  return setup.user("alice", { key: setup.key, extensions });
}

Deno.test("Router stores a message to an offline owner from a mail sender, answered with Mail:", async () => {
  const s = await aliceAway();
  s.clock.t = 5000;
  s.bob.send("alice", "hello");
  await settled();
  assert.equal(s.bob.tosend.take(), "SENT alice\nMail: 1\n\n");
  assert.deepEqual(s.data.size("alice"), { count: 1, bytes: 5 });
  const alice = await back(s);
  assert.equal(
    alice.torecv.take(),
    `FORWARD bob\nContent-length: 5\nMail: 1\nSent-at: ${ISO(5000)}\n\nhello`,
  );
  s.clock.t = 6000;
  alice.received("bob");
  await settled();
  assert.equal(
    s.bob.torecv.take(),
    `FORWARD server\nContent-length: 5\nEvent: delivered\nMail: 1\nSent-at: ${ISO(5000)}\n\nalice`,
  );
  s.bob.received("server");
  assert.deepEqual(s.data.size("alice"), { count: 0, bytes: 0 });
  assert.ok(s.log.some((e) => e.event === "stored" && e.mail === 1));
});

Deno.test("Router stores nothing from a base sender, for SEND ALL, or for a name nobody owns", async () => {
  const s = await aliceAway();
  const base = await s.user("base");
  base.send("alice", "x");
  assert.equal(base.tosend.take(), E102);
  s.bob.send("ALL", "everyone");
  assert.equal(base.torecv.take(), "FORWARD bob\nContent-length: 8\n\neveryone");
  base.received("bob");
  await settled();
  assert.match(s.bob.tosend.take(), /^SENT ALL\nDelivered: 1\nRecipients: 1\n\n$/);
  s.bob.send("carol", "x");
  assert.equal(s.bob.tosend.take(), "ERROR 102 Unable to send\nReason: offline\n\n");
  // A lookalike of the owned name is not the owned name: not stored.
  s.bob.send("Alice", "x");
  assert.equal(s.bob.tosend.take(), "ERROR 102 Unable to send\nReason: offline\n\n");
  assert.deepEqual(s.data.size("alice"), { count: 0, bytes: 0 });
});

Deno.test("Router delivers stored mail first, then live messages, each sender's in order", async () => {
  const s = await aliceAway();
  const carol = await s.user("carol", { extensions: "mail" });
  s.bob.send("alice", "b1");
  carol.send("alice", "c1");
  s.bob.send("alice", "b2");
  await settled();
  // Alice registers but has not negotiated yet: bob's next message is stored behind.
  const tosend = s.connect();
  const torecv = s.connect();
  for (const e of [tosend, torecv]) await s.identify(e, "alice", s.key);
  s.router.receive(tosend.link, { type: "REGISTER", half: "TOSEND", name: "alice" });
  s.router.receive(torecv.link, { type: "REGISTER", half: "TORECV", name: "alice" });
  tosend.take();
  torecv.take();
  s.bob.send("alice", "b3");
  await settled();
  assert.equal(
    s.bob.tosend.take(),
    "SENT alice\nMail: 1\n\nSENT alice\nMail: 3\n\nSENT alice\nMail: 4\n\n",
  );
  s.send(tosend, "server", "EXTENSIONS identity mail");
  tosend.take();
  const got: string[] = [];
  const ack = (from: string) => s.router.receive(torecv.link, { type: "RECEIVED", from });
  for (let i = 0; i < 4; i++) {
    await settled();
    const f = torecv.take();
    const m = /^FORWARD (\w+)\nContent-length: \d+\nMail: (\d+)\nSent-at: \S+\n\n(\w+)$/.exec(f);
    assert.ok(m, f);
    got.push(`${m[2]}:${m[3]}`);
    // While alice catches up, bob's new messages are stored too, behind the others.
    if (i === 1) s.bob.send("alice", "b4");
    ack(m[1]!);
  }
  await settled();
  const last = torecv.take();
  assert.match(last, /^FORWARD bob\nContent-length: 2\nMail: 5\n.*\n\nb4$/);
  ack("bob");
  await settled();
  assert.deepEqual(got, ["1:b1", "2:c1", "3:b2", "4:b3"]);
  // Caught up: live again.
  s.bob.send("alice", "b5");
  assert.equal(torecv.take(), "FORWARD bob\nContent-length: 2\n\nb5");
  ack("bob");
  await settled();
  assert.match(s.bob.tosend.take(), /SENT alice\nMail: 5\n\nSENT alice\n\n$/);
});

Deno.test("Router keeps receipts for a sender who owns a name until it is back and acknowledges", async () => {
  const s = await aliceAway();
  const bobKey = await newKey();
  s.bob.leave();
  const bob = await s.claimed("bob", bobKey);
  bob.send("alice", "hi");
  await settled();
  assert.equal(bob.tosend.take(), "SENT alice\nMail: 1\n\n");
  bob.leave();
  const alice = await back(s);
  alice.torecv.take();
  alice.received("bob");
  await settled();
  assert.equal(s.data.receipts("bob").length, 1);
  const again = await s.user("bob", { key: bobKey, extensions: "identity mail" });
  await settled();
  assert.match(
    again.torecv.take(),
    /^FORWARD server\nContent-length: 5\nEvent: delivered\nMail: 1\nSent-at: \S+\n\nalice$/,
  );
  again.received("server");
  await settled();
  assert.deepEqual(s.data.receipts("bob"), []);
});

Deno.test("Router sends no receipt to a sender who owns no name and is offline, and never to a base user", async () => {
  const s = await aliceAway();
  s.bob.send("alice", "hi");
  await settled();
  s.bob.leave();
  const alice = await back(s);
  alice.torecv.take();
  alice.received("bob");
  await settled();
  assert.deepEqual(s.data.receipts("bob"), []);
  const bob = await s.user("bob", { extensions: "mail" });
  await settled();
  assert.equal(bob.torecv.take(), "");
});

Deno.test("Router refuses mail past the mailbox limits with Limit:, and says not-stored when the disk fails", async () => {
  const s = await aliceAway({ mailMaxMessages: 2, mailMaxBytes: 10 });
  s.bob.send("alice", "12345");
  s.bob.send("alice", "123456");
  await settled();
  assert.equal(
    s.bob.tosend.take(),
    "SENT alice\nMail: 1\n\nERROR 102 Unable to send\nReason: mailbox-bytes\nLimit: 10\n\n",
  );
  s.bob.send("alice", "12345");
  s.bob.send("alice", "1");
  await settled();
  assert.equal(
    s.bob.tosend.take(),
    "SENT alice\nMail: 2\n\nERROR 102 Unable to send\nReason: mailbox-full\nLimit: 2\n\n",
  );
  const data = new MemoryData();
  data.put = () => Promise.reject(new Error("disk full"));
  const t = ownedSetup({}, data);
  (await t.claimed("alice", await newKey())).leave();
  const bob = await t.user("bob", { extensions: "mail" });
  bob.send("alice", "x");
  await settled();
  assert.equal(bob.tosend.take(), "ERROR 102 Unable to send\nReason: not-stored\n\n");
});

Deno.test("Router expires stored mail in its sweep and tells a sender online", async () => {
  const s = await aliceAway({ mailMaxAgeMs: 3_600_000 });
  s.clock.t = 10_000;
  s.bob.send("alice", "old");
  await settled();
  s.bob.tosend.take();
  s.clock.t = 10_000 + 3_600_000 + 60_000;
  s.router.sweep(s.clock.t);
  await settled();
  assert.equal(
    s.bob.torecv.take(),
    `FORWARD server\nContent-length: 5\nEvent: expired\nMail: 1\nSent-at: ${ISO(10_000)}\n\nalice`,
  );
  assert.deepEqual(s.data.size("alice"), { count: 0, bytes: 0 });
  const alice = await back(s);
  await settled();
  assert.equal(alice.torecv.take(), "");
});

Deno.test("Router settles mail its owner's client answered with an error as refused", async () => {
  const s = await aliceAway();
  s.bob.send("alice", "bad");
  await settled();
  const alice = await back(s);
  alice.torecv.take();
  s.router.receive(alice.torecv.link, { type: "ERROR", code: 103, text: "Header incomplete" });
  await settled();
  assert.match(
    s.bob.torecv.take(),
    /^FORWARD server\nContent-length: 5\nEvent: refused\nMail: 1\n/,
  );
  assert.deepEqual(s.data.size("alice"), { count: 0, bytes: 0 });
});

Deno.test("Router keeps mail whose owner left before acknowledging, and delivers it again", async () => {
  const s = await aliceAway();
  s.bob.send("alice", "one");
  s.bob.send("alice", "two");
  await settled();
  let alice: TestUser = await back(s);
  assert.match(alice.torecv.take(), /Mail: 1\n.*\n\none$/);
  alice.leave();
  await settled();
  assert.equal(s.data.size("alice").count, 2);
  alice = await back(s);
  assert.match(alice.torecv.take(), /Mail: 1\n.*\n\none$/);
  alice.received("bob");
  await settled();
  assert.match(alice.torecv.take(), /Mail: 2\n.*\n\ntwo$/);
});

Deno.test("Router stores a live message to an owner who left before acknowledging it", async () => {
  const s = await aliceAway();
  const alice = await back(s);
  await settled();
  s.bob.send("alice", "live");
  assert.equal(alice.torecv.take(), "FORWARD bob\nContent-length: 4\n\nlive");
  s.bob.send("alice", "queued");
  alice.leave();
  s.bob.send("alice", "after");
  await settled();
  assert.equal(
    s.bob.tosend.take(),
    "SENT alice\nMail: 1\n\nSENT alice\nMail: 2\n\nSENT alice\nMail: 3\n\n",
  );
  assert.deepEqual(s.data.mail("alice", 0, 10).map((m) => new TextDecoder().decode(m.body)), [
    "live",
    "queued",
    "after",
  ]);
});

Deno.test("Router delivers stored mail plain to an owner who did not agree mail", async () => {
  const s = await aliceAway();
  s.bob.send("alice", "hey");
  await settled();
  const alice = await back(s, "identity");
  assert.equal(alice.torecv.take(), "FORWARD bob\nContent-length: 3\n\nhey");
});

Deno.test("Router delivers mail again after a crash, and a second settle of it is harmless", async () => {
  const data = new MemoryData();
  const s = ownedSetup({}, data);
  const key = await newKey();
  (await s.claimed("alice", key)).leave();
  const bob = await s.user("bob", { extensions: "mail" });
  bob.send("alice", "again");
  await settled();
  const first = await s.user("alice", { key, extensions: "identity mail" });
  assert.match(first.torecv.take(), /Mail: 1\n/);
  // The server stops before the answer: a new router on the same data.
  const alice = await ownedSetup({}, data).user("alice", { key, extensions: "identity mail" });
  assert.match(alice.torecv.take(), /^FORWARD bob\nContent-length: 5\nMail: 1\n.*\n\nagain$/);
  alice.received("bob");
  await settled();
  assert.deepEqual(data.size("alice"), { count: 0, bytes: 0 });
  // The first server's owner answers late: the mail is settled already, nothing breaks.
  first.received("bob");
  await settled();
  assert.deepEqual(data.receipts("bob"), []);
});

Deno.test("Router shows a base client the base protocol byte for byte beside owned names and mail", async () => {
  const s = await aliceAway();
  const base = await s.user("base");
  s.bob.send("alice", "stored");
  await settled();
  base.send("alice", "to the owner");
  base.send("bob", "hi bob");
  assert.equal(s.bob.torecv.take(), "FORWARD base\nContent-length: 6\n\nhi bob");
  s.bob.received("base");
  base.send("server", "who");
  assert.equal(base.torecv.take(), "FORWARD server\nContent-length: 19\n\n2 online: base, bob");
  base.received("server");
  // Alice comes back and reads her mail; then the base client writes to her live.
  const alice = await back(s);
  alice.torecv.take();
  alice.received("bob");
  await settled();
  base.send("alice", "now");
  assert.equal(alice.torecv.take(), "FORWARD base\nContent-length: 3\n\nnow");
  alice.received("base");
  alice.send("base", "hello base");
  base.received("alice");
  // A base client cannot take the owned name, in any spelling.
  const c = s.connect();
  s.router.receive(c.link, { type: "REGISTER", half: "TOSEND", name: "ALICE" });
  assert.equal(c.take(), "ERROR 104 Username taken\n\n");
  assert.equal(
    base.tosend.take(),
    "ERROR 102 Unable to send\n\nSENT bob\n\nSENT server\n\nSENT alice\n\n",
  );
  assert.equal(base.torecv.take(), "FORWARD alice\nContent-length: 10\n\nhello base");
});

Deno.test("Router sends every waiting receipt, more than the 16 notices, one at a time", async () => {
  const s = await aliceAway();
  const bobKey = await newKey();
  s.bob.leave();
  const bob = await s.claimed("bob", bobKey);
  for (let i = 0; i < 20; i++) bob.send("alice", `m${i}`);
  await settled();
  bob.leave();
  const alice = await back(s);
  for (let i = 0; i < 20; i++) {
    assert.match(alice.torecv.take(), new RegExp(`\\n\\nm${i}$`));
    alice.received("bob");
    await settled();
  }
  assert.equal(s.data.receipts("bob").length, 20);
  const again = await s.user("bob", { key: bobKey, extensions: "identity mail" });
  for (let i = 1; i <= 20; i++) {
    await settled();
    assert.match(again.torecv.take(), new RegExp(`^FORWARD server\\n.*\\nMail: ${i}\\n`, "s"));
    again.received("server");
  }
  await settled();
  assert.deepEqual(s.data.receipts("bob"), []);
});

Deno.test("Router sends stored mail again, before the rest, when its owner acknowledges the wrong sender", async () => {
  const s = await aliceAway();
  s.bob.send("alice", "one");
  s.bob.send("alice", "two");
  await settled();
  const alice = await back(s);
  assert.match(alice.torecv.take(), /^FORWARD bob\n.*Mail: 1\n.*\n\none$/s);
  alice.received("carol");
  await settled();
  assert.match(alice.torecv.take(), /^FORWARD bob\n.*Mail: 1\n.*\n\none$/s);
  alice.received("bob");
  await settled();
  assert.match(alice.torecv.take(), /^FORWARD bob\n.*Mail: 2\n.*\n\ntwo$/s);
  alice.received("bob");
  await settled();
  assert.deepEqual(s.data.size("alice"), { count: 0, bytes: 0 });
});
