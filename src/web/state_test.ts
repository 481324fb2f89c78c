import assert from "node:assert/strict";
import {
  type MessageItem,
  type NoticeItem,
  PageState,
  RELOAD_UNCONFIRMED,
  type Sender,
} from "./state.ts";

const T0 = new Date(2026, 11, 3, 9, 30).getTime();

/** A page joined as `self`, and a sender that hands out ids from 1. */
function joined(self = "alice") {
  let now = T0;
  const state = new PageState(() => now);
  const sent: [string, string][] = [];
  const sender: Sender & { open: boolean; full: boolean } = {
    open: true,
    full: false,
    reconnecting: false,
    maxQueued: 100,
    send(to, text) {
      if (!this.open || this.full) return null;
      sent.push([to, text]);
      return sent.length;
    },
  };
  assert.ok(state.join(self, "127.0.0.1:8080"));
  state.apply({ type: "registered", name: self, server: "127.0.0.1:8080", hint: false });
  state.opened();
  return { state, sender, sent, tick: (ms: number) => now += ms };
}

const items = (s: PageState, id: string) => s.conversation(id)?.items ?? [];
const messages = (s: PageState, id: string) =>
  items(s, id).filter((i): i is MessageItem => i.kind === "message");
const notices = (s: PageState, id: string) =>
  items(s, id).filter((i): i is NoticeItem => i.kind === "notice").map((n) => n.text);

Deno.test("PageState.join refuses a name the server would refuse, in the alert", () => {
  const state = new PageState();
  assert.equal(state.join("", "h:1"), false);
  assert.equal(state.alert, "Enter a username.");
  assert.equal(state.join("bad name", "h:1"), false);
  assert.equal(
    state.alert,
    'Invalid username "bad name": use 1 to 64 letters and digits (and not "ALL").',
  );
  assert.equal(state.join("ALL", "h:1"), false);
  assert.equal(state.phase, "join");
  assert.ok(state.join("alice", "h:1"));
  assert.equal(state.alert, "");
  assert.equal(state.phase, "joining");
  assert.equal(state.status, "Connecting…");
});

Deno.test("PageState.joinFailed shows the taken-name sentence and lets the user try again", () => {
  const state = new PageState();
  state.join("bob", "127.0.0.1:8080");
  state.joinFailed({ type: "name-refused", name: "bob", code: 104, text: "Username taken" });
  assert.equal(state.phase, "join");
  assert.equal(state.status, "Offline");
  assert.equal(
    state.alert,
    'The username "bob" is taken: someone online uses it, or it (or a lookalike) belongs to ' +
      "someone's key on this server. Choose another.",
  );
  assert.ok(state.join("bob2", "127.0.0.1:8080"));
  assert.equal(state.alert, "");
});

