/**
 * `chat server`: its help, its flags, and running the server until Ctrl-C or SIGTERM.
 *
 * @module
 */
import {
  parseCommandLine,
  parseCount,
  parseDuration,
  parsePort,
  parseSize,
  UsageError,
} from "./cli.ts";
import { readPem } from "../net/pem.ts";
import { DataError, type ServerData } from "../store/data.ts";
import { openServerData } from "../store/open.ts";
import { defaultWebAssets } from "../web/assets.ts";
import { serverDataMain } from "./server_data.ts";
import { formatAddress } from "../net/address.ts";
import { hostName, machineNames } from "../server/web_names.ts";
import { EVERY_ADDRESS } from "../net/transport.ts";
import { formatLogLine, LineSink, type Logger, SILENT, webUrl } from "../server/log.ts";
import {
  type ChatServer,
  DEFAULT_SERVER_OPTIONS,
  type ServerOptions,
  startServer,
} from "../server/server.ts";

/** The longest --mail-max-age: a year. */
export const MAX_MAIL_AGE_MS = 365 * 24 * 3600 * 1000;

/** Usage line of `chat server`. */
export const SERVER_USAGE = "Usage: chat server [--host ADDRESS] [--port PORT] [options]";

/** Help text of `chat server`: one screen; README.md has every option with its default. */
export const SERVER_HELP = `${SERVER_USAGE}
       chat server names | release NAME   (owned names: see --help of each)

Options:
  --host ADDRESS       Address to listen on: "::" all (default), 127.0.0.1 local
  --port PORT          Port to listen on, 0 for any free one (default 5500)
  --web PORT|--no-web  Web client's port, 0 for any free one (default 8080)
  --web-name NAME      The web page's DNS name too (repeatable); "*": any
  --data DIR           Where owned names and waiting mail are kept (default
                       ~/.local/share/chat); --memory keeps them in memory only
  --tls-cert, --tls-key FILE  Serve TLS with this PEM certificate and key
  --log-format FORMAT  "text" (default) or "json"; --quiet: startup lines only
  -h, --help, -V, --version   Show this help, or the version

Limits and timeouts (their defaults: README.md, section "The server"):
  --ack-timeout, --register-timeout, --stall-timeout, --drain-timeout TIME
  --max-header-bytes, --max-body-bytes, --max-queue-bytes N, --max-queue N
  --max-connections, --max-per-address, --rate-limit, --rate-burst N
  --mail-max-messages, --mail-max-bytes N, --mail-max-age TIME (mailboxes)
  --transport node|deno

Logs go to standard output. Ctrl-C or SIGTERM lets messages in flight finish,
then stops (exit 0); Ctrl-C again a second later stops at once (exit 130).
`;

