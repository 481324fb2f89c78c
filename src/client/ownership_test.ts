/**
 * ChatSession and owned names (PROTOCOL.md, "How our client uses it"), against a scripted
 * server over real sockets: making, saving and claiming a key; proving it before each REGISTER
 * on both connections; a name nobody knows any more; a name another key owns; a server that
 * answers CHALLENGE as a base server (ERROR 101, or closing); reconnecting.
 */
import assert from "node:assert/strict";
import type { ClientEvent } from "./engine.ts";
import { generateClientKey } from "./identity.ts";
import {
  identityScript,
  memoryStore,
  ScriptServer,
  session,
  until,
} from "./script_server_testing.ts";

/** The identity events among `events`, as `type status|reason`. */
function identityEvents(events: ClientEvent[]): string[] {
  return events.flatMap((e) =>
    e.type === "identity"
      ? [`identity ${e.status}`]
      : e.type === "identity-failed"
      ? [`identity-failed ${e.reason}`]
      : []
  );
}

Deno.test("ChatSession with no key makes one, saves it and claims the name once identity is agreed", async () => {
  const server = new ScriptServer(identityScript());
  const { store, saved } = memoryStore();
  const { session: s, events } = session(server, { identity: store });
  try {
    assert.deepEqual(await s.open(), { ok: true });
    await until(() => identityEvents(events).includes("identity claimed"), "the claim");
    assert.deepEqual(identityEvents(events), ["identity created", "identity claimed"]);
    assert.equal(saved.length, 1);
    assert.deepEqual([saved[0]!.server, saved[0]!.name], [`127.0.0.1:${server.port}`, "alice"]);
    // Registered plainly; the claim goes on TOSEND, after the negotiation.
    const tosend = server.half("alice", "TOSEND")!;
    assert.deepEqual(tosend.lines.map((l) => l.split(" ").slice(0, 3).join(" ")), [
      "REGISTER TOSEND alice",
      "SEND server EXTENSIONS",
      "SEND server CHALLENGE",
      "SEND server IDENTIFY",
    ]);
    assert.ok(tosend.frames[3]!.body.includes(saved[0]!.key.publicKey));
    assert.deepEqual(server.half("alice", "TORECV")!.lines, ["REGISTER TORECV alice"]);
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession makes no key when the server did not agree to identity, nor without a store", async () => {
  const server = new ScriptServer(identityScript({ agree: "reason mail" }));
  const { store, saved } = memoryStore();
  const a = session(server, { identity: store });
  const b = session(server, {}, "bob");
  try {
    await a.session.open();
    await b.session.open();
    await until(() => a.events.some((e) => e.type === "negotiated"), "alice's negotiation");
    await until(() => b.events.some((e) => e.type === "negotiated"), "bob's negotiation");
    assert.equal(await a.session.settle(1000), true);
    assert.deepEqual([saved.length, identityEvents(a.events)], [0, []]);
    assert.ok(!server.conns.some((c) => c.lines.some((l) => /CHALLENGE|IDENTIFY/.test(l))));
  } finally {
    await a.session.close();
    await b.session.close();
    await server.close();
  }
});

Deno.test("ChatSession with a key proves it on both connections before REGISTER", async () => {
  const server = new ScriptServer(identityScript());
  const { store, saved } = memoryStore(await generateClientKey());
  const { session: s, events } = session(server, { identity: store });
  try {
    assert.deepEqual(await s.open(), { ok: true });
    await until(() => events.some((e) => e.type === "negotiated"), "the negotiation");
    assert.equal(await s.settle(1000), true);
    assert.deepEqual(identityEvents(events), ["identity proven"]);
    assert.deepEqual(events.slice(0, 2).map((e) => e.type), ["registered", "identity"]);
    for (const half of ["TOSEND", "TORECV"] as const) {
      const lines = server.half("alice", half)!.lines.map((l) => l.split(" ").slice(0, 3));
      assert.deepEqual(lines.slice(0, 3).map((l) => l.join(" ")), [
        "SEND server CHALLENGE",
        `SEND server IDENTIFY`,
        `REGISTER ${half} alice`,
      ]);
    }
    assert.equal(saved.length, 0, "the key is not saved again");
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession registers a name the server no longer knows, then claims it again", async () => {
  const server = new ScriptServer(identityScript({
    identify: (c) =>
      c.half === undefined
        ? "SENT server\nIdentity: unclaimed\n\n"
        : "SENT server\nIdentity: claimed\n\n",
  }));
  const { store, saved } = memoryStore(await generateClientKey());
  const { session: s, events } = session(server, { identity: store });
  try {
    assert.deepEqual(await s.open(), { ok: true });
    await until(() => identityEvents(events).includes("identity claimed"), "the claim");
    assert.deepEqual(identityEvents(events), ["identity unclaimed", "identity claimed"]);
    assert.equal(saved.length, 0, "the same key claims it");
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession whose name belongs to another key does not register and ends", async () => {
  const server = new ScriptServer(identityScript({
    identify: () => "ERROR 102 Unable to send\nReason: not-owner\n\n",
  }));
  const { store } = memoryStore(await generateClientKey());
  const { session: s } = session(server, { identity: store });
  try {
    const opened = await s.open();
    assert.equal(opened.ok, false);
    assert.ok(!opened.ok);
    assert.deepEqual(opened.event, {
      type: "identity-failed",
      reason: "not-owner",
      name: "alice",
      server: `127.0.0.1:${server.port}`,
      detail: "ERROR 102 Unable to send (not-owner)",
    });
    assert.equal(s.done, true);
    assert.ok(!server.conns.some((c) => c.lines.some((l) => l.startsWith("REGISTER"))));
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession with a key at a base server (ERROR 101 to CHALLENGE) says no-support and registers plainly", async () => {
  const server = new ScriptServer(identityScript({
    challenge: () => "ERROR 101 No user registered\n\n",
    agree: "",
  }));
  const { store, saved } = memoryStore(await generateClientKey());
  const { session: s, events } = session(server, { identity: store });
  try {
    assert.deepEqual(await s.open(), { ok: true });
    await until(() => events.some((e) => e.type === "negotiated"), "the negotiation");
    assert.equal(await s.settle(1000), true);
    assert.deepEqual(identityEvents(events), ["identity-failed no-support"]);
    assert.equal(server.conns.length, 2, "the same connections");
    assert.deepEqual(server.half("alice", "TORECV")!.lines, [
      "SEND server CHALLENGE",
      "REGISTER TORECV alice",
    ]);
    assert.equal(saved.length, 0);
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession with a key at a server that closes on CHALLENGE registers plainly on new connections", async () => {
  const server = new ScriptServer(identityScript({ challenge: () => "close", agree: "" }));
  const { store } = memoryStore(await generateClientKey());
  const { session: s, events } = session(server, { identity: store });
  try {
    assert.deepEqual(await s.open(), { ok: true });
    await until(() => events.some((e) => e.type === "negotiated"), "the negotiation");
    assert.deepEqual(identityEvents(events), ["identity-failed no-support"]);
    assert.equal(events.findIndex((e) => e.type === "identity-failed"), 0, "said first");
    const fresh = server.conns.filter((c) => c.half !== undefined);
    assert.equal(fresh.length, 2);
    for (const c of fresh) assert.ok(c.lines[0]!.startsWith("REGISTER"), c.lines[0]);
    assert.equal(server.conns.length, 4);
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession reports a refused claim (lookalike) and carries on unowned", async () => {
  const server = new ScriptServer(identityScript({
    identify: () => "ERROR 102 Unable to send\nReason: lookalike\n\n",
  }));
  const { store } = memoryStore();
  const { session: s, events } = session(server, { identity: store });
  try {
    await s.open();
    await until(() => identityEvents(events).length === 2, "the claim's answer");
    assert.deepEqual(identityEvents(events), ["identity created", "identity-failed lookalike"]);
    assert.equal(s.send("bob", "still here"), 1);
    assert.equal(await s.settle(2000), true);
    assert.equal(s.delivered, 1);
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession proves its key again on the connections of each reconnect", async () => {
  const server = new ScriptServer(identityScript());
  const { store } = memoryStore(await generateClientKey());
  const { session: s, events } = session(server, {
    identity: store,
    reconnect: true,
    reconnectBackoff: { baseMs: 10, capMs: 20, jitter: 0 },
  });
  try {
    await s.open();
    await until(() => events.some((e) => e.type === "negotiated"), "the negotiation");
    for (const c of [...server.conns]) c.close();
    await until(() => events.some((e) => e.type === "reconnected"), "the reconnect");
    await until(() => events.filter((e) => e.type === "negotiated").length === 2, "again");
    assert.deepEqual(identityEvents(events), ["identity proven", "identity proven"]);
    const again = server.conns.slice(2);
    assert.equal(again.length, 2);
    for (const c of again) {
      assert.deepEqual(c.lines.slice(0, 2).map((l) => l.split(" ").slice(0, 3).join(" ")), [
        "SEND server CHALLENGE",
        "SEND server IDENTIFY",
      ]);
    }
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession ends its reconnects when the name turned out to be another key's", async () => {
  let owned = true;
  const server = new ScriptServer(identityScript({
    identify: () => owned ? undefined! : "ERROR 102 Unable to send\nReason: not-owner\n\n",
  }));
  const { store } = memoryStore(await generateClientKey());
  const { session: s, events } = session(server, {
    identity: store,
    reconnect: true,
    reconnectBackoff: { baseMs: 10, capMs: 20, jitter: 0 },
  });
  try {
    await s.open();
    await until(() => events.some((e) => e.type === "negotiated"), "the negotiation");
    owned = false;
    for (const c of [...server.conns]) c.close();
    assert.equal(await s.ended, "disconnected");
    assert.deepEqual(identityEvents(events), ["identity proven", "identity-failed not-owner"]);
    assert.ok(!events.some((e) => e.type === "reconnect-failed"));
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession holds its messages while it claims the name, so the claim goes first", async () => {
  const server = new ScriptServer(identityScript({
    challenge: () => new Promise((resolve) => setTimeout(() => resolve(undefined), 150)),
  }));
  const { store } = memoryStore();
  const { session: s, events } = session(server, { identity: store });
  try {
    await s.open();
    await until(() => events.some((e) => e.type === "negotiated"), "the negotiation");
    assert.equal(s.send("bob", "after the claim"), 1);
    assert.equal(await s.settle(3000), true);
    assert.deepEqual(identityEvents(events), ["identity created", "identity claimed"]);
    const lines = server.half("alice", "TOSEND")!.lines.map((l) => l.split(" ").slice(0, 3));
    assert.deepEqual(lines.map((l) => l.join(" ")), [
      "REGISTER TOSEND alice",
      "SEND server EXTENSIONS",
      "SEND server CHALLENGE",
      "SEND server IDENTIFY",
      "SEND bob",
    ]);
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession asks for the claim again after ERROR 106, not taking it for a bad proof", async () => {
  let refusals = 2;
  const server = new ScriptServer(identityScript({
    challenge: () => refusals-- > 0 ? "ERROR 106 Rate limit exceeded\n\n" : undefined,
  }));
  const { store } = memoryStore();
  const { session: s, events } = session(server, { identity: store });
  try {
    await s.open();
    await until(() => identityEvents(events).length === 2, "the claim");
    assert.deepEqual(identityEvents(events), ["identity created", "identity claimed"]);
    const challenges = server.half("alice", "TOSEND")!.lines.filter((l) => l.endsWith("CHALLENGE"));
    assert.equal(challenges.length, 3);
  } finally {
    await s.close();
    await server.close();
  }
});

Deno.test("ChatSession whose key cannot be read does not connect and says the store's sentence", async () => {
  const server = new ScriptServer(identityScript());
  const store = {
    load: () =>
      Promise.reject(new Error('Identity file "/k.json" cannot be used (it is not JSON): ...')),
    save: () => Promise.resolve(),
  };
  const { session: s } = session(server, { identity: store });
  try {
    const opened = await s.open();
    assert.ok(!opened.ok);
    assert.equal(opened.event.type, "identity-failed");
    assert.match(JSON.stringify(opened.event), /Identity file \\"\/k\.json\\" cannot be used/);
    assert.equal(server.conns.length, 0, "never connected");
    assert.equal(s.done, true);
  } finally {
    await s.close();
    await server.close();
  }
});
