/**
 * `chat client`: the terminal client. Opens the two connections of the protocol (TOSEND and
 * TORECV), registers both, sends what the user types and shows what arrives.
 *
 * Two faces: on a terminal, a line editor that prints incoming messages above the line being
 * typed; otherwise (stdin or stdout piped) plain lines, for scripts. The pure parts (input
 * parsing, rendering, completion) are in `client_ui.ts`.
 *
 * @module
 */
import * as readline from "node:readline";
import process from "node:process";
import {
  bodyText,
  type DecodeError,
  type DecodeEvent,
  Decoder,
  encode,
  ErrorCode,
  errorMessage,
  type Half,
  type Message,
  utf8Bytes,
} from "./protocol.ts";
import { type Conn, connect as transportConnect, type ConnectOptions } from "./transport.ts";
import { parseCommandLine, parseDuration, parsePort, UsageError } from "./cli.ts";
import {
  classifyConnectError,
  type ClientEvent,
  completeInput,
  describeDecodeError,
  eventStream,
  formatAddress,
  isUsername,
  messageLine,
  parseInputLine,
  parseServerAddress,
  printable,
  renderEvent,
} from "./client_ui.ts";

/** Usage line of `chat client`. */
export const CLIENT_USAGE = "Usage: chat client [USERNAME] [SERVER] [--port PORT] [options]";

/** Help text of `chat client`. */
export const CLIENT_HELP = `${CLIENT_USAGE}

Chats with the users of a chat server: type "@name message" to send to one user,
"@ALL message" to send to everyone online. Incoming messages show as "name: text".

Arguments:
  USERNAME               Letters and digits only (asked for when missing on a terminal)
  SERVER                 Host name, IPv4 or IPv6 address of the server, optionally with
                         ":PORT" ("[::1]:5500" for IPv6); asked for when missing

Options:
  --port PORT            Server port (default 5500)
  --timeout TIME         How long to wait for the server to accept the connections and
                         answer the registration (default 10s; units ms, s, m)
  --wait TIME            Piped input only: at its end, how long to wait for the answers
                         to the messages sent (default 60s)
  -h, --help             Show this help

Typing (each line is one message):
  @name message          To one user; the original's "@name:message" works too
  @ALL message           To everyone online
  /help  /quit  /clear   In-chat help, leave (also Ctrl-D, Ctrl-C), clear the screen
  On a terminal, Tab completes commands and the @names seen so far, Up/Down recall lines.
  Other lines are not sent: the client says why. Colours are off when NO_COLOR is set.

Piped (stdin or stdout not a terminal): no prompts and no colours, one plain line per
event. Standard output carries the conversation: incoming messages ("abc: Hiii") and
the outcome of each message sent ("Message successfully sent to xyz", "Message to xyz
not delivered: ..."). Standard error carries status and problems (registration, lines
not sent, lost connection). At the end of input the client waits for the answers to
what it sent, receiving meanwhile, then leaves.

Exit codes: 0 left cleanly (piped: and every line was sent and delivered), 1 connection
or registration failed, the server went away, or (piped) a message was not delivered or a
line was not sent, 2 usage error.

Examples:
  chat client abc 127.0.0.1
  printf '@xyz Hiii\\n' | chat client abc 127.0.0.1 --port 5500
`;

/** How long /quit waits for the server to confirm UNREGISTER before just closing. */
const LEAVE_WAIT_MS = 1000;
/** Largest incoming message body shown; larger ones are refused with ERROR 103. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Options of {@link ChatSession}. */
export interface ChatSessionOptions {
  /** Server host name or address. */
  host: string;
  /** Server port. */
  port: number;
  /** Username to register. */
  name: string;
  /** How long connecting and registering may take. */
  timeoutMs: number;
  /** Receives every event to show. */
  onEvent: (event: ClientEvent) => void;
  /** Opens a connection; default the TCP transport. */
  connect?: typeof transportConnect;
}

