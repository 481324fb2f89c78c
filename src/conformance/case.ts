/**
 * The shared core of `chat conformance`: what a case is, how it fails or skips, and
 * {@link runCases}, which runs a list of cases against one target, each within a time bound,
 * and collects a {@link Report}. Used by the server checks and the client checks alike.
 *
 * @module
 */

/** What became of one case. */
export type Outcome = "pass" | "fail" | "skip";

/** What a failing case sent, expected and got, each as escaped bytes or a short phrase. */
export interface Evidence {
  /** What the case sent last before the failure. */
  sent?: string;
  /** What the protocol says should have come back. */
  expected?: string;
  /** What came back instead, or "nothing within N ms". */
  got?: string;
}

/** A case found the target breaking a rule: the message says what, `evidence` shows it. */
export class CaseFailure extends Error {
  /** What was sent, expected and received, when known. */
  readonly evidence: Evidence;
  /** Creates a failure with its sentence and evidence. */
  constructor(message: string, evidence: Evidence = {}) {
    super(message);
    this.name = "CaseFailure";
    this.evidence = evidence;
  }
}

/** A case cannot run against this target (it lacks a capability): the message is the reason. */
export class CaseSkip extends Error {
  /** Creates a skip with its reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "CaseSkip";
  }
}

/** The target stopped answering, or closed a connection where it must not. */
export class TargetGone extends Error {
  /** Creates the error with a sentence saying what happened. */
  constructor(message: string) {
    super(message);
    this.name = "TargetGone";
  }
}

/** One conformance case, run against a target of type `T` (an address, a client launcher...). */
export interface Case<T> {
  /** Stable identifier, such as `register-either-order`. */
  id: string;
  /** What the target must do, as a sentence. */
  title: string;
  /** The PROTOCOL.md section whose rule the case checks, such as "Registration". */
  rule: string;
  /** True for our extensions: run only when asked (`--extensions`). */
  extension?: boolean;
  /** The capability the case needs, named in skip reasons. */
  needs?: string;
  /** Runs the case; resolves when it passes, throws otherwise. Every wait ends on `signal`. */
  run(target: T, signal: AbortSignal): Promise<void>;
}

/** The result of one case. */
export interface CaseReport {
  /** The case's id. */
  id: string;
  /** The case's title. */
  title: string;
  /** The PROTOCOL.md section it checks. */
  rule: string;
  /** Pass, fail or skip. */
  result: Outcome;
  /** Why it failed or was skipped; empty when it passed. */
  detail: string;
  /** What was sent last, as escaped bytes (failures only). */
  sent?: string;
  /** What was expected (failures only). */
  expected?: string;
  /** What came back (failures only). */
  got?: string;
  /** How long the case took, in milliseconds. */
  ms: number;
}

/** The results of a run against one target. */
export interface Report {
  /** What was checked, such as `127.0.0.1:5500`. */
  target: string;
  /** One entry per case, in order. */
  cases: CaseReport[];
  /** How many passed. */
  passed: number;
  /** How many failed. */
  failed: number;
  /** How many were skipped. */
  skipped: number;
}

/** Options of {@link runCases}. */
export interface RunOptions {
  /** Time each case may take, in milliseconds. */
  timeoutMs: number;
  /** Run extension cases too (otherwise they are skipped). */
  extensions: boolean;
  /** Called with each case's result as soon as it is known. */
  onCase?: (r: CaseReport) => void;
}

/** The skip reason of an extension case when extensions are off. */
export const EXTENSION_SKIP = "extension case: run with --extensions";

/**
 * Runs `cases` one after the other against `target`, each bounded by `options.timeoutMs`
 * (its signal aborts then, and the case is reported as failed if it has not ended), and
 * returns the report. A case that finds the target gone fails with "stopped answering at case
 * N"; the later cases still run, each on fresh connections.
 */
export async function runCases<T>(
  target: T,
  label: string,
  cases: readonly Case<T>[],
  options: RunOptions,
): Promise<Report> {
  const report: Report = { target: label, cases: [], passed: 0, failed: 0, skipped: 0 };
  for (const [k, c] of cases.entries()) {
    const r = c.extension === true && !options.extensions
      ? result(c, "skip", EXTENSION_SKIP, 0)
      : await runOne(target, c, k + 1, options.timeoutMs);
    report.cases.push(r);
    if (r.result === "pass") report.passed++;
    else if (r.result === "fail") report.failed++;
    else report.skipped++;
    options.onCase?.(r);
  }
  return report;
}

/** A case's report without evidence. */
function result(c: Case<unknown>, outcome: Outcome, detail: string, ms: number): CaseReport {
  return { id: c.id, title: c.title, rule: c.rule, result: outcome, detail, ms };
}

/** Runs case number `n` within `timeoutMs` and turns how it ended into its report. */
async function runOne<T>(target: T, c: Case<T>, n: number, timeoutMs: number): Promise<CaseReport> {
  const controller = new AbortController();
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new CaseFailure(`The case did not finish within ${timeoutMs} ms.`));
      resolve("timeout");
    }, timeoutMs);
  });
  // A case that throws before its first await is handled like one that rejects.
  const running = Promise.resolve()
    .then(() => c.run(target, controller.signal))
    .then(() => undefined, (e: unknown) => e ?? new Error("The case failed without a reason."));
  try {
    const ended = await Promise.race([running, timedOut]);
    // After a timeout the case's waits end on the signal; give it a moment to close up.
    const error = ended === "timeout" ? await settle(running, controller.signal) : ended;
    const ms = Math.round(performance.now() - started);
    return describeEnd(c, n, error, ms);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits a little for an aborted case to end, and returns its error (or the abort reason). */
async function settle(running: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<unknown>((resolve) => {
    timer = setTimeout(() => resolve(signal.reason), 2000);
  });
  try {
    const error = await Promise.race([running, grace]);
    return error ?? signal.reason;
  } finally {
    clearTimeout(timer);
  }
}

/** The report of case number `n` that ended with `error` (undefined when it passed). */
function describeEnd(c: Case<unknown>, n: number, error: unknown, ms: number): CaseReport {
  if (error === undefined) return result(c, "pass", "", ms);
  if (error instanceof CaseSkip) return result(c, "skip", error.message, ms);
  if (error instanceof TargetGone) {
    return result(c, "fail", `Stopped answering at case ${n}: ${error.message}`, ms);
  }
  if (error instanceof CaseFailure) {
    const r = result(c, "fail", error.message, ms);
    const { sent, expected, got } = error.evidence;
    if (sent !== undefined) r.sent = sent;
    if (expected !== undefined) r.expected = expected;
    if (got !== undefined) r.got = got;
    return r;
  }
  const message = error instanceof Error ? error.message : String(error);
  return result(c, "fail", message, ms);
}
