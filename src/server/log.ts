/**
 * What the server reports as it runs: typed log events, their one-line text form, and the sink
 * that writes lines to standard output without ever blocking the server.
 *
 * @module
 */
import type { Half } from "../protocol/mod.ts";

export type { Half } from "../protocol/mod.ts";

/** What the server reports as it runs; see {@link formatLogEvent} for the text form. */
export type LogEvent =
  | { event: "listening"; address: string }
  | {
    event: "web-listening";
    /** The address bound. */
    hostname: string;
    /** The port bound. */
    port: number;
    /** The address to open in a browser (`localhost` for a wildcard address). */
    url: string;
  }
  | { event: "web-error"; /** One sentence. */ reason: string }
  | { event: "registered"; name: string; half: Half; remote: string }
  | { event: "rejected"; remote: string; reason: string }
  | {
    event: "joined";
    name: string;
    /** The host it connected from (both hosts if its halves came from two). */
    remote: string;
    /** Users online now, this one included. */
    online: number;
  }
  | {
    event: "extensions";
    name: string; /** Those agreed, in the client's order. */
    extensions: string[];
  }
  | { event: "forwarded"; from: string; to: string; /** Body size. */ bytes: number }
  | { event: "not-delivered"; from: string; to: string; reason: string }
  | { event: "broadcast"; from: string; delivered: number; failed: number }
  | { event: "unregistered"; name: string }
  | {
    event: "identity";
    remote: string;
    /** The name proven or claimed. */
    name: string;
    /** What came of it, in words: "proven", "claimed", or why not. */
    outcome: string;
  }
  | { event: "stored"; from: string; to: string; /** Its mail id. */ mail: number }
  | {
    event: "mail";
    to: string;
    /** Its mail id. */
    mail: number;
    /** What became of it: delivered, refused, expired. */
    outcome: string;
  }
  | { event: "disconnected"; name: string; half: Half; reason: string }
  | {
    event: "protocol-error";
    remote: string;
    name?: string | undefined;
    reason: string;
    closed: boolean;
  }
  | { event: "dropped"; remote: string; name?: string | undefined; reason: string }
  | { event: "data-error"; reason: string }
  | {
    event: "data";
    /** Where the data is and how much of it there is, in words (the startup line). */
    description: string;
  }
  | { event: "stopping"; reason: string }
  | { event: "stopped" };

/**
 * Receives log events. A logger marked `silent` (see {@link SILENT}) is never called: the
 * server then skips building the events at all, which matters on its busiest paths.
 */
export type Logger = ((event: LogEvent) => void) & { readonly silent?: boolean };

/** The logger that logs nothing (`chat server --quiet`, and the default of `startServer`). */
export const SILENT: Logger = Object.assign((_event: LogEvent) => {}, { silent: true });

/**
 * Renders a log event as one line of text in the original server's style. Control characters
 * (which clients can put in names and texts) are written as `\xNN`, so that no client can
 * forge a line or send escape sequences to the operator's terminal.
 */
export function formatLogEvent(e: LogEvent): string {
  const line = logLine(e);
  return CONTROL.test(line) ? line.replace(CONTROL_ALL, escapeControl) : line;
}

/** The formats of the server's log: one line of text, or one JSON object, per event. */
export type LogFormat = "text" | "json";

/**
 * One line of the server's log for event `e` that happened at `at`. Text: the local date and
 * time (`2026-12-02 20:41:07`), a space and {@link formatLogEvent}'s line. JSON: the event's
 * fields after `time`, the same moment in ISO 8601 (UTC).
 */
export function formatLogLine(e: LogEvent, format: LogFormat, at: Date = new Date()): string {
  if (format === "json") return JSON.stringify({ time: at.toISOString(), ...e });
  return `${localTimestamp(at)} ${formatLogEvent(e)}`;
}

/** `at` in local time as `YYYY-MM-DD HH:MM:SS`. */
export function localTimestamp(at: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ` +
    `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
// deno-lint-ignore no-control-regex
const CONTROL_ALL = /[\x00-\x1f\x7f-\x9f]/g;

function escapeControl(c: string): string {
  return "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0");
}

