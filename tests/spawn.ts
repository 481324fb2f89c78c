/**
 * Runs the real `chat` command as a child process for end-to-end tests and reads its output
 * line by line, with timeouts so that no test can hang.
 *
 * @module
 */
import { chatCommand } from "./cli_cmd.ts";

let configHome: string | undefined;

/**
 * The environment every spawned `chat` gets, so that no test reads or writes the user's own
 * files: one `XDG_CONFIG_HOME` for the whole test run (clients keep their identities there, so a
 * client started twice in a test is the same user), and a fresh `XDG_DATA_HOME` for each process
 * (a server started without `--data` gets a data directory of its own; restart tests pass
 * `--data`). `HOME` points there too, for the fallbacks.
 */
export function testEnv(): Record<string, string> {
  configHome ??= Deno.makeTempDirSync({ prefix: "chat-test-config-" });
  const dataHome = Deno.makeTempDirSync({ prefix: "chat-test-data-" });
  denoDir ??= findDenoDir();
  return {
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: dataHome,
    HOME: dataHome,
    ...(denoDir !== "" ? { DENO_DIR: denoDir } : {}),
  };
}

let denoDir: string | undefined;

/**
 * The Deno cache of this test run, for the processes it spawns: their `HOME` is a temporary
 * directory, and the server's `deno bundle` of the web client would otherwise fetch its bundler
 * (esbuild, from npm) again for every server. "" if it cannot be told.
 */
