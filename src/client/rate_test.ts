/** The ERROR 106 resend policy: holds, their waits, one at a time, and giving up. */
import assert from "node:assert/strict";
import { RatePolicy, type RatePolicySettings } from "./rate.ts";

function policy(extra: Partial<RatePolicySettings> = {}): { rate: RatePolicy; waited: number[] } {
  const waited: number[] = [];
  const rate = new RatePolicy({
    backoff: { baseMs: 1, capMs: 1, jitter: 0 },
    rounds: 5,
    random: () => 0.5,
    onWaited: () => waited.push(1),
    ...extra,
  });
  return { rate, waited };
}

Deno.test("RatePolicy holds after a refusal and resumes once waited with nothing on the wire", async () => {
  const { rate, waited } = policy();
  assert.equal(rate.refused(true), "resend");
  assert.equal(rate.holding, true);
  assert.equal(rate.refused(true), "resend", "a second refusal joins the same hold");
  assert.equal(rate.resume(0), false, "not before the wait is over");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(waited, [1]);
  assert.equal(rate.resume(1), false, "not while a message sent before awaits its answer");
  assert.equal(rate.resume(0), true);
  assert.equal(rate.holding, false);
});

Deno.test("RatePolicy.window is one message at a time after a refusal, until nothing is pending", () => {
  const { rate } = policy();
  assert.equal(rate.window(32, 3), 32);
  rate.refused(true);
  rate.clear();
  rate.refused(false);
  assert.equal(rate.window(32, 3), 1);
  assert.equal(rate.window(32, 0), 32);
  assert.equal(rate.window(32, 3), 32);
});

Deno.test("RatePolicy gives up after its rounds with nothing delivered, then starts afresh", () => {
  const { rate } = policy({ rounds: 0 });
  assert.equal(rate.refused(true), "give-up-all");
  assert.equal(rate.refused(true), "give-up", "the last hold gives up every refusal");
  assert.equal(rate.resume(0), true);
  assert.equal(rate.refused(true), "give-up-all", "a new round after the last hold ended");
  rate.clear();
});

Deno.test("RatePolicy gives up at once once the session cannot resend", () => {
  const { rate } = policy();
  assert.equal(rate.refused(false), "give-up");
  assert.equal(rate.holding, false);
});

Deno.test("RatePolicy.delivered starts the rounds again", async () => {
  const { rate } = policy({ rounds: 1 });
  assert.equal(rate.refused(true), "resend");
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(rate.resume(0), true);
  rate.delivered();
  assert.equal(rate.refused(true), "resend", "a delivery in between: not a second strike");
  rate.clear();
});
