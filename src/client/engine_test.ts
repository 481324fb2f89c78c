/**
 * ChatSession over an in-memory connection: the engine takes its connect function, so it runs
 * with no socket at all (as it will in a browser). The pretend server here answers the way our
 * server or a base-protocol server does, by choice, so the negotiation of the extensions is seen
 * on both paths.
 */
import assert from "node:assert/strict";
import type { Conn, ConnectFn, ConnHandler } from "../net/conn.ts";
import { ChatSession, type ChatSessionOptions } from "./engine.ts";
import type { ClientEvent } from "./events.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The probe our client sends with the default extensions. */
const PROBE =
  "SEND server\nContent-length: 55\n\nEXTENSIONS who joins to reason unregister identity mail";
/** Our server's answer to it, agreeing to all of them. */
const AGREED =
  "SENT server\nExtensions: who joins to reason unregister identity mail\nMax-body: 65536\n\n";

/** What the pretend server answers to the probe. */
type ProbeAnswer = "extended" | "error-102" | "plain-sent" | "silent";

/** One half of a user at the pretend server. */
interface MemoryConn {
  half: string;
  /** Sends `text` to the client (after the current turn). */
  reply(text: string): void;
  close(): void;
}

/**
 * A connect function to a pretend server in memory that registers every half, answers SENT to
 * each SEND (ERROR 102 with `Reason: offline` to `nobody` when extended), the probe as
 * `probe` says (`silent`: it answers nothing more on that connection), and UNREGISTERED to UNREGISTER (then closes). Each write is one whole message;
 * `written` records every one, with the half it came on.
 */
function memoryServer(probe: ProbeAnswer = "extended") {
  const written: string[] = [];
  const conns: MemoryConn[] = [];
  const connect: ConnectFn = (_options, handler: ConnHandler) => {
    const done = Promise.withResolvers<void>();
    let closed = false;
    let silenced = false;
    const mc: MemoryConn = {
      half: "?",
      reply: (text: string) =>
        queueMicrotask(() => {
          if (!closed) handler.data(encoder.encode(text));
        }),
      close: () => {
        if (closed) return;
        closed = true;
        handler.closed();
        done.resolve();
      },
    };
    conns.push(mc);
    const answer = (text: string): void => {
      const [verb = "", arg = "", name = ""] = text.split("\n")[0]!.split(" ");
      if (verb === "REGISTER") {
        mc.half = arg;
        mc.reply(`REGISTERED ${arg} ${name}\n\n`);
      } else if (silenced) {
        return;
      } else if (text.startsWith("SEND server\n")) {
        answerProbe(mc, text);
      } else if (verb === "SEND" && arg === "nobody" && probe === "extended") {
        mc.reply("ERROR 102 Unable to send\nReason: offline\n\n");
      } else if (verb === "SEND") {
        mc.reply(`SENT ${arg}\n\n`);
      } else if (verb === "UNREGISTER") {
        mc.reply(`UNREGISTERED ${arg}\n\n`);
        queueMicrotask(() => queueMicrotask(() => conns.forEach((c) => c.close())));
      }
    };
    const answerProbe = (mc: MemoryConn, text: string): void => {
      if (!text.endsWith("\n\nEXTENSIONS who joins to reason unregister identity mail")) {
        mc.reply(`SENT server\nExtensions: ${text.split("\n\nEXTENSIONS ")[1]}\n\n`);
      } else if (probe === "extended") mc.reply(AGREED);
      else if (probe === "error-102") mc.reply("ERROR 102 Unable to send\n\n");
      else if (probe === "plain-sent") mc.reply("SENT server\n\n");
      // Answers are in order: after a probe left unanswered, nothing more is answered.
      else silenced = true;
    };
    const conn: Conn = {
      remote: "memory:1",
      remoteHost: "memory",
      queuedBytes: 0,
      sentBytes: 0,
      get closed() {
        return closed;
      },
      done: done.promise,
      write(bytes) {
        const text = decoder.decode(bytes);
        written.push(`${mc.half === "?" ? "" : mc.half + " "}${text}`);
        answer(text);
      },
      end: mc.close,
      close: mc.close,
    };
    return Promise.resolve(conn);
  };
  /** Sends `text` on the `half` connection of the latest registration. */
  const replyOn = (half: string, text: string) =>
    conns.findLast((c) => c.half === half)!.reply(text);
  /** Sends `text` on the TORECV connection of the latest registration. */
  const toRecv = (text: string) => replyOn("TORECV", text);
  /** Closes every connection, as a server that went away. */
  const drop = () => conns.forEach((c) => c.close());
  return { connect, written, toRecv, replyOn, drop };
}

