/**
 * Running the benchmark from a test: `bench/main.ts` with the bench task's permissions, its
 * JSON results read from standard output. The bench smoke tests share it.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { BenchResults } from "../bench/main.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** What {@link runBench} returns: the parsed results and the human-readable report. */
export interface BenchRun {
  /** The JSON results (`--out -`). */
  res: BenchResults;
  /** Standard error: the tables and notes the bench prints for people. */
  stderr: string;
}

/**
 * Runs `deno run ... bench/main.ts ARGS --out -` from the repository root and returns its
 * results; fails the test (with the bench's standard error) when it does not exit 0.
 */
export async function runBench(args: string[]): Promise<BenchRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "bench/main.ts",
      ...args,
      "--out",
      "-",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `bench exited with ${out.code}:\n${stderr}`);
  return { res: JSON.parse(new TextDecoder().decode(out.stdout)) as BenchResults, stderr };
}
