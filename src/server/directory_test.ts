/**
 * Unit tests of the in-process user namespace.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LocalDirectory } from "./directory.ts";

Deno.test("LocalDirectory.claim gives each half of a name to one holder", () => {
  const d = new LocalDirectory<string>();
  assert.equal(d.claim("alice", "TOSEND", "conn1"), "claimed");
  assert.equal(d.claim("alice", "TOSEND", "conn1"), "already");
  assert.equal(d.claim("alice", "TOSEND", "conn2"), "taken");
  assert.equal(d.online("alice"), undefined, "half-registered is not online");
  assert.equal(d.claim("alice", "TORECV", "conn2"), "claimed");
  assert.deepEqual(d.online("alice"), { name: "alice", send: "conn1", recv: "conn2" });
});

Deno.test("LocalDirectory.release frees the name only for the entry that holds it", () => {
  const d = new LocalDirectory<string>();
  d.claim("alice", "TOSEND", "conn1");
  const first = d.find("alice")!;
  d.release(first);
  assert.equal(d.find("alice"), undefined);
  assert.deepEqual(first, { name: "alice", send: null, recv: null });
  d.claim("alice", "TOSEND", "conn3");
  d.release(first); // stale: the new alice stays
  assert.equal(d.find("alice")?.send, "conn3");
  assert.deepEqual([...d.users()].map((u) => u.name), ["alice"]);
});
