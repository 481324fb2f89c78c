/**
 * Unit tests of the pseudo-user `server` and the negotiated extensions in the routing core:
 * in-memory endpoints that keep the exact bytes written, and a fake clock.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { LogEvent } from "./log.ts";
import { type Endpoint, type Link, Router, type RouterOptions } from "./router.ts";
import { NOTICE_LIMIT } from "./presence.ts";
import { FakeClock, testRouterOptions } from "./router_testing.ts";

const text = new TextDecoder();
const bytes = (s: string) => new TextEncoder().encode(s);

/** An endpoint that keeps what is written to it as text. */
class RawEndpoint implements Endpoint {
  readonly remoteHost = "10.0.0.1";
  queuedBytes = 0;
  sentBytes = 0;
  closed = false;
  ended = false;
  link!: Link;
  /** Every buffer written, as given (to check which are shared). */
  readonly chunks: Uint8Array[] = [];
  #out = "";

  constructor(readonly router: Router, readonly remote: string) {}

  write(b: Uint8Array): void {
    if (this.closed || this.ended) return;
    this.sentBytes += b.length;
    this.chunks.push(b);
    this.#out += text.decode(b);
  }

  end(): void {
    this.ended = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.router.closed(this.link);
  }

  /** What was written since the last call. */
  take(): string {
    const out = this.#out;
    this.#out = "";
    return out;
  }
}

/** A router with a fake clock, and a helper to register users on it. */
function setup(options: Partial<RouterOptions> = {}) {
  const clock = new FakeClock();
  const log: LogEvent[] = [];
  const router = new Router(testRouterOptions(log, { maxBodyBytes: 100, ...options }), { clock });
  let port = 1;
  const connect = () => {
    const endpoint = new RawEndpoint(router, `10.0.0.1:${port++}`);
    endpoint.link = router.accept(endpoint);
    return endpoint;
  };
  const user = (name: string, extensions?: string) => {
    const tosend = connect();
    const torecv = connect();
    router.receive(tosend.link, { type: "REGISTER", half: "TOSEND", name });
    router.receive(torecv.link, { type: "REGISTER", half: "TORECV", name });
    tosend.take();
    torecv.take();
    const send = (to: string, body: string) =>
      router.receive(tosend.link, { type: "SEND", to, body: bytes(body) });
    const received = (from: string) => router.receive(torecv.link, { type: "RECEIVED", from });
    if (extensions !== undefined) {
      send("server", `EXTENSIONS ${extensions}`);
      tosend.take();
      if (torecv.take() !== "") received("server");
    }
    return { name, tosend, torecv, send, received };
  };
  return { router, clock, log, connect, user };
}

Deno.test("Router refuses to register the server's own name in any letter case with ERROR 104", () => {
  const { router, connect, log } = setup();
  for (const name of ["server", "SERVER", "Server"]) {
    const c = connect();
    router.receive(c.link, { type: "REGISTER", half: "TOSEND", name });
    assert.equal(c.take(), "ERROR 104 Username taken\n\n");
    assert.equal(c.ended, false);
  }
  assert.ok(log.every((e) => e.event === "rejected"));
});

Deno.test("Router answers who written to server with SENT, then a FORWARD from server", () => {
  const { user } = setup();
  user("xyz");
  const bob = user("Bob");
  const abc = user("abc");
  abc.send("server", " WHO ");
  assert.equal(abc.tosend.take(), "SENT server\n\n");
  assert.equal(
    abc.torecv.take(),
    "FORWARD server\nContent-length: 23\n\n3 online: abc, Bob, xyz",
  );
  abc.received("server");
  abc.send("server", "hello?");
  assert.equal(abc.tosend.take(), "SENT server\n\n");
  const help = `Write "who" to see who is online. Messages to "server" reach no one.`;
  assert.equal(
    abc.torecv.take(),
    `FORWARD server\nContent-length: ${help.length}\n\n${help}`,
  );
  assert.equal(bob.torecv.take(), "");
});

