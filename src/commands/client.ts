/**
 * `chat client`: its help, its flags, and choosing the face (terminal or piped).
 *
 * @module
 */
import { parseCommandLine, parseDuration, parsePort, UsageError } from "./cli.ts";
import { readPem } from "../net/pem.ts";
import type { ChatSessionOptions } from "../client/engine.ts";
import type { ClientArgs, Settings } from "../client/options.ts";
import { parseServerAddress, usernameProblem } from "../client/input.ts";
import { runPiped } from "../client/piped.ts";
import { runTerminal } from "../client/terminal.ts";

/** Usage line of `chat client`. */
export const CLIENT_USAGE = "Usage: chat client [USERNAME] [SERVER] [--port PORT] [options]";

/** Help text of `chat client`. */
export const CLIENT_HELP = `${CLIENT_USAGE}

Chats with the users of a chat server: type "@name message" to send to one user,
"@ALL message" to send to everyone online. Incoming messages show as "name: text".

Arguments:
  USERNAME               1 to 64 ASCII letters and digits, not "ALL" (asked for when
                         missing on a terminal)
  SERVER                 Host name, IPv4 or IPv6 address of the server, optionally with
                         ":PORT" ("[::1]:5500" for IPv6); asked for when missing on a
                         terminal

Options:
  --port PORT            Server port (default 5500)
  --timeout TIME         How long to wait for the server to accept the connections and
                         answer the registration (default 10s; units ms, s, m)
  --wait TIME            Piped input only: at its end, how long to wait for the answers
                         to the messages sent (default 60s)
  --tls                  Connect over TLS (the server runs with --tls-cert/--tls-key)
  --ca FILE              With --tls: also trust this PEM certificate (the server's own
                         self-signed one, or the CA that signed it)
  --reconnect            When the server goes away, reconnect instead of exiting: after
                         0.5s, 1s, 2s, 4s, 8s, then every 10s (give or take 20%), until it
                         is back or you quit; lines typed meanwhile (up to 100) are sent
                         once it is back
  -h, --help             Show this help

Typing (each line is one message):
  @name message          To one user; the original's "@name:message" works too
  @ALL message           To everyone online
  /help                  In-chat help
  /quit, /exit           Leave (also Ctrl-D, Ctrl-C)
  /clear                 Clear the screen
  On a terminal, Tab completes commands and the @names seen so far, Up/Down recall lines.
  Other lines are not sent: the client says why. Colours are off when NO_COLOR is set.

Sending too fast: a message the server refuses with ERROR 106 (rate limit) is sent again
by itself after a short wait, in the order typed; you are told only if the server still
refuses it after about 15 seconds in which nothing got through.

Lost connection: without --reconnect the client says so and exits 1. With it, the
client says so, retries, and says "Reconnected as NAME"; messages that were awaiting an
answer are reported as not confirmed (they may or may not have arrived) and are not
sent again. If the name is still taken on the server, it tries 5 times, then gives up.

Piped (stdin or stdout not a terminal): no prompts and no colours, one plain line per
event. Standard output carries the conversation: incoming messages ("abc: Hiii") and
the outcome of each message sent ("Message successfully sent to xyz", "Message to xyz
not delivered: ..."). Standard error carries status and problems (registration, lines
not sent, lost connection). At the end of input the client waits for the answers to
what it sent, receiving meanwhile, then leaves.

Exit codes: 0 left cleanly (piped: and every line was sent and delivered), 1 connection
or registration failed, the server went away (and --reconnect gave up), or (piped) a
message was not delivered or confirmed or a line was not sent, 2 usage error.

Examples:
  chat client abc 127.0.0.1
  chat client abc chat.example --tls --ca cert.pem --reconnect
  printf '@xyz Hiii\\n' | chat client abc 127.0.0.1 --port 5500
`;

const CLIENT_OPTIONS = {
  port: { type: "string" },
  timeout: { type: "string" },
  wait: { type: "string" },
  tls: { type: "boolean" },
  ca: { type: "string" },
  reconnect: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

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
    tls: v.tls === true,
    reconnect: v.reconnect === true,
  };
  if (str("ca") !== undefined) {
    if (!parsed.tls) {
      throw new UsageError(
        'Option "--ca" needs --tls: add --tls to connect over TLS with that certificate.',
        CLIENT_USAGE,
      );
    }
    parsed.ca = str("ca")!;
  }
  const [name, server] = positionals;
  if (name !== undefined) {
    const problem = usernameProblem(name);
    if (problem !== null) throw new UsageError(problem, CLIENT_USAGE);
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
    console.log(CLIENT_HELP.trimEnd());
    return 0;
  }
  let tls: ChatSessionOptions["tls"];
  if (parsed.tls) {
    tls = {};
    if (parsed.ca !== undefined) {
      const pem = await readPem(parsed.ca, "CA certificate");
      if (pem === null) return 1;
      tls.caCerts = [pem];
    }
  }
  const settings: Settings = {
    timeoutMs: parsed.timeoutMs,
    reconnect: parsed.reconnect,
    ...(tls ? { tls } : {}),
  };
  return terminal ? await runTerminal(parsed, settings) : await runPiped(parsed, settings);
}
