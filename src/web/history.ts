/**
 * The web page's conversations across a reload: {@link encodeHistory} turns the page's
 * {@link SavedPage} into the JSON the tab's `sessionStorage` keeps, {@link decodeHistory} takes
 * it back. Pure (no storage, no DOM): `app.ts` reads and writes the storage.
 *
 * What comes out of the storage is not trusted: someone may have edited it, another version of
 * the page may have written it, or it may be cut short. {@link decodeHistory} checks every field
 * and gives back null for anything that is not exactly what this version writes (the page then
 * starts clean); it never throws. The text it gives back is only ever shown as text.
 *
 * @module
 */
import { BROADCAST } from "../protocol/mod.ts";
import { isValidName } from "../protocol/names.ts";
import { printable } from "../client/render.ts";
import type { Delivery, NoticeItem, SavedConversation, SavedItem, SavedPage } from "./state.ts";

/**
 * The stored format's version (anything else is ignored), where it is kept, and its bounds.
 *
 * @example
 * ```ts
 * import { decodeHistory, encodeHistory, HISTORY, historyKey, rejoinName } from "./history.ts";
 * import assert from "node:assert/strict";
 *
 * const storage = new Map<string, string>(); // the tab's sessionStorage
 * const page = {
 *   self: "alice",
 *   server: "127.0.0.1:7000",
 *   selected: "ALL",
 *   toldOffline: [],
 *   conversations: [{ id: "ALL", unread: 0, items: [] }],
 * };
 * storage.set(HISTORY.rejoinKey, "alice");
 * storage.set(historyKey("http://127.0.0.1:8080", "alice"), encodeHistory(page)!);
 * // After the reload:
 * const name = rejoinName(storage.get(HISTORY.rejoinKey));
 * assert.equal(name, "alice");
 * const stored = storage.get(historyKey("http://127.0.0.1:8080", name!));
 * assert.ok(stored!.length <= HISTORY.maxChars);
 * assert.deepEqual(decodeHistory(stored, { server: "127.0.0.1:7000", name: "alice" }), page);
 * ```
 */
export const HISTORY = {
  /** The version of the stored format; anything else is ignored. */
  version: 1,
  /** The start of the `sessionStorage` key of a history (see {@link historyKey}). */
  prefix: "chat.history ",
  /** The `sessionStorage` key holding the name to join again with after a reload. */
  rejoinKey: "chat.rejoin",
  /** Most entries (messages and notices) kept per conversation: the last ones. */
  maxEntries: 500,
  /** Most conversations kept (Everyone and the ones begun first). */
  maxConversations: 200,
  /** Most characters of stored JSON (a JavaScript string's length; the storage counts those). */
  maxChars: 1_000_000,
} as const;

/** The latest possible time of a `Date`, in milliseconds since the epoch. */
const MAX_TIME = 8.64e15;

/** Delivery states of the user's own messages. */
const DELIVERIES: ReadonlySet<string> = new Set<Delivery>([
  "pending",
  "stored",
  "delivered",
  "failed",
  "unconfirmed",
]);

/** Tones of notices. */
const TONES: ReadonlySet<string> = new Set(["info", "good", "problem"]);

/**
 * The `sessionStorage` key of the history of `name` on the server at `origin` (the page's
 * `location.origin`).
 *
 * @example
 * ```ts
 * import { decodeHistory, encodeHistory, HISTORY, historyKey, rejoinName } from "./history.ts";
 * import assert from "node:assert/strict";
 *
 * const key = historyKey("http://127.0.0.1:8080", "alice");
 * assert.equal(key, "chat.history http://127.0.0.1:8080 alice");
 * assert.ok(key.startsWith(HISTORY.prefix));
 * // Each name has a key of its own: alice's history is never bob's.
 * const stored = encodeHistory({
 *   self: "alice",
 *   server: "127.0.0.1:7000",
 *   selected: "ALL",
 *   toldOffline: [],
 *   conversations: [{ id: "ALL", unread: 0, items: [] }],
 * });
 * assert.equal(decodeHistory(stored, { server: "127.0.0.1:7000", name: "bob" }), null);
 * assert.equal(rejoinName("bob"), "bob");
 * ```
 */