Deno.test("Router answers a SEND to server in its turn among the sender's answers", () => {
  const { user } = setup();
  const xyz = user("xyz");
  const abc = user("abc");
  abc.send("xyz", "one");
  abc.send("server", "who");
  abc.send("nobody", "two");
  assert.equal(abc.tosend.take(), "", "held behind the answer owed for xyz");
  xyz.received("abc");
  assert.equal(abc.tosend.take(), "SENT xyz\n\nSENT server\n\nERROR 102 Unable to send\n\n");
});

Deno.test("Router answers who with SENT alone when the writer has no TORECV yet", () => {
  const { router, connect } = setup();
  const c = connect();
  router.receive(c.link, { type: "REGISTER", half: "TOSEND", name: "abc" });
  c.take();
  router.receive(c.link, { type: "SEND", to: "server", body: bytes("who") });
  assert.equal(c.take(), "SENT server\n\n");
});

Deno.test("Router negotiates the extensions asked that it knows, in the client's order", () => {
  const { user, log } = setup();
  user("xyz");
  const abc = user("abc");
  abc.send("server", "EXTENSIONS reason fancy who");
  assert.equal(abc.tosend.take(), "SENT server\nExtensions: reason who\nMax-body: 100\n\n");
  assert.equal(
    abc.torecv.take(),
    "FORWARD server\nContent-length: 7\nEvent: online\n\nabc xyz",
  );
  abc.received("server");
  abc.send("server", "who");
  assert.equal(abc.tosend.take(), "SENT server\n\n");
  assert.equal(
    abc.torecv.take(),
    "FORWARD server\nContent-length: 7\nEvent: online\n\nabc xyz",
  );
  assert.deepEqual(log.filter((e) => e.event === "extensions"), [
    { event: "extensions", name: "abc", extensions: ["reason", "who"] },
  ]);
  abc.send("server", "EXTENSIONS");
  assert.equal(abc.tosend.take(), "SENT server\nExtensions:\nMax-body: 100\n\n");
});

Deno.test("Router tells users who negotiated joins who joins and leaves, and nobody else", () => {
  const { user, log } = setup();
  const base = user("base");
  const ext = user("ext", "joins");
  const bob = user("bob");
  assert.equal(ext.torecv.take(), "FORWARD server\nContent-length: 3\nEvent: joined\n\nbob");
  bob.tosend.close();
  assert.equal(ext.torecv.take(), "", "one notice in flight at a time");
  ext.received("server");
  assert.equal(ext.torecv.take(), "FORWARD server\nContent-length: 3\nEvent: left\n\nbob");
  ext.received("server");
  assert.equal(base.torecv.take(), "");
  assert.equal(bob.torecv.take(), "");
  const joined = log.find((e) => e.event === "joined" && e.name === "bob");
  assert.deepEqual(joined, { event: "joined", name: "bob", remote: "10.0.0.1", online: 3 });
});

Deno.test("Router keeps notices in order with messages and needs RECEIVED server for each", () => {
  const { user } = setup();
  const ext = user("ext", "joins");
  const abc = user("abc");
  abc.send("ext", "hi");
  assert.match(ext.torecv.take(), /Event: joined/);
  ext.received("server");
  assert.equal(ext.torecv.take(), "FORWARD abc\nContent-length: 2\n\nhi");
  ext.received("abc");
  assert.equal(abc.tosend.take(), "SENT ext\n\n");
});

Deno.test("Router bounds notices for a user who reads none, then sends a fresh online list", () => {
  const { user } = setup();
  const ext = user("ext", "joins");
  const others = [];
  for (let i = 0; i < NOTICE_LIMIT + 10; i++) others.push(user(`u${i}`));
  const first = ext.torecv.take();
  assert.equal(first, "FORWARD server\nContent-length: 2\nEvent: joined\n\nu0");
  assert.equal(ext.torecv.link.notices, NOTICE_LIMIT);
  assert.equal(ext.torecv.link.mailbox!.count, NOTICE_LIMIT - 1);
  // The ones queued come in order; then, in place of those dropped, the list of who is online.
  const seen: string[] = [];
  for (let i = 0; i < NOTICE_LIMIT + 2; i++) {
    ext.received("server");
    seen.push(ext.torecv.take());
  }
  assert.equal(
    seen[NOTICE_LIMIT - 2],
    `FORWARD server\nContent-length: 3\nEvent: joined\n\nu${NOTICE_LIMIT - 1}`,
  );
  const list = seen[NOTICE_LIMIT - 1]!;
  assert.match(list, /^FORWARD server\nContent-length: \d+\nEvent: online\n\next u0 u1 /);
  assert.match(list, new RegExp(` u${NOTICE_LIMIT + 9} `), "sorted by letter");
  assert.equal(seen[NOTICE_LIMIT], "", "nothing more");
  assert.equal(ext.torecv.link.notices, 0);
});