/** A session to `server` for user `name` (default abc) that records its events. */
function session(
  server: ReturnType<typeof memoryServer>,
  more: Partial<ChatSessionOptions> = {},
): { session: ChatSession; events: ClientEvent[] } {
  const events: ClientEvent[] = [];
  const s = new ChatSession({
    connect: server.connect,
    host: "example.org",
    port: 5500,
    name: "abc",
    timeoutMs: 10_000,
    onEvent: (e) => events.push(e),
    ...more,
  });
  return { session: s, events };
}

/** Resolves once `done()` holds; fails after 5 s with `what`. */
async function until(done: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > 5000) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const REGISTERED = { type: "registered", name: "abc", server: "example.org:5500", hint: false };
const ALL_AGREED = {
  type: "negotiated",
  extensions: ["who", "joins", "to", "reason", "unregister", "identity", "mail"],
  maxBody: 65536,
};

Deno.test("ChatSession runs over a connect function it is given, no socket needed", async () => {
  const server = memoryServer();
  const { session: s, events } = session(server);
  assert.deepEqual(await s.open(), { ok: true });
  assert.equal(s.send("xyz", "Hiii"), 1);
  assert.equal(await s.settle(10_000), true);
  await s.leave();
  assert.equal(await s.ended, "left");
  assert.deepEqual(server.written, [
    "REGISTER TOSEND abc\n\n",
    "REGISTER TORECV abc\n\n",
    `TOSEND ${PROBE}`,
    "TOSEND SEND xyz\nContent-length: 4\n\nHiii",
    "TOSEND UNREGISTER abc\n\n",
  ]);
  assert.deepEqual(events, [
    REGISTERED,
    ALL_AGREED,
    { type: "sent", id: 1, to: "xyz" },
    { type: "left", confirmed: true },
  ]);
});

Deno.test("ChatSession reads the negotiated notices, To: ALL and Reason once agreed", async () => {
  const server = memoryServer();
  const { session: s, events } = session(server);
  await s.open();
  await until(() => s.extensions.size === 7, "the negotiation");
  assert.deepEqual([...s.extensions], [
    "who",
    "joins",
    "to",
    "reason",
    "unregister",
    "identity",
    "mail",
  ]);
  assert.equal(s.maxBody, 65536);
  server.toRecv("FORWARD server\nContent-length: 7\nEvent: online\n\nabc def");
  server.toRecv("FORWARD server\nContent-length: 3\nEvent: joined\n\nbob");
  server.toRecv("FORWARD bob\nContent-length: 2\nTo: ALL\n\nhi");
  server.toRecv("FORWARD bob\nContent-length: 2\n\nyo");
  server.toRecv("FORWARD server\nContent-length: 3\nEvent: left\n\nbob");
  server.toRecv("FORWARD server\nContent-length: 9\n\n2 online.");
  assert.equal(s.send("nobody", "x"), 1);
  assert.equal(await s.settle(5000), true);
  await until(() => events.length === 9, "the events");
  assert.deepEqual(events.slice(2), [
    { type: "online", names: ["abc", "def"] },
    { type: "user-joined", name: "bob" },
    { type: "message", from: "bob", text: "hi", toAll: true },
    { type: "message", from: "bob", text: "yo" },
    { type: "user-left", name: "bob" },
    { type: "message", from: "server", text: "2 online." },
    {
      type: "not-delivered",
      id: 1,
      to: "nobody",
      code: 102,
      text: "Unable to send",
      reason: "offline",
    },
  ]);
  // Every notice is acknowledged like a message.
  const acks = server.written.filter((w) => w.startsWith("TORECV RECEIVED"));
  assert.deepEqual(acks, [
    ...["server", "server", "bob", "bob", "server", "server"].map((n) =>
      `TORECV RECEIVED ${n}\n\n`
    ),
  ]);
  await s.close();
});