Deno.test("PageState.joinFailed says a WebSocket that did not open in the page's words", () => {
  const state = new PageState();
  state.join("bob", "127.0.0.1:8080");
  state.joinFailed({
    type: "connect-failed",
    server: "127.0.0.1:8080",
    host: "127.0.0.1",
    reason: "other",
    detail: "the WebSocket to ws://127.0.0.1:8080/ws did not open.",
    timeoutMs: 10_000,
  });
  assert.equal(
    state.alert,
    'Cannot connect to "127.0.0.1:8080": the WebSocket to ws://127.0.0.1:8080/ws did not open. ' +
      "Join again once it is back.",
  );
  assert.doesNotMatch(state.alert, /--|chat server`/);
});

Deno.test("PageState status line follows the connection", () => {
  const { state } = joined();
  assert.equal(state.status, "Connected as alice");
  assert.equal(state.phase, "chat");
  state.apply({
    type: "reconnecting",
    server: "127.0.0.1:8080",
    lost: true,
    detail: "the server closed the connection",
    delayMs: 500,
  });
  assert.equal(state.status, "Reconnecting…");
  assert.equal(state.online, null);
  assert.ok(state.canSend, "messages typed while reconnecting wait");
  assert.match(
    notices(state, "ALL").at(-1)!,
    /lost \(the server closed the connection\); reconnecting in 0\.5 s…$/,
  );
  state.apply({ type: "reconnected", name: "alice", server: "127.0.0.1:8080" });
  assert.equal(state.status, "Reconnected");
  assert.equal(notices(state, "ALL").at(-1), "Reconnected as alice on 127.0.0.1:8080.");
  state.apply({
    type: "reconnect-failed",
    server: "127.0.0.1:8080",
    name: "alice",
    code: 104,
    text: "Username taken",
    tries: 5,
  });
  assert.equal(state.status, "Offline");
  assert.match(
    state.alert,
    /still taken .* after 5 tries; .*Join again, with another name if need be\.$/,
  );
  state.ended(false);
  assert.equal(state.phase, "join");
  assert.match(state.alert, /Join again, with another name/);
});

Deno.test("PageState keeps who is online from the online list, joins and leaves", () => {
  const { state } = joined();
  state.apply({ type: "online", names: ["bob", "alice", "Carol"] });
  assert.deepEqual(state.online, ["alice", "bob", "Carol"]);
  state.apply({ type: "user-joined", name: "dave" });
  state.apply({ type: "user-left", name: "bob" });
  assert.deepEqual(state.online, ["alice", "Carol", "dave"]);
  assert.deepEqual(notices(state, "ALL").slice(-2), ["dave joined", "bob left"]);
  assert.equal(state.isOnline("dave"), true);
  assert.equal(state.isOnline("bob"), false);
  assert.equal(state.unread, 0, "notices are not unread messages");
});

Deno.test("PageState puts messages in Everyone or the sender's conversation and counts unread", () => {
  const { state } = joined();
  state.apply({ type: "message", from: "bob", text: "hi all", toAll: true });
  state.apply({ type: "message", from: "bob", text: "hi you" });
  state.apply({ type: "message", from: "carol", text: "<b>x</b>\x1b[31m" });
  assert.deepEqual(state.conversations.map((c) => [c.id, c.unread]), [
    ["ALL", 0],
    ["bob", 1],
    ["carol", 1],
  ]);
  assert.equal(state.unread, 2);
  assert.equal(messages(state, "ALL")[0]!.text, "hi all");
  assert.equal(messages(state, "bob")[0]!.state, "received");
  assert.equal(messages(state, "carol")[0]!.text, "<b>x</b>^[[31m", "kept as text, controls shown");
  state.select("bob");
  assert.equal(state.conversation("bob")!.unread, 0);
  state.apply({ type: "message", from: "bob", text: "again" });
  assert.equal(state.conversation("bob")!.unread, 0, "read while shown");
  state.setVisible(false);
  state.apply({ type: "message", from: "bob", text: "while away" });
  assert.equal(state.conversation("bob")!.unread, 1);
  state.setVisible(true);
  assert.equal(state.conversation("bob")!.unread, 0);
  assert.equal(state.neighbour(1), "carol");
  assert.equal(state.neighbour(-1), "ALL");
  state.select("carol");
  assert.equal(state.neighbour(1), "ALL", "wraps around");
});

Deno.test("PageState shows the user's message pending, then delivered or failed with why", () => {
  const { state, sender, sent } = joined();
  state.select("bob");
  assert.equal(state.send("hello bob", sender), "sent");
  assert.equal(state.send("  ", sender), "empty");
  assert.equal(state.send("are you there", sender), "sent");
  assert.deepEqual(sent, [["bob", "hello bob"], ["bob", "are you there"]]);
  const [first, second] = messages(state, "bob");
  assert.equal(first!.state, "pending");
  assert.ok(first!.own);
  assert.equal(first!.from, "alice");
  state.apply({ type: "sent", id: 1, to: "bob" });
  assert.equal(first!.state, "delivered");
  assert.equal(first!.version, 1);
  state.apply({
    type: "not-delivered",
    id: 2,
    to: "bob",
    code: 102,
    text: "Unable to send",
    reason: "offline",
  });
  assert.equal(second!.state, "failed");
  assert.equal(second!.why, "Not delivered to bob: bob is not online.");
});

Deno.test("PageState says a message to everyone that reached no one, and unsent and unconfirmed ones", () => {
  const { state, sender } = joined();
  state.send("anyone?", sender);
  state.send("one", sender);
  state.send("two", sender);
  state.apply({ type: "sent", id: 1, to: "ALL", delivered: 0, recipients: 0 });
  state.apply({ type: "unconfirmed", id: 2, to: "ALL", why: "the connection was lost" });
  state.apply({ type: "not-sent", id: 3, to: "ALL", why: "you left before it was sent" });
  const [a, b, c] = messages(state, "ALL");
  assert.deepEqual([a!.state, a!.why], [
    "failed",
    "Your message reached no one: nobody else is online.",
  ]);
  assert.deepEqual([b!.state, b!.why], [
    "unconfirmed",
    "Not confirmed to everyone: no answer from the server before the connection was lost.",
  ]);
  assert.deepEqual([c!.state, c!.why], [
    "failed",
    "Not sent to everyone: you left before it was sent.",
  ]);
});

Deno.test("PageState refuses a message over the server's limit or with a full queue, saying why", () => {
  const { state, sender } = joined();
  assert.equal(state.send("12345", { ...sender, maxBody: 4, send: sender.send }), "refused");
  assert.equal(
    notices(state, "ALL").at(-1),
    "Not sent: the message is 5 bytes; the server takes at most 4.",
  );
  sender.full = true;
  assert.equal(state.send("x", sender), "refused");
  assert.match(notices(state, "ALL").at(-1)!, /^Not sent: 100 messages already wait to be sent/);
  sender.full = false;
  sender.open = false;
  assert.equal(state.send("x", sender), "refused");
  assert.equal(
    notices(state, "ALL").at(-1),
    "Not sent: you are not connected. Join again to send.",
  );
  assert.equal(messages(state, "ALL").length, 0);
});

Deno.test("PageState shows stored mail with one tick, then two on its receipt", () => {
  const { state, sender } = joined();
  state.select("bob");
  state.send("see you tomorrow", sender);
  state.send("and bring the book", sender);
  state.apply({ type: "stored", id: 1, to: "bob", mail: 7 });
  state.apply({ type: "stored", id: 2, to: "bob", mail: 8 });
  const [first, second] = messages(state, "bob");
  assert.equal(first!.state, "stored");
  assert.equal(first!.why, "Stored for bob, who is offline.");
  assert.deepEqual(notices(state, "bob"), [
    "bob is offline: ✓ stored for them on the server, ✓✓ once delivered.",
  ], "said once per person");
  state.apply({ type: "receipt", mail: 7, to: "bob", event: "delivered", sentAt: T0, id: 1 });
  assert.equal(first!.state, "delivered");
  assert.equal(first!.why, undefined);
  state.apply({ type: "receipt", mail: 8, to: "bob", event: "expired", sentAt: T0, id: 2 });
  assert.equal(second!.state, "failed");
  assert.equal(
    second!.why,
    'Your message to bob ("and bring the book") of 09:30 expired unread: it waited longer ' +
      "than the server keeps messages. Send it again if it still matters.",
  );
});

Deno.test("PageState tells a receipt of an earlier session in the person's conversation", () => {
  const { state, tick } = joined();
  tick(86_400_000);
  state.apply({ type: "receipt", mail: 3, to: "carol", event: "delivered", sentAt: T0 });
  state.apply({ type: "receipt", mail: 4, to: "carol", event: "refused", sentAt: T0 });
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][new Date(T0).getDay()];
  assert.deepEqual(notices(state, "carol"), [
    `✓✓ carol got your message of ${day} 09:30.`,
    `✗ carol's client refused your message of ${day} 09:30; the server deleted it.`,
  ]);
  const tones = items(state, "carol").map((i) => i.kind === "notice" ? i.tone : "");
  assert.deepEqual(tones, ["good", "problem"]);
});

