/**
 * What became of each message a session was asked to send: the counts, and the event that
 * reports each outcome with the message's id. No runtime API: it runs in a browser too.
 *
 * @module
 */
import { ErrorCode, type Message } from "../protocol/mod.ts";
import type { ClientEvent } from "./events.ts";
import type { AnswerDetails } from "./extensions.ts";
import type { Outgoing, Pending } from "./link.ts";

/** Counts the outcomes of a session's messages and reports each one. */
export class Tally {
  readonly #emit: (event: ClientEvent) => void;
  /** Messages the server confirmed as delivered. */
  delivered = 0;
  /** Messages the server answered with an ERROR (after any resends for ERROR 106). */
  notDelivered = 0;
  /** Messages that got no answer before the connection was lost or the session ended. */
  unconfirmed = 0;
  /** Messages that never went out before the session ended. */
  notSent = 0;

  /** Reports through `emit`. */
  constructor(emit: (event: ClientEvent) => void) {
    this.#emit = emit;
  }

  /**
   * The server answered `msg` with `m` (SENT, or an ERROR other than 106); `details` is what
   * the negotiated `reason` and `mail` extensions add (a SENT with a mail id: stored, counted
   * by the session's `MailBook`, not here).
   */
  answered(msg: Outgoing, m: Message & { type: "SENT" | "ERROR" }, details: AnswerDetails): void {
    const { reason, maxBody, delivered, recipients, mail, limit } = details;
    const counts = delivered !== undefined && recipients !== undefined
      ? { delivered, recipients }
      : {};
    if (m.type === "SENT" && mail !== undefined) {
      this.#emit({ type: "stored", id: msg.id, to: msg.to, mail });
      return;
    }
    if (m.type === "SENT") {
      this.delivered++;
      this.#emit({ type: "sent", id: msg.id, to: msg.to, ...counts });
      return;
    }
    this.notDelivered++;
    this.#emit({
      type: "not-delivered",
      id: msg.id,
      to: msg.to,
      code: m.code,
      text: m.text,
      ...(reason !== undefined ? { reason } : {}),
      ...(maxBody !== undefined ? { maxBody } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...counts,
    });
  }

  /** The client gave up on `msg` after the server refused it with ERROR 106 (`text`). */
  rateLimited(msg: Outgoing, text: string): void {
    this.notDelivered++;
    this.#emit({
      type: "not-delivered",
      id: msg.id,
      to: msg.to,
      code: ErrorCode.RateLimited,
      text,
      ...(msg.refusals > 1 ? { attempts: msg.refusals } : {}),
    });
  }

  /** The messages among `fifo` got no answer before `why` (the probe and UNREGISTER are none). */
  unanswered(fifo: readonly Pending[], why: string): void {
    for (const p of fifo) {
      if (p.kind !== "send") continue;
      this.unconfirmed++;
      this.#emit({ type: "unconfirmed", id: p.msg.id, to: p.msg.to, why });
    }
  }

  /** `msgs` never went out, because of `why`. */
  unsent(msgs: readonly Outgoing[], why: string): void {
    for (const msg of msgs) {
      this.notSent++;
      this.#emit({
        type: "not-sent",
        id: msg.id,
        to: msg.to,
        why: msg.refusals > 0
          ? `${why} (it was waiting to be sent again after ERROR 106, sending too fast)`
          : why,
      });
    }
  }
}
