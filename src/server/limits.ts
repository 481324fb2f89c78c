/**
 * The server's limits that are arithmetic rather than routing: the per-user token buckets of
 * the rate limit, and the admission check for a new connection. Pure: the time is passed in.
 *
 * @module
 */

/** One user's bucket: tokens left, and when they were last counted. */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Rate-limit token buckets kept by username, so that leaving and registering again does not
 * refill one. Each user may send `rate` messages per second on average and `burst` at once.
 * A bucket that has refilled holds nothing a fresh one would not, so {@link forgetFull} drops it.
 */
export class TokenBuckets {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, Bucket>();

  /** Buckets refilling at `rate` tokens per second up to `burst`; `rate` 0 means no limit. */
  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
  }

  /** How many buckets are kept now (those not full). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one message's worth from `name`'s bucket at time `now` (ms); false when empty. */
  take(name: string, now: number): boolean {
    const rate = this.#rate;
    if (rate <= 0) return true;
    const burst = this.#burst;
    let bucket = this.#buckets.get(name);
    if (bucket === undefined) {
      bucket = { tokens: burst, at: now };
      this.#buckets.set(name, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * rate / 1000);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets the buckets that have refilled by `now`. */
  forgetFull(now: number): void {
    const rate = this.#rate;
    if (rate <= 0) return;
    for (const [name, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * rate / 1000 >= this.#burst) this.#buckets.delete(name);
    }
  }
}

/** The connection limits of {@link admission}. */
export interface AdmissionLimits {
  /** Most open connections in all; 0 for no limit. */
  maxConnections: number;
  /** Most open connections from one remote address; 0 for no limit. */
  maxPerAddress: number;
}

/**
 * Why a new connection must be refused, or "" to let it in. `open` counts every open
 * connection and `fromHere` those from its address, both including the new one.
 */
export function admission(
  limits: AdmissionLimits,
  draining: boolean,
  open: number,
  fromHere: number,
  host: string,
): string {
  if (draining) return "the server is shutting down";
  if (limits.maxConnections > 0 && open > limits.maxConnections) {
    return `the server already has ${limits.maxConnections} connections`;
  }
  if (limits.maxPerAddress > 0 && fromHere > limits.maxPerAddress) {
    return `${host} already has ${limits.maxPerAddress} connections`;
  }
  return "";
}
