/**
 * The terminal face of `chat client`: asks what is missing, opens the session and chats. What
 * each line and event means is {@link TerminalView}'s (view.ts); the screen is `screen.ts`.
 *
 * @module
 */
import { connect } from "../net/transport.ts";
import { ChatSession } from "./engine.ts";
import type { ClientArgs, Settings } from "./options.ts";
import { Screen } from "./screen.ts";
import { SERVER_QUESTION, TerminalView, USERNAME_QUESTION } from "./view.ts";

/** Runs the terminal face: asks what is missing, then chats; returns the exit code. */
export async function runTerminal(args: ClientArgs, settings: Settings): Promise<number> {
  // Where the key is kept, for the sentence that says the name is now the user's.
  const { keyFile } = settings;
  const view = new TerminalView({ color: !Deno.noColor, ...(keyFile ? { keyFile } : {}) });
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
    const asked = host === undefined;
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
    screen.print(view.early(opened.event));
    const lostKey = opened.event.type === "identity-failed" &&
      opened.event.reason === "not-owner";
    if (opened.nameRefused || lostKey) {
      name = undefined;
    } else if (asked) {
      host = undefined; // an address typed at the question: ask it again
    } else {
      return screen.finish(1);
    }
  }
  screen.apply(view.registered(name, session.server, settings.tls !== undefined));
  screen.chat((lines) => view.input(lines, session));

  const end = await Promise.race([session.ended, stop.promise]);
  if (end === "quit") {
    await session.leave();
    return screen.finish(0);
  }
  return screen.finish(1);
}
