/**
 * The web client's engine and page state over the real WebSocket edge, without a browser: a
 * `ChatSession` on {@link webSocketConnect} (Deno's WebSocket is the browser's API) talks with a
 * `ChatSession` on TCP through one server, and the page's state shows what a browser user sees.
 */
import assert from "node:assert/strict";
import { ChatSession, type ClientEvent, DEFAULT_EXTENSIONS } from "../client/engine.ts";
import { connect } from "../net/transport.ts";
import { type ChatServer, startServer } from "../server/server.ts";
import { PAGE_CSS, PAGE_HTML } from "./page.ts";
import { type MessageItem, PageState } from "./state.ts";
import { webSocketConnect } from "./ws_conn.ts";
import { keyRecordStore } from "./identity_store.ts";

/** A server with a web port (no script: these tests need only /ws). */
function webServer(ports: { port: number; web: number } = { port: 0, web: 0 }) {
  return startServer({
    hostname: "127.0.0.1",
    port: ports.port,
    web: {
      port: ports.web,
      assets: {
        html: PAGE_HTML,
        css: PAGE_CSS,
        script: () => Promise.resolve({ ok: false, reason: "No script in this test." }),
      },
    },
  });
}

/** Waits until `done()` holds, checking every few milliseconds; fails saying `what` after 10 s. */
async function until(what: string, done: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A browser-like user: a session over WebSocket feeding a page state. */
function webUser(server: ChatServer, name: string, fast = false) {
  const state = new PageState();
  const events: ClientEvent[] = [];
  const web = server.web!;
  const session = new ChatSession({
    host: "127.0.0.1",
    port: web.port,
    name,
    timeoutMs: 5_000,
    connect: webSocketConnect(`ws://127.0.0.1:${web.port}/ws`),
    reconnect: true,
    extensions: DEFAULT_EXTENSIONS,
    ...(fast ? { reconnectBackoff: { baseMs: 50, capMs: 200, jitter: 0 } } : {}),
    onEvent: (e) => {
      events.push(e);
      state.apply(e);
    },
  });
  return { state, events, session };
}

const mine = (state: PageState, id: string) =>
  (state.conversation(id)?.items ?? []).filter((i): i is MessageItem => i.kind === "message");

Deno.test("ChatSession over webSocketConnect converses with a TCP user through the web edge", async () => {
  const server = await webServer();
  const alice = webUser(server, "alice");
  const bobSaw: ClientEvent[] = [];
  const bob = new ChatSession({
    host: "127.0.0.1",
    port: server.port,
    name: "bob",
    timeoutMs: 5_000,
    connect,
    onEvent: (e) => bobSaw.push(e),
  });
  try {
    const opened = await alice.session.open();
    assert.ok(opened.ok, JSON.stringify(opened));
    alice.state.join("alice", alice.session.server);
    alice.state.opened();
    assert.ok((await bob.open()).ok);
    await until("bob in alice's Online list", () => alice.state.isOnline("bob") === true);
    alice.state.select("bob");
    assert.equal(alice.state.send("hi bob, from a browser ✓", alice.session), "sent");
    await until("bob's message", () => bobSaw.some((e) => e.type === "message"));
    assert.deepEqual(
      bobSaw.find((e) => e.type === "message"),
      { type: "message", from: "alice", text: "hi bob, from a browser ✓" },
    );
    await until("the delivered mark", () => mine(alice.state, "bob")[0]?.state === "delivered");
    bob.send("alice", "hello alice\nfrom a terminal");
    bob.send("ALL", "to everyone");
    await until(
      "bob's two messages",
      () => mine(alice.state, "bob").length === 2 && mine(alice.state, "ALL").length === 1,
    );
    assert.equal(mine(alice.state, "bob")[1]!.text, "hello alice\nfrom a terminal");
    assert.equal(mine(alice.state, "ALL")[0]!.from, "bob");
    assert.equal(alice.state.conversation("ALL")!.unread, 1);
  } finally {
    await alice.session.leave();
    await bob.leave();
    await server.close({ drain: false });
  }
  assert.ok(alice.events.some((e) => e.type === "left" && e.confirmed), "left with UNREGISTERED");
});

Deno.test("ChatSession over webSocketConnect reconnects when the server comes back", async () => {
  let server = await webServer();
  const ports = { port: server.port, web: server.web!.port };
  const alice = webUser(server, "alice", true);
  try {
    alice.state.join("alice", "here");
    assert.ok((await alice.session.open()).ok);
    alice.state.opened();
    await server.close({ drain: false });
    await until("Reconnecting…", () => alice.state.status === "Reconnecting…");
    alice.state.send("sent while away", alice.session);
    server = await webServer(ports);
    await until("Reconnected", () => alice.state.status === "Reconnected");
    const shown = mine(alice.state, "ALL");
    await until("the queued message's answer", () => shown[0]?.state !== "pending");
    // Nobody else is online: the queued message to everyone reached no one.
    assert.equal(shown[0]!.state, "failed");
    assert.equal(shown[0]!.why, "Your message reached no one: nobody else is online.");
  } finally {
    await alice.session.leave();
    await server.close({ drain: false });
  }
});

Deno.test("a web user with the record store owns its name and gets mail kept while away", async () => {
  const server = await webServer();
  const records = new Map<string, unknown>();
  const store = keyRecordStore({
    get: (key) => Promise.resolve(structuredClone(records.get(key))),
    put: (key, value) => Promise.resolve(void records.set(key, structuredClone(value))),
  });
  const web = (name: string) => {
    const user = webUser(server, name);
    const session = new ChatSession({
      host: "127.0.0.1",
      port: server.web!.port,
      name,
      timeoutMs: 5_000,
      connect: webSocketConnect(`ws://127.0.0.1:${server.web!.port}/ws`),
      extensions: DEFAULT_EXTENSIONS,
      identity: store,
      onEvent: (e) => {
        user.events.push(e);
        user.state.apply(e);
      },
    });
    return { ...user, session };
  };
  const bobSaw: ClientEvent[] = [];
  const bob = new ChatSession({
    host: "127.0.0.1",
    port: server.port,
    name: "bob",
    timeoutMs: 5_000,
    connect,
    extensions: DEFAULT_EXTENSIONS,
    onEvent: (e) => bobSaw.push(e),
  });
  let alice = web("alice");
  try {
    assert.ok((await alice.session.open()).ok);
    await until(
      "the claim",
      () =>
        alice.events.some((e) =>
          (e.type === "identity" && e.status === "claimed") || e.type === "identity-failed"
        ),
    );
    assert.deepEqual(
      alice.events.filter((e) => e.type.startsWith("identity")).map((e) =>
        e.type === "identity" ? e.status : e.type
      ),
      ["created", "claimed"],
    );
    assert.equal(records.size, 1, "the key is kept");
    await alice.session.leave();
    assert.ok((await bob.open()).ok);
    bob.send("alice", "while you were away");
    await until("stored", () => bobSaw.some((e) => e.type === "stored"));
    alice = web("alice");
    alice.state.join("alice", "here");
    assert.ok((await alice.session.open()).ok, "the kept key proves the name");
    alice.state.opened();
    await until("the mail", () => mine(alice.state, "bob").length === 1);
    const [mail] = mine(alice.state, "bob");
    assert.equal(mail!.text, "while you were away");
    assert.equal(typeof mail!.sentAt, "number", "it says when it was sent");
    await until("bob's receipt", () => bobSaw.some((e) => e.type === "receipt"));
    const taken = web("alice");
    const refused = await taken.session.open();
    assert.ok(!refused.ok && refused.nameRefused, "the name is taken while alice is online");
  } finally {
    await alice.session.leave();
    await bob.leave();
    await server.close({ drain: false });
  }
});
