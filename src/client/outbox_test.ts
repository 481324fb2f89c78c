/** The outbox of a client session: order, its limit, and refused messages put back. */
import assert from "node:assert/strict";
import { Outbox } from "./outbox.ts";

const text = new TextDecoder();
const drain = (o: Outbox) => o.takeAll().map((m) => `${m.to}:${text.decode(m.body)}`);

Deno.test("Outbox keeps messages in the order typed, up to its limit", () => {
  const o = new Outbox(2);
  assert.equal(o.add("a", "1")?.id, 1);
  assert.equal(o.add("b", "2")?.id, 2);
  assert.equal(o.full, true);
  assert.equal(o.add("c", "3"), null);
  assert.equal(o.length, 2);
  assert.deepEqual(drain(o), ["a:1", "b:2"]);
  assert.equal(o.full, false);
  assert.equal(new Outbox(0).limit, 1, "at least one message may wait");
});

Deno.test("Outbox.putBack returns a refused message to its place by the order typed", () => {
  const o = new Outbox(10);
  for (const n of ["1", "2", "3"]) o.add("x", n);
  const first = o.shift()!;
  const second = o.shift()!;
  o.putBack(second);
  o.putBack(first);
  assert.deepEqual(drain(o), ["x:1", "x:2", "x:3"]);
});

Deno.test("Outbox.takeRefused takes out only the messages refused before", () => {
  const o = new Outbox(10);
  for (const n of ["1", "2", "3"]) o.add("x", n);
  const first = o.shift()!;
  first.refusals = 1;
  o.putBack(first);
  assert.deepEqual(o.takeRefused().map((m) => m.id), [first.id]);
  assert.deepEqual(drain(o), ["x:2", "x:3"]);
});
