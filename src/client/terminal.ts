/**
 * The terminal face of `chat client`: a line editor; incoming messages print above the line
 * being typed. What each line and event means is {@link TerminalView}'s (view.ts); this file
 * only does the screen.
 *
 * @module
 */
import * as readline from "node:readline";
import process from "node:process";
import { connect } from "../net/transport.ts";
import { ChatSession } from "./engine.ts";
import type { ClientEvent } from "./events.ts";
import type { ClientArgs, Settings } from "./options.ts";
import {
  type Answer,
  type Effect,
  SERVER_QUESTION,
  TerminalView,
  USERNAME_QUESTION,
} from "./view.ts";

/**
 * node:readline's Interface with the one internal field used here: the row of the cursor at
 * the last redraw, which `prompt(true)` moves up by before redrawing.
 */
interface LineEditor extends readline.Interface {
  prevRows?: number;
}

/** Runs the terminal face: asks what is missing, then chats; returns the exit code. */
export async function runTerminal(args: ClientArgs, settings: Settings): Promise<number> {
  const view = new TerminalView(!Deno.noColor);
  const screen = new Screen(view);
  const { stop } = screen;

  let name = args.name;
  let host = args.host;
  let port = args.port;
  let session: ChatSession;
  for (;;) {
    while (name === undefined) {
      const answer = await screen.ask(USERNAME_QUESTION, (a) => view.username(a));
      if (answer === null) return screen.finish(0);
      name = answer;
    }
    while (host === undefined) {
      const answer = await screen.ask(SERVER_QUESTION, (a) => view.server(a, port));
      if (answer === null) return screen.finish(0);
      ({ host, port } = answer);
    }
    session = new ChatSession({
      ...settings,
      connect,
      host,
      port,
      name,
      onEvent: (e) => screen.sessionEvent(e),
    });
    const opened = await Promise.race([session.open(), stop.promise]);
    if (opened === "quit") {
      await session.close();
      return screen.finish(0);
    }
    if (opened.ok) break;
    screen.print(view.event(opened.event));
    if (!opened.nameRefused) return screen.finish(1);
    name = undefined;
  }
  const { text, prompt } = view.registered(name, session.server, settings.tls !== undefined);
  screen.print(text);
  screen.chat(prompt, (line) => view.line(line, session));

  const end = await Promise.race([session.ended, stop.promise]);
  if (end === "quit") {
    await session.leave();
    return screen.finish(0);
  }
  return screen.finish(1);
}

/** The screen of the terminal face: the line editor, the prompt, and printing above it. */
class Screen {
  /** The line editor. */
  readonly rl: LineEditor;
  /** Resolves on Ctrl-C, Ctrl-D, the end of input or /quit. */
  readonly stop: PromiseWithResolvers<"quit"> = Promise.withResolvers<"quit">();
  readonly #view: TerminalView;
  readonly #out = process.stdout;
  /** The chat prompt is on screen. */
  #chatting = false;
  #closing = false;

  constructor(view: TerminalView) {
    this.#view = view;
    this.rl = readline.createInterface({
      input: process.stdin,
      output: this.#out,
      terminal: true,
      historySize: 1000,
      removeHistoryDuplicates: true,
      completer: (line: string) => view.complete(line),
    }) as LineEditor;
    this.rl.on("SIGINT", () => this.stop.resolve("quit"));
    this.rl.on("close", () => {
      // Ctrl-D or the end of input: leave the prompt off the screen, print plainly from now on.
      if (this.#chatting) this.#clearPrompt();
      if (!this.#closing) this.stop.resolve("quit");
    });
  }

  /** Erases the prompt and the typed line (all the rows they wrap to) from the screen. */
  #clearPrompt(): void {
    const pos = this.rl.getCursorPos();
    readline.moveCursor(this.#out, 0, -pos.rows);
    readline.cursorTo(this.#out, 0);
    readline.clearScreenDown(this.#out);
    this.#chatting = false;
  }

  /** Prints text above the prompt, then redraws the prompt and what was typed. */
  print(text: string): void {
    if (!this.#chatting) {
      this.#out.write(text + "\n");
      return;
    }
    this.#clearPrompt();
    this.#chatting = true;
    this.#out.write(text + "\n");
    this.rl.prevRows = 0; // the prompt now starts on the current row
    this.rl.prompt(true);
  }

  /** Shows an event the session reports. */
  sessionEvent(event: ClientEvent): void {
    const text = this.#view.sessionEvent(event);
    if (text !== null) this.print(text);
  }

  /** Asks `question` until `read` accepts the answer; null on Ctrl-C or Ctrl-D. */
  async ask<T>(question: string, read: (answer: string) => Answer<T>): Promise<T | null> {
    for (;;) {
      const answer = await this.#question(question);
      if (answer === null) return null;
      const result = read(answer);
      if ("value" in result) return result.value;
      if ("text" in result) this.print(result.text);
    }
  }

  #question(question: string): Promise<string | null> {
    let answered = false;
    return Promise.race([
      new Promise<string>((resolve) =>
        this.rl.question(question, (answer) => {
          answered = true;
          resolve(answer);
        })
      ),
      this.stop.promise.then(() => {
        if (!answered) this.#out.write("\n"); // Ctrl-C or Ctrl-D at the question: end its line
        return null;
      }),
    ]);
  }

  /** Shows `prompt` and hands each typed line to `onLine`, doing what it says. */
  chat(prompt: string, onLine: (line: string) => Effect[]): void {
    this.rl.setPrompt(prompt);
    this.#chatting = true;
    this.rl.prompt();
    this.rl.on("line", (line) => {
      for (const effect of onLine(line)) {
        if (effect.kind === "quit") return this.stop.resolve("quit");
        if (effect.kind === "print") this.print(effect.text);
        if (effect.kind === "clear") {
          readline.cursorTo(this.#out, 0, 0);
          readline.clearScreenDown(this.#out);
        }
      }
      if (this.#chatting) this.rl.prompt();
    });
  }

  /** Takes the prompt off the screen and closes the line editor; returns `code`. */
  finish(code: number): number {
    if (this.#chatting) this.#clearPrompt();
    this.#closing = true;
    this.rl.close();
    return code;
  }
}
