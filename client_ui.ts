/**
 * The pure half of `chat client`: what a typed line means, how every event reads on screen,
 * tab completion and server-address parsing. No I/O here; `client.ts` does the talking.
 *
 * @module
 */
import { type DecodeError, encode, type Message } from "./protocol.ts";

/** What one typed line asks for. */
export type InputLine =
  | {
    /** Send `text` to user `to` (`"ALL"` for everyone). */
    kind: "send";
    to: string;
    text: string;
  }
  | {
    /** A slash command. */
    kind: "command";
    command: SlashCommand;
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

/** The slash commands of the client. */
export type SlashCommand = "help" | "quit" | "clear";

/** Every spelling of each slash command, first the one completion offers. */
const COMMANDS: Readonly<Record<string, SlashCommand>> = {
  "/help": "help",
  "/quit": "quit",
  "/clear": "clear",
  "/exit": "quit",
  "/?": "help",
};

/** The slash commands offered by tab completion. */
export const COMPLETABLE_COMMANDS: readonly string[] = ["/help", "/quit", "/clear", "/exit"];

/** True if `name` is a username by the protocol's rule: ASCII letters and digits only. */
export function isUsername(name: string): boolean {
  return /^[A-Za-z0-9]+$/.test(name) && name.toUpperCase() !== "ALL";
}

/**
 * Reads one typed line. Accepted: `@name text`, the original client's `@name:text` and
 * `@name: text`, `@ALL text` (any letter case of ALL) for everyone, and the slash commands.
 */
export function parseInputLine(line: string): InputLine {
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  if (trimmed.startsWith("/")) {
    const word = trimmed.split(/\s/, 1)[0].toLowerCase();
    const command = COMMANDS[word];
    if (command) return { kind: "command", command };
    return {
      kind: "invalid",
      hint: `Unknown command "${printable(word)}": the commands are /help, /quit and /clear.`,
    };
  }
  if (!trimmed.startsWith("@")) {
    return {
      kind: "invalid",
      hint: 'Not sent: start the line with "@name " to send to one user or "@ALL " for ' +
        'everyone, e.g. "@xyz hello" (/help for more).',
    };
  }
  const m = /^@([^\s:]*)(?::|\s|$)(.*)$/s.exec(trimmed)!;
  const name = m[1];
  const text = m[2].trim();
  if (name === "") {
    return {
      kind: "invalid",
      hint: 'Not sent: write the name right after "@", e.g. "@xyz hello".',
    };
  }
  const to = name.toUpperCase() === "ALL" ? "ALL" : name;
  if (to !== "ALL" && !isUsername(name)) {
    return {
      kind: "invalid",
      hint: `Not sent: "${printable(name)}" is not a username (letters and digits only).`,
    };
  }
  if (text === "") {
    return {
      kind: "invalid",
      hint: `Not sent: nothing to send to ${to}; write the message after the name, ` +
        `e.g. "@${to} hello".`,
    };
  }
  return { kind: "send", to, text };
}

/** Something the client has to tell its user. */
export type ClientEvent =
  | {
    /** A message arrived from `from`. */
    type: "message";
    from: string;
    text: string;
  }
  | {
    /** The server confirmed delivery of the message sent to `to`. */
    type: "sent";
    to: string;
  }
  | {
    /** The server answered ERROR `code` to the message sent to `to`. */
    type: "not-delivered";
    to: string;
    code: number;
    text: string;
  }
  | {
    /** The message to `to` got no answer; `why` completes "before ...". */
    type: "unconfirmed";
    to: string;
    why: string;
  }
  | {
    /** Both connections are registered. `hint` adds how to type messages. */
    type: "registered";
    name: string;
    server: string;
    hint: boolean;
  }
  | {
    /** The server refused the username with ERROR `code`. */
    type: "name-refused";
    name: string;
    code: number;
    text: string;
  }
  | {
    /** The TCP connection could not be made. */
    type: "connect-failed";
    server: string;
    host: string;
    reason: "refused" | "unknown-host" | "timeout" | "other";
    detail: string;
    timeoutMs: number;
  }
  | {
    /** Connected, but the server did not finish the registration. */
    type: "register-failed";
    server: string;
    reason: "timeout" | "closed" | "full" | "unexpected";
    detail: string;
    timeoutMs: number;
  }
  | {
    /** A typed line was not sent; `line` is its number when reading from a pipe. */
    type: "invalid-input";
    hint: string;
    line?: number;
  }
  | {
    /** A FORWARD could not be read; the client answered ERROR 103 and carries on. */
    type: "bad-forward";
    reason: string;
  }
  | {
    /** The server sent something that answers nothing the client asked. */
    type: "unexpected";
    what: string;
  }
  | {
    /** The server closed a connection or it broke. */
    type: "disconnected";
    server: string;
    detail: string;
  }
  | {
    /** The client left: UNREGISTER answered (`confirmed`) or not. */
    type: "left";
    confirmed: boolean;
  }
  | {
    /** The user asked for /help. */
    type: "help";
  };

/** Options of {@link renderEvent}. */
export interface RenderOptions {
  /** Use ANSI colours. */
  color: boolean;
}

const ESC = "\x1b[";
const paint = (code: string) => (color: boolean, text: string) =>
  color ? `${ESC}${code}m${text}${ESC}0m` : text;
const nameColor = paint("1;36");
const red = paint("31");
const green = paint("32");
const dim = paint("2");

/** The in-chat help shown by /help. */
export const CHAT_HELP = `Send a message:
  @name message      to one user (the original's @name:message works too)
  @ALL message       to everyone online
Commands:
  /help              this help
  /quit              leave the chat (also /exit, Ctrl-D, Ctrl-C)
  /clear             clear the screen
Tab completes commands and the @names seen so far; Up and Down recall earlier lines.`;

/**
 * Makes text from the network safe to print: control characters (which could move the cursor
 * or recolour the terminal) become visible `^X` forms; tabs become spaces.
 */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === "\t") return " ";
    if (code < 0x20) return "^" + String.fromCharCode(code + 0x40);
    if (code === 0x7f) return "^?";
    return "\uFFFD";
  });
}

