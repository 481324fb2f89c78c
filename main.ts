/**
 * `chat`: the command-line entry. A table of subcommands, each loaded only when it runs (so
 * `chat server` never loads the client's line editor); each command module owns its options
 * and help text.
 *
 * @module
 */
import denoJson from "./deno.json" with { type: "json" };
import { UsageError } from "./src/commands/cli.ts";

/** A subcommand: what `chat --help` says of it, and how to load its entry point. */
interface Command {
  /** One line for `chat --help`. */
  summary: string;
  /** Loads the command's module and returns its entry point (arguments in, exit code out). */
  load: () => Promise<(args: string[]) => Promise<number>>;
}

/** The subcommands of `chat`, by name. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  server: {
    summary: "Run the chat server (default port 5500)",
    load: async () => (await import("./src/commands/server.ts")).serverMain,
  },
  client: {
    summary: "Chat from the terminal, or send messages from a script",
    load: async () => (await import("./src/commands/client.ts")).clientMain,
  },
  conformance: {
    summary: "Check a server or client written by anyone against PROTOCOL.md",
    load: async () => (await import("./src/commands/conformance.ts")).conformanceMain,
  },
  identity: {
    summary: "List, export or import the keys that own your names",
    load: async () => (await import("./src/commands/identity.ts")).identityMain,
  },
};

/** The version printed by `chat --version`, from deno.json. */
export const VERSION: string = denoJson.version;

/** Usage line of `chat`. */
export const MAIN_USAGE =
  "Usage: chat <server|client|conformance|identity> [options]   (chat --help for more)";

/** Help text of `chat`: one screen; README.md has the rest. */
export const MAIN_HELP =
  `chat ${VERSION}: a chat server and terminal client for the two-socket chat protocol

Usage:
  chat server [--host ADDRESS] [--port PORT] [options]
  chat client [USERNAME] [SERVER] [--port PORT] [options]
  chat conformance server HOST[:PORT] [options]
  chat conformance client [options] -- COMMAND [ARGS...]
  chat identity list | export NAME HOST[:PORT] [FILE] | import FILE

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`).join("\n")}
  ${"help COMMAND".padEnd(14)}Show that command's help (as chat COMMAND --help does)

Options:
  -h, --help     Show this help
  -V, --version  Show the version (also after a command: chat server --version)

Try: chat server, then in another terminal: chat client abc 127.0.0.1
Exit codes: 0 success, 1 runtime failure, 2 usage error.
Every option, the protocol and more: README.md.
`;

/** True if `args` ask for the version: `-V` or `--version` before any `--`. */
function asksForVersion(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--version" || a === "-V");
}

/** The command named `name`, if there is one (names every object has are not commands). */
function commandNamed(name: string | undefined): Command | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

function unknownCommand(name: string): UsageError {
  return new UsageError(
    `Unknown command "${name}": use "server", "client", "conformance" or "identity".`,
    MAIN_USAGE,
  );
}

/**
 * Runs `chat` with the given arguments and returns the exit code. `chat COMMAND --version`
 * prints the version as `chat --version` does; `chat help COMMAND` runs `chat COMMAND --help`.
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    const entry = commandNamed(command);
    if (entry !== undefined && asksForVersion(rest)) {
      console.log(`chat ${VERSION}`);
      return 0;
    }
    if (entry !== undefined) return await (await entry.load())(rest);
    switch (command) {
      case "help": {
        const [topic, ...more] = rest;
        if (topic === undefined) {
          console.log(MAIN_HELP.trimEnd());
          return 0;
        }
        const named = commandNamed(topic);
        if (named === undefined) throw unknownCommand(topic);
        return await (await named.load())([...more, "--help"]);
      }
      case "-h":
      case "--help":
        console.log(MAIN_HELP.trimEnd());
        return 0;
      case "-V":
      case "--version":
      case "version":
        console.log(`chat ${VERSION}`);
        return 0;
      case undefined:
        throw new UsageError(
          'Missing command: use "server", "client", "conformance" or "identity".',
          MAIN_USAGE,
        );
      default:
        throw unknownCommand(command);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n${error.usage}`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
