import assert from "node:assert/strict";
import { decodeHistory, encodeHistory, HISTORY, historyKey, rejoinName } from "./history.ts";
import {
  type MessageItem,
  PageState,
  RELOAD_UNCONFIRMED,
  type SavedPage,
  type Sender,
} from "./state.ts";

const { maxChars: MAX_CHARS, maxConversations: MAX_CONVERSATIONS, maxEntries: MAX_ENTRIES } =
  HISTORY;

const SERVER = "127.0.0.1:8080";
const EXPECTED = { server: SERVER, name: "alice" };
const T0 = new Date(2026, 11, 3, 9, 30).getTime();

/** A page of alice's with a conversation with bob, one with carol, and marks of each kind. */
function busyPage(): PageState {
  let now = T0;
  const state = new PageState(() => now++);
  let id = 0;
  const sender: Sender = {
    full: false,
    reconnecting: false,
    maxQueued: 100,
    send: () => ++id,
  };
  state.join("alice", SERVER);
  state.apply({ type: "registered", name: "alice", server: SERVER, hint: false });
  state.opened();
  state.apply({ type: "message", from: "bob", text: "hi alice" });
  state.apply({ type: "message", from: "carol", text: "one" });
  state.apply({ type: "message", from: "carol", text: "two" });
  state.select("bob");
  state.send("delivered to bob", sender); // 1
  state.apply({ type: "sent", id: 1, to: "bob" });
  state.send("still pending", sender); // 2
  state.openConversation("dave");
  state.send("stored for dave", sender); // 3
  state.apply({ type: "stored", id: 3, to: "dave", mail: 7 });
  state.select("bob");
  return state;
}

function encoded(page: SavedPage): string {
  const text = encodeHistory(page);
  assert.ok(text !== null);
  return text;
}

/** The stored JSON of a busy page, as an object to spoil. */
function storedObject(): Record<string, unknown> {
  return JSON.parse(encoded(busyPage().saved()));
}

Deno.test("historyKey names the origin and the name", () => {
  assert.equal(historyKey("https://chat.example", "bob"), "chat.history https://chat.example bob");
});

Deno.test("encodeHistory and decodeHistory bring back conversations, unread counts and marks", () => {
  const before = busyPage();
  const page = decodeHistory(encoded(before.saved()), EXPECTED);
  assert.ok(page !== null);
  assert.deepEqual(page, before.saved());

  const after = new PageState();
  after.restore(page);
  assert.equal(after.self, "alice");
  assert.equal(after.selected, "bob");
  assert.deepEqual(after.conversations.map((c) => [c.id, c.unread]), [
    ["ALL", 0],
    ["bob", 0],
    ["carol", 2],
    ["dave", 0],
  ]);
  const marks = after.conversations.flatMap((c) =>
    c.items.filter((i): i is MessageItem => i.kind === "message" && i.own)
      .map((i) => [i.text, i.state])
  );
  assert.deepEqual(marks, [
    ["delivered to bob", "delivered"],
    ["still pending", "unconfirmed"],
    ["stored for dave", "stored"],
  ]);
});

Deno.test("decodeHistory ignores what is not JSON of a page, without throwing", () => {
  const deep = "[".repeat(200_000) + "]".repeat(200_000);
  for (
    const text of [
      null,
      undefined,
      42,
      "",
      "{",
      "null",
      "[]",
      "42",
      '"alice"',
      "{}",
      '{"v":1}',
      deep,
      '{"__proto__":{"v":1},"self":"alice"}',
    ]
  ) {
    assert.equal(decodeHistory(text, EXPECTED), null, String(text).slice(0, 40));
  }
});

Deno.test("decodeHistory ignores another version of the page's format", () => {
  for (const v of [0, 2, HISTORY.version + 1, "1", null, undefined]) {
    const o = storedObject();
    o.v = v;
    assert.equal(decodeHistory(JSON.stringify(o), EXPECTED), null, String(v));
  }
});

Deno.test("decodeHistory ignores the history of another name or server", () => {
  const text = encoded(busyPage().saved());
  assert.equal(decodeHistory(text, { server: SERVER, name: "bob" }), null);
  assert.equal(decodeHistory(text, { server: "127.0.0.1:9", name: "alice" }), null);
});

Deno.test("decodeHistory ignores a page with any field of the wrong kind", () => {
  // deno-lint-ignore no-explicit-any
  type Spoil = (o: Record<string, any>) => void;
  const spoils: [string, Spoil][] = [
    ["self not a name", (o) => o.self = "<b>alice</b>"],
    ["conversations not a list", (o) => o.conversations = {}],
    ["no conversations", (o) => o.conversations = []],
    ["Everyone not first", (o) => o.conversations.reverse()],
    ["twice the same", (o) => o.conversations.push(o.conversations[1])],
    ["an id not a name", (o) => o.conversations[1].id = "a b"],
    ["unread negative", (o) => o.conversations[2].unread = -1],
    ["unread a fraction", (o) => o.conversations[2].unread = 1.5],
    ["unread text", (o) => o.conversations[2].unread = "2"],
    ["items not a list", (o) => o.conversations[1].items = "x"],
    ["an item null", (o) => o.conversations[1].items.push(null)],
    ["an unknown kind", (o) => o.conversations[1].items[0].kind = "html"],
    ["a time not a date", (o) => o.conversations[1].items[0].at = 1e300],
    ["a negative time", (o) => o.conversations[1].items[0].at = -5],
    ["a time as text", (o) => o.conversations[1].items[0].at = "today"],
    ["a text not text", (o) => o.conversations[1].items[0].text = { html: "<b>" }],
    ["a bad state", (o) => o.conversations[1].items[1].state = "sent"],
    ["received by me", (o) => o.conversations[1].items[1].state = "received"],
    ["own from another", (o) => o.conversations[1].items[1].from = "mallory"],
    ["a bad tone", (o) => o.conversations[0].items[0].tone = "html"],
    ["a bad sentAt", (o) => o.conversations[1].items[0].sentAt = "x"],
    ["a bad mail", (o) => o.conversations[1].items[0].mail = -1],
    ["toldOffline not names", (o) => o.toldOffline = ["<i>"]],
    ["too many entries", (o) => {
      const item = o.conversations[1].items[0];
      o.conversations[1].items = Array(MAX_ENTRIES + 1).fill(item);
    }],
    ["too many conversations", (o) => {
      for (let i = 0; i < MAX_CONVERSATIONS; i++) {
        o.conversations.push({ id: `p${i}`, unread: 0, items: [] });
      }
    }],
  ];
  for (const [what, spoil] of spoils) {
    const o = storedObject();
    spoil(o);
    assert.equal(decodeHistory(JSON.stringify(o), EXPECTED), null, what);
  }
});

