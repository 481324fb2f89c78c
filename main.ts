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
};

/** The version printed by `chat --version`, from deno.json. */
export const VERSION: string = denoJson.version;

/** Usage line of `chat`. */
export const MAIN_USAGE =
  "Usage: chat <server|client|conformance> [options]   (chat --help for more)";

/** Help text of `chat`. */
export const MAIN_HELP =
  `chat ${VERSION}: a chat server and terminal client for the two-socket chat protocol

Usage:
  chat server [--host ADDRESS] [--port PORT] [options]
  chat client [USERNAME] [SERVER] [--port PORT] [options]
  chat conformance server HOST[:PORT] [options]
  chat conformance client [options] -- COMMAND [ARGS...]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join("\n")}

Options:
  -h, --help       Show this help (or a command's help: chat server --help)
  -V, --version    Show the version

Examples:
  chat server
  chat client abc 127.0.0.1
  chat conformance server 127.0.0.1:5500
  chat conformance client -- chat client {user} {host} --port {port}

Exit codes: 0 success, 1 runtime failure, 2 usage error.
`;

/** Runs `chat` with the given arguments and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    const entry = command !== undefined && Object.hasOwn(COMMANDS, command)
      ? COMMANDS[command]
      : undefined;
    if (entry !== undefined) return await (await entry.load())(rest);
    switch (command) {
      case "-h":
      case "--help":
      case "help":
        console.log(MAIN_HELP.trimEnd());
        return 0;
      case "-V":
      case "--version":
      case "version":
        console.log(`chat ${VERSION}`);
        return 0;
      case undefined:
        throw new UsageError(
          'Missing command: use "server", "client" or "conformance".',
          MAIN_USAGE,
        );
      default:
        throw new UsageError(
          `Unknown command "${command}": use "server", "client" or "conformance".`,
          MAIN_USAGE,
        );
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
