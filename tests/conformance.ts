/**
 * The test suite's adapter to the product's server cases (src/conformance/server_cases.ts):
 * one `Deno.test` (or step) per case, failing with the case's report. The cases themselves
 * live in product code, where `chat conformance server` runs them against anyone's server, so
 * the kit and the tests cannot drift apart.
 *
 * @module
 */
import { type Case, runCases } from "../src/conformance/case.ts";
import { formatFailures } from "../src/conformance/report.ts";
import { SERVER_CASES, type ServerTarget } from "../src/conformance/server_cases.ts";
import type { Addr } from "./wire.ts";

/** The product's server cases, in the order they run. */
export const conformanceCases: readonly Case<ServerTarget>[] = SERVER_CASES;

/** Time one case may take in the tests: generous, the machine may be busy. */
const CASE_TIMEOUT_MS = 30_000;

/**
 * Runs one case against the server at `addr` (extensions on: our server passes every case)
 * and throws, with the case's failure report, unless it passes.
 */
export async function runCase(c: Case<ServerTarget>, addr: Addr): Promise<void> {
  const report = await runCases({ hostname: addr.hostname, port: addr.port }, "ours", [c], {
    timeoutMs: CASE_TIMEOUT_MS,
    extensions: true,
  });
  const r = report.cases[0];
  if (r?.result === "pass") return;
  if (r?.result === "skip") throw new Error(`${c.id} was skipped: ${r.detail}`);
  throw new Error(formatFailures(report));
}

/** A server under test: where it listens, and how to stop it after a case. */
export interface ServerUnderTest {
  /** Its address. */
  addr: Addr;
  /** Stops it (a no-op for a server the tests did not start). */
  close(): Promise<void>;
}

/**
 * Registers one `Deno.test` per conformance case, each against a fresh server from `serve`,
 * named `${prefix}: ${case id}: ${title}`.
 */
export function registerConformanceTests(
  prefix: string,
  serve: () => Promise<ServerUnderTest>,
): void {
  for (const c of conformanceCases) {
    Deno.test(`${prefix}: ${c.id}: ${c.title}`, async () => {
      const server = await serve();
      try {
        await runCase(c, server.addr);
      } finally {
        await server.close();
      }
    });
  }
}
