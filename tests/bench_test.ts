/**
 * Smoke test of the load bench: `bench/main.ts --quick` runs every scenario against the real
 * server and the relay on both transports, exits 0 and prints JSON with the expected figures.
 * It never checks speed: the machines are shared and noisy.
 *
 * The bench runs as a child process with its own permissions; this test only needs to spawn it
 * (`--allow-run`, `--allow-read` for `Deno.execPath()`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { runBench } from "./bench_run.ts";
import type { RunResult } from "../bench/main.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function positive(value: unknown, what: string): void {
  assert.ok(typeof value === "number" && Number.isFinite(value) && value > 0, `${what}: ${value}`);
}

function nonNegative(value: unknown, what: string): void {
  assert.ok(typeof value === "number" && Number.isFinite(value) && value >= 0, `${what}: ${value}`);
}

Deno.test("bench --quick runs every scenario and reports its figures as JSON", async () => {
  const { res } = await runBench(["--quick"]);

  assert.equal(res.schema, 1);
  assert.equal(res.mode, "quick");
  positive(res.durationSec, "durationSec");
  positive(res.env.clockTicks, "env.clockTicks");
  positive(res.env.fdLimit, "env.fdLimit");

  // Every scenario, on both transports, against the server and the relay.
  for (const scenario of ["closed", "open", "broadcast", "scale"]) {
    for (const transport of ["deno", "node"]) {
      for (const target of ["server", "relay"]) {
        const what = `${scenario}/${transport}/${target}`;
        const r = res.runs.find((x: RunResult) =>
          x.scenario === scenario && x.transport === transport && x.target === target
        );
        assert.ok(r, `no run ${what}`);
        positive(r.users, `${what} users`);
        positive(r.windowSec, `${what} windowSec`);
        positive(r.acked, `${what} acked`);
        positive(r.msgsPerSec, `${what} msgsPerSec`);
        positive(r.deliveriesPerSec, `${what} deliveriesPerSec`);
        positive(r.latencyMs.count, `${what} latency count`);
        positive(r.latencyMs.p50, `${what} p50`);
        positive(r.latencyMs.p99, `${what} p99`);
        positive(r.latencyMs.p999, `${what} p99.9`);
        positive(r.rssKiB, `${what} rssKiB`);
        nonNegative(r.cpuUsPerMsg, `${what} cpuUsPerMsg`);
        nonNegative(r.serverCpuPct, `${what} serverCpuPct`);
        if (scenario === "closed") positive(r.cpuUsPerMsg, `${what} cpuUsPerMsg`);
        if (scenario === "closed" || scenario === "scale") {
          assert.ok(r.fairness !== null && r.fairness >= 0 && r.fairness <= 1, `${what} fairness`);
        }
        if (scenario === "broadcast") positive(r.deliveryLatencyMs?.p99, `${what} delivery p99`);
        if (scenario === "scale") nonNegative(r.idleKBPerUser, `${what} idleKBPerUser`);
      }
      const ratio = res.ratios.find((x) => x.scenario === scenario && x.transport === transport);
      assert.ok(ratio, `no ratio for ${scenario}/${transport}`);
      positive(ratio.msgsPerSec, `${scenario}/${transport} ratio msgsPerSec`);
    }
  }
  const goals = new Set(res.goals.map((g) => g.id));
  for (const id of ["cpu", "fairness", "p99", "broadcast-p99", "users", "memory"]) {
    assert.ok(goals.has(id), `goal ${id} missing`);
  }
  assert.ok(res.goals.every((g) => g.comparable === false), "quick goals are not comparable");
});

Deno.test("bench --help and bad flags", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-run", "--allow-read", "bench/main.ts", ...args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    }).output();
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /--scenario NAME/);
  const bad = await run(["--scenario", "nope"]);
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /Unknown scenario "nope"/);
});
