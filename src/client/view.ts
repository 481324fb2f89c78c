/**
 * The pure views behind the two faces of `chat client`: a typed line in, what to print and
 * what to do out; an engine event in, the text to print out. `terminal.ts` and `piped.ts`
 * only do the I/O (readline, standard output) around them.
 *
 * @module
 */
import type { ClientEvent } from "./events.ts";
import { completeInput, parseInputLine, parseServerAddress, usernameProblem } from "./input.ts";
import { eventStream, queueFullHint, renderEvent } from "./render.ts";

export type { ClientEvent, ConnectFailure } from "./events.ts";

/** What a face needs of a session to send a line: `ChatSession` is one. */
export interface Outlet {
  /** Queues a message; false if the session is not open or its queue is full. */
  send(to: string, text: string): boolean;
  /** True when the queue of messages waiting to go out is full. */
  readonly full: boolean;
  /** True while the connection is lost and the client tries to get it back. */
  readonly reconnecting: boolean;
  /** Most messages that may wait to go out. */
  readonly maxQueued: number;
}

/** What the terminal face must do for a typed line. */
export type Effect =
  | {
    /** Print `text` above the prompt. */
    kind: "print";
    text: string;
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

/**
 * The terminal face's state and rules: the names seen (for tab completion), what each typed
 * line and each event prints, and the answers to the questions asked before connecting.
 */
export class TerminalView {
  /** Use ANSI colours. */
  readonly color: boolean;
  readonly #names = new Set<string>();
  #self = "";

  /** A view with no names seen yet; `color` for ANSI colours. */
  constructor(color: boolean) {
    this.color = color;
  }

  /** The text for `event`; remembers the names it shows for completion. */
  event(event: ClientEvent): string {
    if (event.type === "message") this.#names.add(event.from);
    if (event.type === "sent" && event.to !== "ALL") this.#names.add(event.to);
    return renderEvent(event, { color: this.color });
  }

  /**
   * The text for an event reported by the session, or null for one the face shows itself
   * (the registration, shown with its hint by {@link registered}).
   */
  sessionEvent(event: ClientEvent): string | null {
    return event.type === "registered" ? null : this.event(event);
  }

  /** Tab completion of `line`: commands, and the names seen other than the user's own. */
  complete(line: string): [string[], string] {
    return completeInput(line, [...this.#names].filter((n) => n !== this.#self));
  }

  /** Reads an answer to {@link USERNAME_QUESTION}. */
  username(answer: string): Answer<string> {
    const typed = answer.trim();
    if (typed === "") return { again: true };
    const problem = usernameProblem(typed);
    if (problem === null) return { value: typed };
    return { text: this.event({ type: "invalid-input", hint: problem }) };
  }

  /** Reads an answer to {@link SERVER_QUESTION}; `port` is the one to use if none is given. */
  server(answer: string, port: number): Answer<{ host: string; port: number }> {
    if (answer.trim() === "") return { again: true };
    const address = parseServerAddress(answer);
    if ("error" in address) {
      return { text: this.event({ type: "invalid-input", hint: address.error }) };
    }
    return { value: { host: address.host, port: address.port ?? port } };
  }

  /**
   * The session is open as `name` on `server`: the line that says so (with how to type), and
   * the prompt from now on.
   */
  registered(name: string, server: string, tls: boolean): { text: string; prompt: string } {
    this.#self = name;
    const text = this.event({
      type: "registered",
      name,
      server,
      hint: true,
      ...(tls ? { tls: true } : {}),
    });
    const prompt = this.color ? `\x1b[1;36m${name}\x1b[0m> ` : `${name}> `;
    return { text, prompt };
  }

  /** What a typed line does: sends through `outlet`, and says what to print or do. */
  line(line: string, outlet: Outlet): Effect[] {
    const input = parseInputLine(line);
    switch (input.kind) {
      case "send":
        if (!outlet.send(input.to, input.text) && outlet.full) {
          const hint = queueFullHint(outlet.maxQueued, outlet.reconnecting);
          return [{ kind: "print", text: this.event({ type: "invalid-input", hint }) }];
        }
        return [];
      case "invalid":
        return [{ kind: "print", text: this.event({ type: "invalid-input", hint: input.hint }) }];
      case "command":
        if (input.command === "quit") return [{ kind: "quit" }];
        if (input.command === "help") {
          return [{ kind: "print", text: this.event({ type: "help" }) }];
        }
        return [{ kind: "clear" }];
      case "empty":
        return [];
    }
  }
}

/** One line of piped output, and the stream it goes to. */
export interface Output {
  /** Standard output (the conversation) or standard error (status). */
  stream: "stdout" | "stderr";
  /** The line, without its newline. */
  text: string;
}

/** What the piped face must do for a line read. */
export type PipedStep =
  | {
    /** Queue a message (waiting for room if the queue is full). */
    kind: "send";
    to: string;
    text: string;
  }
  | {
    /** Print a line. */
    kind: "print";
    output: Output;
  }
  | {
    /** Stop reading: leave once the answers are in. */
    kind: "quit";
  }
  | {
    /** Nothing to do. */
    kind: "none";
  };

/** What the piped face's exit code depends on: `ChatSession` is one. */
export interface Tally {
  /** Messages answered with an ERROR. */
  readonly notDelivered: number;
  /** Messages with no answer. */
  readonly unconfirmed: number;
  /** Messages that never went out. */
  readonly notSent: number;
}

/**
 * The piped face's state and rules: line numbers, lines not sent, where each event goes, and
 * the exit code.
 */
export class PipedView {
  #lines = 0;
  #invalid = 0;

  /** How `event` prints: one plain line on the stream it belongs to. */
  event(event: ClientEvent): Output {
    return { stream: eventStream(event), text: renderEvent(event, { color: false }) };
  }

  /** What the next line read does. */
  line(line: string): PipedStep {
    const n = ++this.#lines;
    const input = parseInputLine(line);
    switch (input.kind) {
      case "send":
        return { kind: "send", to: input.to, text: input.text };
      case "invalid":
        this.#invalid++;
        return {
          kind: "print",
          output: this.event({ type: "invalid-input", hint: input.hint, line: n }),
        };
      case "command":
        if (input.command === "help") {
          return { kind: "print", output: this.event({ type: "help" }) };
        }
        return input.command === "quit" ? { kind: "quit" } : { kind: "none" };
      case "empty":
        return { kind: "none" };
    }
  }

  /**
   * The exit code: 0 if the session `left` cleanly and every line was sent and delivered,
   * otherwise 1.
   */
  exitCode(left: boolean, tally: Tally): number {
    const allDelivered = tally.notDelivered === 0 && tally.unconfirmed === 0 &&
      tally.notSent === 0;
    return left && allDelivered && this.#invalid === 0 ? 0 : 1;
  }
}
