/**
 * `chat server release NAME` and `chat server names`: the operator's work on the server's data
 * while the server is stopped (a running server holds the database's lock, and these say so).
 *
 * @module
 */
import { parseCommandLine, UsageError } from "./cli.ts";
import { DataError, type ServerData } from "../store/data.ts";
import { defaultDataDir, openServerData } from "../store/open.ts";

/** Usage line of `chat server release`. */
export const RELEASE_USAGE = "Usage: chat server release NAME [--data DIR]";
/** Usage line of `chat server names`. */
export const NAMES_USAGE = "Usage: chat server names [--data DIR]";

/** Help of `chat server release`. */
export const RELEASE_HELP = `${RELEASE_USAGE}

Releases an owned name: the server forgets the key that owns it, so anyone may
register it again (and claim it with a new key). Use it when a user lost their
key. The messages waiting for the name are deleted; each sender who owns a name
gets a "released" receipt. Lookalikes count: "chat server release Alice"
releases an owned "alice".

Works on the data while the server is stopped (a running server keeps it
locked: stop it first).

Options:
  --data DIR   The server's data directory, by default
               DEFAULT_DIR
  -h, --help   Show this help

Prints one line saying what was released. Exit codes: 0 released, 1 the name
is not owned or the data cannot be used, 2 usage error. More: README.md.
`;

/** Help of `chat server names`. */
export const NAMES_HELP = `${NAMES_USAGE}

Lists the owned names, one line each:
  NAME  claimed TIME  waiting N  key PUBLIC_KEY
TIME is in UTC (ISO 8601), N the messages waiting for the name, PUBLIC_KEY the
owner's Ed25519 key in base64. A summary line goes to standard error.

Works on the data while the server is stopped (a running server keeps it
locked: stop it first).

Options:
  --data DIR   The server's data directory, by default
               DEFAULT_DIR
  -h, --help   Show this help

Exit codes: 0 listed, 1 the data cannot be used, 2 usage error. More: README.md.
`;

const OPTIONS = {
  data: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Reads an environment variable, as unset when chat may not read it. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The default directory for the help text, or a placeholder when there is none. */
function helpText(help: string): string {
  let dir: string;
  try {
    dir = defaultDataDir(readEnv);
  } catch {
    dir = "$XDG_DATA_HOME/chat or ~/.local/share/chat";
  }
  return help.replace("DEFAULT_DIR", dir).trimEnd();
}

/**
 * Entry point of `chat server release` and `chat server names` (`args` starts with `release`
 * or `names`): returns the exit code; usage mistakes throw {@link UsageError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   NAMES_HELP,
 *   NAMES_USAGE,
 *   RELEASE_HELP,
 *   RELEASE_USAGE,
 *   serverDataMain,
 * } from "./server_data.ts";
 *
 * assert.ok(RELEASE_HELP.startsWith(RELEASE_USAGE) && NAMES_HELP.startsWith(NAMES_USAGE));
 * assert.equal(typeof serverDataMain, "function");
 * ```
 */
export async function serverDataMain(args: string[]): Promise<number> {
  const sub = args[0];
  if (sub !== "release" && sub !== "names") {
    throw new UsageError(`Unknown subcommand "${sub}": use "release" or "names".`, RELEASE_USAGE);
  }
  const usage = sub === "release" ? RELEASE_USAGE : NAMES_USAGE;
  const { values: v, positionals } = parseCommandLine(args.slice(1), OPTIONS, usage);
  if (v.help) {
    console.log(helpText(sub === "release" ? RELEASE_HELP : NAMES_HELP));
    return 0;
  }
  const wanted = sub === "release" ? 1 : 0;
  if (positionals.length < wanted) {
    throw new UsageError("Name the user whose name to release.", usage);
  }
  if (positionals.length > wanted) {
    throw new UsageError(`Unexpected argument "${positionals[wanted]}".`, usage);
  }
  let data: ServerData;
  try {
    data = await openServerData({ data: v.data as string | undefined, env: readEnv });
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    console.error(error.message);
    return 1;
  }
  try {
    return sub === "release" ? await release(data, positionals[0]!) : names(data);
  } finally {
    await data.close();
  }
}

/** Releases `name`; prints what happened. */
async function release(data: ServerData, name: string): Promise<number> {
  const released = await data.release(name, Date.now());
  if (released === null) {
    console.error(
      `Nobody owns "${name}" (nor a name that looks like it) in "${data.location}": ` +
        `nothing to release ("chat server names" lists the owned names).`,
    );
    return 1;
  }
  const n = released.mail;
  console.log(
    `Released "${released.name}": anyone may register it now; ` +
      `${n} waiting message${n === 1 ? "" : "s"} deleted.`,
  );
  return 0;
}

/** Lists the owned names on stdout, a summary on stderr. */
function names(data: ServerData): number {
  const owners = data.owners();
  const width = Math.max(0, ...owners.map((o) => o.name.length));
  for (const o of owners) {
    const claimed = new Date(o.claimedAt).toISOString();
    const key = btoa(String.fromCharCode(...o.key));
    console.log(
      `${o.name.padEnd(width)}  claimed ${claimed}  waiting ${data.size(o.name).count}  key ${key}`,
    );
  }
  const s = data.summary();
  console.error(
    `${s.owners} owned name${s.owners === 1 ? "" : "s"}, ${s.mail} message${
      s.mail === 1 ? "" : "s"
    } and ${s.receipts} receipt${s.receipts === 1 ? "" : "s"} waiting, in "${data.location}".`,
  );
  return 0;
}
