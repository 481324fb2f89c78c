/**
 * Unit tests of the rate limit's token buckets and the admission check, with the time passed in.
 *
 * @module
 */
import assert from "node:assert/strict";
import { admission, TokenBuckets } from "./limits.ts";

Deno.test("TokenBuckets allows a burst, then the average rate", () => {
  const b = new TokenBuckets(2, 3);
  assert.deepEqual([1, 2, 3, 4].map(() => b.take("alice", 0)), [true, true, true, false]);
  assert.equal(b.take("bob", 0), true, "each name has its own bucket");
  assert.equal(b.take("alice", 499), false);
  assert.equal(b.take("alice", 500), true, "one token every 500 ms at 2 per second");
});

Deno.test("TokenBuckets.forgetFull drops only the buckets that have refilled", () => {
  const b = new TokenBuckets(1, 2);
  b.take("alice", 0);
  b.take("bob", 0);
  b.take("bob", 0);
  b.forgetFull(1000);
  assert.equal(b.size, 1, "alice is full again at 1 s, bob is not");
  b.forgetFull(2000);
  assert.equal(b.size, 0);
});

Deno.test("TokenBuckets with rate 0 never refuses and keeps nothing", () => {
  const b = new TokenBuckets(0, 1);
  for (let i = 0; i < 10; i++) assert.equal(b.take("alice", 0), true);
  assert.equal(b.size, 0);
});

Deno.test("admission says why a connection is refused, or nothing", () => {
  const limits = { maxConnections: 2, maxPerAddress: 1 };
  assert.equal(admission(limits, false, 1, 1, "1.2.3.4"), "");
  assert.equal(admission(limits, true, 1, 1, "1.2.3.4"), "the server is shutting down");
  assert.equal(admission(limits, false, 3, 1, "1.2.3.4"), "the server already has 2 connections");
  assert.equal(admission(limits, false, 2, 2, "1.2.3.4"), "1.2.3.4 already has 1 connections");
  assert.equal(admission({ maxConnections: 0, maxPerAddress: 0 }, false, 99, 99, "h"), "");
});