Deno.test("Router puts To: ALL on a broadcast's FORWARD for users who negotiated to only", () => {
  const { user } = setup();
  const base = user("base");
  const ext = user("ext", "to");
  const abc = user("abc");
  abc.send("ALL", "hi");
  assert.equal(base.torecv.take(), "FORWARD abc\nContent-length: 2\n\nhi");
  assert.equal(ext.torecv.take(), "FORWARD abc\nContent-length: 2\nTo: ALL\n\nhi");
  base.received("abc");
  ext.received("abc");
  assert.equal(abc.tosend.take(), "SENT ALL\n\n");
  abc.send("ext", "just you");
  assert.equal(ext.torecv.take(), "FORWARD abc\nContent-length: 8\n\njust you");
});

Deno.test("Router says why with Reason: to users who negotiated reason", () => {
  const { router, user, clock } = setup({ maxQueuedForwards: 1 });
  const ext = user("ext", "reason");
  const base = user("base");
  ext.send("nobody", "x");
  base.send("nobody", "x");
  assert.equal(ext.tosend.take(), "ERROR 102 Unable to send\nReason: offline\n\n");
  assert.equal(base.tosend.take(), "ERROR 102 Unable to send\n\n");
  router.decodeError(
    ext.tosend.link,
    {
      code: "body-too-large",
      fatal: false,
      verb: "SEND",
    } as Parameters<Router["decodeError"]>[1],
  );
  assert.equal(
    ext.tosend.take(),
    "ERROR 102 Unable to send\nReason: too-large\nMax-body: 100\n\n",
  );
  const slow = user("slow");
  ext.send("slow", "1");
  ext.send("slow", "2");
  ext.send("slow", "3");
  assert.equal(ext.tosend.take(), "");
  slow.received("ext"); // 1 delivered, 2 sent; 3 was refused (queue full), held behind 2
  assert.equal(ext.tosend.take(), "SENT slow\n\n");
  clock.t += 1000;
  router.sweep(clock.t);
  assert.equal(
    ext.tosend.take(),
    "ERROR 102 Unable to send\nReason: no-ack\n\nERROR 102 Unable to send\nReason: queue-full\n\n",
  );
});

Deno.test("Router reports Delivered and Recipients on a SEND ALL's answer with reason", () => {
  const { user } = setup();
  const ext = user("ext", "reason");
  ext.send("ALL", "alone");
  assert.equal(ext.tosend.take(), "SENT ALL\nDelivered: 0\nRecipients: 0\n\n");
  const a = user("a");
  const b = user("b");
  const c = user("c");
  ext.send("ALL", "hi");
  a.received("ext");
  b.received("nobody"); // refused
  c.tosend.close(); // gone
  assert.equal(
    ext.tosend.take(),
    "ERROR 102 Unable to send\nReason: partial\nDelivered: 1\nRecipients: 3\n\n",
  );
  ext.send("ALL", "again");
  a.received("ext");
  b.received("ext");
  assert.equal(ext.tosend.take(), "SENT ALL\nDelivered: 2\nRecipients: 2\n\n");
});

Deno.test("Router gives the reasons gone and shutdown to users who negotiated reason", () => {
  const { router, user } = setup();
  const ext = user("ext", "reason");
  const bob = user("bob");
  ext.send("bob", "1");
  bob.torecv.close();
  assert.equal(ext.tosend.take(), "ERROR 102 Unable to send\nReason: gone\n\n");
  router.draining = true;
  ext.send("anyone", "2");
  assert.equal(ext.tosend.take(), "ERROR 102 Unable to send\nReason: shutdown\n\n");
});