export function historyKey(origin: string, name: string): string {
  return `${HISTORY.prefix}${origin} ${name}`;
}

/**
 * The stored form of `page`: JSON of at most `limits.chars` characters, keeping the last
 * `limits.entries` items of each conversation (fewer, the oldest dropped first, when that is
 * still too long) and the first `HISTORY.maxConversations`
 * conversations. Null when not even the
 * conversations without their items fit.
 *
 * @example
 * ```ts
 * import { decodeHistory, encodeHistory, HISTORY, historyKey, rejoinName } from "./history.ts";
 * import assert from "node:assert/strict";
 *
 * const page = {
 *   self: "alice",
 *   server: "127.0.0.1:7000",
 *   selected: "ALL",
 *   toldOffline: [],
 *   conversations: [{ id: "ALL", unread: 0, items: [] }],
 * };
 * const text = encodeHistory(page, { chars: HISTORY.maxChars });
 * assert.ok(text !== null);
 * assert.deepEqual(decodeHistory(text, { server: "127.0.0.1:7000", name: "alice" }), page);
 * // Too little room for even the conversations: nothing to keep.
 * assert.equal(encodeHistory(page, { chars: 10 }), null);
 * assert.ok(historyKey("https://chat.example", rejoinName("alice")!).endsWith(" alice"));
 * ```
 */
export function encodeHistory(
  page: SavedPage,
  limits: { readonly entries?: number; readonly chars?: number } = {},
): string | null {
  const chars = limits.chars ?? HISTORY.maxChars;
  let entries = Math.max(0, Math.floor(limits.entries ?? HISTORY.maxEntries));
  const conversations = page.conversations.slice(0, HISTORY.maxConversations);
  for (;;) {
    const keep = entries;
    const text = JSON.stringify({
      v: HISTORY.version,
      self: page.self,
      server: page.server,
      selected: page.selected,
      toldOffline: page.toldOffline,
      conversations: conversations.map((c) => ({
        id: c.id,
        unread: c.unread,
        items: keep === 0 ? [] : c.items.slice(-keep),
      })),
    });
    if (text.length <= chars) return text;
    if (entries === 0) return null;
    // Halving trims the longest conversations first; short ones keep all of theirs.
    entries = Math.floor(entries / 2);
  }
}

/**
 * The page kept in `text` (what {@link encodeHistory} wrote), if it is one of `expected.name`
 * on `expected.server` in this version's format; null for anything else (not JSON, another
 * version, another name or server, a field of the wrong type, a time that is not a date, too
 * long). Never throws. Message text comes back with its control characters made visible, as
 * the page shows messages.
 *
 * @example
 * ```ts
 * import { decodeHistory, encodeHistory, HISTORY, historyKey, rejoinName } from "./history.ts";
 * import assert from "node:assert/strict";
 *
 * const expected = { server: "127.0.0.1:7000", name: "alice" };
 * assert.equal(decodeHistory("not json", expected), null);
 * assert.equal(decodeHistory(`{"v":${HISTORY.version + 1}}`, expected), null);
 * assert.equal(decodeHistory(null, expected), null);
 * const text = encodeHistory({
 *   self: "alice",
 *   server: "127.0.0.1:7000",
 *   selected: "ALL",
 *   toldOffline: [],
 *   conversations: [{ id: "ALL", unread: 0, items: [] }],
 * })!;
 * assert.equal(decodeHistory(text, expected)?.self, rejoinName("alice"));
 * assert.equal(decodeHistory(text.replace('"alice"', '"<b>"'), expected), null);
 * assert.ok(historyKey("https://chat.example", "alice").length > 0);
 * ```
 */
export function decodeHistory(
  text: unknown,
  expected: { readonly server: string; readonly name: string },
  maxChars: number = HISTORY.maxChars,
): SavedPage | null {
  if (typeof text !== "string" || text.length > maxChars) return null;
  try {
    return page(JSON.parse(text), expected);
  } catch {
    return null; // not JSON, or nested too deeply to read
  }
}

