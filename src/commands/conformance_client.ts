/**
 * `chat conformance client`: checks a chat client against the protocol by playing a scripted
 * server, either running the client's command for each case or telling a person what to do.
 * Its help, its flags and its exit codes.
 *
 * @module
 */
import { parseCommandLine, parseDuration, parsePort, UsageError } from "./cli.ts";
import { type Report, runCases } from "../conformance/case.ts";
import {
  type ClientTarget,
  DEFAULT_TYPE_TEMPLATE,
  ListenTarget,
  RunTarget,
} from "../conformance/client.ts";
import { CLIENT_CASES } from "../conformance/client_cases.ts";
import { writeJunitFile } from "../conformance/junit_file.ts";
import {
  formatCaseLine,
  formatFailures,
  formatScore,
  toJson,
  toJunit,
} from "../conformance/report.ts";

/** Usage line of `chat conformance client`. */
export const CONFORMANCE_CLIENT_USAGE =
  `Usage: chat conformance client [options] -- COMMAND [ARGS...]
       chat conformance client [options] --listen PORT`;

/** Help text of `chat conformance client`: one screen; README.md has the rest. */
export const CONFORMANCE_CLIENT_HELP = `${CONFORMANCE_CLIENT_USAGE}

Checks a chat client against PROTOCOL.md by playing a scripted server: a line
per case, each failure with what was sent, expected and got, then a score.

Two ways:
  -- COMMAND ARGS...  Run the client once per case; messages are typed into its
                      input. {host}, {port} and {user} in the arguments are
                      replaced by the scripted server's address, port and user.
  --listen PORT       Listen on PORT (0: any) and tell a person, case by case,
                      what to start and type (for clients no script can drive)

Options:
  --type TEMPLATE     How to type a message: {to}, {text}, \\n a line break
                      (default "${DEFAULT_TYPE_TEMPLATE}")
  --timeout TIME      Time each case may take (default 10s; 2m with --listen)
  --json              The report as JSON on standard output
  --junit FILE        The report as JUnit XML in FILE ("-": standard output)
  -h, --help          Show this help

Example: chat conformance client -- chat client {user} {host} --port {port}
Exit codes: 0 all passed, 1 a case failed, 2 usage error. More: README.md.
`;

const OPTIONS = {
  type: { type: "string" },
  timeout: { type: "string" },
  json: { type: "boolean" },
  junit: { type: "string" },
  listen: { type: "string" },
  extensions: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Where the command writes: its report (`out`) and instructions and problems (`err`). */
export interface ConformanceIo {
  /** Writes one line (or block) of the report. */
  out: (text: string) => void;
  /** Writes one line of instructions or a problem. */
  err: (text: string) => void;
}

const CONSOLE: ConformanceIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

/** The parsed command line. */
interface Parsed {
  command: string[];
  listen: number | null;
  typeTemplate: string;
  timeoutMs: number;
  json: boolean;
  junit: string | null;
  extensions: boolean;
}

function parse(args: string[]): Parsed | "help" {
  const dash = args.indexOf("--");
  const own = dash < 0 ? args : args.slice(0, dash);
  const command = dash < 0 ? [] : args.slice(dash + 1);
  const usage = CONFORMANCE_CLIENT_USAGE;
  const { values: v, positionals } = parseCommandLine(own, OPTIONS, usage);
  if (v.help) return "help";
  const str = (k: string) => v[k] as string | undefined;
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${positionals[0]}": put the client's command after "--".`,
      usage,
    );
  }
  const listen = str("listen") !== undefined ? parsePort(str("listen")!, usage, true) : null;
  if (listen === null && command.length === 0) {
    throw new UsageError(
      'Missing client: give its command after "--" (e.g. -- chat client {user} {host} ' +
        "--port {port}), or --listen PORT to run it by hand.",
      usage,
    );
  }
  if (listen !== null && command.length > 0) {
    throw new UsageError('Give either a command after "--" or --listen, not both.', usage);
  }
  const junit = str("junit") ?? null;
  if (junit === "") throw new UsageError('Invalid --junit "": give a file name, or "-".', usage);
  if (v.json === true && junit === "-") {
    throw new UsageError(
      'Use --json or "--junit -", not both: only one report fits on standard output.',
      usage,
    );
  }
  const timeout = str("timeout");
  return {
    command,
    listen,
    typeTemplate: str("type") ?? DEFAULT_TYPE_TEMPLATE,
    timeoutMs: timeout !== undefined
      ? parseDuration(timeout, "--timeout", usage)
      : listen !== null
      ? 120_000
      : 10_000,
    json: v.json === true,
    junit,
    extensions: v.extensions === true,
  };
}

