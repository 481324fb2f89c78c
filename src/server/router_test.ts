/**
 * Unit tests of the routing core: in-memory endpoints and a fake clock, no sockets, no timers.
 * The rules of ordering, acknowledgement, broadcast pacing, limits and deadlines, each driven
 * message by message.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Decoder, encode, type Message } from "../protocol/mod.ts";
import type { Delivery } from "./link.ts";
import type { LogEvent } from "./log.ts";
import { type Endpoint, InputClock, type Link, Router, type RouterOptions } from "./router.ts";
import { type Mailbox, MemoryMailbox, type MessageStore } from "./store.ts";
import { FakeClock, testRouterOptions } from "./router_testing.ts";

/** An endpoint that records what is written to it; close() tells the router, as edges do. */
class MemoryEndpoint implements Endpoint {
  readonly remoteHost = "10.0.0.1";
  queuedBytes = 0;
  sentBytes = 0;
  closed = false;
  ended = false;
  link!: Link;
  readonly #decoder = new Decoder({ from: "server" });
  readonly #inbox: Message[] = [];

  constructor(readonly router: Router, readonly remote: string) {}

  write(bytes: Uint8Array): void {
    if (this.closed || this.ended) return;
    this.sentBytes += bytes.length;
    this.#decoder.feed(bytes, (e) => {
      if (e.kind === "message") this.#inbox.push(e.message);
      else throw new Error(`the router wrote something unreadable: ${JSON.stringify(e.error)}`);
    });
  }

  end(): void {
    this.ended = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.router.closed(this.link);
  }

  /** What arrived since the last call, as short text. */
  take(): string[] {
    return this.#inbox.splice(0).map(show);
  }
}

/** A message as one short line. */
function show(m: Message): string {
  switch (m.type) {
    case "FORWARD":
      return `FORWARD ${m.from} ${new TextDecoder().decode(m.body)}`;
    case "ERROR":
      return `ERROR ${m.code}`;
    case "SENT":
      return `SENT ${m.to}`;
    case "REGISTERED":
      return `REGISTERED ${m.half} ${m.name}`;
    default:
      return m.type;
  }
}

/** A router with a fake clock, and helpers to connect and register users on it. */
function setup(options: Partial<RouterOptions> = {}, store?: MessageStore<Delivery>) {
  const clock = new FakeClock();
  const log: LogEvent[] = [];
  const router = new Router(testRouterOptions(log, options), {
    clock,
    ...(store ? { store } : {}),
  });
  let port = 1;
  const connect = () => {
    const endpoint = new MemoryEndpoint(router, `10.0.0.1:${port++}`);
    endpoint.link = router.accept(endpoint);
    return endpoint;
  };
  const user = (name: string) => {
    const tosend = connect();
    const torecv = connect();
    router.receive(tosend.link, { type: "REGISTER", half: "TOSEND", name });
    router.receive(torecv.link, { type: "REGISTER", half: "TORECV", name });
    tosend.take();
    torecv.take();
    const send = (to: string, body: string) =>
      router.receive(tosend.link, { type: "SEND", to, body: new TextEncoder().encode(body) });
    const received = (from: string) => router.receive(torecv.link, { type: "RECEIVED", from });
    return { name, tosend, torecv, send, received };
  };
  return { router, clock, log, connect, user };
}

