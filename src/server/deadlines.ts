/**
 * The router's deadlines, run by {@link Router.sweep} with the time passed in: nothing here
 * reads a clock or sets a timer.
 *
 * @module
 */
import type { Link } from "./link.ts";
import type { Router } from "./router.ts";

/**
 * Enforces the deadlines of one open connection at time `now`: registration, a message stalled
 * half-received, output not read, queued too long, and the acknowledgement timeout.
 */
export function sweepLink(router: Router, s: Link, now: number): void {
  const o = router.options;
  // pendingSends: a connection that left with UNREGISTER still gets the answers it is owed.
  if (s.user === null && s.pendingSends === 0 && now - s.openedAt >= o.registerTimeoutMs) {
    return router.drop(s, `did not register within ${o.registerTimeoutMs} ms`);
  }
  if (s.partialSince !== 0 && now - s.partialSince >= o.stallTimeoutMs) {
    return router.drop(s, `a message stalled half-sent for ${o.stallTimeoutMs} ms`);
  }
  // The other direction: bytes for it wait while it reads nothing (under the write-queue
  // limit, such a reader could otherwise hold its buffers for ever).
  const e = s.endpoint;
  if (e.queuedBytes === 0) s.writeStuckSince = 0;
  else if (s.writeStuckSince === 0 || e.sentBytes !== s.lastSent) {
    s.writeStuckSince = now;
    s.lastSent = e.sentBytes;
  } else if (now - s.writeStuckSince >= o.stallTimeoutMs) {
    return router.drop(s, `it has read nothing the server sent for ${o.stallTimeoutMs} ms`);
  }
  // Queued behind a recipient that acknowledges slowly: give up rather than wait for ever.
  const box = s.mailbox;
  const limit = 2 * o.ackTimeoutMs;
  while (box !== null && box.count > 0 && now - box.peek()!.queuedAt >= limit) {
    const late = box.expire()!;
    router.done(late, false, `"${late.to}" did not take it within ${limit} ms`, "no-ack");
  }
  const d = s.inflight;
  if (d !== null && now - d.sentAt >= o.ackTimeoutMs) {
    s.inflight = null;
    box?.fail(d.id);
    // Its answers can no longer be matched to messages: close it, before its sender hears,
    // so that nothing the answer sets off still counts it as online.
    router.drop(s, "did not acknowledge a message in time");
    router.done(d, false, `"${d.to}" did not answer within ${o.ackTimeoutMs} ms`, "no-ack");
  }
}

/**
 * Decides whether each tick of the deadline timer sweeps. A tick far later than its interval
 * means this process did not run in between (its own long work, or a machine short of CPU):
 * bytes that clients sent meanwhile may still wait unread, and a sweep at once would blame them
 * for the server's delay (a half-sent message, an acknowledgement not yet read). Such a tick is
 * skipped, so that the event loop reads first; never two in a row, so that a server kept busy
 * still enforces its deadlines, one interval later at most.
 */
export class SweepPacer {
  readonly #everyMs: number;
  #last: number;
  #skipped = false;

  /** A pacer for a timer that ticks every `everyMs`, started at time `now`. */
  constructor(everyMs: number, now: number) {
    this.#everyMs = everyMs;
    this.#last = now;
  }

  /** The timer ticked at time `now`: true if this tick sweeps. */
  due(now: number): boolean {
    const late = now - this.#last >= 2 * this.#everyMs;
    this.#last = now;
    if (late && !this.#skipped) {
      this.#skipped = true;
      return false;
    }
    this.#skipped = false;
    return true;
  }
}
