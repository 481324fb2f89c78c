/**
 * Where the router gets the time: an injected {@link Clock}, so that tests can move it by hand
 * and nothing in the routing core reads the system time itself.
 *
 * @module
 */

/** Where the router gets the time, in milliseconds (any origin; only differences count). */
export interface Clock {
  /** The time now. */
  now(): number;
}

/** Wall time, `Date.now()`: for what is stored and read back after a restart. */
export const WALL_CLOCK: Clock = { now: () => Date.now() };

/** `performance.now()`, read every time. */
export const SYSTEM_CLOCK: Clock = { now: () => performance.now() };

/**
 * `performance.now()`, read at most once per input: whoever delivers input calls {@link tick}
 * first (an edge as each chunk arrives, the hub before each sweep), and everything that input
 * sets off shares one time, within the few milliseconds one chunk takes to handle. A busy
 * server then pays no runtime call (an op in Deno) for each message it queues and sends.
 */
export class InputClock implements Clock {
  #now = -1;

  /** Input arrived: the next {@link now} reads the time afresh. */
  tick(): void {
    this.#now = -1;
  }

  /** See {@link Clock.now}. */
  now(): number {
    if (this.#now < 0) this.#now = performance.now();
    return this.#now;
  }
}