/** Lets queued microtasks run (what waited behind a SEND ALL resumes in one). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await Promise.resolve();
}

Deno.test("Router answers in SEND order when a later message is acknowledged first", () => {
  const { user } = setup();
  const alice = user("alice");
  const bob = user("bob");
  const carol = user("carol");
  alice.send("bob", "one");
  alice.send("carol", "two");
  assert.deepEqual(carol.torecv.take(), ["FORWARD alice two"]);
  carol.received("alice");
  assert.deepEqual(alice.tosend.take(), [], "SENT carol waits behind bob's answer");
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice one"]);
  bob.received("alice");
  assert.deepEqual(alice.tosend.take(), ["SENT bob", "SENT carol"]);
});

Deno.test("Router keeps one FORWARD in flight per recipient", () => {
  const { user } = setup();
  const alice = user("alice");
  const carol = user("carol");
  const bob = user("bob");
  alice.send("bob", "from alice");
  carol.send("bob", "from carol");
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice from alice"]);
  bob.received("alice");
  assert.deepEqual(bob.torecv.take(), ["FORWARD carol from carol"]);
  assert.deepEqual(alice.tosend.take(), ["SENT bob"]);
  assert.deepEqual(carol.tosend.take(), []);
  bob.received("carol");
  assert.deepEqual(carol.tosend.take(), ["SENT bob"]);
});

Deno.test("Router fails a message acknowledged with the wrong sender's name", () => {
  const { user, log } = setup();
  const alice = user("alice");
  const bob = user("bob");
  alice.send("bob", "hi");
  bob.torecv.take();
  bob.received("mallory");
  assert.deepEqual(alice.tosend.take(), ["ERROR 102"]);
  assert.ok(log.some((e) => e.event === "not-delivered" && /instead of "alice"/.test(e.reason)));
  // An acknowledgement with nothing in flight confirms nothing.
  bob.received("alice");
  assert.deepEqual(alice.tosend.take(), []);
});

Deno.test("Router.sweep fails a message not acknowledged in time and drops the recipient", () => {
  const { router, clock, user } = setup({ ackTimeoutMs: 1000 });
  const alice = user("alice");
  const bob = user("bob");
  alice.send("bob", "are you there?");
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice are you there?"]);
  clock.t += 999;
  router.sweep(clock.now());
  assert.deepEqual(alice.tosend.take(), []);
  clock.t += 1;
  router.sweep(clock.now());
  assert.deepEqual(alice.tosend.take(), ["ERROR 102"]);
  assert.equal(bob.torecv.closed, true);
  assert.equal(bob.tosend.ended, true, "the other half is ended too");
  assert.deepEqual(router.onlineUsers(), ["alice"]);
});

Deno.test("Router.sweep fails a message queued for twice the ack timeout, not the one in flight", () => {
  const { router, clock, user } = setup({ ackTimeoutMs: 1000 });
  const bob = user("bob");
  const senders = ["s1", "s2", "s3", "s4"].map(user);
  for (const s of senders) s.send("bob", s.name);
  clock.t += 900;
  bob.received("s1"); // s2's goes out now
  clock.t += 900;
  bob.received("s2"); // s3's goes out now; s4's has waited 1800 ms
  clock.t += 200;
  router.sweep(clock.now());
  assert.deepEqual(senders.map((s) => s.tosend.take()), [
    ["SENT bob"],
    ["SENT bob"],
    [],
    ["ERROR 102"],
  ]);
  assert.deepEqual(bob.torecv.take(), ["FORWARD s1 s1", "FORWARD s2 s2", "FORWARD s3 s3"]);
  assert.equal(bob.torecv.closed, false);
});

Deno.test("Router answers SEND ALL with SENT ALL once every recipient has, ERROR 102 if one failed", () => {
  const { router, user, log } = setup();
  const alice = user("alice");
  const bob = user("bob");
  const carol = user("carol");
  alice.send("ALL", "hello all");
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice hello all"]);
  assert.deepEqual(carol.torecv.take(), ["FORWARD alice hello all"]);
  bob.received("alice");
  assert.deepEqual(alice.tosend.take(), []);
  carol.received("alice");
  assert.deepEqual(alice.tosend.take(), ["SENT ALL"]);
  assert.deepEqual(log.filter((e) => e.event === "broadcast").at(-1), {
    event: "broadcast",
    from: "alice",
    delivered: 2,
    failed: 0,
  });
  bob.send("ALL", "again");
  alice.received("bob");
  carol.torecv.take();
  router.receive(carol.torecv.link, { type: "ERROR", code: 103, text: "Header incomplete" });
  assert.deepEqual(bob.tosend.take(), ["ERROR 102"]);
});

Deno.test("Router holds messages after a SEND ALL behind it, in order at each recipient", async () => {
  const { user } = setup();
  const alice = user("alice");
  const bob = user("bob");
  const carol = user("carol");
  alice.send("ALL", "m1");
  alice.send("ALL", "m2");
  alice.send("bob", "m3");
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice m1"]);
  assert.deepEqual(carol.torecv.take(), ["FORWARD alice m1"]);
  bob.received("alice");
  await settle();
  assert.deepEqual(bob.torecv.take(), [], "m2 waits for carol's answer to m1");
  carol.received("alice");
  await settle();
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice m2"]);
  assert.deepEqual(carol.torecv.take(), ["FORWARD alice m2"]);
  bob.received("alice");
  carol.received("alice");
  await settle();
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice m3"], "m3 does not overtake m2");
  bob.received("alice");
  assert.deepEqual(alice.tosend.take(), ["SENT ALL", "SENT ALL", "SENT bob"]);
});

Deno.test("Router refills the rate limit as the clock moves", () => {
  const { clock, user } = setup({ rateLimit: 1, rateBurst: 2 });
  const alice = user("alice");
  user("bob");
  for (let i = 0; i < 3; i++) alice.send("nobody", "x");
  assert.deepEqual(alice.tosend.take(), ["ERROR 102", "ERROR 102", "ERROR 106"]);
  clock.t += 999;
  alice.send("nobody", "x");
  assert.deepEqual(alice.tosend.take(), ["ERROR 106"]);
  clock.t += 1;
  alice.send("nobody", "x");
  alice.send("nobody", "x");
  assert.deepEqual(alice.tosend.take(), ["ERROR 102", "ERROR 106"]);
});

Deno.test("Router.sweep closes a connection that does not register in time", () => {
  const { router, clock, connect, log } = setup({ registerTimeoutMs: 500 });
  const idle = connect();
  const registered = connect();
  router.receive(registered.link, { type: "REGISTER", half: "TOSEND", name: "alice" });
  clock.t += 499;
  router.sweep(clock.now());
  assert.equal(idle.closed, false);
  clock.t += 1;
  router.sweep(clock.now());
  assert.equal(idle.closed, true);
  assert.equal(registered.closed, false);
  assert.ok(
    log.some((e) => e.event === "dropped" && /did not register within 500 ms/.test(e.reason)),
  );
  assert.equal(router.links.size, 1);
});

Deno.test("Router answers ERROR 102 past the queue limits, after earlier answers", () => {
  const { user } = setup({ maxQueuedForwards: 1 });
  const alice = user("alice");
  const bob = user("bob");
  for (const m of ["m1", "m2", "m3"]) alice.send("bob", m);
  assert.deepEqual(alice.tosend.take(), [], "m3's ERROR 102 waits behind m1's and m2's answers");
  bob.received("alice");
  bob.received("alice");
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice m1", "FORWARD alice m2"]);
  assert.deepEqual(alice.tosend.take(), ["SENT bob", "SENT bob", "ERROR 102"]);
});

Deno.test("Router answers ERROR 102 past the queued bytes limit, one message always fits", () => {
  const { user } = setup({ maxQueuedBytes: 3000 });
  const alice = user("alice");
  const bob = user("bob");
  const big = "x".repeat(2000);
  for (let i = 0; i < 3; i++) alice.send("bob", big);
  bob.received("alice");
  bob.received("alice");
  assert.equal(bob.torecv.take().length, 2);
  assert.deepEqual(alice.tosend.take(), ["SENT bob", "SENT bob", "ERROR 102"]);
});

Deno.test("Router answers ERROR 102 past maxPendingSends", () => {
  const { user } = setup({ maxPendingSends: 1 });
  const alice = user("alice");
  const bob = user("bob");
  alice.send("bob", "m1");
  alice.send("bob", "m2");
  bob.received("alice");
  assert.deepEqual(alice.tosend.take(), ["SENT bob", "ERROR 102"]);
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice m1"]);
});

/** A store that records what the router asks of it, around in-memory mailboxes. */
class RecordingStore implements MessageStore<Delivery> {
  readonly calls: string[] = [];
  open(name: string): Mailbox<Delivery> {
    const box = new MemoryMailbox<Delivery>();
    const calls = this.calls;
    return {
      get count() {
        return box.count;
      },
      get bytes() {
        return box.bytes;
      },
      put: (m) => (calls.push(`put ${name} #${m.id}`), box.put(m)),
      peek: () => box.peek(),
      next: () => {
        const m = box.next();
        if (m) calls.push(`next ${name} #${m.id}`);
        return m;
      },
      expire: () => box.expire(),
      complete: (id) => (calls.push(`complete ${name} #${id}`), box.complete(id)),
      fail: (id) => (calls.push(`fail ${name} #${id}`), box.fail(id)),
      dropAll: () => box.dropAll(),
    };
  }
}