function findDenoDir(): string {
  const given = Deno.env.get("DENO_DIR");
  if (given) return given;
  try {
    const out = new Deno.Command(Deno.execPath(), {
      args: ["info", "--json"],
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).outputSync();
    return String(JSON.parse(new TextDecoder().decode(out.stdout)).denoDir ?? "");
  } catch {
    return "";
  }
}

/**
 * `args` with `--no-web` added when they run `chat server` without `--web` or `--no-web`: a
 * test's server must not take the web client's default port 8080 (two tests at once would
 * collide, and so would a test and a server someone runs). Subcommands and help are left alone.
 */
export function withoutWeb(args: string[]): string[] {
  if (args[0] !== "server" || args.includes("--web") || args.includes("--no-web")) return args;
  if (args.some((a) => a.startsWith("--web=") || /^(-h|--help|-V|--version)$/.test(a))) {
    return args;
  }
  if (args[1] === "names" || args[1] === "release") return args;
  return ["server", "--no-web", ...args.slice(1)];
}

/** A running `chat` process whose output is read line by line. */
export class ChatProcess {
  readonly child: Deno.ChildProcess;
  /** Every stdout line so far. */
  readonly stdout: string[] = [];
  /** Every stderr line so far. */
  readonly stderr: string[] = [];
  #waiters: (() => void)[] = [];
  readonly #pumps: Promise<void>[];

  constructor(
    args: string[],
    options: { stdin?: "piped" | "null"; env?: Record<string, string> | undefined } = {},
  ) {
    const [cmd, ...pre] = chatCommand();
    this.child = new Deno.Command(cmd, {
      args: [...pre, ...withoutWeb(args)],
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0", ...testEnv(), ...options.env },
    }).spawn();
    this.#pumps = [
      this.#pump(this.child.stdout, this.stdout),
      this.#pump(this.child.stderr, this.stderr),
    ];
  }

  async #pump(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
    let rest = "";
    // The cast: with the DOM library in the program (src/web/), its TextDecoderStream and
    // Deno's disagree on `writable`; the object is the same.
    const decoding = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
    for await (const text of stream.pipeThrough(decoding)) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      into.push(...parts);
      this.#wake();
    }
    if (rest) into.push(rest);
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until a stdout (or, with `stream: "stderr"`, stderr) line matches; returns it. */
  async waitFor(
    pattern: RegExp,
    { timeoutMs = 10_000, stream = "stdout" }: {
      timeoutMs?: number;
      stream?: "stdout" | "stderr";
    } = {},
  ): Promise<string> {
    const lines = stream === "stdout" ? this.stdout : this.stderr;
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const hit = lines.find((l) => pattern.test(l));
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `No ${stream} line matched ${pattern} within ${timeoutMs} ms. ` +
            `stdout: ${JSON.stringify(this.stdout)} stderr: ${JSON.stringify(this.stderr)}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, Math.min(left, 200));
      });
      clearTimeout(timer);
    }
  }

  /** Sends a signal (ignored if the process has already exited). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
  }

  /** Waits for the process to exit (killing it after `timeoutMs`) and for its output to end. */
  async exit(timeoutMs = 10_000): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => this.kill("SIGKILL"), timeoutMs);
    try {
      const status = await this.child.status;
      await Promise.all(this.#pumps);
      return status;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs `chat` with `args` to completion and returns its exit code and output. */
export async function runChat(
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = new ChatProcess(args, {
    stdin: options.stdin === undefined ? "null" : "piped",
    env: options.env,
  });
  if (options.stdin !== undefined) {
    const writer = p.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const status = await p.exit(options.timeoutMs);
  return { code: status.code, stdout: p.stdout.join("\n"), stderr: p.stderr.join("\n") };
}

/**
 * Starts `chat server` on a free loopback port (or on `port`, to restart a server where one
 * ran before) and returns the process and its port.
 */
export async function startChatServer(
  extra: string[] = [],
  atPort = 0,
): Promise<{ server: ChatProcess; port: number }> {
  const server = new ChatProcess([
    "server",
    "--host",
    "127.0.0.1",
    "--port",
    String(atPort),
    ...extra,
  ]);
  let line: string;
  try {
    line = await server.waitFor(/listening on|"event":"listening"/);
  } catch (error) {
    server.kill("SIGKILL");
    await server.exit();
    throw error;
  }
  const port = Number(/:(\d+)\s*$/.exec(line)?.[1] ?? /"address":"[^"]*:(\d+)"/.exec(line)?.[1]);
  return { server, port };
}

/** The startup line of the web port: `Web client listening on HOST:PORT (open URL...)`. */
export const WEB_LINE = /Web client listening on (\S+):(\d+) \(open (https?:\/\/\S+?\/)[;)]/;

/**
 * Starts `chat server` on loopback ports for chat and for the web client (free ones, or the
 * `ports` of a server that ran before, to restart it there) and returns the process, both ports
 * and the URL to open, read from its startup lines.
 */
export async function startWebServer(
  extra: string[] = [],
  ports: { port?: number; webPort?: number } = {},
): Promise<{ server: ChatProcess; port: number; webPort: number; url: string }> {
  const { server, port } = await startChatServer(
    ["--web", String(ports.webPort ?? 0), ...extra],
    ports.port ?? 0,
  );
  let line: string;
  try {
    line = await server.waitFor(/Web client listening on|"event":"web-listening"/);
  } catch (error) {
    server.kill("SIGKILL");
    await server.exit();
    throw error;
  }
  const text = WEB_LINE.exec(line);
  if (text !== null) return { server, port, webPort: Number(text[2]), url: text[3]! };
  const json = JSON.parse(line) as { port: number; url: string };
  return { server, port, webPort: json.port, url: json.url };
}

const encoder = new TextEncoder();

/**
 * A `chat client USERNAME 127.0.0.1 --port PORT` process whose stdin the test writes line by
 * line (the piped face).
 */
export class PipedClient {
  readonly name: string;
  readonly process: ChatProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stdinOpen = true;

  constructor(name: string, port: number, extra: string[] = [], env: Record<string, string> = {}) {
    this.name = name;
    this.process = new ChatProcess(
      ["client", name, "127.0.0.1", "--port", String(port), ...extra],
      { stdin: "piped", env },
    );
    this.#stdin = this.process.child.stdin.getWriter();
  }

  /** Waits for the registration to be confirmed (on stderr). */
  async registered(): Promise<void> {
    await this.process.waitFor(/^Registered as /, { stream: "stderr" });
  }

  /** Types lines (each gets its LF) in one write. */
  async type(...lines: string[]): Promise<void> {
    await this.#stdin.write(encoder.encode(lines.map((l) => l + "\n").join("")));
  }

  /** Ends the input. */
  async endInput(): Promise<void> {
    if (!this.#stdinOpen) return;
    this.#stdinOpen = false;
    try {
      await this.#stdin.close();
    } catch { /* the process is gone */ }
  }

  /** Ends the input and waits for the exit code. */
  async exit(): Promise<number> {
    await this.endInput();
    return (await this.process.exit()).code;
  }

  get stdout(): string[] {
    return this.process.stdout;
  }

  get stderr(): string[] {
    return this.process.stderr;
  }

  /** Kills the process if still running and releases everything. */
  async dispose(): Promise<void> {
    this.process.kill("SIGKILL");
    if (this.#stdinOpen) {
      this.#stdinOpen = false;
      await this.#stdin.abort().catch(() => {});
    }
    await this.process.exit();
  }
}