Deno.test("decodeHistory keeps markup as text and makes control characters visible", () => {
  const o = storedObject() as { conversations: { items: { text: string }[] }[] };
  o.conversations[1]!.items[0]!.text = '<img src=x onerror="alert(1)">\x1b[31m\nline two';
  const page = decodeHistory(JSON.stringify(o), EXPECTED);
  assert.equal(
    page?.conversations[1]?.items[0]?.text,
    '<img src=x onerror="alert(1)">^[[31m\nline two',
  );
});

Deno.test("decodeHistory selects Everyone when the selected conversation is not kept", () => {
  const o = storedObject();
  o.selected = "zed";
  assert.equal(decodeHistory(JSON.stringify(o), EXPECTED)?.selected, "ALL");
});

Deno.test("decodeHistory never throws on a damaged history, and whatever it gives back restores", () => {
  const text = encoded(busyPage().saved());
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const junk = ['"', "{", "}", "[", "]", ",", ":", "0", "-1", "null", "true", "\\", "x", "é"];
  for (let i = 0; i < 3000; i++) {
    let spoiled = text;
    for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
      const at = Math.floor(random() * spoiled.length);
      const cut = Math.floor(random() * 4);
      const put = random() < 0.3 ? "" : junk[Math.floor(random() * junk.length)]!;
      spoiled = spoiled.slice(0, at) + put + spoiled.slice(at + cut);
    }
    const page = decodeHistory(spoiled, EXPECTED);
    if (page !== null) new PageState().restore(page);
  }
  for (let end = 0; end < text.length; end += 7) {
    assert.equal(decodeHistory(text.slice(0, end), EXPECTED), null);
  }
});

Deno.test("decodeHistory ignores a value longer than the storage ever holds", () => {
  const text = encoded(busyPage().saved());
  assert.equal(decodeHistory(text + " ".repeat(MAX_CHARS), EXPECTED), null);
  assert.ok(decodeHistory(text + " ".repeat(10), EXPECTED) !== null);
});

Deno.test("encodeHistory keeps the last MAX_ENTRIES entries of each conversation", () => {
  const state = new PageState();
  state.join("alice", SERVER);
  for (let i = 0; i < MAX_ENTRIES + 20; i++) {
    state.apply({ type: "message", from: "bob", text: `m${i}` });
  }
  const page = decodeHistory(encoded(state.saved()), EXPECTED);
  const items = page?.conversations[1]?.items ?? [];
  assert.equal(items.length, MAX_ENTRIES);
  assert.equal(items[0]?.text, "m20");
  assert.equal(items.at(-1)?.text, `m${MAX_ENTRIES + 19}`);
  assert.equal(page?.conversations[1]?.unread, MAX_ENTRIES + 20);
});

Deno.test("encodeHistory stays under the character cap, dropping the oldest of long conversations", () => {
  const state = new PageState();
  state.join("alice", SERVER);
  state.apply({ type: "message", from: "carol", text: "short and kept" });
  for (let i = 0; i < 300; i++) {
    state.apply({ type: "message", from: "bob", text: `${i} ${"x".repeat(1000)}` });
  }
  const chars = 50_000;
  const text = encodeHistory(state.saved(), { chars });
  assert.ok(text !== null && text.length <= chars, String(text?.length));
  const page = decodeHistory(text, EXPECTED, chars);
  const bob = page?.conversations.find((c) => c.id === "bob")?.items ?? [];
  assert.ok(bob.length > 0 && bob.length < 300, String(bob.length));
  assert.match(bob.at(-1)?.text ?? "", /^299 /);
  assert.equal(page?.conversations.find((c) => c.id === "carol")?.items.length, 1);
  // Not even the conversations fit: nothing is kept.
  assert.equal(encodeHistory(state.saved(), { chars: 20 }), null);
});

Deno.test("PageState.restore marks a message that had no answer as not confirmed, not resent", () => {
  const page = decodeHistory(encoded(busyPage().saved()), EXPECTED)!;
  const state = new PageState();
  state.restore(page);
  const pending = state.conversation("bob")?.items.find((i) =>
    i.kind === "message" &&
    i.text === "still pending"
  ) as MessageItem;
  assert.equal(pending.state, "unconfirmed");
  assert.equal(pending.why, RELOAD_UNCONFIRMED);
});

Deno.test("rejoinName takes only a valid username", () => {
  assert.equal(rejoinName("bob"), "bob");
  for (const bad of ["", "ALL", "a b", "<script>", 7, null, undefined, "x".repeat(65)]) {
    assert.equal(rejoinName(bad), null, String(bad));
  }
});
