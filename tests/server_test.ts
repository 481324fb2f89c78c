/**
 * Tests of the relay server: every conformance case against our server on both transports, and
 * the behaviour specific to our implementation (timeouts, limits, logging, shutdown).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Decoder, encode, type Message, utf8Bytes } from "../src/protocol/mod.ts";
import { startServer } from "../src/server/server.ts";
import { formatLogEvent, type LogEvent } from "../src/server/log.ts";
import { connect, type TransportKind } from "../src/net/transport.ts";
import { registerConformanceTests } from "./conformance.ts";
import { ARRIVE_MS, delay, textOf, type Wire, withWires } from "./wire.ts";
import { hasOpenssl, makeCertificate, needsOpenssl, withTempDir } from "./certs.ts";
import { withServer } from "./harness.ts";

/** Resolves with `promise`, or rejects if it takes longer than `ms`. */
async function bounded<T>(promise: Promise<T>, what: string, ms = ARRIVE_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `events` holds one matching `pred` and returns it; throws after `ms`. */
async function waitForEvent(
  events: LogEvent[],
  pred: (e: LogEvent) => boolean,
  what: string,
  ms = ARRIVE_MS,
): Promise<LogEvent> {
  const deadline = performance.now() + ms;
  while (true) {
    const found = events.find(pred);
    if (found) return found;
    if (performance.now() > deadline) {
      throw new Error(`no ${what} log event within ${ms} ms; got ${JSON.stringify(events)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

function send(to: string, body: string): Uint8Array {
  return encode({ type: "SEND", to, body: utf8Bytes(body) });
}

/** The next message on `w`, as canonical text (bodies as UTF-8), for compact assertions. */
async function nextText(w: Wire, timeoutMs = ARRIVE_MS): Promise<string> {
  return new TextDecoder().decode(encode(await w.next(timeoutMs)));
}

/** Everything `w` has received so far, as text. */
function receivedText(w: Wire): string {
  return w.received.map((b) => new TextDecoder().decode(b, { stream: true })).join("");
}

// ---------------------------------------------------------------------------------------------
// Conformance: the same cases any server of the protocol should pass, on both transports.

const transports: TransportKind[] = ["deno", "node"];
for (const transport of transports) {
  registerConformanceTests(`startServer (${transport} transport) conformance`, async () => {
    const server = await startServer({ hostname: "127.0.0.1", port: 0, transport });
    return { addr: server, close: () => bounded(server.close(), "server.close()") };
  });
}

// ---------------------------------------------------------------------------------------------
// Our implementation.

Deno.test("startServer writes every answer in canonical bytes", async () => {
  await withServer({}, async (_server, w) => {
    const alice = await w.user("alice");
    const bob = await w.user("bob");
    await alice.tosend.send("SEND bob\r\nCONTENT-LENGTH: 5 \r\n\r\nhello");
    assert.equal(await nextText(bob.torecv), "FORWARD alice\nContent-length: 5\n\nhello");
    await bob.torecv.send("RECEIVED alice\n\n");
    assert.equal(await nextText(alice.tosend), "SENT bob\n\n");
    await alice.tosend.send(send("nobody", "x"));
    assert.equal(await nextText(alice.tosend), "ERROR 102 Unable to send\n\n");
    const stranger = await w.connect("stranger");
    await stranger.send("REGISTER TOSEND a b\n\nRECEIVED x\n\nREGISTER TORECV alice\n\n");
    for (const code of [100, 101, 104]) {
      const m = await stranger.next();
      assert.equal(m.type === "ERROR" && m.code, code);
    }
    assert.equal(
      receivedText(alice.tosend),
      "REGISTERED TOSEND alice\n\nSENT bob\n\n" +
        "ERROR 102 Unable to send\n\n",
    );
    assert.equal(
      receivedText(bob.torecv),
      "REGISTERED TORECV bob\n\n" +
        "FORWARD alice\nContent-length: 5\n\nhello",
    );
    assert.equal(
      receivedText(stranger),
      "ERROR 100 Malformed username\n\nERROR 101 No user registered\n\n" +
        "ERROR 104 Username taken\n\n",
    );
  });
});

Deno.test("startServer fails a FORWARD that is not acknowledged in time and closes the recipient", async () => {
  await withServer({ ackTimeoutMs: 200 }, async (server, w, events) => {
    const alice = await w.user("alice");
    const bob = await w.user("bob");
    await alice.tosend.send(send("bob", "are you there?"));
    assert.equal(
      await nextText(bob.torecv),
      "FORWARD alice\nContent-length: 14\n\nare you there?",
    );
    // bob never answers.
    assert.equal(await nextText(alice.tosend), "ERROR 102 Unable to send\n\n");
    await bob.torecv.expectClosed();
    await bob.tosend.expectClosed();
    assert.ok(events.some((e) => e.event === "dropped" && e.name === "bob"));
    assert.ok(events.some((e) => e.event === "not-delivered" && e.to === "bob"));
    // alice is unaffected; bob is gone.
    await alice.tosend.send(send("bob", "hello?"));
    assert.equal(await nextText(alice.tosend), "ERROR 102 Unable to send\n\n");
    assert.deepEqual(server.onlineUsers(), ["alice"]);
  });
});

Deno.test("startServer emits log events for registration, delivery, failures and disconnection", async () => {
  await withServer({}, async (_server, w, events) => {
    const alice = await w.user("alice");
    const bob = await w.user("bob");
    await alice.tosend.send(send("bob", "hello"));
    await bob.torecv.next();
    await bob.torecv.send("RECEIVED alice\n\n");
    await alice.tosend.next();
    await alice.tosend.send(send("nobody", "hello"));
    await alice.tosend.next();
    await alice.tosend.send(send("ALL", "hi all"));
    await bob.torecv.next();
    await bob.torecv.send("RECEIVED alice\n\n");
    await alice.tosend.next();
    const bad = await w.connect("bad");
    await bad.send("REGISTER TOSEND b@d\n\nHELLO\n\n");
    await bad.next();
    await bad.next();
    await bob.tosend.close();
    await waitForEvent(events, (e) => e.event === "disconnected", "disconnected");

    const registered = events.filter((e) => e.event === "registered");
    assert.deepEqual(
      registered.map((e) => e.event === "registered" && `${e.name} ${e.half}`),
      ["alice TOSEND", "alice TORECV", "bob TOSEND", "bob TORECV"],
    );
    for (const e of registered) {
      assert.match(e.event === "registered" ? e.remote : "", /^127\.0\.0\.1:\d+$/);
    }
    assert.deepEqual(
      events.filter((e) => e.event === "forwarded").map((e) => ({ ...e, bytes: 0 })),
      [
        { event: "forwarded", from: "alice", to: "bob", bytes: 0 },
        { event: "forwarded", from: "alice", to: "bob", bytes: 0 },
      ],
    );
    const notDelivered = events.find((e) => e.event === "not-delivered");
    assert.ok(notDelivered?.event === "not-delivered");
    assert.equal(notDelivered.to, "nobody");
    assert.deepEqual(events.find((e) => e.event === "broadcast"), {
      event: "broadcast",
      from: "alice",
      delivered: 1,
      failed: 0,
    });
    assert.ok(events.some((e) => e.event === "rejected" && /b@d/.test(e.reason)));
    assert.ok(events.some((e) => e.event === "protocol-error" && /HELLO/.test(e.reason)));
    const gone = events.find((e) => e.event === "disconnected");
    assert.deepEqual(gone && { ...gone, reason: "" }, {
      event: "disconnected",
      name: "bob",
      half: "TOSEND",
      reason: "",
    });
  });
});

Deno.test("formatLogEvent renders lines in the original server's style", () => {
  const cases: [LogEvent, string][] = [
    [{ event: "listening", address: "0.0.0.0:5500" }, "Chat server listening on 0.0.0.0:5500"],
    [
      { event: "registered", name: "abc", half: "TOSEND", remote: "127.0.0.1:4000" },
      "abc : REGISTERED TOSEND",
    ],
    [
      { event: "registered", name: "xyz", half: "TORECV", remote: "127.0.0.1:4001" },
      "xyz : REGISTERED TORECV",
    ],
    [
      { event: "forwarded", from: "abc", to: "xyz", bytes: 30 },
      "Message successfully forwarded from abc to xyz",
    ],
    [
      { event: "not-delivered", from: "abc", to: "nobody", reason: '"nobody" is not online' },
      'Message from abc to nobody not delivered: "nobody" is not online',
    ],
    [
      { event: "broadcast", from: "abc", delivered: 2, failed: 1 },
      "Broadcast from abc delivered to 2 user(s), 1 failed",
    ],
    [{ event: "unregistered", name: "abc" }, "abc : UNREGISTERED"],
    [
      { event: "disconnected", name: "abc", half: "TORECV", reason: "connection closed" },
      "abc : DISCONNECTED (TORECV connection closed)",
    ],
    [
      { event: "rejected", remote: "1.2.3.4:5", reason: "bad name" },
      "Registration from 1.2.3.4:5 refused: bad name",
    ],
    [
      { event: "protocol-error", remote: "1.2.3.4:5", name: "abc", reason: "bad", closed: true },
      "Protocol error from 1.2.3.4:5 (abc): bad; connection closed",
    ],
    [
      { event: "protocol-error", remote: "1.2.3.4:5", reason: "bad", closed: false },
      "Protocol error from 1.2.3.4:5: bad",
    ],
    [{ event: "dropped", remote: "1.2.3.4:5", reason: "slow" }, "Dropped 1.2.3.4:5: slow"],
    [{ event: "stopping", reason: "SIGINT" }, "Stopping (SIGINT)"],
    [{ event: "stopped" }, "Server stopped"],
  ];
  for (const [event, line] of cases) assert.equal(formatLogEvent(event), line);
});

Deno.test("startServer answers ERROR 102 at once past maxQueuedForwards, after earlier answers", async () => {
  await withServer({ maxQueuedForwards: 1 }, async (_server, w) => {
    const alice = await w.user("alice");
    const bob = await w.user("bob");
    await alice.tosend.send([1, 2, 3].map((k) => send("bob", `m${k}`)).reduce(join));
    assert.equal(await nextText(bob.torecv), "FORWARD alice\nContent-length: 2\n\nm1");
    await alice.tosend.expectNothing(); // answers stay in order: m1's comes first
    await bob.torecv.send("RECEIVED alice\n\n");
    assert.equal(await nextText(bob.torecv), "FORWARD alice\nContent-length: 2\n\nm2");
    await bob.torecv.send("RECEIVED alice\n\n");
    assert.equal(await nextText(alice.tosend), "SENT bob\n\n");
    assert.equal(await nextText(alice.tosend), "SENT bob\n\n");
    assert.equal(await nextText(alice.tosend), "ERROR 102 Unable to send\n\n");
    await bob.torecv.expectNothing();
  });
});

Deno.test("startServer answers ERROR 102 past maxPendingSends and recovers", async () => {
  await withServer({ maxPendingSends: 1 }, async (_server, w) => {
    const alice = await w.user("alice");
    const bob = await w.user("bob");
    await alice.tosend.send(join(send("bob", "m1"), send("bob", "m2")));
    assert.equal(await nextText(bob.torecv), "FORWARD alice\nContent-length: 2\n\nm1");
    await bob.torecv.send("RECEIVED alice\n\n");
    assert.equal(await nextText(alice.tosend), "SENT bob\n\n");
    assert.equal(await nextText(alice.tosend), "ERROR 102 Unable to send\n\n");
    await bob.torecv.expectNothing();
    await alice.tosend.send(send("bob", "m3"));
    assert.equal(await nextText(bob.torecv), "FORWARD alice\nContent-length: 2\n\nm3");
    await bob.torecv.send("RECEIVED alice\n\n");
    assert.equal(await nextText(alice.tosend), "SENT bob\n\n");
  });
});

Deno.test("startServer answers ERROR 102 to a body over maxBodyBytes and keeps the connection", async () => {
  await withServer({ maxBodyBytes: 16 }, async (_server, w) => {
    const alice = await w.user("alice");
    const bob = await w.user("bob");
    // The oversized body looks like messages: it must be skipped, not read.
    const big = "REGISTER TOSEND x\n\nSEND bob\nContent-length: 1\n\nz".padEnd(100, ".");
    await alice.tosend.send(join(send("bob", big), send("bob", "exactly16bytes!!")));
    assert.equal(await nextText(alice.tosend), "ERROR 102 Unable to send\n\n");
    assert.equal(
      await nextText(bob.torecv),
      "FORWARD alice\nContent-length: 16\n\nexactly16bytes!!",
    );
    await bob.torecv.send("RECEIVED alice\n\n");
    assert.equal(await nextText(alice.tosend), "SENT bob\n\n");
    await bob.torecv.expectNothing();
    // A Content-length far too large to buffer is refused the same way (body never sent).
    await alice.tosend.send("SEND bob\nContent-length: 999999999999999\n\n");
    assert.equal(await nextText(alice.tosend), "ERROR 102 Unable to send\n\n");
  });
});

Deno.test("startServer answers ERROR 101 to an oversized SEND before registration", async () => {
  await withServer({ maxBodyBytes: 16 }, async (_server, w) => {
    const wire = await w.connect();
    await wire.send(send("bob", "x".repeat(100)));
    assert.equal(await nextText(wire), "ERROR 101 No user registered\n\n");
    await wire.send("REGISTER TOSEND alice\n\n");
    assert.equal(await nextText(wire), "REGISTERED TOSEND alice\n\n");
  });
});

Deno.test("startServer answers ERROR 103 and closes on a header over maxHeaderBytes", async () => {
  await withServer({ maxHeaderBytes: 64 }, async (_server, w) => {
    // No newline ever arrives.
    const first = await w.connect("no newline");
    await first.send("REGISTER TOSEND " + "a".repeat(200));
    assert.equal(await nextText(first), "ERROR 103 Header incomplete\n\n");
    await first.expectClosed();
    // Many short header lines.
    const alice = await w.user("alice");
    await w.user("bob");
    await alice.tosend.send(
      "SEND bob\n" + "X-Pad: 0123456789\n".repeat(10) + "Content-length: 1\n\nx",
    );
    assert.equal(await nextText(alice.tosend), "ERROR 103 Header incomplete\n\n");
    await alice.tosend.expectClosed();
    await alice.torecv.expectClosed();
  });
});

Deno.test("startServer answers ERROR 103 to unexpected messages from a registered client and keeps it", async () => {
  await withServer({}, async (_server, w) => {
    const alice = await w.user("alice");
    const bob = await w.user("bob");
    await alice.tosend.send("HELLO\n\nFORWARD bob\nContent-length: 2\n\nhi");
    assert.equal(await nextText(alice.tosend), "ERROR 103 Header incomplete\n\n");
    assert.equal(await nextText(alice.tosend), "ERROR 103 Header incomplete\n\n");
    await alice.tosend.send(send("bob", "ok"));
    await bob.torecv.next();
    await bob.torecv.send("RECEIVED alice\n\n");
    assert.equal(await nextText(alice.tosend), "SENT bob\n\n");
    // A SEND on a TORECV connection is refused.
    await bob.torecv.send(send("alice", "wrong half"));
    assert.equal(await nextText(bob.torecv), "ERROR 102 Unable to send\n\n");
    await alice.torecv.expectNothing();
  });
});

Deno.test("startServer lets one connection hold both halves of one user, but not two names", async () => {
  await withServer({}, async (server, w) => {
    const both = await w.connect("both");
    await both.send("REGISTER TOSEND solo\n\nREGISTER TORECV solo\n\nREGISTER TOSEND solo\n\n");
    assert.equal(await nextText(both), "REGISTERED TOSEND solo\n\n");
    assert.equal(await nextText(both), "REGISTERED TORECV solo\n\n");
    assert.equal(await nextText(both), "REGISTERED TOSEND solo\n\n");
    assert.deepEqual(server.onlineUsers(), ["solo"]);
    await both.send(send("solo", "to myself"));
    assert.equal(await nextText(both), "FORWARD solo\nContent-length: 9\n\nto myself");
    await both.send("RECEIVED solo\n\n");
    assert.equal(await nextText(both), "SENT solo\n\n");
    await both.send("REGISTER TORECV other\n\n");
    assert.equal(await nextText(both), "ERROR 100 Malformed username\n\n");
  });
});

for (const transport of transports) {
  Deno.test(`ChatServer.close (${transport} transport) resolves with clients still connected and closes them`, async () => {
    const server = await startServer({ hostname: "127.0.0.1", port: 0, transport });
    let closing: Promise<void> | null = null;
    try {
      await withWires(server, async (w) => {
        const alice = await w.user("alice");
        const bob = await w.user("bob");
        const idle = await w.connect("idle");
        closing = server.close();
        await bounded(closing, "ChatServer.close() with clients connected");
        for (const wire of [alice.tosend, alice.torecv, bob.tosend, bob.torecv, idle]) {
          await wire.expectClosed();
        }
      });
    } finally {
      await (closing ?? server.close());
    }
  });

  Deno.test(`ChatServer.close (${transport} transport) with drain false closes at once, a FORWARD in flight included`, async () => {
    const server = await startServer({ hostname: "127.0.0.1", port: 0, transport });
    let closing: Promise<void> | null = null;
    try {
      await withWires(server, async (w) => {
        const alice = await w.user("alice");
        const bob = await w.user("bob");
        await alice.tosend.send(send("bob", "pending"));
        await bob.torecv.next();
        closing = server.close({ drain: false });
        await bounded(closing, "ChatServer.close({ drain: false }) with a FORWARD in flight");
        await untilClosed(alice.tosend); // an ERROR 102 may or may not get out first
        for (const wire of [alice.torecv, bob.tosend, bob.torecv]) await wire.expectClosed();
      });
    } finally {
      await (closing ?? server.close());
    }
  });
}

/** Reads messages until the server closes `w`; throws if that takes more than 10 messages. */
async function untilClosed(w: Wire): Promise<void> {
  for (let k = 0; k < 10; k++) {
    try {
      await w.next();
    } catch (error) {
      if (w.ended) return;
      throw error;
    }
  }
  throw new Error(`${w.label}: still not closed after 10 messages`);
}

Deno.test("startServer works with a plain client written from the 2021 statement alone", async () => {
  // Such a client reads with one recv(1024) and takes what it got as exactly one message.
  await withServer({}, async (server) => {
    const conns: Deno.Conn[] = [];
    const open = async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      conns.push(c);
      return c;
    };
    const request = async (c: Deno.Conn, text: string | null): Promise<string> => {
      if (text !== null) await c.write(new TextEncoder().encode(text));
      return await readOnce(c);
    };
    try {
      const users: Record<string, { s: Deno.Conn; r: Deno.Conn }> = {};
      for (const name of ["abc", "xyz", "def"]) {
        const s = await open();
        const r = await open();
        users[name] = { s, r };
        assert.equal(
          await request(s, `REGISTER TOSEND ${name}\n\n`),
          `REGISTERED TOSEND ${name}\n\n`,
        );
        assert.equal(
          await request(r, `REGISTER TORECV ${name}\n\n`),
          `REGISTERED TORECV ${name}\n\n`,
        );
      }
      const abc = users.abc!;
      const xyz = users.xyz!;
      const def = users.def!;
      await abc.s.write(new TextEncoder().encode("SEND xyz\nContent-length: 4\n\nHiii"));
      assert.equal(await readOnce(xyz.r), "FORWARD abc\nContent-length: 4\n\nHiii");
      await xyz.r.write(new TextEncoder().encode("RECEIVED abc\n\n"));
      assert.equal(await readOnce(abc.s), "SENT xyz\n\n");
      // Two senders at once: the recipient still reads exactly one message per read.
      await abc.s.write(new TextEncoder().encode("SEND xyz\nContent-length: 5\n\nfirst"));
      await def.s.write(new TextEncoder().encode("SEND xyz\nContent-length: 6\n\nsecond"));
      const got: string[] = [];
      for (let k = 0; k < 2; k++) {
        const m = await readOnce(xyz.r);
        const sender = /^FORWARD (\w+)\n/.exec(m)?.[1];
        got.push(m);
        await xyz.r.write(new TextEncoder().encode(`RECEIVED ${sender}\n\n`));
      }
      assert.deepEqual(got.toSorted(), [
        "FORWARD abc\nContent-length: 5\n\nfirst",
        "FORWARD def\nContent-length: 6\n\nsecond",
      ]);
      assert.equal(await readOnce(abc.s), "SENT xyz\n\n");
      assert.equal(await readOnce(def.s), "SENT xyz\n\n");
      assert.equal(
        await request(abc.s, "SEND nobody\nContent-length: 2\n\nhi"),
        "ERROR 102 Unable to send\n\n",
      );
    } finally {
      for (const c of conns) c.close();
    }
  });
});

/**
 * One read of up to 1024 bytes, as text. Rejects after `ms` (the read is then abandoned: its
 * connection must be closed by the caller).
 */
async function readOnce(c: Deno.Conn, ms = ARRIVE_MS): Promise<string> {
  const buf = new Uint8Array(1024);
  const read = c.read(buf);
  read.catch(() => {});
  const n = await bounded(read, "read", ms);
  if (n === null) throw new Error("connection closed");
  return new TextDecoder().decode(buf.subarray(0, n));
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A TLS connection to the server with a decoder: enough of a client for one test. */
async function tlsWire(port: number, caCert: string) {
  const decoder = new Decoder({ from: "server" });
  const inbox: Message[] = [];
  const conn = await connect({
    hostname: "localhost",
    port,
    transport: "deno",
    tls: { caCerts: [caCert] },
  }, {
    data: (chunk) => decoder.feed(chunk, (e) => e.kind === "message" && inbox.push(e.message)),
    closed: () => {},
  });
  return {
    send: (text: string) => conn.write(new TextEncoder().encode(text)),
    async next(): Promise<Message> {
      const deadline = performance.now() + ARRIVE_MS;
      while (inbox.length === 0) {
        if (conn.closed || performance.now() > deadline) throw new Error("no message over TLS");
        await delay(10);
      }
      return inbox.shift()!;
    },
    async close() {
      conn.close();
      await conn.done;
    },
  };
}

Deno.test({
  name: "startServer with a TLS and a plain listener lets their users chat in one namespace" +
    needsOpenssl,
  ignore: !hasOpenssl,
  fn: () =>
    withTempDir(async (dir) => {
      const files = await makeCertificate(dir, "server");
      const cert = await Deno.readTextFile(files.cert);
      const key = await Deno.readTextFile(files.key);
      const server = await startServer({
        listeners: [
          { hostname: "127.0.0.1", port: 0 },
          { hostname: "127.0.0.1", port: 0, tls: { cert, key } },
        ],
      });
      try {
        assert.deepEqual(server.addresses.map((a) => a.tls), [false, true]);
        assert.equal(server.port, server.addresses[0]!.port);
        const tlsPort = server.addresses[1]!.port;
        const [alice, aliceRecv] = [await tlsWire(tlsPort, cert), await tlsWire(tlsPort, cert)];
        try {
          await withWires(server, async (w) => {
            alice.send("REGISTER TOSEND alice\n\n");
            aliceRecv.send("REGISTER TORECV alice\n\n");
            assert.equal((await alice.next()).type, "REGISTERED");
            assert.equal((await aliceRecv.next()).type, "REGISTERED");
            const bob = await w.user("bob");
            // The name is taken across listeners too.
            const thief = await w.connect("thief");
            await thief.send("REGISTER TOSEND alice\n\n");
            assert.equal(await nextText(thief), "ERROR 104 Username taken\n\n");
            alice.send("SEND bob\nContent-length: 9\n\nover TLS!");
            assert.equal(
              await nextText(bob.torecv),
              "FORWARD alice\nContent-length: 9\n\nover TLS!",
            );
            await bob.torecv.send("RECEIVED alice\n\n");
            assert.deepEqual(await alice.next(), { type: "SENT", to: "bob" });
            await bob.tosend.send(send("alice", "plain"));
            const forward = await aliceRecv.next();
            assert.equal(forward.type === "FORWARD" && textOf(forward.body), "plain");
            aliceRecv.send("RECEIVED bob\n\n");
            assert.equal(await nextText(bob.tosend), "SENT alice\n\n");
            assert.deepEqual(server.onlineUsers().toSorted(), ["alice", "bob"]);
          });
        } finally {
          await alice.close();
          await aliceRecv.close();
        }
      } finally {
        await server.close({ drain: false });
      }
    }),
});