/** The outcome of {@link ChatSession.open}. */
export type OpenResult =
  | { ok: true }
  | { ok: false; event: ClientEvent; nameRefused: boolean };

/** How a session ended. */
export type SessionEnd = "left" | "disconnected";

/** What the session waits an answer for on TOSEND, in the order they were sent. */
type Pending = { kind: "send"; to: string } | { kind: "unregister" };

/**
 * One user's two connections to a server: registration, sending with a FIFO of messages that
 * await their answers, acknowledging FORWARDs, and leaving. Reports everything through
 * `onEvent`; never throws once open.
 */
export class ChatSession {
  readonly #opts: ChatSessionOptions;
  readonly #server: string;
  #send: Conn | null = null;
  #recv: Conn | null = null;
  #sendDecoder = new Decoder({ from: "server", maxBodyBytes: MAX_BODY_BYTES });
  #recvDecoder = new Decoder({ from: "server", maxBodyBytes: MAX_BODY_BYTES });
  #state: "new" | "registering" | "ready" | "leaving" | "ended" = "new";
  #registered = new Set<Half>();
  #registration = Promise.withResolvers<OpenResult>();
  #fifo: Pending[] = [];
  #idleWaiters: (() => void)[] = [];
  #leaveDone = Promise.withResolvers<boolean>();
  #end = Promise.withResolvers<SessionEnd>();
  #endValue: SessionEnd | null = null;

  /** Messages the server confirmed as delivered. */
  delivered = 0;
  /** Messages the server answered with an ERROR. */
  notDelivered = 0;
  /** Messages that got no answer before the session ended. */
  unconfirmed = 0;

  /** Creates a session; nothing happens until {@link open}. */
  constructor(options: ChatSessionOptions) {
    this.#opts = options;
    this.#server = formatAddress(options.host, options.port);
  }

  /** The server as `host:port`. */
  get server(): string {
    return this.#server;
  }

  /** Resolves when the session has ended (both connections closed). */
  get ended(): Promise<SessionEnd> {
    return this.#end.promise;
  }

  /** True while messages can be sent. */
  get ready(): boolean {
    return this.#state === "ready";
  }

  /** Messages sent whose answer has not come yet. */
  get pending(): number {
    return this.#fifo.filter((p) => p.kind === "send").length;
  }

