/**
 * How every client event reads on screen, and where it goes when piped: pure text, no I/O.
 *
 * @module
 */
import { BROADCAST, encode, ErrorCode, type Message } from "../protocol/mod.ts";
import type { ClientEvent } from "./events.ts";

/** Options of {@link renderEvent}. */
export interface RenderOptions {
  /** Use ANSI colours. */
  color: boolean;
  /**
   * Where the user's key for `name` on `server` is kept, as the user would type it (for the
   * sentence that says a name now belongs to the user); undefined when not known.
   */
  keyFile?: ((server: string, name: string) => string | undefined) | undefined;
}

const ESC = "\x1b[";
const paint = (code: string) => (color: boolean, text: string) =>
  color ? `${ESC}${code}m${text}${ESC}0m` : text;
const nameColor = paint("1;36");
const red = paint("31");
const green = paint("32");
const dim = paint("2");

/** The in-chat help shown by /help (every line fits 80 columns). */
export const CHAT_HELP = `Send a message:
  @name message      to one user (the original's @name:message works too)
  @ALL message       to everyone online
  /msg name          talk with name: plain lines go to name (also /query name)
  /msg               end the conversation
  text \\             a line ending in \\ goes on on the next line; lines pasted
                     at once are sent as one message
Commands:
  /who               who is online
  /help              this help
  /quit              leave (also /exit, Ctrl-D, and Ctrl-C on an empty line)
  /clear             clear the screen
Keys: Tab completes commands and names, Up and Down recall earlier lines,
  Ctrl-C clears the line being typed.
Your messages: · awaiting an answer, ✓✓ delivered, ✗ not delivered (and why),
  ✓ stored on the server for someone offline (✓✓ once they have it).`;

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
      const sent = event.sentAt === undefined ? "" : ` (sent ${stamp(event.sentAt)})`;
      const pad = " ".repeat(from.length + sent.length + 2);
      const text = event.text.split(/\r?\n/).map(printable).join("\n" + pad);
      return `${nameColor(c, from)}${sent}: ${text}`;
    }
    case "sent":
      if (event.to === BROADCAST && event.recipients === 0) {
        return red(c, "Message to ALL reached no one: nobody else is online");
      }
      return green(
        c,
        event.to === BROADCAST
          ? "Message successfully sent to ALL (everyone online)"
          : `Message successfully sent to ${printable(event.to)}`,
      );
    case "not-delivered":
      return notDelivered(event, c);
    case "not-sent":
      return red(c, `Message to ${printable(event.to)} not sent: ${event.why}.`);
    case "unconfirmed":
      return red(
        c,
        `Message to ${
          printable(event.to)
        } not confirmed: no answer from the server before ${event.why}`,
      );
    case "registered":
      return registered(event, c);
    case "name-refused":
      return nameRefused(event, c);
    case "connect-failed":
      return connectFailed(event, c);
    case "register-failed":
      return registerFailed(event, c);
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
    case "reconnect-failed":
      return reconnectFailed(event, c);
    case "left":
      if (event.offline) return "Left the chat (while disconnected from the server).";
      return event.confirmed || event.plain
        ? "Left the chat."
        : "Left the chat (the server did not confirm; connection closed).";
    case "help":
      return CHAT_HELP;
    case "negotiated":
      return event.extensions.length > 0
        ? `The server speaks the extensions ${event.extensions.join(", ")}.`
        : "The server speaks the base protocol only.";
    case "online":
      return `${event.names.length} online: ${event.names.map(printable).join(", ")}`;
    case "user-joined":
      return `${printable(event.name)} joined`;
    case "user-left":
      return `${printable(event.name)} left`;
    case "stored":
      return green(
        c,
        `Message stored for ${
          printable(event.to)
        }, who is offline: it will be delivered when they come back`,
      );
    case "receipt":
      return receiptLine(event, c);
    case "identity":
      return identityLine(event, options);
    case "identity-failed":
      return red(c, identityFailure(event));
  }
}

/**
 * A moment (milliseconds since the epoch) in local time, always in the one form
 * `2026-12-02 09:12`, for lines that scripts read.
 */