/**
 * The name to join again with after a reload, from the value kept under `HISTORY.rejoinKey`:
 * null unless it is a valid username.
 *
 * @example
 * ```ts
 * import { decodeHistory, encodeHistory, HISTORY, historyKey, rejoinName } from "./history.ts";
 * import assert from "node:assert/strict";
 *
 * const storage = new Map<string, string>([[HISTORY.rejoinKey, "alice"]]);
 * assert.equal(rejoinName(storage.get(HISTORY.rejoinKey)), "alice");
 * assert.equal(rejoinName("<b>x</b>"), null);
 * assert.equal(rejoinName(undefined), null);
 * // With the name, the page finds its history (none here).
 * const key = historyKey("https://chat.example", "alice");
 * assert.equal(decodeHistory(storage.get(key), { server: "chat.example:443", name: "alice" }), null);
 * assert.equal(typeof encodeHistory, "function");
 * ```
 */
export function rejoinName(value: unknown): string | null {
  return typeof value === "string" && isValidName(value) ? value : null;
}

/** A plain object (not an array, not null). */
function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : null;
}

/** Thrown inside the checks: the stored value is not one of ours. */
class Invalid extends Error {}

function fail(): never {
  throw new Invalid();
}

function string(value: unknown, max: number = HISTORY.maxChars): string {
  return typeof value === "string" && value.length <= max ? value : fail();
}

function time(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= MAX_TIME
    ? value
    : fail();
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : fail();
}

function name(value: unknown): string {
  return typeof value === "string" && isValidName(value) ? value : fail();
}

/** A conversation's id or a message's recipient: `ALL` or a name. */
function peer(value: unknown): string {
  return value === BROADCAST ? BROADCAST : name(value);
}

/** Text as the page shows it: control characters visible, lines kept. */
function shown(text: string): string {
  return text.split(/\r?\n/).map(printable).join("\n");
}

function page(
  value: unknown,
  expected: { readonly server: string; readonly name: string },
): SavedPage | null {
  const o = record(value);
  if (o === null || o.v !== HISTORY.version) return null;
  try {
    const self = name(o.self);
    if (self !== expected.name || o.server !== expected.server) return null;
    const toldOffline = Array.isArray(o.toldOffline) ? o.toldOffline.map(name) : fail();
    const list = Array.isArray(o.conversations) ? o.conversations : fail();
    if (list.length === 0 || list.length > HISTORY.maxConversations) fail();
    const conversations = list.map((c) => conversation(c, self));
    const ids = conversations.map((c) => c.id);
    if (ids[0] !== BROADCAST || new Set(ids).size !== ids.length) fail();
    const selected = peer(o.selected);
    return {
      self,
      server: expected.server,
      selected: ids.includes(selected) ? selected : BROADCAST,
      toldOffline: [...new Set(toldOffline)],
      conversations,
    };
  } catch (error) {
    if (error instanceof Invalid) return null;
    throw error; // a mistake here: decodeHistory still gives null
  }
}

function conversation(value: unknown, self: string): SavedConversation {
  const o = record(value) ?? fail();
  const id = peer(o.id);
  const items = Array.isArray(o.items) ? o.items : fail();
  if (items.length > HISTORY.maxEntries) fail();
  return { id, unread: count(o.unread), items: items.map((i) => item(i, self)) };
}

function item(value: unknown, self: string): SavedItem {
  const o = record(value) ?? fail();
  const at = time(o.at);
  if (o.kind === "notice") {
    const tone = typeof o.tone === "string" && TONES.has(o.tone) ? o.tone : fail();
    return { kind: "notice", at, text: shown(string(o.text)), tone: tone as NoticeItem["tone"] };
  }
  if (o.kind !== "message") fail();
  const own = typeof o.own === "boolean" ? o.own : fail();
  const from = name(o.from);
  if (own && from !== self) fail();
  const to = peer(o.to);
  const state = typeof o.state === "string" &&
      (own ? DELIVERIES.has(o.state) : o.state === "received")
    ? o.state as Delivery
    : fail();
  return {
    kind: "message",
    at,
    from,
    to,
    text: shown(string(o.text)),
    own,
    state,
    ...(o.why === undefined ? {} : { why: shown(string(o.why)) }),
    ...(o.sentAt === undefined ? {} : { sentAt: time(o.sentAt) }),
    ...(o.mail === undefined ? {} : { mail: count(o.mail) }),
  };
}
