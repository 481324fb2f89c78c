/**
 * The pure views behind the two faces of `chat client`: typed lines in, what to print and
 * what to do out; engine events in, the text to print out. `terminal.ts` (with `screen.ts`)
 * and `piped.ts` only do the I/O (the line editor, standard output) around them.
 *
 * @module
 */
import { BROADCAST } from "../protocol/mod.ts";
import {
  clock,
  type DeliveryMark,
  incomingLine,
  type LineStyle,
  MARK_COLUMN,
  markText,
  noticeLine,
  ownLine,
  plainLines,
  receiptText,
  snippet,
  when,
} from "./chatlines.ts";
import { Composer, Conversation } from "./conversation.ts";
import type { ClientEvent } from "./events.ts";
import {
  completeInput,
  type InputLine,
  parseInputLine,
  parseServerAddress,
  usernameProblem,
} from "./input.ts";
import { colorName, paint } from "./palette.ts";
import { deliveryProblem, printable, queueFullHint, renderEvent } from "./render.ts";

export type { ClientEvent, ConnectFailure } from "./events.ts";
export {
  type Output,
  type PipedStep,
  PipedView,
  type PipedViewOptions,
  type Tally,
} from "./piped_view.ts";

/** What a face needs of a session to send a line: `ChatSession` is one. */
export interface Outlet {
  /** Queues a message; its id, or null if the session is not open or its queue is full. */
  send(to: string, text: string): number | null;
  /** True when the queue of messages waiting to go out is full. */
  readonly full: boolean;
  /** True while the connection is lost and the client tries to get it back. */
  readonly reconnecting: boolean;
  /** Most messages that may wait to go out. */
  readonly maxQueued: number;
  /** The largest body the server takes, in bytes, when it said. */
  readonly maxBody?: number | undefined;
}

/** What the terminal face must do for a typed line or an event. */
export type Effect =
  | {
    /**
     * Print `text` above the prompt: rows that each fit the width, joined by newlines. With
     * `id`, the line is one of the user's messages whose mark a later `mark` effect changes.
     */
    kind: "print";
    text: string;
    id?: number;
  }
  | {
    /**
     * Change the mark of line `id` to `mark` (`MARK_WIDTH` columns, at `column` of its first
     * row); when that line is no longer on screen, print `fallback` instead (if any). `keep`:
     * the mark may change again (a message stored for someone offline), so the screen goes on
     * tracking the line.
     */
    kind: "mark";
    id: number;
    mark: string;
    column: number;
    fallback?: string;
    keep?: boolean;
  }
  | {
    /** Show `prompt` from now on. */
    kind: "prompt";
    prompt: string;
  }
  | {
    /** Leave the chat. */
    kind: "quit";
  }
  | {
    /** Clear the screen. */
    kind: "clear";
  };

/** An answer to a question the terminal asks before connecting. */
export type Answer<T> =
  | {
    /** The answer, accepted. */
    value: T;
  }
  | {
    /** Not accepted: print `text`, then ask again. */
    text: string;
  }
  | {
    /** Nothing typed: ask again. */
    again: true;
  };

/** The question for a missing username. */
export const USERNAME_QUESTION = "Enter username: ";
/** The question for a missing server address. */
export const SERVER_QUESTION = "Enter server_IP: ";

/** Options of {@link TerminalView}. */
export interface TerminalViewOptions {
  /** Use ANSI colours. */
  color: boolean;
  /** Columns of the terminal (default 80); {@link TerminalView.width} changes it later. */
  width?: number;
  /** The clock for the HH:MM of each line (default: now). */
  now?: () => Date;
  /** Where the user's key for `name` on `server` is kept, as the user would type it. */
  keyFile?: (server: string, name: string) => string | undefined;
}

/** Most stored messages whose receipt the view waits for, to quote them (oldest dropped). */
const MAX_STORED = 10_000;

/** One of the user's messages, until its answer is in. */
interface Sent {
  to: string;
  text: string;
}

/**
 * The terminal face's state and rules: the conversation (target, who is online, connection),
 * the user's messages awaiting answers, what each typed line and each event prints, and the
 * answers to the questions asked before connecting.
 */
export class TerminalView {
  /** Use ANSI colours. */
  readonly color: boolean;
  /** Columns of the terminal: every row printed fits. */
  width: number;
  readonly #now: () => Date;
  readonly #chat = new Conversation();
  readonly #composer = new Composer();
  readonly #sent = new Map<number, Sent>();
  /** The user's messages stored for someone offline, by id, until their receipt. */
  readonly #stored = new Map<number, Sent>();
  /** Recipients the user was told are offline (and that messages wait for them). */
  readonly #toldOffline = new Set<string>();
  readonly #keyFile: TerminalViewOptions["keyFile"];
  #shownOnline = false;