/** The options `chat server` accepts (node:util parseArgs table). */
export const SERVER_OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  web: { type: "string" },
  "no-web": { type: "boolean" },
  "web-name": { type: "string", multiple: true },
  "ack-timeout": { type: "string" },
  "max-header-bytes": { type: "string" },
  "max-body-bytes": { type: "string" },
  "max-queue": { type: "string" },
  "max-queue-bytes": { type: "string" },
  "register-timeout": { type: "string" },
  "stall-timeout": { type: "string" },
  "max-connections": { type: "string" },
  "max-per-address": { type: "string" },
  "rate-limit": { type: "string" },
  "rate-burst": { type: "string" },
  "drain-timeout": { type: "string" },
  data: { type: "string" },
  memory: { type: "boolean" },
  "mail-max-messages": { type: "string" },
  "mail-max-bytes": { type: "string" },
  "mail-max-age": { type: "string" },
  quiet: { type: "boolean" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "log-format": { type: "string" },
  transport: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Entry point of `chat server`: returns the process exit code. */
export async function serverMain(args: string[]): Promise<number> {
  if (DATA_COMMANDS.has(args[0] ?? "")) return serverDataMain(args);
  const { values: v, positionals } = parseCommandLine(args, SERVER_OPTIONS, SERVER_USAGE);
  const first = positionals[0];
  if (first !== undefined && DATA_COMMANDS.has(first)) {
    // `chat server --data DIR names`: the subcommand, with the options around it.
    const at = args.indexOf(first);
    return serverDataMain([first, ...args.slice(0, at), ...args.slice(at + 1)]);
  }
  if (v.help) {
    console.log(SERVER_HELP.trimEnd());
    return 0;
  }
  checkArguments(positionals, v.memory === true, v.data !== undefined);
  const str = (name: string) => v[name] as string | undefined;
  const format = str("log-format") ?? "text";
  if (format !== "text" && format !== "json") {
    throw new UsageError(`Invalid --log-format "${format}": use "text" or "json".`, SERVER_USAGE);
  }
  const transport = str("transport") ?? "node";
  if (transport !== "deno" && transport !== "node") {
    throw new UsageError(`Invalid --transport "${transport}": use "deno" or "node".`, SERVER_USAGE);
  }
  const options: Partial<ServerOptions> = {
    hostname: str("host") ?? DEFAULT_SERVER_OPTIONS.hostname,
    port: str("port") !== undefined
      ? parsePort(str("port")!, SERVER_USAGE, true)
      : DEFAULT_SERVER_OPTIONS.port,
    transport,
    ...parseLimits(str),
  };
  if ((str("tls-cert") === undefined) !== (str("tls-key") === undefined)) {
    throw new UsageError(
      "TLS needs both --tls-cert and --tls-key: give the certificate and its private key.",
      SERVER_USAGE,
    );
  }
  if (str("tls-cert") !== undefined) {
    const cert = await readPem(str("tls-cert")!, "TLS certificate");
    const key = await readPem(str("tls-key")!, "TLS key");
    if (cert === null || key === null) return 1;
    options.tls = { cert, key };
  }

  const web = parseWeb(str("web"), v["no-web"] === true);
  const webNameFlags = (v["web-name"] ?? []) as unknown as string[];
  if (web === null && webNameFlags.length > 0) {
    throw new UsageError(
      "--web-name names the web port, but --no-web serves none: leave one of them out.",
      SERVER_USAGE,
    );
  }
  if (web !== null) {
    const names = [...parseWebNames(webNameFlags), ...machineNames(machineName())];
    options.web = { port: web, assets: defaultWebAssets(), names };
  }

  const quiet = v.quiet === true;
  const sink = new LineSink(Deno.stdout);
  const log: Logger = (e) => {
    if (quiet && e.event !== "listening" && e.event !== "web-listening") return;
    sink.line(formatLogLine(e, format));
  };
  // Quiet: the server gets a silent logger, so that it does not even build its events.
  options.log = quiet ? SILENT : log;

  const data = await openData(str("data"), v.memory === true);
  if (data === null) return 1;
  options.data = data;
  let server: ChatServer;
  try {
    server = await startServer(options);
  } catch (error) {
    await data.close();
    reportStartFailure(error, options);
    return 1;
  }
  if (options.hostname === EVERY_ADDRESS && server.hostname !== EVERY_ADDRESS) {
    console.error(
      `This machine has no IPv6: listening on IPv4 addresses only ("${server.hostname}").`,
    );
  }
  if (server.webError !== null) reportWebFailure(server.webError, options);
  const drainMs = options.drainTimeoutMs ?? DEFAULT_SERVER_OPTIONS.drainTimeoutMs;
  await serveUntilSignal(server, data, log, sink, quiet ? null : drainMs);
  return 0;
}

/** The web port of `--web PORT` (default 8080), or null with `--no-web`. */
function parseWeb(value: string | undefined, off: boolean): number | null {
  if (off && value !== undefined) {
    throw new UsageError(
      "Give --web PORT or --no-web, not both: --no-web serves no web client.",
      SERVER_USAGE,
    );
  }
  if (off) return null;
  if (value === undefined) return DEFAULT_WEB_PORT;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(
      `Invalid --web port "${value}": use a number from 0 to 65535, or --no-web.`,
      SERVER_USAGE,
    );
  }
  return port;
}

