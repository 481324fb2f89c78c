/**
 * The ERROR 106 resend policy of a client session. A message the server refused for sending
 * too fast is sent again after a wait (growing while nothing gets through), in the order
 * typed; meanwhile messages go out one at a time so that none overtakes one waiting to be
 * sent again. After several rounds with nothing delivered, the refused messages are given up.
 * Uses the global `setTimeout` only.
 *
 * @module
 */
import { type Backoff, backoffDelay } from "./backoff.ts";

/** What to do with a message the server just refused with ERROR 106. */
export type RefusalVerdict =
  /** Queue it again: it goes out once the hold is over. */
  | "resend"
  /** Give it up (report it as not delivered). */
  | "give-up"
  /** Give it up, and every message refused before it that still waits. */
  | "give-up-all";

/** Settings of a {@link RatePolicy}. */
export interface RatePolicySettings {
  /** Waits before resending. */
  backoff: Backoff;
  /** Holds in a row, with nothing delivered, before giving up. */
  rounds: number;
  /** Random numbers in [0, 1) for the jitter. */
  random: () => number;
  /** Called when a hold's wait is over (the session then tries {@link RatePolicy.resume}). */
  onWaited: () => void;
}

/** The state of the ERROR 106 policy: holds, their waits, and the one-at-a-time mode. */
export class RatePolicy {
  readonly #s: RatePolicySettings;
  /** Sending holds until the wait is over and the messages on the wire are answered. */
  #hold = false;
  #waited = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Holds in a row with nothing delivered in between. */
  #strikes = 0;
  /** The last hold: every refused message is given up, not resent. */
  #givingUp = false;
  /**
   * Set by ERROR 106: one message at a time, so that none overtakes one that waits to be sent
   * again, until everything sent has its answer.
   */
  #slow = false;

  /** A policy with no hold under way. */
  constructor(settings: RatePolicySettings) {
    this.#s = settings;
  }

  /** True while nothing may be sent. */
  get holding(): boolean {
    return this.#hold;
  }

  /**
   * How many messages may await answers at once: `normal`, or 1 after ERROR 106 until
   * nothing is `pending` any more.
   */
  window(normal: number, pending: number): number {
    if (this.#slow && pending === 0) this.#slow = false;
    return this.#slow ? 1 : normal;
  }

  /** A message was delivered: the rounds with nothing delivered start again. */
  delivered(): void {
    this.#strikes = 0;
  }

  /** The server refused a message with ERROR 106; `canResend` false once the session ends. */
  refused(canResend: boolean): RefusalVerdict {
    this.#slow = true;
    if (!canResend || this.#givingUp) return "give-up";
    if (this.#hold) return "resend";
    this.#strikes++;
    this.#hold = true;
    this.#waited = false;
    if (this.#strikes > this.#s.rounds) {
      // Nothing got through for several rounds: give up on everything refused so far.
      this.#givingUp = true;
      this.#waited = true;
      return "give-up-all";
    }
    const delay = backoffDelay(this.#strikes - 1, this.#s.backoff, this.#s.random());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#waited = true;
      this.#s.onWaited();
    }, delay);
    return "resend";
  }

  /**
   * Ends the hold once its wait is over and nothing sent before it is unanswered
   * (`wireSends` 0). True if sending may go on now.
   */
  resume(wireSends: number): boolean {
    if (!this.#hold || !this.#waited || wireSends > 0) return false;
    this.#hold = false;
    if (this.#givingUp) {
      this.#givingUp = false;
      this.#strikes = 0;
    }
    return true;
  }

  /** Forgets every hold and its timer (the connection was lost, or the session ends). */
  clear(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#hold = false;
    this.#waited = false;
    this.#givingUp = false;
    this.#strikes = 0;
    this.#slow = false;
  }
}
