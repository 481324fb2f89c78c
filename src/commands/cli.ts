/**
 * Small helpers shared by the subcommands: usage errors, argument parsing with plain-worded
 * errors, and value parsers for ports and durations.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A mistake in the command line: printed with the usage line, exit code 2. */
export class UsageError extends Error {
  /** The usage line of the command that failed. */
  readonly usage: string;
  /** Creates a usage error with its message and the command's usage line. */
  constructor(message: string, usage: string) {
    super(message);
    this.name = "UsageError";
    this.usage = usage;
  }
}

/** Options of {@link parseCommandLine}: the node:util `parseArgs` option table. */
export type OptionTable = NonNullable<ParseArgsConfig["options"]>;

/** The parsed command line: option values by name, and the positional arguments. */
export interface CommandLine {
  /** Values of the options given, by long name. */
  values: Record<string, string | boolean | undefined>;
  /** Arguments that are not options, in order. */
  positionals: string[];
}

/**
 * Parses `args` against `options`, turning node:util's errors into a {@link UsageError} that
 * says in plain words what was wrong.
 */
export function parseCommandLine(args: string[], options: OptionTable, usage: string): CommandLine {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as CommandLine["values"], positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(plainParseError(message), usage);
  }
}

function plainParseError(message: string): string {
  let m = /Unknown option '([^']+)'/.exec(message);
  if (m) return `Unknown option "${m[1]}".`;
  m = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message);
  if (m) return `Option "${m[1]}" needs a value.`;
  m = /Option '(?:-\w, )?(--[\w-]+)[^']*' does not take an argument/.exec(message);
  if (m) return `Option "${m[1]}" does not take a value.`;
  return message.replace(/\. To specify.*$/s, ".");
}

/** Parses a TCP port number (1–65535, or 0 when `allowZero`), or throws a {@link UsageError}. */
export function parsePort(value: string, usage: string, allowZero = false): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= (allowZero ? 0 : 1) && port <= 65535)) {
    throw new UsageError(
      `Invalid port "${value}": use a number from ${allowZero ? 0 : 1} to 65535.`,
      usage,
    );
  }
  return port;
}

/** Milliseconds in each unit {@link parseDuration} reads. */
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** The longest timer: 2^31 - 1 ms (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Parses a positive number with an optional unit, or throws a {@link UsageError}.
 * Durations: `30`, `30s`, `500ms`, `2m`, `12h`, `7d` (returned in milliseconds, bare numbers are
 * seconds), from 1 ms to `max` (default {@link MAX_TIMER_MS}: the value becomes a timer).
 */
export function parseDuration(
  value: string,
  flag: string,
  usage: string,
  max: number = MAX_TIMER_MS,
): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  const n = m ? Number(m[1]) : 0;
  const ms = m ? Math.round(n * DURATION_UNITS[m[2] ?? "s"]!) : 0;
  // Checked after rounding: "0.4ms" would otherwise become a deadline of 0 ms.
  if (!(ms >= 1 && ms <= max)) {
    const days = Math.floor(max / 86_400_000);
    throw new UsageError(
      `Invalid ${flag} "${value}": use a duration from 1 ms to ${days} days, such as "30s", ` +
        `"500ms", "2m", "12h" or "7d".`,
      usage,
    );
  }
  return ms;
}

/**
 * Parses a positive whole number with an optional binary unit (`64k`, `1m`), or throws a
 * {@link UsageError}.
 */
export function parseSize(value: string, flag: string, usage: string): number {
  const m = /^(\d+)([kKmM]i?[bB]?)?$/.exec(value.trim());
  const n = m ? Number(m[1]) * (m[2] ? (/^[kK]/.test(m[2]) ? 1024 : 1024 * 1024) : 1) : 0;
  if (!m || n < 1 || !Number.isSafeInteger(n)) {
    throw new UsageError(
      `Invalid ${flag} "${value}": use a positive number of bytes such as "65536" or "64k".`,
      usage,
    );
  }
  return n;
}

/** Parses a whole number above 0 (or 0 too, when `allowZero`), or throws a {@link UsageError}. */
export function parseCount(value: string, flag: string, usage: string, allowZero = false): number {
  const n = /^\d{1,9}$/.test(value) ? Number(value) : -1;
  if (n < (allowZero ? 0 : 1)) {
    throw new UsageError(
      `Invalid ${flag} "${value}": use a whole number${allowZero ? "" : " above 0"}.`,
      usage,
    );
  }
  return n;
}