/** Formats `host` and `port` as one address, bracketing IPv6 hosts. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** Renders one event as the text to show (a message with several lines keeps them, indented). */
export function renderEvent(event: ClientEvent, options: RenderOptions): string {
  const c = options.color;
  switch (event.type) {
    case "message": {
      const from = printable(event.from);
      const pad = " ".repeat(from.length + 2);
      const text = event.text.split(/\r?\n/).map(printable).join("\n" + pad);
      return `${nameColor(c, from)}: ${text}`;
    }
    case "sent":
      return green(
        c,
        event.to === "ALL"
          ? "Message successfully sent to ALL (everyone online)"
          : `Message successfully sent to ${printable(event.to)}`,
      );
    case "not-delivered": {
      const to = printable(event.to);
      let why: string;
      if (event.code === 102) {
        why = event.to === "ALL"
          ? "someone online did not receive it"
          : `${to} is not online or did not receive it`;
      } else if (event.code === 103) {
        why = `the server could not read it (ERROR 103 ${printable(event.text)})`;
      } else if (event.code === 106) {
        why = `you are sending too fast (ERROR 106 ${printable(event.text)}); wait a moment`;
      } else if (event.code === 101) {
        why = `the server says this client is not registered (ERROR 101 ${printable(event.text)})`;
      } else {
        why = `the server answered ERROR ${event.code} ${printable(event.text)}`;
      }
      return red(c, `Message to ${to} not delivered: ${why}`);
    }
    case "unconfirmed":
      return red(
        c,
        `Message to ${
          printable(event.to)
        } not confirmed: no answer from the server before ${event.why}`,
      );
    case "registered": {
      const head = `Registered as ${nameColor(c, printable(event.name))} on ${event.server}.`;
      return event.hint
        ? `${head} ${
          dim(c, 'Type "@name message" to send, "@ALL message" for everyone, /help for help.')
        }`
        : head;
    }
    case "name-refused": {
      const name = printable(event.name);
      if (event.code === 104) {
        return red(c, `The username "${name}" is taken: someone online uses it. Choose another.`);
      }
      if (event.code === 100) {
        return red(
          c,
          `The server refused the username "${name}" (ERROR 100 ${printable(event.text)}): ` +
            `it may be taken or too long. Choose another.`,
        );
      }
      return red(
        c,
        `The server refused the username "${name}" (ERROR ${event.code} ${
          printable(event.text)
        }). Choose another.`,
      );
    }
    case "connect-failed": {
      const head = `Cannot connect to "${event.server}": `;
      switch (event.reason) {
        case "refused":
          return red(
            c,
            head + "connection refused. Is the server running? Start one with `chat server`",
          );
        case "unknown-host":
          return red(
            c,
            head + `unknown host "${event.host}". Check the server name, or give its IP address.`,
          );
        case "timeout":
          return red(
            c,
            head + `no answer within ${seconds(event.timeoutMs)}. Check the address and port, ` +
              "and that no firewall is in the way.",
          );
        case "other":
          return red(c, head + `${event.detail.replace(/\.$/, "")}.`);
      }
      break;
    }
    case "register-failed": {
      const head = `The server "${event.server}" `;
      switch (event.reason) {
        case "timeout":
          return red(
            c,
            head + `accepted the connection but did not answer the registration within ` +
              `${seconds(event.timeoutMs)}. Is it a chat server?`,
          );
        case "closed":
          return red(c, head + "closed the connection during the registration. Try again.");
        case "full":
          return red(c, head + `is full (${printable(event.detail)}). Try again later.`);
        case "unexpected":
          return red(
            c,
            head + `answered the registration with ${event.detail}. Is it a chat server?`,
          );
      }
      break;
    }
    case "invalid-input":
      return red(c, event.line !== undefined ? `Line ${event.line}: ${event.hint}` : event.hint);
    case "bad-forward":
      return red(
        c,
        `Received a message that could not be read (${
          printable(event.reason)
        }); told the server with ERROR 103.`,
      );
    case "unexpected":
      return dim(c, `Ignored an unexpected message from the server: ${printable(event.what)}.`);
    case "disconnected":
      return red(
        c,
        `Lost the connection to the server "${event.server}": ${event.detail}. ` +
          "Start the client again when the server is back.",
      );
    case "left":
      return event.confirmed
        ? "Left the chat."
        : "Left the chat (the server did not confirm; connection closed).";
    case "help":
      return CHAT_HELP;
  }
}