function logLine(e: LogEvent): string {
  switch (e.event) {
    case "listening":
      return `Chat server listening on ${e.address}`;
    case "web-listening":
      return webListeningLine(e.hostname, e.port, e.url);
    case "web-error":
      return `Web client unavailable: ${e.reason}`;
    case "registered":
      return `${e.name} : REGISTERED ${e.half}`;
    case "rejected":
      return `Registration from ${e.remote} refused: ${e.reason}`;
    case "joined":
      return `${e.name} : JOINED from ${e.remote} (${e.online} online)`;
    case "extensions":
      return `${e.name} : EXTENSIONS${
        e.extensions.length > 0 ? " " + e.extensions.join(" ") : " (none)"
      }`;
    case "forwarded":
      return `Message successfully forwarded from ${e.from} to ${e.to}`;
    case "not-delivered":
      return `Message from ${e.from} to ${e.to} not delivered: ${e.reason}`;
    case "broadcast":
      return `Broadcast from ${e.from} delivered to ${e.delivered} user(s), ${e.failed} failed`;
    case "unregistered":
      return `${e.name} : UNREGISTERED`;
    case "identity":
      return `Identity of ${e.name} from ${e.remote}: ${e.outcome}`;
    case "stored":
      return `Message from ${e.from} to ${e.to} stored for later delivery (mail ${e.mail})`;
    case "mail":
      return `Stored message ${e.mail} to ${e.to} ${e.outcome}`;
    case "disconnected":
      return `${e.name} : DISCONNECTED (${e.half} ${e.reason})`;
    case "protocol-error":
      return `Protocol error from ${e.remote}${e.name ? ` (${e.name})` : ""}: ${e.reason}` +
        (e.closed ? "; connection closed" : "");
    case "dropped":
      return `Dropped ${e.remote}${e.name ? ` (${e.name})` : ""}: ${e.reason}`;
    case "data":
      return e.description;
    case "data-error":
      return `Data error: ${e.reason}`;
    case "stopping":
      return `Stopping (${e.reason})`;
    case "stopped":
      return "Server stopped";
  }
}

/** True for the addresses that mean every address of this machine. */
function isWildcard(hostname: string): boolean {
  return hostname === "::" || hostname === "0.0.0.0";
}

/**
 * The address to open in a browser for a web port on `hostname`:`port`: `localhost` for a
 * wildcard address, `https` with TLS.
 */
export function webUrl(hostname: string, port: number, tls: boolean): string {
  const host = isWildcard(hostname)
    ? "localhost"
    : hostname.includes(":")
    ? `[${hostname}]`
    : hostname;
  return `${tls ? "https" : "http"}://${host}:${port}/`;
}

/** The startup line of the web port (tools and tests parse it). */
function webListeningLine(hostname: string, port: number, url: string): string {
  const address = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  const other = isWildcard(hostname) ? "; from other machines use this machine's address" : "";
  return `Web client listening on ${address} (open ${url}${other})`;
}

/** Where a {@link LineSink} writes: standard output, or anything written to like it. */
export interface LineWriter {
  /** Writes some of `bytes` and resolves with how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Log lines on their way out, written in batches without ever blocking the server: a terminal
 * or pipe that reads slowly (or not at all) holds at most `maxBytes` of lines; past that, lines
 * are counted and dropped, and the count is written once output catches up.
 */
export class LineSink {
  readonly #out: LineWriter;
  readonly #maxBytes: number;
  #lines: string[] = [];
  #bytes = 0;
  #dropped = 0;
  #broken = false;
  #flushing: Promise<void> | null = null;
  static readonly #encoder = new TextEncoder();

  /** Creates a sink writing to `out`, holding at most `maxBytes` (default 1 MiB) of lines. */
  constructor(out: LineWriter, maxBytes = 1024 * 1024) {
    this.#out = out;
    this.#maxBytes = maxBytes;
  }

  /** Lines dropped so far because output did not keep up. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues one line (without its line end). */
  line(text: string): void {
    if (this.#broken) return;
    if (this.#bytes + text.length > this.#maxBytes) {
      this.#dropped++;
      return;
    }
    this.#lines.push(text);
    this.#bytes += text.length + 1;
    this.#flushing ??= this.#flush();
  }

  /** Resolves once every queued line is written (or output failed). */
  async drain(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
  }

  async #flush(): Promise<void> {
    // Let the lines of this turn of the event loop gather into one write.
    await Promise.resolve();
    try {
      while (this.#lines.length > 0 && !this.#broken) {
        const lines = this.#lines;
        const dropped = this.#dropped;
        this.#lines = [];
        this.#bytes = 0;
        let text = lines.join("\n") + "\n";
        if (dropped > 0) {
          this.#dropped = 0;
          text = `(${dropped} log lines dropped: the output did not keep up)\n` + text;
        }
        const bytes = LineSink.#encoder.encode(text);
        for (let off = 0; off < bytes.length;) off += await this.#out.write(bytes.subarray(off));
      }
    } catch {
      this.#broken = true; // output closed: keep serving, stop logging
      this.#lines = [];
    } finally {
      this.#flushing = null;
    }
  }
}
