/**
 * Unit tests of the hot path's helpers: FORWARDs encoded from a per-sender head, and the list
 * helper that keeps a queue's storage.
 *
 * @module
 */
import assert from "node:assert/strict";
import { encode, encodeForward, forwardHead } from "../protocol/mod.ts";
import { takeFirst } from "./lists.ts";

Deno.test("encodeForward writes the bytes encode writes for a FORWARD, at every length", () => {
  for (const from of ["a", "alice", "x".repeat(64)]) {
    const head = forwardHead(from);
    for (const length of [0, 1, 9, 10, 11, 99, 100, 999, 1000, 65535, 65536]) {
      const body = new Uint8Array(length).map((_, i) => i % 251);
      assert.deepEqual(encodeForward(head, body), encode({ type: "FORWARD", from, body }));
    }
  }
});

Deno.test("takeFirst takes elements in order, from one or many", () => {
  const list = [1];
  assert.equal(takeFirst(list), 1);
  assert.equal(takeFirst(list), undefined);
  list.push(2, 3, 4);
  assert.deepEqual([takeFirst(list), takeFirst(list), takeFirst(list)], [2, 3, 4]);
  assert.equal(list.length, 0);
  list.push(5);
  assert.equal(takeFirst(list), 5);
});
