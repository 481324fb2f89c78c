/**
 * ChatSession and mail for offline users (PROTOCOL.md, "Mail for offline users"), against a
 * scripted server over real sockets: a stored message, its receipt, mail delivered with its
 * time, duplicates (delivery is at least once) acknowledged but reported once, and no mail
 * header read unless `mail` was agreed.
 */
import assert from "node:assert/strict";
import type { ClientEvent } from "./engine.ts";
import type { SeenMail } from "./options.ts";
import {
  identityScript,
  memoryStore,
  ScriptServer,
  session,
  until,
} from "./script_server_testing.ts";

const AT = "2026-12-02T23:10:00.000Z";

/** The events of the given types among `events`. */
function only(events: ClientEvent[], ...types: ClientEvent["type"][]): ClientEvent[] {
  return events.filter((e) => types.includes(e.type));
}

/** A FORWARD with `headers` after Content-length. */
function forward(from: string, body: string, ...headers: string[]): string {
  const head = [`FORWARD ${from}`, `Content-length: ${new TextEncoder().encode(body).length}`];
  return [...head, ...headers].join("\n") + "\n\n" + body;
}

/** A server that stores every message to `bob` as mail 17, 18, ... */
function mailServer(agree?: string): ScriptServer {
  let next = 17;
  return new ScriptServer(identityScript({
    ...(agree !== undefined ? { agree } : {}),
    send: (_c, to) => to === "bob" ? `SENT bob\nMail: ${next++}\n\n` : `SENT ${to}\n\n`,
  }));
}

