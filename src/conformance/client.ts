/**
 * The two ways `chat conformance client` drives a client under test: {@link RunTarget} starts
 * the client's own command (one process per case, killed at the end of it) and types into its
 * standard input; {@link ListenTarget} listens on a port and tells a person what to start and
 * what to type. Both give the cases the same {@link ClientSession}.
 *
 * @module
 */
import { type Pulse, ScriptedServer, waitFor } from "./client_server.ts";
import { CaseFailure, CaseSkip } from "./case.ts";

/** The user name the client under test registers, unless a person chooses another. */
export const CLIENT_USER = "abc";

/** How a message is typed by default: `@{to} {text}`, our client's form. */
export const DEFAULT_TYPE_TEMPLATE = "@{to} {text}";

/** One client, connected to the scripted server for one case (or, with a person, several). */
export interface ClientSession {
  /** The scripted server the client talks to. */
  readonly server: ScriptedServer;
  /** The name the client was asked to register. */
  readonly user: string;
  /** Makes the client send `text` to `to` (types it, or asks a person to). */
  type(to: string, text: string): Promise<void>;
  /** Everything the client printed so far, or null when its output cannot be observed. */
  output(): string | null;
  /** Why the client is no longer there (it exited), or null while it runs. */
  gone(): string | null;
}

/** What the cases run against: something that gives them a client session at a time. */
export interface ClientTarget {
  /** How to describe it in the report. */
  readonly label: string;
  /** How long one wait may take, in milliseconds (the case's own bound ends it earlier). */
  readonly waitMs: number;
  /** Starts a client (or asks for one) and returns its session; its registration is not awaited. */
  open(signal: AbortSignal): Promise<ClientSession>;
  /** Ends a session opened by {@link open}: kills the process, or keeps a person's client. */
  close(session: ClientSession): Promise<void>;
}

/** Replaces `{name}` placeholders in `template` with `values` (unknown ones stay as they are). */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (all, name: string) => values[name] ?? all);
}

/**
 * What to type for a message: the type template filled in, where `\\n` (backslash, n) in the
 * template is a line break, so that a client that asks for the recipient and the text on two
 * lines can be driven too.
 */
export function typedText(template: string, to: string, text: string): string {
  return fillTemplate(template.replaceAll("\\n", "\n"), { to, text });
}

/** Options of {@link RunTarget}. */
export interface RunTargetOptions {
  /** The client's command and arguments, with `{host}`, `{port}` and `{user}` placeholders. */
  command: readonly string[];
  /** How to type a message into its standard input, with `{to}` and `{text}`. */
  typeTemplate: string;
  /** How long one wait may take, in milliseconds. */
  waitMs: number;
}

const encoder = new TextEncoder();

/** A running client process: its output so far and its standard input. */
class ClientProcess {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  exitCode: number | null = null;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #readers: ReadableStreamDefaultReader<Uint8Array>[];
  readonly #pumps: Promise<unknown>;

  constructor(program: string, args: string[], pulse: Pulse) {
    this.child = new Deno.Command(program, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#stdin = this.child.stdin.getWriter();
    this.#readers = [this.child.stdout.getReader(), this.child.stderr.getReader()];
    const pump = async (
      reader: ReadableStreamDefaultReader<Uint8Array>,
      into: "stdout" | "stderr",
    ) => {
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this[into] += decoder.decode(value, { stream: true });
        pulse.fire();
      }
    };
    this.#pumps = Promise.all([
      pump(this.#readers[0]!, "stdout").catch(() => {}),
      pump(this.#readers[1]!, "stderr").catch(() => {}),
    ]);
    this.child.status.then((s) => {
      this.exitCode = s.code;
      pulse.fire();
    });
  }

  async type(line: string): Promise<void> {
    await this.#stdin.write(encoder.encode(line + "\n"));
  }