/** The values of `--web-name`, each checked to be a host name or `*`. */
function parseWebNames(values: string[]): string[] {
  for (const value of values) {
    if (value !== "*" && hostName(value) === null) {
      throw new UsageError(
        `Invalid --web-name "${value}": give the host name the web page is opened by, such as ` +
          `"chat.example.com", or "*" for any.`,
        SERVER_USAGE,
      );
    }
  }
  return values;
}

/**
 * This machine's host name (the web port answers to it and to its `.local` mDNS name), or null
 * if it cannot be had: without `--allow-sys=hostname` (asked first, so that Deno never prompts)
 * or if the system does not say. The server goes on without it.
 */
function machineName(): string | null {
  try {
    const state = Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state;
    return state === "granted" ? Deno.hostname() : null;
  } catch {
    return null;
  }
}

/** The web client's port when `--web` is not given. */
export const DEFAULT_WEB_PORT = 8080;

/**
 * Says in one line on standard error why the web port could not be listened on: the server
 * serves chat without it.
 */
function reportWebFailure(error: Error, options: Partial<ServerOptions>): void {
  const where = formatAddress(options.hostname ?? "", options.web?.port ?? 0);
  const text = String(error);
  const why = error instanceof Deno.errors.AddrInUse || /EADDRINUSE/.test(text)
    ? "the port is already in use"
    : error instanceof Deno.errors.PermissionDenied || /EACCES/.test(text)
    ? "permission denied (ports below 1024 need privileges)"
    : error.message.replace(/\.$/, "");
  console.error(
    `Cannot serve the web client on "${where}": ${why}; chat goes on without it ` +
      `(choose another port with --web PORT, or --no-web to not try).`,
  );
}

/** Refuses positional arguments, and `--memory` with `--data`, as usage errors. */
function checkArguments(positionals: string[], memory: boolean, data: boolean): void {
  if (positionals.length > 0) {
    throw new UsageError(`Unexpected argument "${positionals[0]}".`, SERVER_USAGE);
  }
  if (memory && data) {
    throw new UsageError(
      "Give --data DIR or --memory, not both: --memory keeps nothing on disk.",
      SERVER_USAGE,
    );
  }
}

/** The subcommands that work on the server's data rather than serve (server_data.ts). */
const DATA_COMMANDS = new Set(["release", "names"]);

/**
 * Opens the server's data (`--data DIR`, its default, or `--memory`), or says on standard error
 * in one sentence why it cannot and returns null: the server never starts without its data.
 */
async function openData(dir: string | undefined, memory: boolean): Promise<ServerData | null> {
  try {
    return await openServerData({ data: dir, memory, env: (name) => Deno.env.get(name) });
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    console.error(error.message);
    return null;
  }
}

/** The startup line that says where the data is and how much of it there is. */
export function dataLine(data: ServerData): string {
  if (data.location === "memory") {
    return "Data: in memory (--memory): names and waiting mail are forgotten when the server " +
      "stops";
  }
  const s = data.summary();
  const names = s.owners === 1 ? "1 name owned" : `${s.owners} names owned`;
  const mail = s.mail === 1 ? "1 message waiting" : `${s.mail} messages waiting`;
  return `Data: ${data.location} (${names}, ${mail})`;
}