Deno.test("PageState keeps when a message that waited was sent", () => {
  const { state } = joined();
  state.apply({
    type: "message",
    from: "bob",
    text: "are you there?",
    mail: 5,
    sentAt: T0 - 60_000,
  });
  const [m] = messages(state, "bob");
  assert.equal(m!.sentAt, T0 - 60_000);
  assert.equal(m!.at, T0);
});

Deno.test("PageState tells the name claimed in the browser's words, and a key held elsewhere", () => {
  const { state } = joined();
  state.apply({ type: "identity", status: "created", name: "alice", server: "h:1" });
  state.apply({ type: "identity", status: "claimed", name: "alice", server: "h:1" });
  assert.equal(notices(state, "ALL").length, 2, "registered, then claimed");
  assert.match(
    notices(state, "ALL").at(-1)!,
    /^"alice" now belongs to you on h:1: this browser keeps its key/,
  );
  assert.doesNotMatch(notices(state, "ALL").join(" "), /--identity|chat identity export/);
  state.apply({
    type: "identity-failed",
    reason: "not-owner",
    name: "alice",
    server: "h:1",
    detail: "",
  });
  assert.match(
    state.alert,
    /^"alice" belongs to another key on h:1, not to the one this browser holds/,
  );
  assert.doesNotMatch(state.alert, /--identity/);
});

Deno.test("PageState keeps the conversations when the same name joins again, not for another", () => {
  const { state, sender } = joined();
  state.select("bob");
  state.send("hi", sender);
  state.apply({ type: "left", confirmed: true });
  state.ended(true);
  assert.equal(state.alert, "");
  assert.equal(notices(state, "ALL").at(-1), "Left the chat.");
  assert.ok(state.join("alice", "h:1"));
  assert.equal(messages(state, "bob").length, 1);
  state.opened();
  state.apply({ type: "sent", id: 1, to: "bob" }); // a new session's id 1 is not the old message
  assert.equal(messages(state, "bob")[0]!.state, "pending");
  state.ended(true);
  assert.ok(state.join("zed", "h:1"));
  assert.deepEqual(state.conversations.map((c) => c.id), ["ALL"]);
});