  /**
   * Kills the process and waits for it; waits a moment for its output to end (a program it
   * started may still hold the pipes), then stops reading.
   */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.#stdin.abort().catch(() => {});
    await this.child.status;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((resolve) => timer = setTimeout(resolve, 1000));
    await Promise.race([this.#pumps, late]);
    clearTimeout(timer);
    for (const r of this.#readers) await r.cancel().catch(() => {});
    await this.#pumps;
  }
}

/**
 * Runs the client's command for each case: a fresh scripted server on a free loopback port, the
 * command with the placeholders filled in, messages typed into its standard input by the
 * template, and its standard output and error captured. The process is killed at the end.
 */
export class RunTarget implements ClientTarget {
  /** The command as given, placeholders included. */
  readonly label: string;
  /** How long one wait may take, in milliseconds. */
  readonly waitMs: number;
  readonly #options: RunTargetOptions;
  readonly #running = new Map<ClientSession, { server: ScriptedServer; process: ClientProcess }>();

  /** Creates the target; nothing runs until a case opens a session. */
  constructor(options: RunTargetOptions) {
    this.#options = options;
    this.label = options.command.join(" ");
    this.waitMs = options.waitMs;
  }

  /** Starts a scripted server and the client's command connected to it. */
  open(_signal: AbortSignal): Promise<ClientSession> {
    const server = ScriptedServer.start();
    const values = { host: server.hostname, port: String(server.port), user: CLIENT_USER };
    const [program = "", ...args] = this.#options.command.map((a) => fillTemplate(a, values));
    let process: ClientProcess;
    try {
      process = new ClientProcess(program, args, server.pulse);
    } catch (error) {
      return server.close().then(() => {
        const why = error instanceof Error ? error.message : String(error);
        throw new CaseFailure(`Could not start the client "${program}": ${why}`);
      });
    }
    const template = this.#options.typeTemplate;
    const session: ClientSession = {
      server,
      user: CLIENT_USER,
      type: (to, text) => process.type(typedText(template, to, text)),
      output: () => process.stdout + process.stderr,
      gone: () =>
        process.exitCode === null ? null : `The client exited with code ${process.exitCode}.`,
    };
    this.#running.set(session, { server, process });
    return Promise.resolve(session);
  }

  /** Kills the client and closes the scripted server. */
  async close(session: ClientSession): Promise<void> {
    const running = this.#running.get(session);
    if (running === undefined) return;
    this.#running.delete(session);
    await running.process.stop();
    await running.server.close();
  }
}

/** Options of {@link ListenTarget}. */
export interface ListenTargetOptions {
  /** The port to listen on (0: any free one, said in the instructions). */
  port: number;
  /** The address to listen on; default 127.0.0.1. */
  hostname?: string;
  /** How a message is typed in the client, to show the person. */
  typeTemplate: string;
  /** How long to wait for the person each time, in milliseconds. */
  waitMs: number;
  /** Where the instructions go, one line at a time. */
  say: (line: string) => void;
}

/**
 * Listens on one port for the whole run and tells a person, case by case, what to start and
 * what to type. One client serves every case while it stays connected; when it leaves, the
 * person is asked to start it again.
 */
export class ListenTarget implements ClientTarget {
  /** Where it listens, `host:port`. */
  readonly label: string;
  /** How long to wait for the person each time, in milliseconds. */
  readonly waitMs: number;
  /** The scripted server, listening from the start. */
  readonly server: ScriptedServer;
  readonly #options: ListenTargetOptions;
  #session: ClientSession | null = null;

  /** Starts listening at once (throws if the port is taken). */
  constructor(options: ListenTargetOptions) {
    this.#options = options;
    this.server = ScriptedServer.start({
      port: options.port,
      hostname: options.hostname ?? "127.0.0.1",
    });
    this.label = `${this.server.hostname}:${this.server.port}`;
    this.waitMs = options.waitMs;
  }

  /** The session of the client connected now, or instructions to start one. */
  async open(signal: AbortSignal): Promise<ClientSession> {
    const { server } = this;
    const alive = server.conns.length > 0 && server.conns.every((c) => !c.closed);
    if (this.#session !== null && alive) {
      server.skipPending();
      return this.#session;
    }
    await server.dropClients();
    const { hostname, port } = server;
    const say = this.#options.say;
    say(`Start your client now as user "${CLIENT_USER}", server ${hostname}, port ${port}`);
    say(`  (with ours: chat client ${CLIENT_USER} ${hostname} --port ${port})`);
    const connected = await waitFor(
      () => server.conns.length > 0 ? true : undefined,
      server.pulse,
      this.waitMs,
      signal,
    );
    if (connected !== true) {
      throw new CaseFailure(`No client connected to port ${port} within ${this.waitMs} ms.`);
    }
    this.#session = {
      server,
      user: CLIENT_USER,
      type: (to, text) => {
        const typed = typedText(this.#options.typeTemplate, to, text).replaceAll("\n", " (Enter) ");
        say(`In your client, send "${text}" to ${to}: type  ${typed}`);
        return Promise.resolve();
      },
      output: () => null,
      gone: () => server.conns.every((c) => c.closed) ? "The client closed its connections." : null,
    };
    return this.#session;
  }

  /** Keeps the person's client connected for the next case. */
  close(_session: ClientSession): Promise<void> {
    return Promise.resolve();
  }

  /** Stops listening and closes the person's client's connections. */
  async stop(): Promise<void> {
    await this.server.close();
  }
}

/** Throws the skip of a case that needs to see the client's output, when it cannot be seen. */
export function needOutput(session: ClientSession): string {
  const out = session.output();
  if (out === null) {
    throw new CaseSkip("the client's output cannot be observed when a person runs it");
  }
  return out;
}
