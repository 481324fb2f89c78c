/** The conversation's state (who is online, the connection) and the composing of messages. */
import assert from "node:assert/strict";
import { Composer, Conversation } from "./conversation.ts";

Deno.test("Composer joins a line ending in a backslash with the next", () => {
  const c = new Composer();
  assert.equal(c.take(["one \\"]), null);
  assert.equal(c.continuing, true);
  assert.deepEqual(c.take(["two"]), ["one ", "two"]);
  assert.deepEqual(c.take(["a", "b"]), ["a", "b"]);
  assert.deepEqual(c.take(["path C:\\\\"]), ["path C:\\\\"], "an escaped backslash ends the line");
});

Deno.test("Conversation.online sorts the names ignoring case and replaces the list", () => {
  const c = new Conversation();
  c.apply({ type: "negotiated", extensions: ["who", "joins"] });
  c.apply({ type: "online", names: ["bob", "Alice", "carl"] });
  assert.deepEqual(c.online, ["Alice", "bob", "carl"]);
  c.apply({ type: "user-joined", name: "Dan" });
  c.apply({ type: "user-left", name: "bob" });
  assert.deepEqual(c.online, ["Alice", "carl", "Dan"]);
  c.apply({ type: "online", names: ["x"] });
  assert.deepEqual(c.online, ["x"]);
  c.apply({ type: "reconnecting", server: "h:1", lost: true, detail: "", delayMs: 1 });
  assert.equal(c.online, null);
  assert.equal(c.status(), "reconnecting");
});
