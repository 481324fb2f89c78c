/**
 * The pure half of `chat client`: what a typed line means, how every event reads on screen,
 * tab completion and server-address parsing. No I/O here; `client.ts` does the talking.
 *
 * @module
 */
import { encode, isValidName, type Message } from "../protocol/mod.ts";

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

/**
 * Reads one typed line. Accepted: `@name text`, the original client's `@name:text` and
 * `@name: text`, `@ALL text` (any letter case of ALL) for everyone, and the slash commands.
 */
export function parseInputLine(line: string): InputLine {
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  if (trimmed.startsWith("/")) {
    const word = trimmed.split(/\s/, 1)[0]!.toLowerCase();
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
      // One row of an 80-column terminal, even after the "Line N: " of piped input.
      hint: 'Not sent: type "@name message", or "@ALL message" for everyone.',
    };
  }
  const m = /^@([^\s:]*)(?::|\s|$)(.*)$/s.exec(trimmed)!;
  const name = m[1]!;
  const text = m[2]!.trim();
  if (name === "") {
    return {
      kind: "invalid",
      hint: 'Not sent: write the name right after "@", e.g. "@xyz hello".',
    };
  }
  const to = name.toUpperCase() === "ALL" ? "ALL" : name;
  if (to !== "ALL" && !isValidName(name)) {
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

/**
 * Why a connection attempt failed: the TCP errors, and with TLS a certificate the client does
 * not trust (`tls-untrusted`), one made for another name (`tls-name`), or a handshake that
 * broke off, as it does against a server that does not speak TLS (`tls-handshake`).
 */
export type ConnectFailure =
  | "refused"
  | "unknown-host"
  | "timeout"
  | "other"
  | "tls-untrusted"
  | "tls-name"
  | "tls-handshake";

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
    /**
     * The server answered ERROR `code` to the message sent to `to`. `attempts` is set when the
     * client sent it that many times, each refused with ERROR 106, and gave up.
     */
    type: "not-delivered";
    to: string;
    code: number;
    text: string;
    attempts?: number;
  }
  | {
    /** The message to `to` never went out; `why` says why (no period). */
    type: "not-sent";
    to: string;
    why: string;
  }
  | {
    /** The message to `to` got no answer; `why` completes "before ...". */
    type: "unconfirmed";
    to: string;
    why: string;
  }
  | {
    /** Both connections are registered. `hint` adds how to type messages; `tls`: encrypted. */
    type: "registered";
    name: string;
    server: string;
    hint: boolean;
    tls?: boolean;
  }
  | {
    /** The server refused the username with ERROR `code`. */
    type: "name-refused";
    name: string;
    code: number;
    text: string;
  }
  | {
    /** The TCP connection (or, with `tls`, the TLS handshake) could not be made. */
    type: "connect-failed";
    server: string;
    host: string;
    reason: ConnectFailure;
    detail: string;
    timeoutMs: number;
    tls?: boolean;
  }
  | {
    /** Connected, but the server did not finish the registration. */
    type: "register-failed";
    server: string;
    reason: "timeout" | "closed" | "full" | "unexpected" | "tls-server";
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
    /**
     * The connection was lost and the client will try again in `delayMs`. `lost`: the first
     * line after the loss (`detail` says how it was lost); otherwise an attempt failed for a
     * new reason (`detail` says why).
     */
    type: "reconnecting";
    server: string;
    lost: boolean;
    detail: string;
    delayMs: number;
  }
  | {
    /** Both connections are registered again after a loss. */
    type: "reconnected";
    name: string;
    server: string;
  }
  | {
    /** Reconnecting stopped for good: the server refused the name `tries` times. */
    type: "reconnect-failed";
    server: string;
    name: string;
    code: number;
    text: string;
    tries: number;
  }
  | {
    /**
     * The client left: UNREGISTER answered (`confirmed`) or not; `offline` when it left while
     * reconnecting.
     */
    type: "left";
    confirmed: boolean;
    offline?: boolean;
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

function seconds(ms: number): string {
  // Under a tenth of a second, "0 s" would read as no wait at all.
  return ms < 100 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
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
      } else if (event.code === 106 && event.attempts !== undefined) {
        why = `the server refused it ${event.attempts} times because you are sending too fast ` +
          `(ERROR 106 ${printable(event.text)}); send it again later`;
      } else if (event.code === 106) {
        why = `you are sending too fast (ERROR 106 ${printable(event.text)}); wait a moment`;
      } else if (event.code === 101) {
        why = `the server says this client is not registered (ERROR 101 ${printable(event.text)})`;
      } else {
        why = `the server answered ERROR ${event.code} ${printable(event.text)}`;
      }
      return red(c, `Message to ${to} not delivered: ${why}`);
    }
    case "not-sent":
      return red(c, `Message to ${printable(event.to)} not sent: ${event.why}.`);
    case "unconfirmed":
      return red(
        c,
        `Message to ${
          printable(event.to)
        } not confirmed: no answer from the server before ${event.why}`,
      );
    case "registered": {
      const head = `Registered as ${nameColor(c, printable(event.name))} on ${event.server}` +
        `${event.tls ? " over TLS" : ""}.`;
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
      const head = `Cannot connect to "${event.server}"${event.tls ? " over TLS" : ""}: `;
      switch (event.reason) {
        case "refused":
          return red(
            c,
            head + "connection refused. Is the server running? Start one with `chat server`.",
          );
        case "unknown-host":
          return red(
            c,
            head + `unknown host "${event.host}". Check the server name, or give its IP address.`,
          );
        case "timeout":
          return red(
            c,
            event.tls
              ? head + `no answer within ${seconds(event.timeoutMs)}. If the server does not ` +
                "use TLS, drop --tls; otherwise check the address and port, and that no " +
                "firewall is in the way."
              : head + `no answer within ${seconds(event.timeoutMs)}. Check the address and ` +
                "port, and that no firewall is in the way.",
          );
        case "other":
          return red(c, head + `${printable(event.detail).replace(/\.$/, "")}.`);
        case "tls-untrusted":
          return red(
            c,
            head + `the server's certificate is not trusted (${printable(event.detail)}). ` +
              "Pass the server's certificate or CA with --ca.",
          );
        case "tls-name":
          return red(
            c,
            head +
              `the server's certificate is not valid for "${event.host}" (${
                printable(event.detail)
              }). Connect with a name the certificate lists, or give the server a certificate ` +
              `for "${event.host}".`,
          );
        case "tls-handshake":
          return red(
            c,
            head + `the TLS handshake failed (${printable(event.detail)}); the server does not ` +
              "seem to use TLS. Try without --tls.",
          );
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
        case "tls-server":
          return red(
            c,
            head + "answered in TLS: it expects encrypted connections. Add --tls (and --ca " +
              "FILE if its certificate is self-signed).",
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
          "Start the client again when the server is back (with --reconnect it retries by itself).",
      );
    case "reconnecting":
      return red(
        c,
        event.lost
          ? `Connection to the server "${event.server}" lost (${event.detail}); reconnecting ` +
            `in ${seconds(event.delayMs)}…`
          : `Cannot reconnect to "${event.server}" yet (${event.detail}); trying again in ` +
            `${seconds(event.delayMs)}…`,
      );
    case "reconnected":
      return green(c, `Reconnected as ${printable(event.name)} on ${event.server}.`);
    case "reconnect-failed": {
      const name = printable(event.name);
      const error = `ERROR ${event.code} ${printable(event.text)}`;
      return red(
        c,
        event.code === 104
          ? `Cannot reconnect to "${event.server}": the username "${name}" is still taken ` +
            `(${error}) after ${event.tries} tries; someone else may be using it. Start the ` +
            "client again, with another name if need be."
          : `Cannot reconnect to "${event.server}": the server now refuses the username ` +
            `"${name}" (${error}). Start the client again with another name.`,
      );
    }
    case "left":
      if (event.offline) return "Left the chat (while disconnected from the server).";
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
    case "not-sent":
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

/** A message as the first line of its wire form (`SENT bob`), for reports. */
export function messageLine(m: Message): string {
  return new TextDecoder().decode(encode(m)).split("\n")[0]!;
}

/**
 * Turns the error of a failed connection attempt into the event that explains it. With `tls`,
 * certificate and handshake failures (as worded by Deno's rustls and by node:tls) get their own
 * reasons.
 */
export function classifyConnectError(
  error: unknown,
  host: string,
  server: string,
  timeoutMs: number,
  tls = false,
): ClientEvent {
  const message = error instanceof Error ? error.message : String(error);
  const base = {
    type: "connect-failed" as const,
    server,
    host: printable(host),
    timeoutMs,
    ...(tls ? { tls: true } : {}),
  };
  const bare = message.replace(/\s*\(os error \d+\)$/, "");
  if (error instanceof Deno.errors.ConnectionRefused || /ECONNREFUSED/.test(message)) {
    return { ...base, reason: "refused", detail: message };
  }
  if (
    error instanceof Deno.errors.NotFound ||
    /lookup address|not known|ENOTFOUND|EAI_|nodename nor servname|No address/i.test(message)
  ) {
    return { ...base, reason: "unknown-host", detail: message };
  }
  if (tls) {
    const peer = /invalid peer certificate:\s*(.*)$/is.exec(message)?.[1]?.trim();
    if (/not valid for name|NotValidForName|altnames|does not match certificate/i.test(message)) {
      const only = /only valid for (.*)$/is.exec(message)?.[1]?.trim();
      return {
        ...base,
        reason: "tls-name",
        detail: only ? `it is only valid for ${only}` : (peer ?? bare),
      };
    }
    if (
      peer !== undefined ||
      /certificate|self[- ]signed|unable to verify|UnknownIssuer|CERT_/i.test(message)
    ) {
      return { ...base, reason: "tls-untrusted", detail: peer ?? bare };
    }
    if (
      error instanceof Deno.errors.UnexpectedEof ||
      error instanceof Deno.errors.ConnectionReset ||
      /unexpected end of file|UnexpectedEof|before secure TLS connection|corrupt message|InvalidContentType|wrong version number|packet length|ECONNRESET|reset by peer|handshake/i
        .test(message)
    ) {
      return { ...base, reason: "tls-handshake", detail: bare };
    }
  }
  if (error instanceof Deno.errors.TimedOut || /ETIMEDOUT|timed out/i.test(message)) {
    return { ...base, reason: "timeout", detail: message };
  }
  return { ...base, reason: "other", detail: bare };
}

/**
 * True if `bytes` start like a TLS record (an alert or a handshake, version 3.x): what a TLS
 * server answers a client that speaks plain text to it.
 */
export function looksLikeTls(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && (bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03;
}

/** A retry schedule: `baseMs` doubling at each attempt up to `capMs`, give or take `jitter`. */
export interface Backoff {
  /** Wait before the first retry. */
  baseMs: number;
  /** Longest wait. */
  capMs: number;
  /** Fraction by which each wait is spread at random (0.2: from 80% to 120%). */
  jitter: number;
}

/** Reconnecting after the server went away: 0.5 s, 1 s, 2 s, 4 s, 8 s, then every 10 s. */
export const RECONNECT_BACKOFF: Backoff = { baseMs: 500, capMs: 10_000, jitter: 0.2 };

/** Resending messages refused with ERROR 106: 0.5 s, 1 s, 2 s, 4 s, 8 s while none gets through. */
export const RATE_RETRY_BACKOFF: Backoff = { baseMs: 500, capMs: 8_000, jitter: 0 };

/**
 * How many times in a row the client waits and resends after ERROR 106 while nothing gets
 * through, before it gives up on the messages refused (with {@link RATE_RETRY_BACKOFF}: about
 * 15 s in which the server accepted nothing).
 */
export const RATE_RETRY_ROUNDS = 5;

/** How many times a reconnect may find the username taken before the client gives up. */
export const NAME_TAKEN_TRIES = 5;

/**
 * The wait before retry number `attempt` (0 for the first): `baseMs * 2^attempt`, at most
 * `capMs`, spread by `jitter` using `random` (a number in [0, 1), 0.5 for no spread).
 */
export function backoffDelay(attempt: number, backoff: Backoff, random = 0.5): number {
  const plain = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(attempt, 30));
  const spread = 1 + backoff.jitter * (2 * Math.min(Math.max(random, 0), 1) - 1);
  return Math.max(1, Math.round(plain * spread));
}

/**
 * A short phrase (no capital, no period) for why a connection attempt failed, for the
 * "Cannot reconnect yet (...)" line; `event` is the failure {@link ClientEvent}.
 */
export function describeFailure(event: ClientEvent): string {
  switch (event.type) {
    case "connect-failed":
      switch (event.reason) {
        case "refused":
          return "connection refused";
        case "unknown-host":
          return `unknown host "${event.host}"`;
        case "timeout":
          return `no answer within ${seconds(event.timeoutMs)}`;
        case "tls-untrusted":
          return `the server's certificate is not trusted (${printable(event.detail)})`;
        case "tls-name":
          return `the server's certificate is not valid for "${event.host}"`;
        case "tls-handshake":
          return `the TLS handshake failed (${printable(event.detail)})`;
        case "other":
          return printable(event.detail).replace(/\.$/, "");
      }
      break;
    case "register-failed":
      switch (event.reason) {
        case "timeout":
          return `no answer to the registration within ${seconds(event.timeoutMs)}`;
        case "closed":
          return "the server closed the connection during the registration";
        case "full":
          return `the server is full (${printable(event.detail)})`;
        case "unexpected":
          return `the server answered the registration with ${event.detail}`;
        case "tls-server":
          return "the server answered in TLS";
      }
      break;
    case "name-refused":
      return `the username "${printable(event.name)}" is ${
        event.code === 104 ? "still in use" : "refused"
      } (ERROR ${event.code} ${printable(event.text)})`;
  }
  return renderEvent(event, { color: false }).replace(/\.$/, "");
}

/** The hint for a line typed when `limit` messages already wait to be sent. */
export function queueFullHint(limit: number, reconnecting: boolean): string {
  return reconnecting
    ? `Not sent: ${limit} messages already wait for the client to reconnect; send this one ` +
      "once it is back."
    : `Not sent: ${limit} messages already wait to be sent (the server limits how fast you ` +
      "send); send this one in a moment.";
}
