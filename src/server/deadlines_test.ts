import assert from "node:assert/strict";
import { SweepPacer } from "./deadlines.ts";

Deno.test("SweepPacer sweeps at every tick that comes on time", () => {
  const pacer = new SweepPacer(100, 0);
  assert.deepEqual([100, 210, 300, 399].map((t) => pacer.due(t)), [true, true, true, true]);
});

Deno.test("SweepPacer skips a tick that comes two intervals late, never two in a row", () => {
  const pacer = new SweepPacer(100, 0);
  // The process stood still from 100 to 900: that tick lets the input that waited be read.
  assert.equal(pacer.due(100), true);
  assert.equal(pacer.due(900), false);
  assert.equal(pacer.due(1000), true);
  // Late again and again (a server kept busy): every other tick still sweeps.
  assert.deepEqual([1500, 2000, 2500, 3000].map((t) => pacer.due(t)), [false, true, false, true]);
});