for (const probe of ["error-102", "plain-sent"] as const) {
  Deno.test(`ChatSession with a base server (${probe} to the probe) sends it base protocol only`, async () => {
    const server = memoryServer(probe);
    const { session: s, events } = session(server);
    await s.open();
    assert.equal(s.send("xyz", "1"), 1);
    assert.equal(s.send("ALL", "2"), 2);
    assert.equal(await s.settle(5000), true);
    // Extension headers from a server that agreed to nothing are not read.
    server.toRecv("FORWARD server\nContent-length: 3\nEvent: joined\n\nbob");
    server.toRecv("FORWARD bob\nContent-length: 2\nTo: ALL\n\nhi");
    await until(() => events.length === 6, "the messages");
    await s.leave();
    assert.deepEqual(events, [
      REGISTERED,
      { type: "negotiated", extensions: [] },
      { type: "sent", id: 1, to: "xyz" },
      { type: "sent", id: 2, to: "ALL" },
      { type: "message", from: "server", text: "bob" },
      { type: "message", from: "bob", text: "hi" },
      { type: "left", confirmed: false, plain: true },
    ]);
    assert.deepEqual(s.extensions, new Set());
    assert.equal(s.maxBody, undefined);
    assert.deepEqual(server.written, [
      "REGISTER TOSEND abc\n\n",
      "REGISTER TORECV abc\n\n",
      `TOSEND ${PROBE}`,
      "TOSEND SEND xyz\nContent-length: 1\n\n1",
      "TOSEND SEND ALL\nContent-length: 1\n\n2",
      "TORECV RECEIVED server\n\n",
      "TORECV RECEIVED bob\n\n",
    ]);
    assert.equal(s.delivered, 2, "the probe is no message");
  });
}

Deno.test("ChatSession sends the probe before the messages typed before it was sent", async () => {
  const server = memoryServer("silent");
  const { session: s, events } = session(server);
  const opening = s.open();
  assert.equal(s.send("xyz", "early"), null, "refused before the session is open");
  await opening;
  assert.equal(s.send("xyz", "1"), 1);
  assert.equal(s.send("xyz", "2"), 2);
  await until(() => server.written.length === 5, "the messages");
  assert.deepEqual(server.written.slice(2), [
    `TOSEND ${PROBE}`,
    "TOSEND SEND xyz\nContent-length: 1\n\n1",
    "TOSEND SEND xyz\nContent-length: 1\n\n2",
  ]);
  // The probe is never answered, so neither are the messages behind it.
  assert.equal(await s.settle(50), false);
  await s.leave(); // waits a second for the answer to the probe, then just closes
  assert.ok(!server.written.some((w) => w.includes("UNREGISTER")));
  assert.deepEqual(events.slice(1), [
    { type: "unconfirmed", id: 1, to: "xyz", why: "you left" },
    { type: "unconfirmed", id: 2, to: "xyz", why: "you left" },
    { type: "left", confirmed: false, plain: true },
  ]);
  assert.deepEqual([s.delivered, s.unconfirmed, s.notSent], [0, 2, 0]);
});

Deno.test("ChatSession holds a FORWARD with headers until the probe is answered", async () => {
  // The answer comes on TOSEND, the notices on TORECV: they may be read in either order.
  const server = memoryServer("silent");
  const { session: s, events } = session(server);
  await s.open();
  server.toRecv("FORWARD def\nContent-length: 5\n\nfirst");
  server.toRecv("FORWARD server\nContent-length: 7\nEvent: online\n\nabc def");
  server.toRecv("FORWARD def\nContent-length: 5\n\nafter");
  await until(() => server.written.filter((w) => w.startsWith("TORECV")).length === 3, "acks");
  assert.deepEqual(events.slice(1), [{ type: "message", from: "def", text: "first" }]);
  server.written.length = 0;
  // Now the answer: the held notice is read with the extensions agreed, then what came after.
  server.replyOn("TOSEND", AGREED);
  await until(() => events.length === 5, "the held events");
  assert.deepEqual(events.slice(2), [
    ALL_AGREED,
    { type: "online", names: ["abc", "def"] },
    { type: "message", from: "def", text: "after" },
  ]);
  await s.close();
});

Deno.test("ChatSession honours only the headers of the extensions the server agreed to", async () => {
  const server = memoryServer();
  const { session: s, events } = session(server, { extensions: ["who"] });
  await s.open();
  await until(() => events.length === 2, "the negotiation");
  assert.deepEqual(events[1], { type: "negotiated", extensions: ["who"] });
  assert.ok(server.written.includes("TOSEND SEND server\nContent-length: 14\n\nEXTENSIONS who"));
  server.toRecv("FORWARD server\nContent-length: 3\nEvent: joined\n\nbob");
  server.toRecv("FORWARD bob\nContent-length: 2\nTo: ALL\n\nhi");
  server.toRecv("FORWARD server\nContent-length: 3\nEvent: online\n\nabc");
  s.send("nobody", "x");
  await s.settle(5000);
  await until(() => events.length === 6, "the events");
  assert.deepEqual(events.slice(2), [
    { type: "message", from: "server", text: "bob" },
    { type: "message", from: "bob", text: "hi" },
    { type: "online", names: ["abc"] },
    { type: "not-delivered", id: 1, to: "nobody", code: 102, text: "Unable to send" },
  ]);
  await s.leave();
  assert.ok(!server.written.some((w) => w.includes("UNREGISTER")), "unregister not agreed");
  assert.deepEqual(events.at(-1), { type: "left", confirmed: false, plain: true });
});