Deno.test("PageState.openConversation opens one with someone offline, or says why not", () => {
  const { state } = joined();
  assert.equal(state.openConversation("bad name"), false);
  assert.match(state.openProblem, /^Invalid username "bad name"/);
  assert.equal(state.selected, "ALL");
  assert.equal(state.openConversation(""), false);
  assert.equal(state.openProblem, "Enter a name.");
  assert.equal(state.openConversation("bob"), true);
  assert.equal(state.openProblem, "");
  assert.equal(state.selected, "bob");
  assert.deepEqual(state.conversations.map((c) => c.id), ["ALL", "bob"]);
});

Deno.test("PageState.inform adds the page's own notice to Everyone", () => {
  const { state } = joined();
  state.inform("Your name stays unowned here.", "problem");
  const last = items(state, "ALL").at(-1);
  assert.equal(last?.kind === "notice" && last.tone, "problem");
  assert.equal(notices(state, "ALL").at(-1), "Your name stays unowned here.");
});

Deno.test("PageState.saved is plain data the page does not change afterwards", () => {
  const { state, sender } = joined();
  state.select("bob");
  state.send("hello", sender);
  const saved = state.saved();
  state.apply({ type: "sent", id: 1, to: "bob" });
  const mine = saved.conversations[1]?.items[0];
  assert.equal(mine?.kind === "message" && mine.state, "pending");
  assert.ok(!("key" in (mine ?? {})) && !("version" in (mine ?? {})));
  assert.equal(saved.self, "alice");
  assert.equal(saved.selected, "bob");
});

Deno.test("PageState.restore brings back conversations, selection, unread counts and marks", () => {
  const { state, sender } = joined();
  state.apply({ type: "message", from: "bob", text: "one" });
  state.apply({ type: "message", from: "bob", text: "two" });
  state.select("carol");
  state.send("delivered", sender);
  state.apply({ type: "sent", id: 1, to: "carol" });
  state.send("no answer yet", sender);
  const before = state.revision;
  const lastKey = Math.max(...state.conversations.flatMap((c) => c.items.map((i) => i.key)));

  const again = new PageState();
  again.restore(state.saved());
  assert.equal(again.self, "alice");
  assert.equal(again.selected, "carol");
  assert.equal(again.conversation("bob")?.unread, 2);
  assert.deepEqual(messages(again, "carol").map((m) => [m.text, m.state, m.why]), [
    ["delivered", "delivered", undefined],
    ["no answer yet", "unconfirmed", RELOAD_UNCONFIRMED],
  ]);
  // Restored into the same page, items get keys after every key handed out.
  state.restore(state.saved());
  assert.ok(state.revision > before);
  assert.ok(state.conversations.every((c) => c.items.every((i) => i.key > lastKey)));
  // A message restored as unconfirmed is not the answer to a new session's message 2.
  assert.ok(state.join("alice", "127.0.0.1:8080"));
  state.opened();
  state.apply({ type: "sent", id: 2, to: "carol" });
  assert.equal(messages(state, "carol")[1]?.state, "unconfirmed");
});

Deno.test("PageState.restore: a message stored for someone offline turns ✓✓ on its receipt", () => {
  const { state, sender } = joined();
  state.select("dave");
  state.send("for later", sender);
  state.apply({ type: "stored", id: 1, to: "dave", mail: 41 });
  assert.equal(messages(state, "dave")[0]?.mail, 41);

  const again = new PageState(() => T0);
  again.restore(state.saved());
  assert.ok(again.join("alice", "127.0.0.1:8080"));
  again.opened();
  assert.equal(messages(again, "dave")[0]?.state, "stored");
  // The receipt of another stored message is a notice; this one's changes the mark.
  again.apply({ type: "receipt", mail: 40, to: "dave", event: "delivered", sentAt: T0 });
  again.apply({ type: "receipt", mail: 41, to: "dave", event: "delivered", sentAt: T0 });
  assert.equal(messages(again, "dave")[0]?.state, "delivered");
  assert.equal(messages(again, "dave")[0]?.why, undefined);
  assert.equal(notices(again, "dave").filter((n) => n.startsWith("✓✓")).length, 1);
});

Deno.test("PageState.restore selects Everyone when the selected conversation is gone", () => {
  const state = new PageState();
  state.restore({
    self: "alice",
    server: "h:1",
    selected: "zed",
    toldOffline: [],
    conversations: [{ id: "ALL", unread: 0, items: [] }],
  });
  assert.equal(state.selected, "ALL");
  assert.deepEqual(state.conversations.map((c) => c.id), ["ALL"]);
});