Deno.test("Router completes each delivery by its id, through the MessageStore", () => {
  const store = new RecordingStore();
  const { user } = setup({}, store);
  const alice = user("alice");
  const carol = user("carol");
  const bob = user("bob");
  alice.send("bob", "a");
  carol.send("bob", "c");
  bob.received("alice");
  bob.received("mallory"); // wrong sender: #2 fails
  assert.deepEqual(store.calls, [
    "put bob #1",
    "next bob #1",
    "put bob #2",
    "complete bob #1",
    "next bob #2",
    "fail bob #2",
  ]);
  assert.deepEqual(alice.tosend.take(), ["SENT bob"]);
  assert.deepEqual(carol.tosend.take(), ["ERROR 102"]);
});

Deno.test("MemoryMailbox completes only the message with that id", () => {
  const box = new MemoryMailbox<{ id: number; to: string; bytes: Uint8Array }>();
  const bytes = encode({ type: "FORWARD", from: "a", body: new Uint8Array(3) });
  box.put({ id: 7, to: "b", bytes });
  box.put({ id: 8, to: "b", bytes });
  assert.equal(box.count, 2);
  assert.equal(box.bytes, 2 * bytes.length);
  assert.equal(box.next()?.id, 7);
  assert.equal(box.count, 1);
  assert.equal(box.complete(8), undefined, "8 was not sent");
  assert.equal(box.complete(7)?.id, 7);
  assert.equal(box.complete(7), undefined, "7 is done already");
  assert.deepEqual(box.dropAll().map((m) => m.id), [8]);
  assert.equal(box.bytes, 0);
});