/**
 * Where an event goes when the client is not on a terminal: the conversation (incoming
 * messages, what became of each message sent, /help) on standard output; status and
 * diagnostics on standard error, so scripts can read standard output alone.
 */
export function eventStream(event: ClientEvent): "stdout" | "stderr" {
  switch (event.type) {
    case "message":
    case "sent":
    case "not-delivered":
    case "unconfirmed":
    case "help":
      return "stdout";
    default:
      return "stderr";
  }
}

/**
 * Tab completion in the shape node:readline wants, `[candidates, replaced part]`: slash commands
 * at the start of a line, and `@name ` (from `names`, plus `@ALL`) for the recipient.
 */
export function completeInput(line: string, names: Iterable<string>): [string[], string] {
  if (/^\/\S*$/.test(line)) {
    const hits = COMPLETABLE_COMMANDS.filter((c) => c.startsWith(line.toLowerCase()));
    return [hits.map((h) => h + " "), line];
  }
  if (/^@[^\s:]*$/.test(line)) {
    const typed = line.slice(1).toLowerCase();
    const all = ["ALL", ...[...new Set(names)].sort()];
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
    host = bracket[1];
    port = bracket[2];
  } else if (/^[^:]*:[^:]*$/.test(t)) {
    [host, port] = t.split(":");
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

/** A message as the first line of its wire form (`SENT bob`), for reports. */
export function messageLine(m: Message): string {
  return new TextDecoder().decode(encode(m)).split("\n")[0];
}

/** Says in words what the decoder could not read. */
export function describeDecodeError(error: DecodeError): string {
  switch (error.code) {
    case "header-too-large":
      return `a header longer than ${error.limit} bytes`;
    case "body-too-large":
      return `${error.verb} ${error.name} of ${error.length} bytes, over the ${error.limit}-byte limit`;
    case "unknown-verb":
      return `unknown message ${JSON.stringify(error.line.slice(0, 80))}`;
    case "malformed":
      return `${error.reason} in ${JSON.stringify(error.line.slice(0, 80))}`;
  }
}

/** Turns the error of a failed connection attempt into the event that explains it. */
export function classifyConnectError(
  error: unknown,
  host: string,
  server: string,
  timeoutMs: number,
): ClientEvent {
  const message = error instanceof Error ? error.message : String(error);
  const base = { type: "connect-failed" as const, server, host: printable(host), timeoutMs };
  if (error instanceof Deno.errors.ConnectionRefused || /ECONNREFUSED/.test(message)) {
    return { ...base, reason: "refused", detail: message };
  }
  if (
    error instanceof Deno.errors.NotFound ||
    /lookup address|not known|ENOTFOUND|EAI_|nodename nor servname|No address/i.test(message)
  ) {
    return { ...base, reason: "unknown-host", detail: message };
  }
  if (error instanceof Deno.errors.TimedOut || /ETIMEDOUT|timed out/i.test(message)) {
    return { ...base, reason: "timeout", detail: message };
  }
  return { ...base, reason: "other", detail: message.replace(/\s*\(os error \d+\)$/, "") };
}