export function stamp(at: number): string {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}`;
}

/**
 * What became of a stored message (a receipt) as one sentence (no period): `to` its
 * recipient, `at` when it was stored, in the words the caller chose ({@link stamp}, or the
 * terminal's shorter form). `to` must be printable already.
 */
export function receiptSentence(
  event: "delivered" | "expired" | "refused" | "released",
  to: string,
  at: string,
): string {
  switch (event) {
    case "delivered":
      return `Message delivered to ${to} (stored at ${at})`;
    case "expired":
      return `Message to ${to} (stored at ${at}) expired unread: it waited longer than the ` +
        "server keeps messages; send it again if it still matters";
    case "refused":
      return `Message to ${to} (stored at ${at}) was refused by their client; the server ` +
        "deleted it";
    case "released":
      return `Message to ${to} (stored at ${at}) was deleted unread: the server's operator ` +
        `released the name "${to}", which may belong to someone else from now on`;
  }
}

function receiptLine(event: Extract<ClientEvent, { type: "receipt" }>, c: boolean): string {
  const text = receiptSentence(event.event, printable(event.to), stamp(event.sentAt));
  return event.event === "delivered" ? green(c, text) : red(c, text);
}

/** What the user is told about its ownership of its name (the `identity` event). */
function identityLine(
  event: Extract<ClientEvent, { type: "identity" }>,
  options: RenderOptions,
): string {
  const name = printable(event.name);
  const c = options.color;
  switch (event.status) {
    case "created":
      return dim(c, `Made a key to claim "${name}" on ${event.server}.`);
    case "proven":
      return dim(c, `Proved that "${name}" is yours on ${event.server}.`);
    case "claimed": {
      const file = options.keyFile?.(event.server, event.name);
      return green(c, `"${name}" now belongs to you on ${event.server}`) +
        (file === undefined
          ? "; only your key can use it there. Keep your key safe (chat identity export)."
          : `; your key is in ${file}. Keep it safe: only it can use the name there.`);
    }
    case "unclaimed":
      return `The server ${event.server} does not know "${name}" as yours (an earlier claim ` +
        "did not finish, its operator released the name, or its data was lost): claiming it again.";
  }
}

/** Why the name could not be proven or claimed, and what the user can do. */
export function identityFailure(event: Extract<ClientEvent, { type: "identity-failed" }>): string {
  const name = printable(event.name);
  const detail = printable(event.detail).replace(/\.$/, "");
  const at = `on ${event.server}`;
  switch (event.reason) {
    case "not-owner":
      return `"${name}" belongs to another key ${at}, not to the one this client holds. If ` +
        `you moved machines, export your identity there ("chat identity export") and start ` +
        `the client with --identity FILE. If the key is lost, the server's operator can ` +
        `release the name ("chat server release ${name}"). Otherwise choose another name.`;
    case "lookalike":
      return `Could not claim "${name}" ${at}: someone online has a name that looks the same ` +
        "(letter case, 0 and o, 1, i and l count as equal). The client claims it next time; " +
        "until then the name is not yours.";
    case "bad-proof":
      return `The server ${event.server} did not accept the proof that "${name}" is yours` +
        `${detail === "" ? "" : ` (${detail})`}. Try again; if it goes on, your key file may ` +
        "be damaged.";
    case "not-stored":
      // The engine's own sentence when the claim was not made (its key file could not be
      // written, the server was too busy); the server's refusal is an ERROR line.
      if (detail !== "" && !detail.startsWith("ERROR")) return `${detail}.`;
      return `The server ${event.server} could not store the claim of "${name}" on its disk; ` +
        "the client claims it next time.";
    case "no-support":
      return `The server ${event.server} no longer checks who owns names (it answered as a ` +
        `base server): "${name}" was registered without proof, and anyone may use it there.`;
  }
}

function reconnectFailed(
  event: Extract<ClientEvent, { type: "reconnect-failed" }>,
  c: boolean,
): string {
  const name = printable(event.name);
  const error = `ERROR ${event.code} ${printable(event.text)}`;
  return red(
    c,
    event.code === ErrorCode.UsernameTaken
      ? `Cannot reconnect to "${event.server}": the username "${name}" is still taken ` +
        `(${error}) after ${event.tries} tries; someone else may be using it. Start the ` +
        "client again, with another name if need be."
      : `Cannot reconnect to "${event.server}": the server now refuses the username ` +
        `"${name}" (${error}). Start the client again with another name.`,
  );
}

function registered(event: Extract<ClientEvent, { type: "registered" }>, c: boolean): string {
  const head = `Registered as ${nameColor(c, printable(event.name))} on ${event.server}` +
    `${event.tls ? " over TLS" : ""}.`;
  return event.hint
    ? `${head} ${
      dim(c, 'Type "@name message" to send, "@ALL message" for everyone, /help for help.')
    }`
    : head;
}

/**
 * Why a message was not delivered, as a phrase (no capital, no period): from the server's
 * `Reason:` token when it gave one (the `reason` extension), else from the error code.
 */
