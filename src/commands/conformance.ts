/**
 * `chat conformance`: checks someone else's implementation against PROTOCOL.md, case by case,
 * the way a teacher grades it. `chat conformance server HOST[:PORT]` runs the server cases
 * (src/conformance/server_cases.ts) against a running server: a line per case as it runs, then
 * the failures with their rule and bytes, then the score; or JSON or JUnit XML for graders and
 * CI.
 *
 * @module
 */
import { parseCommandLine, parseDuration, UsageError } from "./cli.ts";
import { formatAddress } from "../net/address.ts";
import { type CaseReport, type Report, runCases } from "../conformance/case.ts";
import {
  formatCaseLine,
  formatFailures,
  formatScore,
  toJson,
  toJunit,
} from "../conformance/report.ts";
import { SERVER_CASES, type ServerTarget } from "../conformance/server_cases.ts";
import { writeJunitFile } from "../conformance/junit_file.ts";

/** Usage line of `chat conformance server`. */
export const CONFORMANCE_USAGE: string = "Usage: chat conformance server HOST[:PORT] [options]";

/** Usage lines of `chat conformance`, both modes. */
export const CONFORMANCE_MODES_USAGE = `${CONFORMANCE_USAGE}
       chat conformance client [options] -- COMMAND [ARGS...]
       chat conformance client [options] --listen PORT`;

/** Help text of `chat conformance` (each mode has its own: chat conformance server --help). */
export const CONFORMANCE_MODES_HELP = `${CONFORMANCE_MODES_USAGE}

Checks an implementation written by anyone against PROTOCOL.md, case by case,
the way a teacher grades it: a line per case, each failure with its rule and
the bytes sent, expected and received, and a score.

Modes:
  server     Check a running server at HOST[:PORT]
  client     Check a client by playing a scripted server
Each has its own help: chat conformance server --help, and so for client.

Exit codes: 0 every case passed, 1 a case failed, 2 usage error.
More: README.md, section "Checking an implementation".
`;

/** Default port of the server to check, as for `chat client`. */
export const DEFAULT_CONFORMANCE_PORT = 5500;
/** Default time one case may take, in milliseconds. */
export const DEFAULT_CASE_TIMEOUT_MS = 10_000;

/** Help text of `chat conformance server`: one screen; README.md has the rest. */
export const CONFORMANCE_HELP = `${CONFORMANCE_USAGE}

Checks a chat server written by anyone against PROTOCOL.md, the way a teacher
grades it: a line per case as it runs, then each failure with its rule, what
was sent, expected and received (bytes escaped, as in "SENT bob\\n\\n"), then
the score. Each case has a time limit and connections and names of its own.

Arguments:
  HOST[:PORT]       The server to check (default port ${DEFAULT_CONFORMANCE_PORT}; IPv6 as [::1]:5500)

Options:
  --timeout TIME    Longest time one case may take (default ${DEFAULT_CASE_TIMEOUT_MS / 1000}s)
  --extensions      Also run our extensions' cases (ERROR 104, UNREGISTER...)
  --json            The report as JSON on standard output (case lines: stderr)
  --junit FILE      The report as JUnit XML in FILE ("-": standard output)
  -h, --help        Show this help

Examples:
  chat conformance server 127.0.0.1
  chat conformance server 10.0.0.5:5500 --json > report.json

Exit codes: 0 every case passed, 1 a case failed or the server cannot be
reached, 2 usage error. More: README.md, section "Checking an implementation".
`;