/**
 * Runs the cases against `target`: a line per case as it runs, then the failures and the score,
 * on standard output, or on standard error when a JSON or JUnit report goes there.
 */
async function check(target: ClientTarget, p: Parsed, io: ConformanceIo): Promise<Report> {
  const toStdout = !p.json && p.junit !== "-";
  const progress = toStdout ? io.out : io.err;
  const what = p.listen !== null ? `that connects to ${target.label}` : `"${target.label}"`;
  if (toStdout) progress(`Checking the client ${what}:\n`);
  let n = 0;
  const report = await runCases(target, target.label, CLIENT_CASES, {
    timeoutMs: p.timeoutMs,
    extensions: p.extensions,
    onCase: (r) => progress(formatCaseLine(r, ++n)),
  });
  const failures = formatFailures(report);
  if (failures !== "") progress(`\n${failures}`);
  progress(`\n${formatScore(report)}`);
  if (p.json) io.out(toJson(report));
  else if (p.junit === "-") io.out(toJunit(report).trimEnd());
  return report;
}

/** Starts listening for a person's client; null (after saying why) when the port is not free. */
function listenTarget(p: Parsed, io: ConformanceIo): ListenTarget | null {
  try {
    const target = new ListenTarget({
      port: p.listen ?? 0,
      typeTemplate: p.typeTemplate,
      waitMs: p.timeoutMs,
      say: io.err,
    });
    io.err(
      `Listening on ${target.server.hostname}:${target.server.port}. Each case says what to ` +
        `do; each waits up to ${p.timeoutMs} ms.`,
    );
    return target;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    io.err(`Cannot listen on port "${p.listen}": ${why}`);
    return null;
  }
}

/**
 * Entry point of `chat conformance client`: returns the exit code (0 all passed, 1 a case
 * failed or the run could not start, 2 usage error). `io` says where output goes (default:
 * standard output and standard error).
 */
export async function conformanceClientMain(
  args: string[],
  io: ConformanceIo = CONSOLE,
): Promise<number> {
  let p: Parsed | "help";
  try {
    p = parse(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\n${error.usage}`);
    return 2;
  }
  if (p === "help") {
    io.out(CONFORMANCE_CLIENT_HELP.trimEnd());
    return 0;
  }
  let report: Report;
  if (p.listen !== null) {
    const target = listenTarget(p, io);
    if (target === null) return 1;
    try {
      report = await check(target, p, io);
    } finally {
      await target.stop();
      io.err("Done: you can close your client.");
    }
  } else {
    if (Deno.permissions.querySync({ name: "run" }).state !== "granted") {
      io.err(
        "Running a client needs permission to start programs: run chat with --allow-run " +
          "(deno run --allow-net --allow-read --allow-run main.ts ...), or use --listen.",
      );
      return 1;
    }
    const target = new RunTarget({
      command: p.command,
      typeTemplate: p.typeTemplate,
      waitMs: p.timeoutMs,
    });
    report = await check(target, p, io);
  }
  const problem = p.junit !== null && p.junit !== "-"
    ? await writeJunitFile(p.junit, report)
    : null;
  if (problem !== null) io.err(problem);
  return report.failed === 0 && problem === null ? 0 : 1;
}
