/**
 * The mail the web client has shown, kept in the browser's `localStorage` (all tabs, across
 * restarts, like the identity it belongs to), so that mail the server delivers again after a
 * crash is not shown again after a reload or in another tab. One value per server and name,
 * the newest {@link SEEN_KEPT_WEB} keys, one per line. Pure over a `Storage`-like object:
 * tested without a browser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEEN_KEPT_WEB, seenKeyOf, seenMailStorage } from "./seen_storage.ts";
 *
 * const values = new Map<string, string>();
 * const storage = {
 *   getItem: (k: string) => values.get(k) ?? null,
 *   setItem: (k: string, v: string) => void values.set(k, v),
 * };
 * const seen = seenMailStorage(storage, "127.0.0.1:5500", "alice");
 * seen.add("m 17 1764716400000");
 * assert.equal(values.get(seenKeyOf("127.0.0.1:5500", "alice")), "m 17 1764716400000");
 * // The next page (a reload, another tab) knows it.
 * assert.ok(seenMailStorage(storage, "127.0.0.1:5500", "alice").has("m 17 1764716400000"));
 * assert.ok(SEEN_KEPT_WEB >= 100);
 * ```
 *
 * @module
 */
import { seenMailOver } from "../client/mail.ts";
import type { SeenMail } from "../client/options.ts";

/** How many keys are kept per server and name (a redelivery repeats the last few). */
export const SEEN_KEPT_WEB = 200;

/** The storage key of the mail shown to `name` on `server`. */
export function seenKeyOf(server: string, name: string): string {
  return `chat.seen ${server} ${name}`;
}

/**
 * The mail shown to `name` on `server`, in `storage`. A value that is not ours is read as far
 * as it holds keys; storage that is blocked or full keeps the keys for this page only.
 */
export function seenMailStorage(
  storage: { getItem(key: string): string | null; setItem(key: string, value: string): void },
  server: string,
  name: string,
): SeenMail {
  const at = seenKeyOf(server, name);
  let value = "";
  try {
    value = storage.getItem(at) ?? "";
  } catch {
    // Blocked: nothing known from before.
  }
  return seenMailOver(value.split("\n"), SEEN_KEPT_WEB, (_key, keys) => {
    storage.setItem(at, keys.slice(-SEEN_KEPT_WEB).join("\n"));
  });
}
