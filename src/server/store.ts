/**
 * Messages not yet delivered: for each recipient, those waiting to be sent and those sent but
 * not yet acknowledged. Every message has an id, and is completed (or failed) by it.
 *
 * @module
 */
import { takeFirst } from "./lists.ts";

/** What a store keeps of one message; the router's records extend it. */
export interface StoredMessage {
  /** Unique within the server (a counter), so an answer completes exactly this message. */
  readonly id: number;
  /** The recipient's username. */
  readonly to: string;
  /** The encoded FORWARD (shared by every recipient of a SEND ALL; never modified). */
  readonly bytes: Uint8Array;
}

/**
 * One recipient's messages: a queue of those waiting to be sent, and those sent and awaiting
 * their acknowledgement. How many may be in flight at once is the router's rule, not the
 * mailbox's. `count` and `bytes` cover the waiting ones only (what the queue limits bound).
 */
export interface Mailbox<M extends StoredMessage> {
  /** Messages waiting to be sent. */
  readonly count: number;
  /** Bytes of the messages waiting to be sent. */
  readonly bytes: number;
  /** Adds a message at the end of the queue. */
  put(message: M): void;
  /** The oldest waiting message, left in place; undefined when none waits. */
  peek(): M | undefined;
  /** Takes the oldest waiting message to send it: it then awaits its acknowledgement. */
  next(): M | undefined;
  /** Removes the oldest waiting message without sending it (it waited too long). */
  expire(): M | undefined;
  /** The message `id`, sent and acknowledged: removed. Returns it, or undefined if unknown. */
  complete(id: number): M | undefined;
  /** The message `id`, sent and not delivered: removed. Returns it, or undefined if unknown. */
  fail(id: number): M | undefined;
  /** Removes every message, sent or waiting, and returns them (those sent first). */
  dropAll(): M[];
}

/**
 * Where mailboxes come from. The router opens a recipient's mailbox when its TORECV half
 * registers and empties it when the user leaves (nothing is kept for an offline user today).
 *
 * Synchronous on purpose: a persistent store (node:sqlite, whose calls are synchronous) fits
 * as it is, keyed by recipient name and message id, with `count` and `bytes` kept in memory
 * beside it. A message's id, recipient and bytes are what it would write; what waits for the
 * answer (the sender's reply slot) stays in the router's memory.
 */
export interface MessageStore<M extends StoredMessage> {
  /** The mailbox of the recipient `name`. */
  open(name: string): Mailbox<M>;
}

/** The in-process {@link Mailbox}: two arrays. */
export class MemoryMailbox<M extends StoredMessage> implements Mailbox<M> {
  #queue: M[] = [];
  /** Sent and unacknowledged: at most one at a time as the router works today. */
  #sent: M[] = [];
  #bytes = 0;

  /** See {@link Mailbox.count}. */
  get count(): number {
    return this.#queue.length;
  }

  /** See {@link Mailbox.bytes}. */
  get bytes(): number {
    return this.#bytes;
  }

  /** See {@link Mailbox.put}. */
  put(message: M): void {
    this.#queue.push(message);
    this.#bytes += message.bytes.length;
  }

  /** See {@link Mailbox.peek}. */
  peek(): M | undefined {
    return this.#queue[0];
  }

  /** See {@link Mailbox.next}. */
  next(): M | undefined {
    const m = takeFirst(this.#queue);
    if (m !== undefined) {
      this.#bytes -= m.bytes.length;
      this.#sent.push(m);
    }
    return m;
  }

  /** See {@link Mailbox.expire}. */
  expire(): M | undefined {
    const m = takeFirst(this.#queue);
    if (m !== undefined) this.#bytes -= m.bytes.length;
    return m;
  }

  /** See {@link Mailbox.complete}. */
  complete(id: number): M | undefined {
    const sent = this.#sent;
    for (let i = 0; i < sent.length; i++) {
      const m = sent[i]!;
      if (m.id !== id) continue;
      if (sent.length === 1) sent.pop();
      else sent.splice(i, 1);
      return m;
    }
    return undefined;
  }

  /** See {@link Mailbox.fail}. */
  fail(id: number): M | undefined {
    return this.complete(id);
  }

  /** See {@link Mailbox.dropAll}. */
  dropAll(): M[] {
    const all = this.#sent.length === 0 ? this.#queue : [...this.#sent, ...this.#queue];
    this.#queue = [];
    this.#sent = [];
    this.#bytes = 0;
    return all;
  }
}

/** The in-process {@link MessageStore}: a fresh {@link MemoryMailbox} per registration. */
export class MemoryStore<M extends StoredMessage> implements MessageStore<M> {
  /** See {@link MessageStore.open}. */
  open(_name: string): Mailbox<M> {
    return new MemoryMailbox<M>();
  }
}
