/**
 * The client engine (ChatSession over TCP) against our real server: the negotiated extensions
 * seen from the client's side, as events (PROTOCOL.md, "Negotiation"). Raw wires play users
 * that misbehave on purpose.
 */
import assert from "node:assert/strict";
import { ChatSession, type ChatSessionOptions, type ClientEvent } from "../src/client/engine.ts";
import { connect } from "../src/net/transport.ts";
import type { ServerOptions } from "../src/server/server.ts";
import { withServer } from "./harness.ts";
import type { Wires } from "./wire.ts";

/** A session of `name` at `port` whose events are recorded, open and negotiated. */
interface Session {
  session: ChatSession;
  events: ClientEvent[];
}

/** Opens a session for `name` and waits for the negotiation to end. */
async function join(
  port: number,
  name: string,
  more: Partial<ChatSessionOptions> = {},
): Promise<Session> {
  const events: ClientEvent[] = [];
  const session = new ChatSession({
    connect,
    host: "127.0.0.1",
    port,
    name,
    timeoutMs: 10_000,
    onEvent: (e) => events.push(e),
    ...more,
  });
  assert.deepEqual(await session.open(), { ok: true });
  await until(() => events.some((e) => e.type === "negotiated"), `${name}'s negotiation`);
  return { session, events };
}

/** Resolves once `done()` holds; fails after 10 s with `what`. */
async function until(done: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > 10_000) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The events of `s` of the given types, in order. */
function only<T extends ClientEvent["type"]>(s: Session, ...types: T[]): ClientEvent[] {
  return s.events.filter((e) => (types as string[]).includes(e.type));
}

/** Runs `body` with our server (with `options`) and closes every session it opened. */
async function withSessions(
  options: Partial<ServerOptions>,
  body: (open: (name: string) => Promise<Session>, port: number, w: Wires) => Promise<void>,
): Promise<void> {
  await withServer(options, async (server, w) => {
    const sessions: Session[] = [];
    try {
      await body(
        async (name) => {
          const s = await join(server.port, name);
          sessions.push(s);
          return s;
        },
        server.port,
        w,
      );
    } finally {
      await Promise.all(sessions.map((s) => s.session.close()));
    }
  });
}

const ALL = ["who", "joins", "to", "reason", "unregister", "identity", "mail"];

Deno.test("ChatSession agrees every extension with our server and learns its body limit", async () => {
  await withSessions({ maxBodyBytes: 1000 }, async (open) => {
    const abc = await open("abc");
    assert.deepEqual(only(abc, "negotiated"), [
      { type: "negotiated", extensions: ALL, maxBody: 1000 },
    ]);
    assert.deepEqual([...abc.session.extensions], ALL);
    assert.equal(abc.session.maxBody, 1000);
    await until(() => only(abc, "online").length === 1, "the online list");
    assert.deepEqual(only(abc, "online"), [{ type: "online", names: ["abc"] }]);
    const bob = await open("Bob");
    await until(() => only(bob, "online").length === 1, "bob's online list");
    assert.deepEqual(only(bob, "online"), [{ type: "online", names: ["abc", "Bob"] }]);
    // Asking server "who" is a message like any other; the answer comes as an online list.
    assert.equal(abc.session.send("server", "who"), 1);
    await until(() => only(abc, "online").length === 2, "the answer to who");
    assert.deepEqual(only(abc, "online")[1], { type: "online", names: ["abc", "Bob"] });
    assert.deepEqual(only(abc, "sent"), [{ type: "sent", id: 1, to: "server" }]);
  });
});

Deno.test("ChatSession reports who joins and leaves, and leaves with UNREGISTER", async () => {
  await withSessions({}, async (open) => {
    const abc = await open("abc");
    const bob = await open("bob");
    await until(() => only(abc, "user-joined").length === 1, "bob joined");
    assert.deepEqual(only(abc, "user-joined"), [{ type: "user-joined", name: "bob" }]);
    await bob.session.leave();
    assert.deepEqual(bob.events.at(-1), { type: "left", confirmed: true });
    await until(() => only(abc, "user-left").length === 1, "bob left");
    assert.deepEqual(only(abc, "user-left"), [{ type: "user-left", name: "bob" }]);
    // No notice shows as a message.
    assert.deepEqual(only(abc, "message"), []);
  });
});