  /** A view with no names seen yet. */
  constructor(options: TerminalViewOptions) {
    this.color = options.color;
    this.width = options.width ?? 80;
    this.#now = options.now ?? (() => new Date());
    this.#keyFile = options.keyFile;
  }

  get #style(): LineStyle {
    return { color: this.color, width: this.width, self: this.#chat.self };
  }

  #time(): string {
    return clock(this.#now());
  }

  #notice(text: string, code?: string): Effect {
    return { kind: "print", text: noticeLine(this.#time(), text, this.#style, code) };
  }

  /** The prompt: the user's name, the conversation target, and who is online or the state. */
  prompt(): string {
    const c = this.color;
    const chat = this.#chat;
    const self = colorName(c, printable(chat.self), chat.self);
    const target = chat.target === null
      ? ""
      : " → " + (chat.target === BROADCAST ? "everyone" : colorName(c, chat.target, chat.self));
    const status = chat.status();
    const shown = status === null
      ? ""
      : " " + paint(c, chat.connection === "online" ? "2" : "31", `[${status}]`);
    return `${self}${target}${shown}${this.#composer.continuing ? " …" : ""}> `;
  }

  /** True while a line ending in a backslash waits for the next one. */
  get continuing(): boolean {
    return this.#composer.continuing;
  }

  /** Forgets a message being continued (Ctrl-C); returns the prompt effect if it changed. */
  cancelContinuation(): Effect[] {
    if (!this.#composer.continuing) return [];
    this.#composer.clear();
    return [{ kind: "prompt", prompt: this.prompt() }];
  }

  /** What `event` prints and does; remembers what it says about the chat. */
  event(event: ClientEvent): Effect[] {
    const promptChanged = this.#chat.apply(event);
    const effects = this.#eventEffects(event);
    if (promptChanged && this.#chat.self !== "") {
      effects.push({ kind: "prompt", prompt: this.prompt() });
    }
    return effects;
  }

  #eventEffects(event: ClientEvent): Effect[] {
    const style = this.#style;
    switch (event.type) {
      case "message": {
        const sent = event.sentAt === undefined ? undefined : when(event.sentAt, this.#now());
        return [{
          kind: "print",
          text: incomingLine(
            this.#time(),
            event.from,
            event.text,
            event.toAll === true,
            style,
            sent,
          ),
        }];
      }
      case "stored":
        return this.#storedAnswer(event);
      case "receipt":
        return this.#receipt(event);
      case "identity":
        if (event.status === "created" || event.status === "proven") return [];
        return [this.#notice(renderEvent(event, { color: this.color, keyFile: this.#keyFile }))];
      case "sent":
      case "not-delivered":
      case "not-sent":
      case "unconfirmed":
        return this.#answer(event);
      case "registered":
        return []; // shown by registered(), with how to type
      case "negotiated":
        this.#shownOnline = false;
        return [];
      case "online":
        if (this.#shownOnline) return [];
        this.#shownOnline = true;
        return [this.#whoLine()];
      case "user-joined":
        this.#toldOffline.delete(event.name);
        return [this.#notice(`${this.#name(event.name)} joined`, "2")];
      case "user-left":
        return [this.#notice(`${this.#name(event.name)} left`, "2")];
      case "help":
        return [{ kind: "print", text: plainLines(renderEvent(event, { color: false }), style) }];
      default:
        return [this.#notice(renderEvent(event, { color: this.color }))];
    }
  }

  #name(name: string): string {
    return colorName(this.color, printable(name), this.#chat.self);
  }

  /** A mark effect for line `id`, with a timed `fallback` line when it is off the screen. */
  #mark(id: number, state: DeliveryMark, fallback?: string, keep = false): Effect {
    return {
      kind: "mark",
      id,
      mark: markText(state, this.color),
      column: MARK_COLUMN,
      ...(fallback === undefined ? {} : {
        fallback: noticeLine(this.#time(), fallback, this.#style),
      }),
      ...(keep ? { keep } : {}),
    };
  }

  /**
   * A message stored for someone offline: one tick (the line stays tracked for the second),
   * and, the first time for that recipient, what it means.
   */
  #storedAnswer(event: Extract<ClientEvent, { type: "stored" }>): Effect[] {
    const sent = this.#sent.get(event.id) ?? { to: event.to, text: "" };
    this.#sent.delete(event.id);
    this.#stored.set(event.id, sent);
    if (this.#stored.size > MAX_STORED) this.#stored.delete(this.#stored.keys().next().value!);
    const to = printable(event.to);
    const quote = sent.text === "" ? "" : ` ("${snippet(sent.text)}")`;
    const effects = [
      this.#mark(
        event.id,
        "stored",
        `${markText("stored", this.color)} Stored for ${to}${quote}, who is offline.`,
        true,
      ),
    ];
    if (!this.#toldOffline.has(event.to)) {
      this.#toldOffline.add(event.to);
      effects.push(this.#notice(
        `${to} is offline: ${markText("stored", this.color, true)} stored for them on ` +
          `the server, ${markText("delivered", this.color)} once delivered.`,
        "2",
      ));
    }
    return effects;
  }

  /**
   * What became of a stored message: the line of one sent in this session changes its mark
   * (two ticks, or ✗ and why); one sent earlier gets a line of its own.
   */
  #receipt(event: Extract<ClientEvent, { type: "receipt" }>): Effect[] {
    const mine = event.id === undefined ? undefined : this.#stored.get(event.id);
    if (event.id !== undefined) this.#stored.delete(event.id);
    if (event.event === "delivered") this.#toldOffline.delete(event.to);
    const at = when(event.sentAt, this.#now());
    const delivered = event.event === "delivered";
    const text = receiptText(event.event, printable(event.to), at, mine?.text);
    if (mine === undefined || event.id === undefined) {
      const state = delivered ? "delivered" : "failed";
      return [this.#notice(`${markText(state, this.color)} ${text}`, delivered ? undefined : "31")];
    }
    if (delivered) {
      return [this.#mark(event.id, "delivered", `${markText("delivered", this.color)} ${text}`)];
    }
    return [this.#mark(event.id, "failed"), this.#notice(text, "31")];
  }

  /** The answer to one of the user's messages: its mark changes, and a problem is told. */
  #answer(
    event: Extract<ClientEvent, { type: "sent" | "not-delivered" | "not-sent" | "unconfirmed" }>,
  ): Effect[] {
    const sent = this.#sent.get(event.id) ?? { to: event.to, text: "" };
    this.#sent.delete(event.id);
    const quote = sent.text === "" ? "" : ` ("${snippet(sent.text)}")`;
    const to = event.to === BROADCAST ? "everyone" : printable(event.to);
    const mark = (state: DeliveryMark, fallback?: string) => this.#mark(event.id, state, fallback);
    switch (event.type) {
      case "sent":
        if (event.to === BROADCAST && event.recipients === 0) {
          return [
            mark("failed"),
            this.#notice(
              `Your message${quote} reached no one: nobody else is online.`,
              "31",
            ),
          ];
        }
        return [
          mark("delivered", `${markText("delivered", this.color)} Delivered to ${to}${quote}.`),
        ];
      case "not-delivered":
        return [
          mark("failed"),
          this.#notice(`Not delivered to ${to}${quote}: ${deliveryProblem(event)}.`, "31"),
        ];
      case "not-sent":
        return [mark("failed"), this.#notice(`Not sent to ${to}${quote}: ${event.why}.`, "31")];
      case "unconfirmed":
        return [
          mark("unknown"),
          this.#notice(
            `Not confirmed to ${to}${quote}: no answer from the server before ${event.why}`,
            "33",
          ),
        ];
    }
  }

  /** The line for /who, or the online list after the registration. */
  #whoLine(): Effect {
    const online = this.#chat.online;
    if (online === null) {
      return this.#notice(
        'This server does not tell who is online; "@server who" may work.',
      );
    }
    return this.#notice(`${online.length} online: ${online.map((n) => this.#name(n)).join(", ")}`);
  }

  /** Tab completion of `line`: commands, and the names seen or online other than the user's. */
  complete(line: string): [string[], string] {
    return completeInput(line, this.#chat.names());
  }

  /** Reads an answer to {@link USERNAME_QUESTION}. */
  username(answer: string): Answer<string> {
    const typed = answer.trim();
    if (typed === "") return { again: true };
    const problem = usernameProblem(typed);
    if (problem === null) return { value: typed };
    return { text: this.#plain(renderEvent({ type: "invalid-input", hint: problem }, this)) };
  }

  /** Reads an answer to {@link SERVER_QUESTION}; `port` is the one to use if none is given. */
  server(answer: string, port: number): Answer<{ host: string; port: number }> {
    if (answer.trim() === "") return { again: true };
    const address = parseServerAddress(answer);
    if ("error" in address) {
      return {
        text: this.#plain(renderEvent({ type: "invalid-input", hint: address.error }, this)),
      };
    }
    return { value: { host: address.host, port: address.port ?? port } };
  }

  /** Text printed before the chat (no timestamp), wrapped to the width. */
  #plain(text: string): string {
    return plainLines(text, this.#style);
  }

  /** The text for an event before the chat starts (a failed connection), wrapped. */
  early(event: ClientEvent): string {
    return this.#plain(renderEvent(event, { color: this.color }));
  }

  /**
   * The session is open as `name` on `server`: the line that says so (with how to type), and
   * the prompt from now on.
   */
  registered(name: string, server: string, tls: boolean): Effect[] {
    this.#chat.self = name;
    this.#chat.apply({ type: "registered", name, server, hint: true });
    const text = renderEvent({
      type: "registered",
      name,
      server,
      hint: true,
      ...(tls ? { tls: true } : {}),
    }, { color: this.color });
    return [this.#notice(text), { kind: "prompt", prompt: this.prompt() }];
  }

  /** What a typed line does: {@link input} with that one line. */
  line(line: string, outlet: Outlet): Effect[] {
    return this.input([line], outlet);
  }

  /**
   * What lines typed or pasted together do: one message (a line ending in a backslash waits
   * for the next), or commands (when the first line is one, each line is read on its own).
   * Sends through `outlet`, and says what to print or do.
   */
  input(lines: readonly string[], outlet: Outlet): Effect[] {
    const wasContinuing = this.#composer.continuing;
    const message = this.#composer.take(lines);
    if (message === null) return [{ kind: "prompt", prompt: this.prompt() }];
    // Commands pasted together still run one by one; other lines make one message.
    const each = message[0]!.trim().startsWith("/") ? message : [message.join("\n")];
    const effects = each.flatMap((line) =>
      this.#do(parseInputLine(line, this.#chat.target), outlet)
    );
    if (wasContinuing) effects.push({ kind: "prompt", prompt: this.prompt() });
    return effects;
  }

  #do(input: InputLine, outlet: Outlet): Effect[] {
    switch (input.kind) {
      case "send":
        return this.#send(input.to, input.text, outlet);
      case "target":
        return this.#target(input.to, input.text, outlet);
      case "invalid":
        return [this.#notice(input.hint, "31")];
      case "command":
        switch (input.command) {
          case "quit":
            return [{ kind: "quit" }];
          case "help":
            return this.#eventEffects({ type: "help" });
          case "who":
            return [this.#whoLine()];
          case "clear":
            return [{ kind: "clear" }];
        }
        break;
      case "empty":
        return [];
    }
    return [];
  }

  /** `/msg name [text]`: makes `to` the target (null: none), and sends `text` if given. */
  #target(to: string | null, text: string | undefined, outlet: Outlet): Effect[] {
    const before = this.#chat.target;
    this.#chat.target = to;
    if (to !== null) this.#chat.see(to);
    const effects: Effect[] = [];
    if (to !== before) {
      const who = to === BROADCAST ? "everyone" : to === null ? "" : this.#name(to);
      effects.push(this.#notice(
        to === null
          ? `Conversation with ${before === BROADCAST ? "everyone" : before ?? "nobody"} ended.`
          : `Talking with ${who}: plain lines go to ${who === "everyone" ? "everyone" : to}. ` +
            "/msg alone ends it.",
        "2",
      ));
      effects.push({ kind: "prompt", prompt: this.prompt() });
    }
    if (to !== null && text !== undefined) effects.push(...this.#send(to, text, outlet));
    return effects;
  }

  /** Sends `text` to `to` and prints it as the user's own line, marked pending. */
  #send(to: string, text: string, outlet: Outlet): Effect[] {
    const bytes = new TextEncoder().encode(text).length;
    if (outlet.maxBody !== undefined && bytes > outlet.maxBody) {
      return [this.#notice(
        `Not sent: the message is ${bytes} bytes; the server takes at most ${outlet.maxBody}.`,
        "31",
      )];
    }
    const id = outlet.send(to, text);
    if (id === null) {
      if (!outlet.full) return [];
      return [this.#notice(queueFullHint(outlet.maxQueued, outlet.reconnecting), "31")];
    }
    this.#chat.see(to);
    this.#sent.set(id, { to, text });
    // With the who extension the answer to "@server who" comes as an online event: show it.
    if (to.toLowerCase() === "server" && text.trim().toLowerCase() === "who") {
      this.#shownOnline = false;
    }
    return [{ kind: "print", id, text: ownLine(this.#time(), "pending", to, text, this.#style) }];
  }
}