Deno.test("Router refuses a connection past maxPerAddress with ERROR 105 and ends it", () => {
  const { connect } = setup({ maxPerAddress: 1 });
  const first = connect();
  const second = connect();
  assert.deepEqual(first.take(), []);
  assert.deepEqual(second.take(), ["ERROR 105"]);
  assert.equal(second.ended, true);
});

Deno.test("Router with a silent logger builds no log events", () => {
  let called = 0;
  const log = Object.assign(() => called++, { silent: true });
  const { user } = setup({ log });
  const alice = user("alice");
  const bob = user("bob");
  alice.send("bob", "hi");
  bob.received("alice");
  alice.send("nobody", "hi");
  assert.deepEqual(alice.tosend.take(), ["SENT bob", "ERROR 102"]);
  assert.equal(called, 0);
});

Deno.test("InputClock reads the time once per input", async () => {
  const clock = new InputClock();
  const first = clock.now();
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(clock.now(), first, "no input since: the same time");
  clock.tick();
  assert.ok(clock.now() > first, "after a tick: the time now");
});

Deno.test("Router.sweep closes a connection whose message stalled half-received", () => {
  const { router, clock, user, log } = setup({ stallTimeoutMs: 2000 });
  const alice = user("alice");
  alice.tosend.link.partialSince = clock.now(); // what the edge records as a message starts
  clock.t += 1999;
  router.sweep(clock.now());
  assert.equal(alice.tosend.closed, false);
  clock.t += 1;
  router.sweep(clock.now());
  assert.equal(alice.tosend.closed, true);
  assert.ok(log.some((e) => e.event === "dropped" && /stalled half-sent/.test(e.reason)));
});

