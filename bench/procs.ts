/**
 * Child processes of the bench: spawning (with a raised open-file limit and pinned to cores),
 * reading their output line by line, JSON requests to load generators, and stopping them.
 *
 * @module
 */

/** Every child still running, so that an interrupted bench can stop them all. */
const live = new Set<Child>();

/** How to start a child. */
export interface SpawnOptions {
  /** Program and arguments. */
  cmd: string[];
  /** Working directory. */
  cwd: string;
  /** Raise the soft open-file limit to this first (through `sh -c 'ulimit -n'`). */
  fdLimit?: number;
  /** Run on these cores only (through `taskset -c`), when `taskset` is given. */
  cores?: string | undefined;
  /** Path of `taskset`, or null when there is none. */
  taskset?: string | null;
  /** Give the child a pipe on standard input. */
  stdin?: boolean;
  /** Name in error messages. */
  label: string;
}

/** A running child with its standard output split into lines. */
export class Child {
  readonly label: string;
  readonly process: Deno.ChildProcess;
  readonly pid: number;
  #lines: string[] = [];
  #waiter: (() => void) | null = null;
  #ended = false;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #pump: Promise<void>;
  #status: Promise<Deno.CommandStatus>;
  #exited = false;

  private constructor(process: Deno.ChildProcess, label: string, stdin: boolean) {
    this.process = process;
    this.label = label;
    this.pid = process.pid;
    if (stdin) this.#writer = process.stdin.getWriter();
    this.#pump = this.#read();
    this.#status = process.status.then((s) => {
      this.#exited = true;
      live.delete(this);
      return s;
    });
  }

  /** Starts a child; its standard error goes to ours. */
  static spawn(o: SpawnOptions): Child {
    let cmd = o.cmd;
    if (o.cores !== undefined && o.taskset) cmd = [o.taskset, "-c", o.cores, ...cmd];
    if (o.fdLimit !== undefined) {
      // "$0" is the limit; a failure to raise it is not fatal (the child reports what it got).
      cmd = ["sh", "-c", 'ulimit -n "$0" 2>/dev/null; exec "$@"', String(o.fdLimit), ...cmd];
    }
    const [program, ...args] = cmd;
    if (program === undefined) throw new Error(`Empty command for "${o.label}".`);
    const process = new Deno.Command(program, {
      args,
      cwd: o.cwd,
      stdin: o.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "inherit",
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    }).spawn();
    const child = new Child(process, o.label, o.stdin ?? false);
    live.add(child);
    return child;
  }

  async #read(): Promise<void> {
    let buffered = "";
    try {
      for await (const text of this.process.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += text;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) !== -1) {
          this.#lines.push(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
        this.#wake();
      }
    } catch { /* the pipe broke: treat as the end */ }
    if (buffered !== "") this.#lines.push(buffered);
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  /** True once the child has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** The next line of standard output; rejects on timeout or if output ends first. */
  async nextLine(timeoutMs: number): Promise<string> {
    const until = performance.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (this.#ended) throw new Error(`${this.label} exited without answering`);
      const left = until - performance.now();
      if (left <= 0) throw new Error(`${this.label} did not answer within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#waiter = r),
        new Promise<void>((r) => timer = setTimeout(r, left)),
      ]);
      clearTimeout(timer);
    }
    return this.#lines.shift()!;
  }

  /** Drops the lines read so far (a quiet server's output is of no interest after the first). */
  discardLines(): void {
    this.#lines = [];
  }

  /** Sends one JSON command and returns the JSON answer, which must have `ok: true`. */
  async request<T = Record<string, unknown>>(command: unknown, timeoutMs: number): Promise<T> {
    if (this.#writer === null) throw new Error(`${this.label} has no input`);
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
    const line = await this.nextLine(timeoutMs);
    let answer: { ok?: boolean; error?: string };
    try {
      answer = JSON.parse(line);
    } catch {
      throw new Error(`${this.label} answered ${JSON.stringify(line.slice(0, 200))}`);
    }
    if (answer.ok !== true) throw new Error(`${this.label}: ${answer.error ?? line}`);
    return answer as T;
  }

  /**
   * Stops the child: closes its input, sends `signal` (unless null), and kills it if it has not
   * exited within `graceMs`. Resolves once it has exited and its output is read.
   */
  async stop(
    signal: Deno.Signal | null = "SIGTERM",
    graceMs = 10_000,
  ): Promise<Deno.CommandStatus> {
    if (this.#writer !== null) {
      const w = this.#writer;
      this.#writer = null;
      await w.close().catch(() => {});
    }
    if (signal !== null && !this.#exited) {
      try {
        this.process.kill(signal);
      } catch { /* already gone */ }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((r) =>
      timer = setTimeout(() => {
        try {
          this.process.kill("SIGKILL");
        } catch { /* already gone */ }
        r();
      }, graceMs)
    );
    await Promise.race([this.#status, killed]);
    clearTimeout(timer);
    const status = await this.#status;
    await this.#pump;
    return status;
  }
}

/** Kills every child still running (on interruption or a global timeout). */
export function killAll(): void {
  for (const c of live) {
    try {
      c.process.kill("SIGKILL");
    } catch { /* already gone */ }
  }
}
