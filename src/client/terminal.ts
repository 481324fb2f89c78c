/**
 * The terminal face of `chat client`: a line editor; incoming messages print above the line
 * being typed.
 *
 * @module
 */
import * as readline from "node:readline";
import process from "node:process";
import { isValidName } from "../protocol/mod.ts";
import { ChatSession, DEFAULT_MAX_QUEUED } from "./engine.ts";
import type { ClientArgs, Settings } from "./options.ts";
import {
  type ClientEvent,
  completeInput,
  parseInputLine,
  parseServerAddress,
  printable,
  queueFullHint,
  renderEvent,
} from "./view.ts";

/**
 * node:readline's Interface with the one internal field used here: the row of the cursor at
 * the last redraw, which `prompt(true)` moves up by before redrawing.
 */
interface LineEditor extends readline.Interface {
  prevRows?: number;
}

export async function runTerminal(args: ClientArgs, settings: Settings): Promise<number> {
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
      if (isValidName(typed)) name = typed;
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
      ...settings,
      host,
      port,
      name,
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
  show({
    type: "registered",
    name,
    server: session.server,
    hint: true,
    ...(settings.tls ? { tls: true } : {}),
  });

  rl.setPrompt(color ? `\x1b[1;36m${name}\x1b[0m> ` : `${name}> `);
  chatting = true;
  rl.prompt();
  rl.on("line", (line) => {
    const input = parseInputLine(line);
    switch (input.kind) {
      case "send":
        if (!session.send(input.to, input.text) && session.full) {
          show({
            type: "invalid-input",
            hint: queueFullHint(DEFAULT_MAX_QUEUED, session.reconnecting),
          });
        }
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