/** The limits and timeouts given on the command line (`str` reads a flag's value). */
function parseLimits(str: (name: string) => string | undefined): Partial<ServerOptions> {
  const options: Partial<ServerOptions> = {};
  if (str("ack-timeout") !== undefined) {
    options.ackTimeoutMs = parseDuration(str("ack-timeout")!, "--ack-timeout", SERVER_USAGE);
  }
  if (str("mail-max-messages") !== undefined) {
    const n = str("mail-max-messages")!;
    options.mailMaxMessages = parseCount(n, "--mail-max-messages", SERVER_USAGE);
  }
  if (str("mail-max-bytes") !== undefined) {
    options.mailMaxBytes = parseSize(str("mail-max-bytes")!, "--mail-max-bytes", SERVER_USAGE);
  }
  if (str("mail-max-age") !== undefined) {
    const age = str("mail-max-age")!;
    // Not a timer: compared with the time mail was stored, so it may be long.
    options.mailMaxAgeMs = parseDuration(age, "--mail-max-age", SERVER_USAGE, MAX_MAIL_AGE_MS);
  }
  const sizes = [
    ["max-header-bytes", "maxHeaderBytes"],
    ["max-body-bytes", "maxBodyBytes"],
  ] as const;
  for (const [flag, key] of sizes) {
    if (str(flag) !== undefined) options[key] = parseSize(str(flag)!, `--${flag}`, SERVER_USAGE);
  }
  if (str("max-queue") !== undefined) {
    options.maxQueuedForwards = parseCount(str("max-queue")!, "--max-queue", SERVER_USAGE);
  }
  if (str("max-queue-bytes") !== undefined) {
    options.maxQueuedBytes = parseSize(str("max-queue-bytes")!, "--max-queue-bytes", SERVER_USAGE);
  }
  const durations = [
    ["register-timeout", "registerTimeoutMs"],
    ["stall-timeout", "stallTimeoutMs"],
    ["drain-timeout", "drainTimeoutMs"],
  ] as const;
  for (const [flag, key] of durations) {
    if (str(flag) !== undefined) {
      options[key] = parseDuration(str(flag)!, `--${flag}`, SERVER_USAGE);
    }
  }
  const counts = [
    ["max-connections", "maxConnections", true],
    ["max-per-address", "maxPerAddress", true],
    ["rate-limit", "rateLimit", true],
    ["rate-burst", "rateBurst", false],
  ] as const;
  for (const [flag, key, zero] of counts) {
    if (str(flag) !== undefined) {
      options[key] = parseCount(str(flag)!, `--${flag}`, SERVER_USAGE, zero);
    }
  }
  return options;
}

/** Says in one sentence on standard error why the server could not start. */
function reportStartFailure(error: unknown, options: Partial<ServerOptions>): void {
  const where = formatAddress(options.hostname ?? "", options.port ?? 0);
  const text = String(error);
  if (options.tls && /certificate|key|pem|tls/i.test(text)) {
    console.error(
      `Cannot start TLS on "${where}": ${error instanceof Error ? error.message : error}. ` +
        `Check that --tls-cert and --tls-key are a matching PEM certificate and key.`,
    );
  } else if (error instanceof Deno.errors.AddrInUse || /EADDRINUSE/.test(text)) {
    console.error(
      `Cannot listen on "${where}": the port is already in use. ` +
        `Stop the other server or choose another port with --port.`,
    );
  } else if (error instanceof Deno.errors.PermissionDenied || /EACCES/.test(text)) {
    console.error(
      `Cannot listen on "${where}": permission denied. Ports below 1024 need privileges; ` +
        `choose another port with --port.`,
    );
  } else if (
    // Deno's node:net reports an address this machine does not have as "listen EINVAL".
    error instanceof Deno.errors.AddrNotAvailable || /EADDRNOTAVAIL|listen EINVAL/.test(text)
  ) {
    console.error(
      `Cannot listen on "${where}": this machine has no such address. Leave out --host to ` +
        `listen on all of its addresses, or give one of them.`,
    );
  } else if (/ENOTFOUND|failed to lookup address/.test(text)) {
    console.error(
      `Cannot listen on "${where}": no such host name. Leave out --host to listen on all of ` +
        `this machine's addresses, or give one of them.`,
    );
  } else {
    const message = error instanceof Error ? error.message : text;
    console.error(`Cannot listen on "${where}": ${message}.`);
  }
}

/**
 * How long after a stop signal the same signal again counts as the same request. One Ctrl-C can
 * arrive up to three times within milliseconds: the terminal sends SIGINT to the whole foreground
 * process group, and `deno task` (and npm's `npx`) forward the one they got to their child too.
 */
