/**
 * Usernames: the one rule every end shares about them.
 *
 * @module
 */

/** Longest username accepted by {@link isValidName}. */
export const MAX_NAME_LENGTH = 64;

/** The broadcast recipient. */
export const BROADCAST = "ALL";

/**
 * The server's own name (a pseudo-user): anyone may write to it, nobody may register it (in any
 * letter case). It answers "who" with who is online, and carries the extension negotiation.
 */
export const SERVER_NAME = "server";

/** True if `name` is {@link SERVER_NAME} in some letter case: a name no user may register. */
export function isReservedName(name: string): boolean {
  return name.toLowerCase() === SERVER_NAME;
}

/**
 * True if `name` may be registered: ASCII letters and digits only, at most
 * {@link MAX_NAME_LENGTH} of them, and not {@link BROADCAST} in any letter case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   BROADCAST,
 *   isReservedName,
 *   isValidName,
 *   MAX_NAME_LENGTH,
 *   nameKey,
 *   SERVER_NAME,
 * } from "./mod.ts";
 *
 * assert.ok(isValidName("alice42"));
 * assert.ok(!isValidName("alice bob"));
 * assert.ok(!isValidName(BROADCAST.toLowerCase())); // the broadcast keyword, in any case
 * assert.ok(isValidName("a".repeat(MAX_NAME_LENGTH)));
 * assert.ok(!isValidName("a".repeat(MAX_NAME_LENGTH + 1)));
 * // The server's own name is a valid recipient, but no user may register it.
 * assert.ok(isValidName(SERVER_NAME) && isReservedName("Server"));
 * // Lookalikes share one ownership key: an owned "alice" owns "AIice" too.
 * assert.equal(nameKey("Alice"), nameKey("AIice"));
 * assert.equal(nameKey("b0b"), "bob");
 * ```
 */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && /^[A-Za-z0-9]+$/.test(name) &&
    name.toUpperCase() !== BROADCAST;
}

/**
 * The ownership key of a name (PROTOCOL.md, "Lookalikes"): lower case, with `0` read as `o` and
 * `1` and `i` read as `l`. Two names with the same key look alike: when one is owned, the other
 * cannot be registered. Names nobody owns are still compared exactly. Example: see
 * {@link isValidName}.
 */
export function nameKey(name: string): string {
  return name.toLowerCase().replace(/[01i]/g, (c) => c === "0" ? "o" : "l");
}
