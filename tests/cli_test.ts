/**
 * Tests of the shared command-line helpers: value parsers and plain-worded usage errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  parseCommandLine,
  parseCount,
  parseDuration,
  parsePort,
  parseSize,
  UsageError,
} from "../src/commands/cli.ts";

const USAGE = "Usage: test";

Deno.test("parseDuration reads seconds, milliseconds, minutes, hours and days", () => {
  assert.equal(parseDuration("30", "--t", USAGE), 30_000);
  assert.equal(parseDuration("30s", "--t", USAGE), 30_000);
  assert.equal(parseDuration("500ms", "--t", USAGE), 500);
  assert.equal(parseDuration("2m", "--t", USAGE), 120_000);
  assert.equal(parseDuration("0.5s", "--t", USAGE), 500);
  assert.equal(parseDuration("1ms", "--t", USAGE), 1);
  assert.equal(parseDuration("2h", "--t", USAGE), 7_200_000);
  assert.equal(parseDuration("7d", "--t", USAGE), 604_800_000);
  // A value that is not a timer may be longer, up to the maximum given.
  assert.equal(parseDuration("365d", "--t", USAGE, 365 * 86_400_000), 365 * 86_400_000);
  assert.throws(() => parseDuration("366d", "--t", USAGE, 365 * 86_400_000), /1 ms to 365 days/);
});

Deno.test("parseDuration refuses zero, garbage, what rounds to under 1 ms and over 24 days", () => {
  for (
    const bad of ["0", "0s", "0.4ms", "0.0001s", "-1s", "soon", "", "1y", "1e3", "36000m", "25d"]
  ) {
    assert.throws(
      () => parseDuration(bad, "--timeout", USAGE),
      (e) => e instanceof UsageError && e.message.startsWith(`Invalid --timeout "${bad}"`),
      bad,
    );
  }
});

Deno.test("parsePort accepts 1 to 65535, and 0 only when asked", () => {
  assert.equal(parsePort("5500", USAGE), 5500);
  assert.equal(parsePort("0", USAGE, true), 0);
  for (const bad of ["0", "65536", "99999", "abc", "55.5", "-1", ""]) {
    assert.throws(() => parsePort(bad, USAGE), UsageError, bad);
  }
});

Deno.test("parseSize reads bytes with k and m units", () => {
  assert.equal(parseSize("65536", "--s", USAGE), 65536);
  assert.equal(parseSize("64k", "--s", USAGE), 65536);
  assert.equal(parseSize("1M", "--s", USAGE), 1024 * 1024);
  assert.equal(parseSize("8KiB", "--s", USAGE), 8192);
  for (const bad of ["0", "k", "1g", "-5", "1.5k"]) {
    assert.throws(() => parseSize(bad, "--s", USAGE), UsageError, bad);
  }
});

Deno.test("parseCount accepts whole numbers, and 0 only when allowed", () => {
  assert.equal(parseCount("7", "--n", USAGE), 7);
  assert.equal(parseCount("0", "--n", USAGE, true), 0);
  assert.throws(() => parseCount("0", "--n", USAGE), UsageError);
  assert.throws(() => parseCount("1.5", "--n", USAGE), UsageError);
});

Deno.test("parseCommandLine turns node:util errors into plain usage errors", () => {
  const options = { port: { type: "string" }, quiet: { type: "boolean" } } as const;
  assert.throws(
    () => parseCommandLine(["--bogus"], options, USAGE),
    (e) =>
      e instanceof UsageError && e.message === 'Unknown option "--bogus".' && e.usage === USAGE,
  );
  assert.throws(
    () => parseCommandLine(["--port"], options, USAGE),
    (e) => e instanceof UsageError && e.message === 'Option "--port" needs a value.',
  );
  const { values, positionals } = parseCommandLine(["a", "--port", "1", "b"], options, USAGE);
  assert.equal(values.port, "1");
  assert.deepEqual(positionals, ["a", "b"]);
});