export function deliveryProblem(event: Extract<ClientEvent, { type: "not-delivered" }>): string {
  const to = printable(event.to);
  if (event.reason !== undefined) return reasonPhrase(event, to);
  if (event.code === ErrorCode.UnableToSend) {
    return event.to === BROADCAST
      ? "someone online did not receive it"
      : `${to} is not online or did not receive it`;
  }
  if (event.code === ErrorCode.HeaderIncomplete) {
    return `the server could not read it (ERROR 103 ${printable(event.text)})`;
  }
  if (event.code === ErrorCode.RateLimited && event.attempts !== undefined) {
    return `the server refused it ${event.attempts} times because you are sending too fast ` +
      `(ERROR 106 ${printable(event.text)}); send it again later`;
  }
  if (event.code === ErrorCode.RateLimited) {
    return `you are sending too fast (ERROR 106 ${printable(event.text)}); wait a moment`;
  }
  if (event.code === ErrorCode.NoUserRegistered) {
    return `the server says this client is not registered (ERROR 101 ${printable(event.text)})`;
  }
  return `the server answered ERROR ${event.code} ${printable(event.text)}`;
}

/** `bytes` for people: `512 bytes`, `64 KiB`, `16 MiB` (one decimal when not whole). */
function sizeText(bytes: number): string {
  const [unit, size] = bytes >= 1 << 20 ? ["MiB", 1 << 20] : bytes >= 1024 ? ["KiB", 1024] : [];
  if (unit === undefined || size === undefined) return `${bytes} bytes`;
  const n = bytes / size;
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${unit}`;
}

/** The phrase for a `Reason:` token (PROTOCOL.md); an unknown token is quoted. */
function reasonPhrase(event: Extract<ClientEvent, { type: "not-delivered" }>, to: string): string {
  switch (event.reason) {
    case "offline":
      return event.to === BROADCAST ? "nobody else is online" : `${to} is not online`;
    case "too-large":
      return event.maxBody !== undefined
        ? `it is over the server's limit of ${event.maxBody} bytes`
        : "it is over the server's size limit";
    case "queue-full":
      return `too many messages wait for ${to} already; try again later`;
    case "busy":
      return "too many of your messages await answers; wait a moment";
    case "no-ack":
      return `${to} did not confirm it in time`;
    case "refused":
      return `${to}'s client refused it`;
    case "gone":
      return `${to} left before confirming it`;
    case "shutdown":
      return "the server is shutting down";
    case "mailbox-full":
      return `${to} is offline and as many messages as the server keeps` +
        `${event.limit !== undefined ? ` (${event.limit})` : ""} wait for them already; ` +
        "try again once they have read them";
    case "mailbox-bytes":
      return `${to} is offline and as many bytes as the server keeps` +
        `${
          event.limit !== undefined ? ` (${sizeText(event.limit)})` : ""
        } wait for them already; ` +
        "try again once they have read them";
    case "not-stored":
      return `${to} is offline and the server could not store it on its disk; try again later`;
    case "partial":
      return event.delivered !== undefined && event.recipients !== undefined
        ? `only ${event.delivered} of the ${event.recipients} others online got it`
        : "not everyone online got it";
    default:
      return `the server says "${printable(event.reason ?? "")}" (ERROR ${event.code})`;
  }
}

function notDelivered(event: Extract<ClientEvent, { type: "not-delivered" }>, c: boolean): string {
  return red(c, `Message to ${printable(event.to)} not delivered: ${deliveryProblem(event)}`);
}

function nameRefused(event: Extract<ClientEvent, { type: "name-refused" }>, c: boolean): string {
  const name = printable(event.name);
  if (event.code === ErrorCode.UsernameTaken) {
    return red(
      c,
      `The username "${name}" is taken: someone online uses it, or it (or a lookalike) ` +
        "belongs to someone's key on this server. Choose another.",
    );
  }
  if (event.code === ErrorCode.MalformedUsername) {
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

function connectFailed(
  event: Extract<ClientEvent, { type: "connect-failed" }>,
  c: boolean,
): string {
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
}

function registerFailed(
  event: Extract<ClientEvent, { type: "register-failed" }>,
  c: boolean,
): string {
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
    case "stored":
    case "receipt":
    case "help":
      return "stdout";
    default:
      return "stderr";
  }
}

/** A message as the first line of its wire form (`SENT bob`), for reports. */
export function messageLine(m: Message): string {
  return new TextDecoder().decode(encode(m)).split("\n")[0]!;
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
        event.code === ErrorCode.UsernameTaken ? "still in use" : "refused"
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
