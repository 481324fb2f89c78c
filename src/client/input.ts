/**
 * What the user types, read: chat lines and slash commands, tab completion, server addresses
 * and usernames. Pure; no I/O.
 *
 * @module
 */
import { BROADCAST, isValidName, MAX_NAME_LENGTH } from "../protocol/mod.ts";
import { printable } from "./render.ts";

/** What one typed line asks for. */
export type InputLine =
  | {
    /** Send `text` to user `to` (`"ALL"` for everyone). */
    kind: "send";
    to: string;
    text: string;
  }
  | {
    /** A slash command without arguments. */
    kind: "command";
    command: SlashCommand;
  }
  | {
    /**
     * `/msg name` or `/query name`: plain lines go to `to` from now on (`null`: `/msg` alone,
     * back to no target); `text`, when given, is sent to it at once.
     */
    kind: "target";
    to: string | null;
    text?: string;
  }
  | {
    /** Nothing typed but spaces: ignored. */
    kind: "empty";
  }
  | {
    /** Not a form the client knows: nothing is sent, `hint` says what to type instead. */
    kind: "invalid";
    hint: string;
  };

/** The slash commands of the client that take no argument. */
export type SlashCommand = "help" | "quit" | "clear" | "who";

/** Every spelling of each slash command, in the order tab completion offers them. */
const COMMANDS: Readonly<Record<string, SlashCommand | "msg">> = {
  "/help": "help",
  "/msg": "msg",
  "/query": "msg",
  "/who": "who",
  "/quit": "quit",
  "/clear": "clear",
  "/exit": "quit",
  "/?": "help",
};

/** The slash commands offered by tab completion: every spelling that is a word (not `/?`). */
export const COMPLETABLE_COMMANDS: readonly string[] = Object.keys(COMMANDS).filter((c) =>
  /^\/[a-z]+$/.test(c)
);

/** The hint for a plain line typed with no conversation open. */
export const NO_TARGET_HINT = 'Not sent: type "@name message", or "@ALL message" for everyone.';

/** Why `name` cannot be a recipient, as a hint, or null if it can be one. */
function recipientProblem(name: string): string | null {
  if (name === "") return 'Not sent: write the name right after "@", e.g. "@xyz hello".';
  if (name.toUpperCase() === BROADCAST || isValidName(name)) return null;
  return `Not sent: "${
    printable(name)
  }" is not a username (1 to ${MAX_NAME_LENGTH} letters and digits).`;
}

/** `name`, with any letter case of ALL made `ALL`. */
function recipient(name: string): string {
  return name.toUpperCase() === BROADCAST ? BROADCAST : name;
}

function parseCommand(trimmed: string): InputLine {
  const [head = "", ...rest] = trimmed.split(/\s+/);
  const word = head.toLowerCase();
  const command = COMMANDS[word];
  if (command === undefined) {
    return {
      kind: "invalid",
      hint: `Unknown command "${printable(word)}": type /help to see the commands.`,
    };
  }
  if (command !== "msg") return { kind: "command", command };
  const name = rest[0];
  if (name === undefined) return { kind: "target", to: null };
  const problem = recipientProblem(name);
  if (problem !== null) return { kind: "invalid", hint: problem };
  const text = trimmed.slice(head.length).trimStart().slice(name.length).trim();
  return text === ""
    ? { kind: "target", to: recipient(name) }
    : { kind: "target", to: recipient(name), text };
}

/**
 * Reads one typed line. Accepted: `@name text`, the original client's `@name:text` and
 * `@name: text`, `@ALL text` (any letter case of ALL) for everyone, the slash commands, and,
 * when a conversation is open with `target`, any other line as a message to it.
 */
export function parseInputLine(line: string, target: string | null = null): InputLine {
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  if (trimmed.startsWith("/")) return parseCommand(trimmed);
  if (!trimmed.startsWith("@")) {
    if (target !== null) return { kind: "send", to: target, text: line.trim() };
    // One row of an 80-column terminal, even after the "Line N: " of piped input.
    return { kind: "invalid", hint: NO_TARGET_HINT };
  }
  const m = /^@([^\s:]*)(?::|\s|$)(.*)$/s.exec(trimmed)!;
  const name = m[1]!;
  const text = m[2]!.trim();
  const problem = recipientProblem(name);
  if (problem !== null) return { kind: "invalid", hint: problem };
  const to = recipient(name);
  if (text === "") {
    return {
      kind: "invalid",
      hint: `Not sent: nothing to send to ${to}; write the message after the name, ` +
        `e.g. "@${to} hello".`,
    };
  }
  return { kind: "send", to, text };
}

/**
 * Tab completion in the shape node:readline wants, `[candidates, replaced part]`: slash commands
 * at the start of a line, and `@name ` (from `names`, plus `@ALL`) for the recipient, also
 * after `/msg` and `/query`.
 */
export function completeInput(line: string, names: Iterable<string>): [string[], string] {
  const msg = /^(\/(?:msg|query)\s+)(\S*)$/i.exec(line);
  if (msg) {
    const [hits] = completeInput("@" + msg[2]!, names);
    return [hits.map((h) => msg[1]! + h.slice(1)), line];
  }
  if (/^\/\S*$/.test(line)) {
    const hits = COMPLETABLE_COMMANDS.filter((c) => c.startsWith(line.toLowerCase()));
    return [hits.map((h) => h + " "), line];
  }
  if (/^@[^\s:]*$/.test(line)) {
    const typed = line.slice(1).toLowerCase();
    const all = [BROADCAST, ...[...new Set(names)].sort()];
    const hits = all.filter((n) => n.toLowerCase().startsWith(typed));
    return [hits.map((n) => `@${n} `), line];
  }
  return [[], line];
}

/** A server address as typed: a host (name, IPv4, IPv6) and maybe a port. */
export type ServerAddress = { host: string; port?: number } | { error: string };

/**
 * Reads a server address: `host`, `host:port`, `::1` (IPv6 alone), `[::1]` or `[::1]:port`.
 * Returns `{error}` with a sentence when it is not one.
 */
export function parseServerAddress(text: string): ServerAddress {
  const t = text.trim();
  let host = t;
  let port: string | undefined;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(t);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2];
  } else if (/^[^:]*:[^:]*$/.test(t)) {
    [host = "", port] = t.split(":");
  }
  if (host === "" || /[\s\[\]\/@]/.test(host)) {
    return { error: `Invalid server "${printable(t)}": give a host name or an IP address.` };
  }
  if (port === undefined) return { host };
  const n = /^\d{1,5}$/.test(port) ? Number(port) : 0;
  if (n < 1 || n > 65535) {
    return { error: `Invalid port in "${printable(t)}": use a number from 1 to 65535.` };
  }
  return { host, port: n };
}

/**
 * Why `name` cannot be a username, as the sentence to show (for the command line and the
 * terminal's question alike), or null if it can.
 */
export function usernameProblem(name: string): string | null {
  if (isValidName(name)) return null;
  return `Invalid username "${
    printable(name)
  }": use 1 to ${MAX_NAME_LENGTH} letters and digits (and not "ALL").`;
}