Deno.test("Router.sweep closes a connection whose unread output has not moved for the stall timeout", () => {
  const { router, clock, user } = setup({ stallTimeoutMs: 2000 });
  const alice = user("alice");
  const bob = user("bob");
  bob.torecv.queuedBytes = 100; // its reader has stopped
  router.sweep(clock.now());
  clock.t += 1500;
  bob.torecv.sentBytes += 10; // it moved: the deadline starts again
  router.sweep(clock.now());
  clock.t += 1999;
  router.sweep(clock.now());
  assert.equal(bob.torecv.closed, false);
  clock.t += 1;
  router.sweep(clock.now());
  assert.equal(bob.torecv.closed, true);
  assert.equal(alice.tosend.closed, false);
  assert.deepEqual(router.onlineUsers(), ["alice"]);
});

Deno.test("Router drops a connection whose answers held behind an unfinished one pass maxWriteQueueBytes", () => {
  const { router, user, log } = setup({ maxWriteQueueBytes: 100 });
  const alice = user("alice");
  const bob = user("bob");
  alice.send("bob", "unanswered");
  for (let i = 0; i < 3; i++) router.receive(alice.tosend.link, { type: "SENT", to: "x" });
  assert.equal(alice.tosend.closed, false, "three ERROR 103 answers fit");
  router.receive(alice.tosend.link, { type: "SENT", to: "x" });
  assert.equal(alice.tosend.closed, true);
  assert.ok(log.some((e) => e.event === "dropped" && /too many answers waiting/.test(e.reason)));
  assert.equal(bob.torecv.closed, false);
});

Deno.test("Router.failAll answers the SENDs waiting behind a SEND ALL before it returns", () => {
  const { router, user } = setup();
  const alice = user("alice");
  const bob = user("bob");
  alice.send("ALL", "hello all");
  alice.send("bob", "after");
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice hello all"]);
  router.draining = true;
  router.failAll("did not acknowledge it before the server stopped");
  assert.deepEqual(alice.tosend.take(), ["ERROR 102", "ERROR 102"]);
});

Deno.test("Router.decodeError logs the decoder's wording and answers as the protocol says", () => {
  const { router, log, connect } = setup();
  const c = connect();
  router.decodeError(c.link, { code: "unknown-verb", line: "HELLO x", fatal: false });
  router.decodeError(c.link, { code: "header-too-large", limit: 64, fatal: true });
  assert.deepEqual(c.take(), ["ERROR 101", "ERROR 103"]);
  const reasons = log.flatMap((e) => e.event === "protocol-error" ? [[e.reason, e.closed]] : []);
  assert.deepEqual(reasons, [
    ['unknown message "HELLO x"', false],
    ["a header longer than 64 bytes", true],
  ]);
});

Deno.test("Router forwards under the name a connection holds now, after UNREGISTER and REGISTER", () => {
  const { router, user } = setup();
  const bob = user("bob");
  const alice = user("alice");
  alice.send("bob", "one");
  assert.deepEqual(bob.torecv.take(), ["FORWARD alice one"]);
  bob.received("alice");
  // The connection is ending after UNREGISTER, but what it already sent is still read.
  router.receive(alice.tosend.link, { type: "UNREGISTER", name: "alice" });
  router.receive(alice.tosend.link, { type: "REGISTER", half: "TOSEND", name: "carol" });
  alice.send("bob", "two");
  assert.deepEqual(bob.torecv.take(), ["FORWARD carol two"]);
});
