/** LineTracker: which printed lines the screen can still reach to change their mark. */
import assert from "node:assert/strict";
import { LineTracker, MAX_TRACKED_ROWS } from "./tracker.ts";

Deno.test("LineTracker counts the rows printed below a line", () => {
  const t = new LineTracker();
  t.printed(2, 1);
  t.printed(3);
  t.printed(1, 2);
  assert.equal(t.take(1, 24, 1), 6);
  assert.equal(t.take(2, 24, 1), 1);
  assert.equal(t.take(2, 24, 1), null, "taken once");
});

Deno.test("LineTracker gives up on a line scrolled off the screen", () => {
  const t = new LineTracker();
  t.printed(1, 1);
  t.printed(22);
  assert.equal(t.take(1, 24, 1), 23, "on the top row");
  t.printed(1, 2);
  t.printed(22);
  assert.equal(t.take(2, 24, 2), null, "a two-row prompt pushed it off");
  t.printed(1, 3);
  t.clear();
  assert.equal(t.take(3, 24, 1), null);
});

Deno.test("LineTracker keeps a line whose mark may change again, until it leaves the screen", () => {
  const t = new LineTracker();
  t.printed(1, 1);
  t.printed(2);
  assert.equal(t.take(1, 24, 1, true), 3, "one tick");
  t.printed(1);
  assert.equal(t.take(1, 24, 1), 4, "two ticks, on the same row");
  assert.equal(t.take(1, 24, 1), null, "then no longer tracked");
  t.printed(1, 2);
  t.printed(30);
  assert.equal(t.take(2, 24, 1, true), null, "scrolled off");
  t.printed(1);
  assert.equal(t.size, 0, "and forgotten");
});

Deno.test("LineTracker forgets lines over MAX_TRACKED_ROWS up, so printing stays cheap", () => {
  const t = new LineTracker();
  for (let id = 1; id <= 100; id++) t.printed(1, id);
  assert.equal(t.size, 100);
  t.printed(MAX_TRACKED_ROWS);
  assert.equal(t.size, 0);
});
