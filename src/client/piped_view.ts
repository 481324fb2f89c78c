/**
 * The pure view behind the piped face of `chat client` (`piped.ts`): lines read in, what to
 * send or print out; engine events in, one plain line on standard output (the conversation)
 * or standard error (status) out; and the exit code.
 *
 * @module
 */
import { parseInputLine } from "./input.ts";
import type { ClientEvent } from "./events.ts";
import { CHAT_HELP, eventStream, renderEvent } from "./render.ts";

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

/** Options of {@link PipedView}. */
export interface PipedViewOptions {
  /** Where the user's key for `name` on `server` is kept, as the user would type it. */
  keyFile?: (server: string, name: string) => string | undefined;
}

/**
 * The piped face's state and rules: line numbers, lines not sent, the conversation target,
 * where each event goes, and the exit code.
 */
export class PipedView {
  #lines = 0;
  #invalid = 0;
  #target: string | null = null;
  readonly #keyFile: PipedViewOptions["keyFile"];

  /** A view with no line read yet. */
  constructor(options: PipedViewOptions = {}) {
    this.#keyFile = options.keyFile;
  }

  /**
   * How `event` prints: one plain line on the stream it belongs to; null for none (the
   * negotiation, and a key made or proven, which need no word).
   */
  event(event: ClientEvent): Output | null {
    if (event.type === "negotiated") return null;
    if (event.type === "identity" && (event.status === "proven" || event.status === "created")) {
      return null;
    }
    const text = renderEvent(event, { color: false, keyFile: this.#keyFile });
    return { stream: eventStream(event), text };
  }

  #invalidLine(hint: string, n: number): PipedStep {
    this.#invalid++;
    return {
      kind: "print",
      output: {
        stream: "stderr",
        text: renderEvent({ type: "invalid-input", hint, line: n }, {
          color: false,
        }),
      },
    };
  }

  /** What the next line read does. */
  line(line: string): PipedStep {
    const n = ++this.#lines;
    const input = parseInputLine(line, this.#target);
    switch (input.kind) {
      case "send":
        return { kind: "send", to: input.to, text: input.text };
      case "target":
        this.#target = input.to;
        return input.to !== null && input.text !== undefined
          ? { kind: "send", to: input.to, text: input.text }
          : { kind: "none" };
      case "invalid":
        return this.#invalidLine(input.hint, n);
      case "command":
        switch (input.command) {
          case "help":
            return { kind: "print", output: { stream: "stdout", text: CHAT_HELP } };
          case "quit":
            return { kind: "quit" };
          case "who":
            return this.#invalidLine('Not sent: /who works on a terminal; send "@server who".', n);
          case "clear":
            return { kind: "none" };
        }
        break;
      case "empty":
        return { kind: "none" };
    }
    return { kind: "none" };
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
