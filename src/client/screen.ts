/**
 * The screen of the terminal face: the line editor (node:readline), the prompt, printing above
 * it, and changing the delivery mark of a line printed earlier while it is still on screen.
 * What to print and do comes from {@link TerminalView}; this file only does the terminal.
 *
 * @module
 */
import * as readline from "node:readline";
import process from "node:process";
import type { ClientEvent } from "./events.ts";
import type { Answer, Effect, TerminalView } from "./view.ts";
import { LineTracker } from "./tracker.ts";
import { displayWidth } from "./wrap.ts";

/**
 * node:readline's Interface with the internal fields used here: the row of the cursor at the
 * last redraw (which `prompt(true)` moves up by before redrawing), and the line being typed.
 */
interface LineEditor extends readline.Interface {
  prevRows?: number;
  line: string;
  cursor: number;
}

/** Lines that arrive within this many milliseconds of each other were pasted together. */
export const PASTE_MS = 12;

/** The screen of the terminal face: the line editor, the prompt, and printing above it. */
export class Screen {
  /** The line editor. */
  readonly rl: LineEditor;
  /** Resolves on Ctrl-C on an empty line, Ctrl-D, the end of input or /quit. */
  readonly stop: PromiseWithResolvers<"quit"> = Promise.withResolvers<"quit">();
  readonly #view: TerminalView;
  readonly #out = process.stdout;
  /** The chat prompt is on screen. */
  #chatting = false;
  #closing = false;
  /** The lines whose mark may still change, and where they are. */
  readonly #tracked = new LineTracker();
  #batch: string[] = [];
  #batchTimer: ReturnType<typeof setTimeout> | undefined;

  /** A screen on standard input and output, for `view`. */
  constructor(view: TerminalView) {
    this.#view = view;
    view.width = this.#columns();
    this.rl = readline.createInterface({
      input: process.stdin,
      output: this.#out,
      terminal: true,
      historySize: 1000,
      removeHistoryDuplicates: true,
      completer: (line: string) => view.complete(line),
    }) as LineEditor;
    this.rl.on("SIGINT", () => this.#interrupt());
    this.rl.on("close", () => {
      // Ctrl-D or the end of input: leave the prompt off the screen, print plainly from now on.
      if (this.#chatting) this.#clearPrompt();
      if (!this.#closing) this.stop.resolve("quit");
    });
    this.#out.on("resize", this.#onResize);
  }

  /**
   * Takes the terminal's width now. The "resize" event can come late (a message may arrive
   * first), so the width is also read before each effect is shown.
   */
  #onResize = (): void => {
    const width = this.#columns();
    if (width === this.#view.width) return;
    this.#view.width = width;
    this.#tracked.clear(); // rows may have rewrapped: marks change by a follow-up line instead
  };

  /** The terminal's width as it is now (not as of the last "resize" event). */
  #columns(): number {
    try {
      return Deno.consoleSize().columns || 80;
    } catch {
      return this.#out.columns || 80;
    }
  }

  /** Ctrl-C: clears the line being typed; on an empty line, leaves. */
  #interrupt(): void {
    if (!this.#chatting || (this.rl.line === "" && !this.#view.continuing)) {
      this.stop.resolve("quit");
      return;
    }
    this.#clearPrompt();
    this.rl.line = "";
    this.rl.cursor = 0;
    for (const e of this.#view.cancelContinuation()) this.#apply(e);
    this.#redraw();
  }

  /** Rows the prompt and `line` take on screen (node:readline always starts a new row). */
  #rows(line: string): number {
    return Math.floor(displayWidth(this.rl.getPrompt() + line) / this.#columns()) + 1;
  }

  /** Erases the prompt and the typed line (all the rows they wrap to) from the screen. */
  #clearPrompt(): void {
    const pos = this.rl.getCursorPos();
    readline.moveCursor(this.#out, 0, -pos.rows);
    readline.cursorTo(this.#out, 0);
    readline.clearScreenDown(this.#out);
    this.#chatting = false;
  }

  /** Draws the prompt and the typed line again, from the current row. */
  #redraw(): void {
    this.#chatting = true;
    this.rl.prevRows = 0; // the prompt now starts on the current row
    this.rl.prompt(true);
  }

  /** Prints text above the prompt, then redraws the prompt and what was typed. */
  print(text: string, id?: number): void {
    const chatting = this.#chatting;
    if (chatting) this.#clearPrompt();
    this.#out.write(text + "\n");
    this.#tracked.printed(text.split("\n").length, id);
    if (chatting) this.#redraw();
  }

  /** Changes the mark of line `id` in place while it is on screen, else prints `fallback`. */
  #mark(effect: Extract<Effect, { kind: "mark" }>): void {
    const promptRows = this.#chatting ? this.#rows(this.rl.line) : 1;
    const rows = this.#out.rows || 24;
    const above = this.#tracked.take(effect.id, rows, promptRows, effect.keep === true);
    if (above === null) {
      if (effect.fallback !== undefined) this.print(effect.fallback);
      return;
    }
    const chatting = this.#chatting;
    if (chatting) this.#clearPrompt();
    readline.moveCursor(this.#out, 0, -above);
    readline.cursorTo(this.#out, effect.column);
    this.#out.write(effect.mark);
    readline.moveCursor(this.#out, 0, above);
    readline.cursorTo(this.#out, 0);
    if (chatting) this.#redraw();
  }

  /** Does what an effect says. */
  #apply(effect: Effect): void {
    switch (effect.kind) {
      case "print":
        return this.print(effect.text, effect.id);
      case "mark":
        return this.#mark(effect);
      case "prompt":
        this.rl.setPrompt(effect.prompt);
        if (this.#chatting) {
          this.#clearPrompt();
          this.#redraw();
        }
        return;
      case "clear":
        readline.cursorTo(this.#out, 0, 0);
        readline.clearScreenDown(this.#out);
        this.#tracked.clear();
        return;
      case "quit":
        this.stop.resolve("quit");
        return;
    }
  }

  /** Does what each effect says. */
  apply(effects: readonly Effect[]): void {
    this.#onResize();
    for (const e of effects) this.#apply(e);
  }

  /** Shows an event the session reports. */
  sessionEvent(event: ClientEvent): void {
    this.#onResize();
    this.apply(this.#view.event(event));
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

  /**
   * Shows the prompt and hands the typed lines to `onInput`, doing what it says. The echo of a
   * line sent is erased (it shows again as a chat line); lines that arrive together, as
   * pasted ones do, go to `onInput` at once.
   */
  chat(onInput: (lines: string[]) => Effect[]): void {
    this.#chatting = true;
    this.rl.prompt();
    this.rl.on("line", (line) => {
      if (!line.endsWith("\\")) {
        // node:readline wrote the line and a newline: go back up over them.
        readline.moveCursor(this.#out, 0, -this.#rows(line));
        readline.cursorTo(this.#out, 0);
        readline.clearScreenDown(this.#out);
      }
      this.#batch.push(line);
      clearTimeout(this.#batchTimer);
      this.#batchTimer = setTimeout(() => {
        const lines = this.#batch;
        this.#batch = [];
        this.apply(onInput(lines));
      }, PASTE_MS);
      this.#redraw();
    });
  }

  /** Takes the prompt off the screen and closes the line editor; returns `code`. */
  finish(code: number): number {
    clearTimeout(this.#batchTimer);
    if (this.#chatting) this.#clearPrompt();
    this.#out.off("resize", this.#onResize);
    this.#closing = true;
    this.rl.close();
    return code;
  }
}
