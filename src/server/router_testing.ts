/**
 * What the router's unit tests share: a clock that moves only when told, and the options of a
 * router under test (small, round limits; no rate limit; every log event kept).
 *
 * @module
 */
import type { LogEvent } from "./log.ts";
import type { RouterOptions } from "./router.ts";

/** A clock that moves only when told. */
export class FakeClock {
  /** The time now, in milliseconds. */
  t = 1000;
  /** Returns {@link t}. */
  now(): number {
    return this.t;
  }
}

/** Router options for a test: `log` gets every event; `options` override the defaults. */
export function testRouterOptions(
  log: LogEvent[],
  options: Partial<RouterOptions> = {},
): RouterOptions {
  return {
    ackTimeoutMs: 1000,
    maxQueuedForwards: 256,
    maxQueuedBytes: 1024 * 1024,
    maxPendingSends: 256,
    maxWriteQueueBytes: 1024 * 1024,
    registerTimeoutMs: 500,
    stallTimeoutMs: 2000,
    maxConnections: 0,
    maxPerAddress: 0,
    maxBodyBytes: 65536,
    rateLimit: 0,
    rateBurst: 100,
    mailMaxMessages: 1000,
    mailMaxBytes: 16 * 1024 * 1024,
    mailMaxAgeMs: 7 * 24 * 3600 * 1000,
    log: (e) => log.push(e),
    ...options,
  };
}
