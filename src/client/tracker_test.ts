/** LineTracker: which printed lines the screen can still reach to change their mark. */
import assert from "node:assert/strict";
import { LineTracker } from "./tracker.ts";

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
