/**
 * Smoke test of `deno task bench --scenario offline --quick`: a real `chat server --data`, owned
 * names, mail stored for offline owners, a restart, and one mailbox delivered. It checks what the
 * figures say about correctness (every stored message delivered once, in order), never speed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runBench } from "./bench_run.ts";

Deno.test("bench --scenario offline --quick stores, restarts and delivers a whole mailbox", async () => {
  const { res, stderr } = await runBench(["--scenario", "offline", "--quick"]);
  assert.deepEqual(res.runs, [], "offline alone: no relay runs");
  const [r] = res.offline ?? [];
  assert.ok(r, "an offline result");
  assert.equal(r.transport, "node");
  assert.ok(r.stored > 0 && r.storedPerSec > 0, `stored ${r.stored}`);
  assert.deepEqual(r.errors, {}, "every SEND to an offline owner was stored");
  assert.ok(r.totalStored >= r.stored + r.config.mailbox);
  assert.ok(r.dbBytes > r.totalStored * 64, "the bodies are in the file");
  assert.equal(r.walBytes, 0, "a clean stop leaves no WAL");
  assert.equal(r.delivered, r.config.mailbox);
  assert.equal(r.duplicates, 0);
  assert.equal(r.outOfOrder, 0);
  assert.match(stderr, /offline \(mail for offline owners/);
  assert.match(stderr, /-message mailbox {2}delivered in/);
});