export const REPEAT_WINDOW_MS = 1000;

/** The first stop signal: its name and when it arrived (milliseconds on any monotonic clock). */
export interface FirstSignal {
  /** The signal's name, such as "SIGINT". */
  name: string;
  /** When it arrived. */
  at: number;
}

/**
 * What a stop signal means: `"stop"` for the first (drain, then exit 0), `"repeat"` for the
 * same signal again within {@link REPEAT_WINDOW_MS} (one key press delivered more than once:
 * ignored), `"force"` for another signal or the same one later (a deliberate second request:
 * exit at once with 130).
 */
export function classifySignal(
  first: FirstSignal | null,
  name: string,
  at: number,
): "stop" | "repeat" | "force" {
  if (first === null) return "stop";
  return name === first.name && at - first.at < REPEAT_WINDOW_MS ? "repeat" : "force";
}

/**
 * What `chat server` says on standard error when its drain has lasted {@link REPEAT_WINDOW_MS}:
 * how long it may still take, and how to stop at once.
 */
export function drainHint(signal: string, drainMs: number): string {
  const limit = drainMs % 1000 === 0 ? `${drainMs / 1000}s` : `${drainMs}ms`;
  const again = signal === "SIGINT" ? "press Ctrl-C again" : `send ${signal} again`;
  return `Waiting up to ${limit} for messages in flight; ${again} to stop at once.`;
}

/**
 * Logs the startup line, serves until SIGINT or SIGTERM, then drains and closes the server and
 * lets the log lines out. A second signal exits at once with 130, unless it is the first one
 * delivered again (see {@link classifySignal}). A drain that lasts says so on standard error
 * (unless `drainMs` is null, as with --quiet).
 */
async function serveUntilSignal(
  server: ChatServer,
  data: ServerData,
  log: Logger,
  sink: LineSink,
  drainMs: number | null,
): Promise<void> {
  // Last line of defence: a bug reached by one connection's input must not stop the server.
  const contain = (e: Event) => {
    e.preventDefault();
    const why = "reason" in e ? (e as PromiseRejectionEvent).reason : (e as ErrorEvent).error;
    console.error(`Internal error (the server keeps running): ${why?.stack ?? why}`);
  };
  globalThis.addEventListener("unhandledrejection", contain);
  globalThis.addEventListener("error", contain);
  log({ event: "listening", address: formatAddress(server.hostname, server.port) });
  if (server.web !== null) {
    const { hostname, port, tls } = server.web;
    log({ event: "web-listening", hostname, port, url: webUrl(hostname, port, tls) });
  }
  log({ event: "data", description: dataLine(data) });

  const { promise: stop, resolve } = Promise.withResolvers<string>();
  let first: FirstSignal | null = null;
  const onSignal = (name: string) => () => {
    const at = performance.now();
    const meaning = classifySignal(first, name, at);
    if (meaning === "force") Deno.exit(130);
    if (meaning === "repeat") return;
    first = { name, at };
    resolve(name);
  };
  const handlers: [Deno.Signal, () => void][] = [["SIGINT", onSignal("SIGINT")]];
  if (Deno.build.os !== "windows") handlers.push(["SIGTERM", onSignal("SIGTERM")]);
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  const reason = await stop;
  log({ event: "stopping", reason });
  const hint = drainMs === null
    ? undefined
    : setTimeout(() => console.error(drainHint(reason, drainMs)), REPEAT_WINDOW_MS);
  await server.close();
  clearTimeout(hint);
  // After the drain: nothing changes the data any more. Its last changes are made durable.
  await data.close();
  log({ event: "stopped" });
  // A standard output that nobody reads must not keep the process from exiting.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([sink.drain(), new Promise((r) => timer = setTimeout(r, 2000))]);
  clearTimeout(timer);
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  globalThis.removeEventListener("unhandledrejection", contain);
  globalThis.removeEventListener("error", contain);
}