Deno.test("ChatSession marks a message sent to everyone, and counts who got it", async () => {
  await withSessions({}, async (open) => {
    const abc = await open("abc");
    // Alone: SENT ALL with nobody to get it.
    assert.equal(abc.session.send("ALL", "anyone?"), 1);
    assert.equal(await abc.session.settle(10_000), true);
    assert.deepEqual(only(abc, "sent"), [
      { type: "sent", id: 1, to: "ALL", delivered: 0, recipients: 0 },
    ]);
    const bob = await open("bob");
    assert.equal(abc.session.send("ALL", "hi all"), 2);
    assert.equal(abc.session.send("bob", "hi bob"), 3);
    assert.equal(await abc.session.settle(10_000), true);
    await until(() => only(bob, "message").length === 2, "bob's messages");
    assert.deepEqual(only(bob, "message"), [
      { type: "message", from: "abc", text: "hi all", toAll: true },
      { type: "message", from: "abc", text: "hi bob" },
    ]);
    assert.deepEqual(only(abc, "sent").slice(1), [
      { type: "sent", id: 2, to: "ALL", delivered: 1, recipients: 1 },
      { type: "sent", id: 3, to: "bob" },
    ]);
  });
});

Deno.test("ChatSession gives the server's reason: offline, too-large, partial", async () => {
  await withSessions({ maxBodyBytes: 100 }, async (open, _port, w) => {
    const abc = await open("abc");
    await open("bob");
    // A user that refuses every FORWARD (it answers ERROR 103), so a broadcast is partial.
    const rude = await w.user("rude");
    assert.equal(abc.session.send("nobody", "hello?"), 1);
    assert.equal(abc.session.send("bob", "x".repeat(101)), 2);
    assert.equal(abc.session.send("ALL", "everyone"), 3);
    const forward = await rude.torecv.next();
    assert.equal(forward.type, "FORWARD");
    await rude.torecv.send("ERROR 103 Header incomplete\n\n");
    assert.equal(await abc.session.settle(10_000), true);
    const failed = only(abc, "not-delivered");
    assert.deepEqual(failed, [
      {
        type: "not-delivered",
        id: 1,
        to: "nobody",
        code: 102,
        text: "Unable to send",
        reason: "offline",
      },
      {
        type: "not-delivered",
        id: 2,
        to: "bob",
        code: 102,
        text: "Unable to send",
        reason: "too-large",
        maxBody: 100,
      },
      {
        type: "not-delivered",
        id: 3,
        to: "ALL",
        code: 102,
        text: "Unable to send",
        reason: "partial",
        delivered: 1,
        recipients: 2,
      },
    ]);
    assert.equal(abc.session.notDelivered, 3);
  });
});

Deno.test("ChatSession with no extensions asked sees our server as a base server", async () => {
  await withServer({}, async (server) => {
    const plain = await join(server.port, "plain", { extensions: [] });
    const abc = await join(server.port, "abc");
    try {
      assert.deepEqual(only(plain, "negotiated"), [{ type: "negotiated", extensions: [] }]);
      assert.equal(abc.session.send("ALL", "hi"), 1);
      assert.equal(abc.session.send("nobody", "hi"), 2);
      assert.equal(await abc.session.settle(10_000), true);
      await until(() => only(plain, "message").length === 1, "the broadcast");
      // No notice of abc joining, no To: ALL mark, and no extension in the answers either.
      assert.deepEqual(plain.events.map((e) => e.type), ["registered", "negotiated", "message"]);
      assert.deepEqual(only(plain, "message"), [{ type: "message", from: "abc", text: "hi" }]);
      assert.equal(plain.session.send("nobody", "x"), 1);
      assert.equal(await plain.session.settle(10_000), true);
      assert.deepEqual(only(plain, "not-delivered"), [
        { type: "not-delivered", id: 1, to: "nobody", code: 102, text: "Unable to send" },
      ]);
      await plain.session.leave();
      assert.deepEqual(plain.events.at(-1), { type: "left", confirmed: false, plain: true });
    } finally {
      await plain.session.close();
      await abc.session.close();
    }
  });
});