Deno.test("Router starts a new registration of a name with no extensions", () => {
  const { user } = setup();
  const first = user("abc", "who joins to reason unregister");
  first.tosend.close();
  const again = user("abc");
  again.send("nobody", "x");
  assert.equal(again.tosend.take(), "ERROR 102 Unable to send\n\n");
});

Deno.test("Router queues no notice while shutting down, so the drain waits for none", () => {
  const { router, user } = setup();
  const ext = user("ext", "joins");
  const bob = user("bob");
  assert.match(ext.torecv.take(), /Event: joined/);
  ext.received("server");
  router.draining = true;
  bob.tosend.close();
  assert.equal(ext.torecv.take(), "");
  assert.ok(router.quiet());
});

Deno.test("Router encodes a broadcast once for base recipients and once for those with to", () => {
  const { user } = setup();
  const [b1, b2] = [user("b1"), user("b2")];
  const [t1, t2] = [user("t1", "to"), user("t2", "to")];
  const abc = user("abc");
  abc.send("ALL", "hi");
  const last = (u: { torecv: RawEndpoint }) => u.torecv.chunks.at(-1);
  assert.equal(last(b1), last(b2), "one buffer for the base recipients");
  assert.equal(last(t1), last(t2), "one buffer for those who asked to");
  assert.notEqual(last(b1), last(t1));
});

Deno.test("Router sends the online list when a user who asked who early comes online", () => {
  const { router, connect, user } = setup();
  user("xyz");
  const tosend = connect();
  router.receive(tosend.link, { type: "REGISTER", half: "TOSEND", name: "abc" });
  router.receive(tosend.link, { type: "SEND", to: "server", body: bytes("EXTENSIONS who") });
  assert.equal(
    tosend.take(),
    "REGISTERED TOSEND abc\n\nSENT server\nExtensions: who\nMax-body: 100\n\n",
  );
  const torecv = connect();
  router.receive(torecv.link, { type: "REGISTER", half: "TORECV", name: "abc" });
  assert.equal(
    torecv.take(),
    "REGISTERED TORECV abc\n\nFORWARD server\nContent-length: 7\nEvent: online\n\nabc xyz",
  );
  assert.equal(router.onlineCount, 2);
});

Deno.test("Router answers a flood of who from a client that reads nothing with bounded notices", () => {
  const { user } = setup();
  const abc = user("abc");
  for (let i = 0; i < 100; i++) abc.send("server", "who");
  assert.equal(abc.tosend.take(), "SENT server\n\n".repeat(100));
  assert.equal(abc.torecv.link.notices, NOTICE_LIMIT);
  assert.equal(abc.torecv.link.mailbox!.count, NOTICE_LIMIT - 1);
  for (let i = 0; i < NOTICE_LIMIT; i++) abc.received("server");
  assert.equal(abc.torecv.link.notices, 0);
  assert.equal(
    abc.torecv.take(),
    "FORWARD server\nContent-length: 13\n\n1 online: abc".repeat(NOTICE_LIMIT),
  );
});

Deno.test("Router's notices, missed ones replaced by a list, always add up to who is online", () => {
  const { router, user } = setup();
  const ext = user("ext", "joins");
  const others = [];
  for (let i = 0; i < 3 * NOTICE_LIMIT; i++) {
    others.push(user(`u${i}`));
    if (i % 3 === 2) others.splice(i % 5, 1)[0]!.tosend.close();
  }
  // Read everything now, one notice at a time, and keep the list as a client would.
  const online = new Set(["ext"]);
  let lists = 0;
  for (let n = 0; n < 10 * NOTICE_LIMIT; n++) {
    const got = ext.torecv.take();
    if (got === "") break;
    const m = /^FORWARD server\nContent-length: \d+\nEvent: (\w+)\n\n(.*)$/s.exec(got);
    assert.ok(m, got);
    const [, event, body] = m;
    if (event === "online") {
      lists++;
      online.clear();
      for (const name of body!.split(" ")) online.add(name);
    } else if (event === "joined") online.add(body!);
    else online.delete(body!);
    ext.received("server");
  }
  assert.deepEqual([...online].sort(), router.onlineUsers().sort());
  assert.ok(lists > 0, "some notices were missed and replaced by a list");
});
