/**
 * `chat client`: its help, its flags, and choosing the face (terminal or piped).
 *
 * @module
 */
import { parseCommandLine, parseDuration, parsePort, UsageError } from "./cli.ts";
import { readPem } from "../net/pem.ts";
import type { ChatSessionOptions, IdentityStore } from "../client/engine.ts";
import { formatAddress } from "../net/address.ts";
import { fileIdentityStore, IdentityFileError, identityFileFor } from "../client/identity_file.ts";
import type { ClientArgs, Settings } from "../client/options.ts";
import { parseServerAddress, usernameProblem } from "../client/input.ts";
import { runPiped } from "../client/piped.ts";
import { runTerminal } from "../client/terminal.ts";

/** Usage line of `chat client`. */
export const CLIENT_USAGE = "Usage: chat client [USERNAME] [SERVER] [--port PORT] [options]";

/**
 * Help text of `chat client`: one 24-row screen, 80 columns; the rest (conversations,
 * delivery marks, reconnecting, piped output) is in README.md.
 */
export const CLIENT_HELP = `${CLIENT_USAGE}

Chats with the users of a chat server. USERNAME: 1 to 64 letters and digits, not
"ALL". SERVER: host name or IP address, maybe with ":PORT" ("[::1]:5500" for
IPv6). On a terminal, both are asked for when missing.

Options:
  --port PORT      Server port (default 5500)
  --timeout TIME   How long connecting and registering may take (default 10s)
  --wait TIME      Piped: wait for answers and receipts after the input (60s)
  --tls            Connect over TLS (--ca FILE: also trust this PEM certificate)
  --reconnect      When the server goes away, reconnect instead of exiting
  --identity FILE  Prove your name with this key (from chat identity export)
  --no-identity    Never make or use a key (your name stays unowned)
  -h, --help       Show this help

In the chat: "@name message", "@ALL message" for everyone, /msg name, /who,
/help, /quit. Piped (stdin or stdout not a terminal): one plain line per event,
the conversation on stdout, status on stderr. Exit codes: 0 left cleanly (piped:
and every line delivered or stored), 1 connection, registration, identity or
(piped) delivery failed, 2 usage error.
Example: printf '@xyz Hiii\\n' | chat client abc 127.0.0.1 --port 5500
More (delivery marks, identities, moving machines): README.md, "The client".
`;

const CLIENT_OPTIONS = {
  port: { type: "string" },
  timeout: { type: "string" },
  wait: { type: "string" },
  tls: { type: "boolean" },
  ca: { type: "string" },
  reconnect: { type: "boolean" },
  identity: { type: "string" },
  "no-identity": { type: "boolean" },
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
    noIdentity: v["no-identity"] === true,
  };
  if (str("identity") !== undefined) {
    if (parsed.noIdentity) {
      throw new UsageError(
        'Options "--identity" and "--no-identity" contradict each other: give one of them.',
        CLIENT_USAGE,
      );
    }
    parsed.identityFile = str("identity")!;
  }
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

/**
 * The identity settings of the command line: the files in the config directory, the one file
 * `--identity` names, or none with `--no-identity`. Each file is read once (so a file checked
 * before connecting is the one used).
 */
function identitySettings(parsed: ClientArgs): Pick<Settings, "identity" | "keyFile"> {
  if (parsed.noIdentity) return {};
  const file = parsed.identityFile;
  const store = fileIdentityStore(file);
  const loads = new Map<string, ReturnType<IdentityStore["load"]>>();
  return {
    identity: {
      load(server, name) {
        const key = `${server} ${name}`;
        if (!loads.has(key)) loads.set(key, store.load(server, name));
        return loads.get(key)!;
      },
      save: (server, name, key) => store.save(server, name, key),
      seenMail: (server, name) => store.seenMail?.(server, name) ?? null,
    },
    keyFile: (server, name) => file ?? identityFileFor(server, name),
  };
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
    ...identitySettings(parsed),
  };
  if (settings.identity !== undefined && parsed.name !== undefined && parsed.host !== undefined) {
    // A file that cannot be used stops the client before it connects, in one sentence.
    try {
      await settings.identity.load(formatAddress(parsed.host, parsed.port), parsed.name);
    } catch (error) {
      if (!(error instanceof IdentityFileError)) throw error;
      console.error(error.message);
      return 1;
    }
  }
  return terminal ? await runTerminal(parsed, settings) : await runPiped(parsed, settings);
}
