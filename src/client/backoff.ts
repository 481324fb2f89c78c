/**
 * Retry schedules of the client: reconnecting, and resending after ERROR 106.
 *
 * @module
 */

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