Deno.test("ChatSession follows the answer when its user asks server for extensions", async () => {
  const server = memoryServer();
  const { session: s, events } = session(server);
  await s.open();
  await until(() => s.extensions.size === 7, "the negotiation");
  // Asking again replaces the set at the server: the client must not use what it dropped.
  assert.equal(s.send("server", "EXTENSIONS who"), 1);
  assert.equal(await s.settle(5000), true);
  assert.deepEqual(events.slice(2), [
    { type: "sent", id: 1, to: "server" },
    { type: "negotiated", extensions: ["who"] },
  ]);
  assert.deepEqual([...s.extensions], ["who"]);
  assert.equal(s.maxBody, 65536, "the limit said before still holds");
  await s.leave();
  assert.ok(!server.written.some((w) => w.includes("UNREGISTER")), "unregister was dropped");
  assert.deepEqual(events.at(-1), { type: "left", confirmed: false, plain: true });
});

Deno.test("ChatSession sends no probe for user server, nor with no extensions asked", async () => {
  for (const more of [{ name: "Server" }, { extensions: [] }]) {
    const server = memoryServer();
    const { session: s, events } = session(server, more);
    await s.open();
    assert.equal(s.send("xyz", "1"), 1);
    await s.settle(5000);
    await s.leave();
    const name = more.name ?? "abc";
    assert.deepEqual(server.written.map((w) => w.split("\n")[0]), [
      `REGISTER TOSEND ${name}`,
      `REGISTER TORECV ${name}`,
      "TOSEND SEND xyz",
    ]);
    assert.deepEqual(events.slice(1).map((e) => e.type), ["negotiated", "sent", "left"]);
    assert.deepEqual(events[1], { type: "negotiated", extensions: [] });
  }
  assert.throws(
    () => session(memoryServer(), { extensions: ["who joins"] }),
    /Extension name "who joins" is not one word/,
  );
});

Deno.test("ChatSession negotiates again after a reconnect, before the messages queued", async () => {
  const server = memoryServer();
  const { session: s, events } = session(server, {
    reconnect: true,
    reconnectBackoff: { baseMs: 1, capMs: 1, jitter: 0 },
  });
  await s.open();
  await until(() => s.extensions.size === 7, "the first negotiation");
  server.written.length = 0;
  server.drop();
  await until(() => s.reconnecting, "the loss");
  assert.equal(s.extensions.size, 0, "nothing is agreed while reconnecting");
  assert.equal(s.send("xyz", "queued"), 1);
  await until(() => s.extensions.size === 7, "the second negotiation");
  assert.equal(await s.settle(5000), true);
  assert.deepEqual(server.written, [
    "REGISTER TOSEND abc\n\n",
    "REGISTER TORECV abc\n\n",
    `TOSEND ${PROBE}`,
    "TOSEND SEND xyz\nContent-length: 6\n\nqueued",
  ]);
  assert.deepEqual(events.map((e) => e.type), [
    "registered",
    "negotiated",
    "reconnecting",
    "reconnected",
    "negotiated",
    "sent",
  ]);
  await s.leave();
  assert.deepEqual(events.at(-1), { type: "left", confirmed: true });
});

Deno.test("ChatSession reports a connect function's refusal as a refused connection", async () => {
  const refused = new Error("Connection refused (os error 111)");
  refused.name = "ConnectionRefused";
  const session = new ChatSession({
    connect: () => Promise.reject(refused),
    host: "example.org",
    port: 5500,
    name: "abc",
    timeoutMs: 10_000,
    onEvent: () => {},
  });
  const result = await session.open();
  assert.ok(!result.ok && result.event.type === "connect-failed");
  assert.equal(
    !result.ok && result.event.type === "connect-failed" && result.event.reason,
    "refused",
  );
  assert.equal(await session.ended, "disconnected");
});