  /** Connects both halves and registers them. On failure everything is closed again. */
  async open(): Promise<OpenResult> {
    if (this.#state !== "new") throw new Error("ChatSession.open called twice");
    this.#state = "registering";
    const { host, port, timeoutMs } = this.#opts;
    const connect = this.#opts.connect ?? transportConnect;
    const options: ConnectOptions = { hostname: host, port };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const attempts = (["TOSEND", "TORECV"] as const).map((half) =>
        connect(options, {
          data: (chunk) => this.#data(half, chunk),
          closed: (error) => this.#closed(half, error),
        }).then((conn) => {
          // A connection that comes after a failure or the timeout is not wanted.
          if (this.#state !== "registering") conn.close();
          else if (half === "TOSEND") this.#send = conn;
          else this.#recv = conn;
          return conn;
        })
      );
      const connected = await Promise.race([Promise.all(attempts), timeout]);
      if (connected === "timeout") {
        attempts.forEach((a) => a.catch(() => {}));
        return await this.#fail({
          type: "connect-failed",
          server: this.#server,
          host,
          reason: "timeout",
          detail: "",
          timeoutMs,
        }, false);
      }
      for (const conn of connected) {
        const half = conn === this.#send ? "TOSEND" : "TORECV";
        conn.write(encode({ type: "REGISTER", half, name: this.#opts.name }));
      }
      const result = await Promise.race([this.#registration.promise, timeout]);
      if (result === "timeout") {
        return await this.#fail({
          type: "register-failed",
          server: this.#server,
          reason: "timeout",
          detail: "",
          timeoutMs,
        }, false);
      }
      if (!result.ok) return await this.#fail(result.event, result.nameRefused);
      this.#state = "ready";
      return result;
    } catch (error) {
      return await this.#fail(classifyConnectError(error, host, this.#server, timeoutMs), false);
    } finally {
      clearTimeout(timer);
    }
  }

  async #fail(event: ClientEvent, nameRefused: boolean): Promise<OpenResult> {
    this.#state = "ended";
    await this.#closeAll();
    this.#finish("disconnected");
    return { ok: false, event, nameRefused };
  }

  /** Sends `text` to `to` (`"ALL"` for everyone); false if the session is not ready. */
  send(to: string, text: string): boolean {
    if (this.#state !== "ready" || this.#send === null) return false;
    this.#fifo.push({ kind: "send", to });
    this.#send.write(encode({ type: "SEND", to, body: utf8Bytes(text) }));
    return true;
  }

  /**
   * Waits until every message sent has its answer, the session ends, or `timeoutMs` passes.
   * Resolves true if nothing is left waiting.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0 || this.#endValue !== null) return this.pending === 0;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#idleWaiters.push(resolve);
    const timer = setTimeout(resolve, timeoutMs);
    await Promise.race([promise, this.#end.promise]);
    clearTimeout(timer);
    this.#idleWaiters = this.#idleWaiters.filter((w) => w !== resolve);
    return this.pending === 0;
  }

  /**
   * Leaves: sends `UNREGISTER name`, waits up to a second for the answer (answers to earlier
   * messages are still reported), then closes both connections. Messages still unanswered
   * are reported as unconfirmed.
   */
  async leave(): Promise<void> {
    if (this.#state === "leaving") {
      await this.#end.promise;
      return;
    }
    if (this.#state !== "ready" || this.#send === null) {
      await this.close();
      return;
    }
    this.#state = "leaving";
    this.#fifo.push({ kind: "unregister" });
    this.#send.write(encode({ type: "UNREGISTER", name: this.#opts.name }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const confirmed = await Promise.race([
      this.#leaveDone.promise,
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), LEAVE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    this.#state = "ended";
    this.#reportUnanswered("you left");
    await this.#closeAll();
    this.#emit({ type: "left", confirmed });
    this.#finish("left");
  }

  /** Closes both connections at once, without leaving. */
  async close(): Promise<void> {
    if (this.#state !== "ended") {
      this.#state = "ended";
      this.#reportUnanswered("the client closed");
    }
    // An open() still waiting for the registration ends now.
    this.#registration.resolve({
      ok: false,
      nameRefused: false,
      event: {
        type: "register-failed",
        server: this.#server,
        reason: "closed",
        detail: "",
        timeoutMs: 0,
      },
    });
    await this.#closeAll();
    this.#finish("disconnected");
  }

  async #closeAll(): Promise<void> {
    const conns = [this.#send, this.#recv].filter((c): c is Conn => c !== null);
    for (const c of conns) c.close();
    await Promise.all(conns.map((c) => c.done));
  }

  #finish(end: SessionEnd): void {
    if (this.#endValue !== null) return;
    this.#endValue = end;
    this.#end.resolve(end);
  }

  #emit(event: ClientEvent): void {
    this.#opts.onEvent(event);
  }

  #reportUnanswered(why: string): void {
    for (const p of this.#fifo) {
      if (p.kind !== "send") continue;
      this.unconfirmed++;
      this.#emit({ type: "unconfirmed", to: p.to, why });
    }
    this.#fifo = [];
    this.#wakeIdle();
  }

  #wakeIdle(): void {
    if (this.pending > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #data(half: Half, chunk: Uint8Array): void {
    if (half === "TOSEND") {
      this.#sendDecoder.feed(chunk, (e) => this.#onSendEvent(e));
      return;
    }
    const decoder = this.#recvDecoder;
    decoder.feed(chunk, (e) => this.#onRecvEvent(e));
    // After a fatal error the rest of this chunk is lost; start afresh with the next one.
    if (decoder.dead) {
      this.#recvDecoder = new Decoder({ from: "server", maxBodyBytes: MAX_BODY_BYTES });
    }
  }

  /** A registration answer on either half. */
  #onRegistration(half: Half, m: Message): void {
    if (m.type === "REGISTERED" && m.half === half) {
      this.#registered.add(half);
      if (this.#registered.size === 2) {
        this.#registration.resolve({ ok: true });
        this.#emit({
          type: "registered",
          name: this.#opts.name,
          server: this.#server,
          hint: false,
        });
      }
    } else if (m.type === "ERROR") {
      const refused = m.code === ErrorCode.MalformedUsername ||
        m.code === ErrorCode.UsernameTaken;
      this.#registration.resolve({
        ok: false,
        nameRefused: refused,
        event: refused
          ? { type: "name-refused", name: this.#opts.name, code: m.code, text: m.text }
          : {
            type: "register-failed",
            server: this.#server,
            reason: m.code === ErrorCode.TooManyConnections ? "full" : "unexpected",
            detail: `ERROR ${m.code} ${m.text}`,
            timeoutMs: 0,
          },
      });
    } else {
      this.#registration.resolve({
        ok: false,
        nameRefused: false,
        event: {
          type: "register-failed",
          server: this.#server,
          reason: "unexpected",
          detail: JSON.stringify(messageLine(m)),
          timeoutMs: 0,
        },
      });
    }
  }

  /** Bytes that are not a message where a registration answer was due. */
  #registrationGarbled(error: DecodeError): void {
    this.#registration.resolve({
      ok: false,
      nameRefused: false,
      event: {
        type: "register-failed",
        server: this.#server,
        reason: "unexpected",
        detail: describeDecodeError(error),
        timeoutMs: 0,
      },
    });
  }

  #onSendEvent(e: DecodeEvent): void {
    if (this.#state === "ended") return;
    if (e.kind === "error" && !this.#registered.has("TOSEND")) {
      return this.#registrationGarbled(e.error);
    }
    if (e.kind === "error") {
      this.#emit({ type: "unexpected", what: describeDecodeError(e.error) });
      if (e.error.fatal) {
        // The answers can no longer be told apart: this connection is of no more use.
        this.#lost("it sent something this client cannot read");
      }
      return;
    }
    const m = e.message;
    if (!this.#registered.has("TOSEND")) return this.#onRegistration("TOSEND", m);
    const head = this.#fifo[0];
    switch (m.type) {
      case "SENT":
        if (head?.kind === "send") {
          this.#fifo.shift();
          this.delivered++;
          this.#emit({ type: "sent", to: head.to });
          this.#wakeIdle();
          return;
        }
        break;
      case "ERROR":
        if (head?.kind === "send") {
          this.#fifo.shift();
          this.notDelivered++;
          this.#emit({ type: "not-delivered", to: head.to, code: m.code, text: m.text });
          this.#wakeIdle();
          return;
        }
        if (head?.kind === "unregister") {
          this.#fifo.shift();
          this.#leaveDone.resolve(false);
          return;
        }
        break;
      case "UNREGISTERED":
        if (head?.kind === "unregister") {
          this.#fifo.shift();
          this.#leaveDone.resolve(true);
          return;
        }
        break;
    }
    this.#emit({ type: "unexpected", what: JSON.stringify(messageLine(m)) });
  }

  #onRecvEvent(e: DecodeEvent): void {
    if (this.#state === "ended") return;
    const recv = this.#recv;
    if (e.kind === "error" && !this.#registered.has("TORECV")) {
      return this.#registrationGarbled(e.error);
    }
    if (e.kind === "error") {
      recv?.write(encode(errorMessage(ErrorCode.HeaderIncomplete)));
      this.#emit({ type: "bad-forward", reason: describeDecodeError(e.error) });
      return;
    }
    const m = e.message;
    if (!this.#registered.has("TORECV")) return this.#onRegistration("TORECV", m);
    if (m.type === "FORWARD") {
      recv?.write(encode({ type: "RECEIVED", from: m.from }));
      this.#emit({ type: "message", from: m.from, text: bodyText(m.body) });
      return;
    }
    this.#emit({ type: "unexpected", what: JSON.stringify(messageLine(m)) });
  }

  #closed(half: Half, error?: Error): void {
    if (this.#state === "registering") {
      this.#registration.resolve({
        ok: false,
        nameRefused: false,
        event: {
          type: "register-failed",
          server: this.#server,
          reason: "closed",
          detail: error?.message ?? "",
          timeoutMs: 0,
        },
      });
      return;
    }
    if (this.#state === "leaving") {
      // The server closes both connections after UNREGISTERED; TOSEND closing ends the wait.
      if (half === "TOSEND") this.#leaveDone.resolve(false);
      return;
    }
    if (this.#state !== "ready") return;
    const detail = error
      ? `connection error (${error.message.replace(/\s*\(os error \d+\)$/, "")})`
      : "the server closed the connection";
    this.#lost(detail);
  }

  /** The server went away (or broke the protocol): report it and close everything. */
  #lost(detail: string): void {
    if (this.#state === "ended") return;
    this.#state = "ended";
    this.#reportUnanswered("the connection was lost");
    this.#emit({ type: "disconnected", server: this.#server, detail });
    this.#closeAll().then(() => this.#finish("disconnected"));
  }
}

