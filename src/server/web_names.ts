/**
 * The names the web port answers to, pure: its defence against DNS rebinding. A page on
 * `evil.example` whose DNS name is rebound to this server's address sends requests with
 * `Host: evil.example` and an Origin of the same name, so the Origin check alone lets it in; the
 * web port answers only requests whose Host names it: an IP literal, `localhost` (and
 * `*.localhost`, which browsers resolve to loopback themselves), the machine's own name, the
 * name it listens on, or a name given with `--web-name` (as Vite's `server.allowedHosts` and
 * Jupyter's `local_hostnames`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   checkHost,
 *   type HostCheck,
 *   hostName,
 *   isIpLiteral,
 *   isLocalhost,
 *   machineNames,
 *   RefusedNames,
 *   type WebNames,
 *   webNames,
 * } from "./web_names.ts";
 *
 * // What `chat server --web-name chat.example.com` on the machine "box" answers to.
 * const names: WebNames = webNames(["chat.example.com", ...machineNames("box")]);
 * assert.equal(checkHost(names, "Chat.Example.COM.:8080").kind, "accepted");
 * assert.equal(checkHost(names, "box.local").kind, "accepted"); // its mDNS name
 * assert.equal(checkHost(names, "127.0.0.1:8080").kind, "accepted"); // any IP literal
 * assert.equal(checkHost(names, "[::1]").kind, "accepted");
 * assert.equal(checkHost(names, "foo.localhost").kind, "accepted");
 * const rebound: HostCheck = checkHost(names, "evil.example:8080"); // a 403
 * assert.deepEqual(rebound, { kind: "unknown", name: "evil.example" });
 * assert.equal(checkHost(names, "not a host").kind, "invalid"); // a 400
 * assert.equal(checkHost(webNames(["*"]), "evil.example").kind, "accepted"); // the check off
 *
 * assert.equal(hostName("0x7f.1:8080"), "127.0.0.1"); // as a browser reads it
 * assert.ok(isIpLiteral("127.0.0.1") && isLocalhost("localhost"));
 *
 * // The log says each refused name once (at most 100 names an hour).
 * const refused = new RefusedNames();
 * assert.equal(refused.note("evil.example", performance.now()), "log");
 * assert.equal(refused.note("evil.example", performance.now()), null);
 * ```
 *
 * @module
 */

/** The names a web port answers to besides IP literals and localhost; see {@link checkHost}. */
export interface WebNames {
  /** Any Host is answered (`--web-name '*'`): the check is off. */
  readonly any: boolean;
  /** The names answered to, as {@link hostName} gives them. */
  readonly names: ReadonlySet<string>;
}

/** What {@link checkHost} says of a Host header value. */
export type HostCheck =
  | { kind: "accepted" }
  | {
    kind: "unknown";
    /** The host name asked for (lowercase, without port or trailing dot). */
    name: string;
  }
  | { kind: "invalid" };

/** The characters of a Host header value browsers send: ASCII (IDNs as punycode), no `%` or `@`. */
const HOST_CHARS = /^[A-Za-z0-9._\-[\]:]+$/;

/**
 * The host name in `host` (a Host header value, `name[:port]`, `IPv4[:port]` or
 * `[IPv6][:port]`): lowercase, port and one trailing dot dropped, an IPv4 address in any form
 * browsers read (`127.1`, `0x7f.0.0.1`) as dotted decimal, an IPv6 address in brackets in its
 * shortest form. Null if `host` is not one (empty, a path, user info, a bad port, a name over
 * 253 characters...).
 */
export function hostName(host: string): string | null {
  if (!HOST_CHARS.test(host)) return null;
  let url: URL;
  try {
    // The URL parser is the browsers' (WHATWG): it reads IPv4 and IPv6 addresses as they do.
    url = new URL(`http://${host}`);
  } catch {
    return null;
  }
  if (url.pathname !== "/" || url.search !== "" || url.username !== "") return null;
  const name = url.hostname.endsWith(".") ? url.hostname.slice(0, -1) : url.hostname;
  // 253: the longest DNS name. Longer ones no browser sends; refused names stay short in logs.
  return name === "" || name.length > 253 ? null : name;
}

/** True if `name` (from {@link hostName}) is an IPv4 or IPv6 address: DNS cannot rebind it. */
export function isIpLiteral(name: string): boolean {
  return name.startsWith("[") || /^\d{1,3}(\.\d{1,3}){3}$/.test(name);
}

/** True if `name` (from {@link hostName}) is `localhost` or under it (RFC 6761: loopback). */
export function isLocalhost(name: string): boolean {
  return name === "localhost" || name.endsWith(".localhost");
}

/**
 * The names of `list` (`"*"`: any), each read by {@link hostName}. Throws a RangeError naming
 * the first entry that is not a host name.
 */
export function webNames(list: Iterable<string>): WebNames {
  let any = false;
  const names = new Set<string>();
  for (const entry of list) {
    if (entry === "*") {
      any = true;
      continue;
    }
    const name = hostName(entry);
    if (name === null) {
      throw new RangeError(
        `"${entry}" is not a host name: give a name such as "chat.example.com", or "*" for any.`,
      );
    }
    names.add(name);
  }
  return { any, names };
}

/**
 * The names a machine called `machine` (its host name, or null if unknown) answers to: the
 * name itself and its mDNS name, `machine.local` (or both halves if it ends in `.local`).
 * Entries that are not host names are left out.
 */
export function machineNames(machine: string | null): string[] {
  if (machine === null) return [];
  const name = hostName(machine);
  if (name === null || isIpLiteral(name)) return [];
  const bare = name.endsWith(".local") ? name.slice(0, -".local".length) : name;
  return bare === "" ? [name] : [bare, `${bare}.local`];
}

/**
 * Whether a request whose Host header is `host` is answered: `accepted` for an IP literal,
 * localhost, a name of `names` (or any with `names.any`); `unknown` with the name for another
 * host name; `invalid` for a value that is not a host (refused as a bad request).
 */
export function checkHost(names: WebNames, host: string): HostCheck {
  const name = hostName(host);
  if (name === null) return names.any ? { kind: "accepted" } : { kind: "invalid" };
  if (names.any || isIpLiteral(name) || isLocalhost(name) || names.names.has(name)) {
    return { kind: "accepted" };
  }
  return { kind: "unknown", name };
}

/**
 * Which refused names are logged: each name once, at most `limit` names per `windowMs` (a page
 * that makes up names must not flood the log, nor the memory). The name that fills the window
 * is logged as the `last`; the window restarts `windowMs` after it began.
 */
export class RefusedNames {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #seen = new Set<string>();
  #since = 0;

  /** Logs up to `limit` names per `windowMs` milliseconds. */
  constructor(limit = 100, windowMs = 3_600_000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /**
   * Notes that `name` was refused at `now` (milliseconds, any monotonic clock): `"log"` if it is
   * to be logged, `"last"` if it is to be logged as the last one of this window, null if not.
   */
  note(name: string, now: number): "log" | "last" | null {
    if (this.#seen.size > 0 && now - this.#since >= this.#windowMs) this.#seen.clear();
    if (this.#seen.has(name) || this.#seen.size >= this.#limit) return null;
    if (this.#seen.size === 0) this.#since = now;
    this.#seen.add(name);
    return this.#seen.size === this.#limit ? "last" : "log";
  }
}