const OPTIONS = {
  timeout: { type: "string" },
  json: { type: "boolean" },
  junit: { type: "string" },
  extensions: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Entry point of `chat conformance`: returns the process exit code. */
export async function conformanceMain(args: string[]): Promise<number> {
  const [mode, ...rest] = args;
  if (mode === undefined) {
    throw new UsageError('Missing mode: use "server" or "client".', CONFORMANCE_MODES_USAGE);
  }
  if (mode === "-h" || mode === "--help" || mode === "help") {
    console.log(CONFORMANCE_MODES_HELP.trimEnd());
    return 0;
  }
  if (mode === "client") {
    return await (await import("./conformance_client.ts")).conformanceClientMain(rest);
  }
  if (mode !== "server") {
    throw new UsageError(
      `Unknown mode "${mode}": use "server" or "client".`,
      CONFORMANCE_MODES_USAGE,
    );
  }
  return await conformanceServerMain(rest);
}

/** What `chat conformance server` was asked to do. */
interface ServerRun {
  target: ServerTarget;
  label: string;
  timeoutMs: number;
  extensions: boolean;
  json: boolean;
  junit: string | undefined;
}

/** Parses the arguments after `chat conformance server`, or throws a {@link UsageError}. */
function parseServerRun(args: string[]): ServerRun | "help" {
  const { values: v, positionals } = parseCommandLine(args, OPTIONS, CONFORMANCE_USAGE);
  if (v.help) return "help";
  const [address, extra] = positionals;
  if (address === undefined) {
    throw new UsageError("Missing server: give HOST or HOST:PORT.", CONFORMANCE_USAGE);
  }
  if (extra !== undefined) {
    throw new UsageError(`Unexpected argument "${extra}".`, CONFORMANCE_USAGE);
  }
  const { host, port } = parseTargetAddress(address);
  const timeoutMs = typeof v.timeout === "string"
    ? parseDuration(v.timeout, "--timeout", CONFORMANCE_USAGE)
    : DEFAULT_CASE_TIMEOUT_MS;
  const junit = typeof v.junit === "string" ? v.junit : undefined;
  if (junit === "") {
    throw new UsageError('Invalid --junit "": give a file name, or "-".', CONFORMANCE_USAGE);
  }
  if (v.json === true && junit === "-") {
    throw new UsageError(
      'Use --json or "--junit -", not both: only one report fits on standard output.',
      CONFORMANCE_USAGE,
    );
  }
  return {
    target: { hostname: host, port, waitMs: timeoutMs },
    label: formatAddress(host, port),
    timeoutMs,
    extensions: v.extensions === true,
    json: v.json === true,
    junit,
  };
}

/**
 * Parses `HOST`, `HOST:PORT`, `[IPV6]` or `[IPV6]:PORT` (a bare IPv6 address too), or throws
 * a {@link UsageError}.
 */
export function parseTargetAddress(text: string): { host: string; port: number } {
  const t = text.trim();
  let host = t;
  let port: string | undefined;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(t);
  if (bracket) {
    host = bracket[1] ?? "";
    port = bracket[2];
  } else if (/^[^:]*:[^:]*$/.test(t)) {
    [host = "", port] = t.split(":");
  }
  if (host === "" || /[\s\[\]\/@]/.test(host)) {
    throw new UsageError(
      `Invalid server "${text}": give a host name or an IP address, with :PORT if needed.`,
      CONFORMANCE_USAGE,
    );
  }
  if (port === undefined) return { host, port: DEFAULT_CONFORMANCE_PORT };
  const n = /^\d{1,5}$/.test(port) ? Number(port) : 0;
  if (n < 1 || n > 65535) {
    throw new UsageError(
      `Invalid port in "${text}": use a number from 1 to 65535.`,
      CONFORMANCE_USAGE,
    );
  }
  return { host, port: n };
}

/** `chat conformance server`: checks the server, prints the report, returns the exit code. */
async function conformanceServerMain(args: string[]): Promise<number> {
  const run = parseServerRun(args);
  if (run === "help") {
    console.log(CONFORMANCE_HELP.trimEnd());
    return 0;
  }
  const unreachable = await probe(run.target, run.label, run.timeoutMs);
  if (unreachable !== null) {
    console.error(unreachable);
    return 1;
  }
  // Case lines go where the machine-readable report does not.
  const toStdout = !run.json && run.junit !== "-";
  const progress = (line: string) => toStdout ? console.log(line) : console.error(line);
  let n = 0;
  if (toStdout) progress(`Checking the server at ${run.label}:\n`);
  const report = await runCases(run.target, run.label, SERVER_CASES, {
    timeoutMs: run.timeoutMs,
    extensions: run.extensions,
    onCase: (r: CaseReport) => progress(formatCaseLine(r, ++n)),
  });
  printReport(report, run, progress);
  const problem = run.junit !== undefined && run.junit !== "-"
    ? await writeJunitFile(run.junit, report)
    : null;
  if (problem !== null) console.error(problem);
  return report.failed === 0 && problem === null ? 0 : 1;
}

/** Prints the failures and score (as text, JSON or JUnit on standard output). */
function printReport(report: Report, run: ServerRun, progress: (line: string) => void): void {
  const failures = formatFailures(report);
  if (failures !== "") progress(`\n${failures}`);
  progress(`\n${formatScore(report)}`);
  if (run.json) console.log(toJson(report));
  else if (run.junit === "-") console.log(toJunit(report).trimEnd());
}

/** Null if the server accepts a connection, else the sentence to print. */
async function probe(
  target: ServerTarget,
  label: string,
  timeoutMs: number,
): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = Deno.connect({ hostname: target.hostname, port: target.port });
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const result = await Promise.race([attempt, timedOut]);
    if (result === "timeout") {
      attempt.then((c) => c.close(), () => {});
      return `Cannot reach the server at "${label}": no answer within ${timeoutMs} ms.`;
    }
    result.close();
    return null;
  } catch (error) {
    const text = String(error);
    const why = error instanceof Deno.errors.ConnectionRefused || /refused/i.test(text)
      ? "the connection was refused; check that the server is running on that port"
      : /lookup|not known|ENOTFOUND/i.test(text)
      ? "no such host name"
      : error instanceof Error
      ? error.message
      : text;
    return `Cannot reach the server at "${label}": ${why}.`;
  } finally {
    clearTimeout(timer);
  }
}