const CLIENT_OPTIONS = {
  port: { type: "string" },
  timeout: { type: "string" },
  wait: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The command line, checked. */
interface ClientArgs {
  name?: string;
  host?: string;
  port: number;
  portGiven: boolean;
  timeoutMs: number;
  waitMs: number;
}

function parseClientArgs(args: string[], interactive: boolean): ClientArgs | "help" {
  const { values: v, positionals } = parseCommandLine(args, CLIENT_OPTIONS, CLIENT_USAGE);
  if (v.help) return "help";
  if (positionals.length > 2) {
    throw new UsageError(`Unexpected argument "${positionals[2]}".`, CLIENT_USAGE);
  }
  const str = (k: string) => v[k] as string | undefined;
  const parsed: ClientArgs = {
    port: str("port") !== undefined ? parsePort(str("port")!, CLIENT_USAGE) : 5500,
    portGiven: str("port") !== undefined,
    timeoutMs: str("timeout") ? parseDuration(str("timeout")!, "--timeout", CLIENT_USAGE) : 10_000,
    waitMs: str("wait") ? parseDuration(str("wait")!, "--wait", CLIENT_USAGE) : 60_000,
  };
  const [name, server] = positionals;
  if (name !== undefined) {
    if (!isUsername(name)) {
      throw new UsageError(
        `Invalid username "${printable(name)}": use letters and digits only (and not "ALL").`,
        CLIENT_USAGE,
      );
    }
    parsed.name = name;
  } else if (!interactive) {
    throw new UsageError(
      "Missing username: give it as the first argument, e.g. chat client abc 127.0.0.1 " +
        "(it is asked for only on a terminal).",
      CLIENT_USAGE,
    );
  }
  if (server !== undefined) {
    const address = parseServerAddress(server);
    if ("error" in address) throw new UsageError(address.error, CLIENT_USAGE);
    applyAddress(parsed, address.host, address.port);
  } else if (!interactive) {
    throw new UsageError(
      "Missing server: give its address as the second argument, e.g. chat client abc " +
        "127.0.0.1 (it is asked for only on a terminal).",
      CLIENT_USAGE,
    );
  }
  return parsed;
}

function applyAddress(parsed: ClientArgs, host: string, port: number | undefined): void {
  if (port !== undefined && parsed.portGiven && port !== parsed.port) {
    throw new UsageError(
      `Two different ports: "${port}" in the server address and "${parsed.port}" in --port. ` +
        "Give one of them.",
      CLIENT_USAGE,
    );
  }
  parsed.host = host;
  if (port !== undefined) parsed.port = port;
}

/** Entry point of `chat client`: returns the process exit code. */
export async function clientMain(args: string[]): Promise<number> {
  const terminal = Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
  const parsed = parseClientArgs(args, terminal);
  if (parsed === "help") {
    console.log(CLIENT_HELP);
    return 0;
  }
  return terminal ? await runTerminal(parsed) : await runPiped(parsed);
}

// ---------------------------------------------------------------------------------------------
// Piped face: plain lines, no prompts, exit code says whether everything was delivered.

const encoder = new TextEncoder();

function writeTo(stream: "stdout" | "stderr", text: string): void {
  try {
    const bytes = encoder.encode(text + "\n");
    const file = stream === "stdout" ? Deno.stdout : Deno.stderr;
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
  } catch { /* the reader went away: nothing more to tell it */ }
}

/** Reads lines from a byte stream (LF or CRLF; a last line without LF counts). */
class LineReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #lines: string[] = [];
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  async next(): Promise<string | null> {
    while (this.#lines.length === 0 && !this.#done) {
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#done = true;
        if (this.#buffer !== "") this.#lines.push(this.#buffer);
        this.#buffer = "";
        break;
      }
      this.#buffer += value;
      const parts = this.#buffer.split("\n");
      this.#buffer = parts.pop()!;
      this.#lines.push(...parts.map((l) => l.replace(/\r$/, "")));
    }
    return this.#lines.shift() ?? null;
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

async function runPiped(args: ClientArgs): Promise<number> {
  const emit = (event: ClientEvent) =>
    writeTo(eventStream(event), renderEvent(event, { color: false }));
  const session = new ChatSession({
    host: args.host!,
    port: args.port,
    name: args.name!,
    timeoutMs: args.timeoutMs,
    onEvent: emit,
  });
  const opened = await session.open();
  if (!opened.ok) {
    emit(opened.event);
    return 1;
  }

  let invalid = 0;
  let interrupted = false;
  const reader = new LineReader(Deno.stdin.readable);
  const { promise: stop, resolve: onStop } = Promise.withResolvers<null>();
  const onSigint = () => {
    interrupted = true;
    onStop(null);
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    const ended = session.ended.then(() => null);
    for (let n = 1;; n++) {
      const line = await Promise.race([reader.next(), ended, stop]);
      if (line === null) break;
      const input = parseInputLine(line);
      if (input.kind === "send") {
        session.send(input.to, input.text);
      } else if (input.kind === "invalid") {
        invalid++;
        emit({ type: "invalid-input", hint: input.hint, line: n });
      } else if (input.kind === "command") {
        if (input.command === "help") emit({ type: "help" });
        if (input.command === "quit") break;
      }
    }
    reader.cancel();
    if (!interrupted) await Promise.race([session.settle(args.waitMs), stop]);
    const end = session.ready ? (await session.leave(), "left") : await session.ended;
    const allDelivered = session.notDelivered === 0 && session.unconfirmed === 0;
    return end === "left" && allDelivered && invalid === 0 ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

// ---------------------------------------------------------------------------------------------
// Terminal face: a line editor; incoming messages print above the line being typed.

/**
 * node:readline's Interface with the one internal field used here: the row of the cursor at
 * the last redraw, which `prompt(true)` moves up by before redrawing.
 */
interface LineEditor extends readline.Interface {
  prevRows?: number;
}

async function runTerminal(args: ClientArgs): Promise<number> {
  const color = !Deno.noColor;
  const out = process.stdout;
  const names = new Set<string>();
  let self = "";
  const rl = readline.createInterface({
    input: process.stdin,
    output: out,
    terminal: true,
    historySize: 1000,
    removeHistoryDuplicates: true,
    completer: (line: string) => completeInput(line, [...names].filter((n) => n !== self)),
  }) as LineEditor;

  let chatting = false; // the chat prompt is on screen
  let closing = false;
  const stop = Promise.withResolvers<"quit">();
  rl.on("SIGINT", () => stop.resolve("quit"));
  rl.on("close", () => {
    // Ctrl-D or the end of input: leave the prompt off the screen, print plainly from now on.
    if (chatting) clearPrompt();
    if (!closing) stop.resolve("quit");
  });

  /** Erases the prompt and the typed line (all the rows they wrap to) from the screen. */
  const clearPrompt = () => {
    const pos = rl.getCursorPos();
    readline.moveCursor(out, 0, -pos.rows);
    readline.cursorTo(out, 0);
    readline.clearScreenDown(out);
    chatting = false;
  };
  /** Prints text above the prompt, then redraws the prompt and what was typed. */
  const print = (text: string) => {
    if (!chatting) {
      out.write(text + "\n");
      return;
    }
    clearPrompt();
    chatting = true;
    out.write(text + "\n");
    rl.prevRows = 0; // the prompt now starts on the current row
    rl.prompt(true);
  };
  const show = (event: ClientEvent) => {
    if (event.type === "message") names.add(event.from);
    if (event.type === "sent" && event.to !== "ALL") names.add(event.to);
    print(renderEvent(event, { color }));
  };
  const ask = (question: string) => {
    let answered = false;
    return Promise.race([
      new Promise<string>((resolve) =>
        rl.question(question, (answer) => {
          answered = true;
          resolve(answer);
        })
      ),
      stop.promise.then(() => {
        if (!answered) out.write("\n"); // Ctrl-C or Ctrl-D at the question: end its line
        return null;
      }),
    ]);
  };
  const finish = (code: number) => {
    if (chatting) clearPrompt();
    closing = true;
    rl.close();
    return code;
  };

  let name = args.name;
  let host = args.host;
  let port = args.port;
  let session: ChatSession;
  for (;;) {
    while (name === undefined) {
      const answer = await ask("Enter username: ");
      if (answer === null) return finish(0);
      const typed = answer.trim();
      if (isUsername(typed)) name = typed;
      else if (typed !== "") {
        show({
          type: "invalid-input",
          hint: `Invalid username "${printable(typed)}": use letters and digits only (and ` +
            'not "ALL").',
        });
      }
    }
    while (host === undefined) {
      const answer = await ask("Enter server_IP: ");
      if (answer === null) return finish(0);
      if (answer.trim() === "") continue;
      const address = parseServerAddress(answer);
      if ("error" in address) show({ type: "invalid-input", hint: address.error });
      else {
        host = address.host;
        port = address.port ?? port;
      }
    }
    session = new ChatSession({
      host,
      port,
      name,
      timeoutMs: args.timeoutMs,
      onEvent: (e) => {
        if (e.type !== "registered") show(e);
      },
    });
    const opened = await Promise.race([session.open(), stop.promise]);
    if (opened === "quit") {
      await session.close();
      return finish(0);
    }
    if (opened.ok) break;
    show(opened.event);
    if (!opened.nameRefused) return finish(1);
    name = undefined;
  }
  self = name;
  show({ type: "registered", name, server: session.server, hint: true });

  rl.setPrompt(color ? `\x1b[1;36m${name}\x1b[0m> ` : `${name}> `);
  chatting = true;
  rl.prompt();
  rl.on("line", (line) => {
    const input = parseInputLine(line);
    switch (input.kind) {
      case "send":
        session.send(input.to, input.text);
        break;
      case "invalid":
        show({ type: "invalid-input", hint: input.hint });
        break;
      case "command":
        if (input.command === "quit") return stop.resolve("quit");
        if (input.command === "help") show({ type: "help" });
        if (input.command === "clear") {
          readline.cursorTo(out, 0, 0);
          readline.clearScreenDown(out);
        }
        break;
      case "empty":
        break;
    }
    if (chatting) rl.prompt();
  });

  const end = await Promise.race([session.ended, stop.promise]);
  if (end === "quit") {
    await session.leave();
    return finish(0);
  }
  return finish(1);
}