Deno.test("ChatSession reports a stored message, settles it, and gives its receipt the message's id", async () => {
  const server = mailServer();
  const { session: s, events } = session(server);
  try {
    await s.open();
    assert.equal(s.send("xyz", "live"), 1);
    assert.equal(s.send("bob", "for later"), 2);
    assert.equal(await s.settle(2000), true, "a stored message is answered");
    assert.deepEqual(only(events, "sent", "stored"), [
      { type: "sent", id: 1, to: "xyz" },
      { type: "stored", id: 2, to: "bob", mail: 17 },
    ]);
    assert.deepEqual([s.delivered, s.stored, s.awaitingReceipts, s.notDelivered], [1, 1, 1, 0]);
    const torecv = server.half("alice", "TORECV")!;
    const receipt = forward("server", "bob", "Event: delivered", "Mail: 17", `Sent-at: ${AT}`);
    torecv.write(receipt);
    torecv.write(receipt); // at least once: the same receipt again
    torecv.write(forward("server", "bob", "Event: expired", "Mail: 5", `Sent-at: ${AT}`));
    assert.equal(await s.receipts(2000), true);
    await until(() => torecv.lines.filter((l) => l === "RECEIVED server").length === 3, "acks");
    assert.deepEqual(only(events, "receipt"), [
      { type: "receipt", mail: 17, to: "bob", event: "delivered", sentAt: Date.parse(AT), id: 2 },
      { type: "receipt", mail: 5, to: "bob", event: "expired", sentAt: Date.parse(AT) },
    ]);
    assert.equal(s.awaitingReceipts, 0);
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession shows mail with its time once, however many times it is delivered", async () => {
  const server = mailServer();
  const { session: s, events } = session(server);
  try {
    await s.open();
    await until(() => s.extensions.has("mail"), "the negotiation");
    const torecv = server.half("alice", "TORECV")!;
    torecv.write(forward("bob", "one", "Mail: 3", `Sent-at: ${AT}`));
    torecv.write(forward("bob", "two", "Mail: 4", `Sent-at: ${AT}`));
    torecv.write(forward("bob", "one", "Mail: 3", `Sent-at: ${AT}`));
    torecv.write(forward("bob", "live"));
    await until(() => torecv.lines.filter((l) => l === "RECEIVED bob").length === 4, "acks");
    await until(() => only(events, "message").length === 3, "the messages");
    assert.deepEqual(only(events, "message"), [
      { type: "message", from: "bob", text: "one", mail: 3, sentAt: Date.parse(AT) },
      { type: "message", from: "bob", text: "two", mail: 4, sentAt: Date.parse(AT) },
      { type: "message", from: "bob", text: "live" },
    ]);
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession drops mail and receipts an earlier run showed (IdentityStore.seenMail), and notes what it shows", async () => {
  const server = mailServer();
  const before = Date.parse("2026-11-01T00:00:00.000Z");
  // Mail 3 and receipt 9 were shown; mail 5 of another time was another message (the server's
  // data was replaced since, and its ids began again).
  const shown = new Set([`m 3 ${Date.parse(AT)}`, `r 9 ${Date.parse(AT)}`, `m 5 ${before}`]);
  const asked: string[] = [];
  const seen: SeenMail = { has: (k) => shown.has(k), add: (k) => void shown.add(k) };
  const { store } = memoryStore();
  const identity = {
    ...store,
    seenMail: (server: string, name: string) => {
      asked.push(`${server} ${name}`);
      return seen;
    },
  };
  const { session: s, events } = session(server, { identity });
  try {
    await s.open();
    await until(() => s.extensions.has("mail"), "the negotiation");
    const torecv = server.half("alice", "TORECV")!;
    torecv.write(forward("bob", "one", "Mail: 3", `Sent-at: ${AT}`)); // shown before the crash
    torecv.write(forward("bob", "two", "Mail: 4", `Sent-at: ${AT}`));
    torecv.write(forward("bob", "three", "Mail: 5", `Sent-at: ${AT}`));
    torecv.write(forward("server", "bob", "Event: delivered", "Mail: 9", `Sent-at: ${AT}`));
    torecv.write(forward("server", "bob", "Event: delivered", "Mail: 10", `Sent-at: ${AT}`));
    await until(() => torecv.lines.filter((l) => l.startsWith("RECEIVED ")).length === 5, "acks");
    await until(() => only(events, "message", "receipt").length === 3, "the new mail");
    assert.deepEqual(only(events, "message"), [
      { type: "message", from: "bob", text: "two", mail: 4, sentAt: Date.parse(AT) },
      { type: "message", from: "bob", text: "three", mail: 5, sentAt: Date.parse(AT) },
    ]);
    assert.deepEqual(only(events, "receipt").map((e) => e.type === "receipt" && e.mail), [10]);
    assert.ok(shown.has(`m 4 ${Date.parse(AT)}`) && shown.has(`r 10 ${Date.parse(AT)}`));
    assert.deepEqual(asked, [`127.0.0.1:${server.port} alice`], "opened once");
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession reads no mail header unless the server agreed to mail", async () => {
  const server = mailServer("who joins to reason unregister");
  const { session: s, events } = session(server);
  try {
    await s.open();
    await until(() => s.extensions.has("reason"), "the negotiation");
    assert.equal(s.send("bob", "hi"), 1);
    assert.equal(await s.settle(2000), true);
    const torecv = server.half("alice", "TORECV")!;
    torecv.write(forward("bob", "one", "Mail: 3", `Sent-at: ${AT}`));
    torecv.write(forward("bob", "one", "Mail: 3", `Sent-at: ${AT}`));
    torecv.write(forward("server", "bob", "Event: delivered", "Mail: 17", `Sent-at: ${AT}`));
    await until(() => only(events, "message").length === 3, "the messages");
    assert.deepEqual(only(events, "sent", "stored"), [{ type: "sent", id: 1, to: "bob" }]);
    assert.deepEqual(only(events, "message"), [
      { type: "message", from: "bob", text: "one" },
      { type: "message", from: "bob", text: "one" },
      { type: "message", from: "server", text: "bob" },
    ]);
    assert.deepEqual([s.stored, s.awaitingReceipts], [0, 0]);
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession reads mail written before the answer to its negotiation, in order", async () => {
  const server = new ScriptServer(identityScript({
    beforeAgree: (c) => {
      const torecv = server.half(c.name!, "TORECV")!;
      torecv.write(forward("bob", "early", "Mail: 1", `Sent-at: ${AT}`));
      torecv.write(forward("bob", "after"));
    },
  }));
  const { session: s, events } = session(server);
  try {
    await s.open();
    await until(() => only(events, "message").length === 2, "the messages");
    assert.deepEqual(only(events, "message"), [
      { type: "message", from: "bob", text: "early", mail: 1, sentAt: Date.parse(AT) },
      { type: "message", from: "bob", text: "after" },
    ]);
  } finally {
    await s.close();
    await server.close();
  }
});
