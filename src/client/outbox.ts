/**
 * The messages a client session has not put on the wire yet, in the order typed; a message
 * refused with ERROR 106 goes back in its place.
 *
 * @module
 */
import { utf8Bytes } from "../protocol/mod.ts";
import type { Outgoing } from "./link.ts";

/** Messages waiting to go out, oldest first, at most `limit` of them. */
export class Outbox {
  #items: Outgoing[] = [];
  /** Ids start at 1, so that an id is never falsy. */
  #nextId = 1;
  /** Most messages that may wait. */
  readonly limit: number;

  /** An empty outbox holding at most `limit` messages (at least 1). */
  constructor(limit: number) {
    this.limit = Math.max(1, limit);
  }

  /** How many messages wait. */
  get length(): number {
    return this.#items.length;
  }

  /** True when {@link add} would refuse a message. */
  get full(): boolean {
    return this.#items.length >= this.limit;
  }

  /**
   * Queues `text` to `to` as the newest message and returns it (its `id` is the next number,
   * from 1 up). Null if {@link full}.
   */
  add(to: string, text: string): Outgoing | null {
    if (this.full) return null;
    const msg: Outgoing = { id: this.#nextId++, to, body: utf8Bytes(text), refusals: 0 };
    this.#items.push(msg);
    return msg;
  }

  /** Takes the oldest message out, if any. */
  shift(): Outgoing | undefined {
    return this.#items.shift();
  }

  /** Puts a message sent earlier back in its place by the order typed. */
  putBack(msg: Outgoing): void {
    const at = this.#items.findIndex((m) => m.id > msg.id);
    if (at === -1) this.#items.push(msg);
    else this.#items.splice(at, 0, msg);
  }

  /** Takes out every message the server refused before, oldest first. */
  takeRefused(): Outgoing[] {
    const refused = this.#items.filter((m) => m.refusals > 0);
    this.#items = this.#items.filter((m) => m.refusals === 0);
    return refused;
  }

  /** Takes out every message, oldest first. */
  takeAll(): Outgoing[] {
    const all = this.#items;
    this.#items = [];
    return all;
  }
}
