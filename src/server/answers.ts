/**
 * Answers in request order: each request reserves a slot in its connection's list, and answers
 * are written as soon as every earlier one is, those that became ready together in one write.
 *
 * @module
 */
import { encode, errorMessage } from "../protocol/mod.ts";
import { type Link, newSlot, type Slot } from "./link.ts";
import { takeFirst } from "./lists.ts";

const ERROR_BYTES = new Map<number, Uint8Array>();

/** The canonical ERROR answer for `code`, encoded once (never modified). */
export function errorBytes(code: number): Uint8Array {
  let bytes = ERROR_BYTES.get(code);
  if (bytes === undefined) ERROR_BYTES.set(code, bytes = encode(errorMessage(code)));
  return bytes;
}

/** What the answer functions need of the router: the write limit, and dropping a connection. */
export interface AnswerSink {
  /** The limits. */
  readonly options: { readonly maxWriteQueueBytes: number };
  /** Closes a connection that broke a limit. */
  drop(link: Link, reason: string): void;
}

/** Writes bytes now, dropping the connection if its reader has fallen too far behind. */
export function writeTo(sink: AnswerSink, link: Link, bytes: Uint8Array): void {
  const endpoint = link.endpoint;
  endpoint.write(bytes);
  if (endpoint.queuedBytes > sink.options.maxWriteQueueBytes) {
    sink.drop(link, "too slow: it does not read what the server sends");
  }
}

/** Reserves the next answer slot of `link` (`end`: close after it); fill it with {@link resolve}. */
export function reserve(link: Link, end = false): Slot {
  const slot = newSlot(end);
  link.replies.push(slot);
  return slot;
}

/**
 * Fills an answer slot and writes every answer that is now ready, in order. Answers that
 * become ready together (those held behind a slow one) go out in one write: a sender with
 * thousands held must not cost thousands of writes, nor a shift of the whole list for each.
 */
export function resolve(sink: AnswerSink, link: Link, slot: Slot, answer: Uint8Array): void {
  slot.answer = answer;
  link.held += answer.length;
  const replies = link.replies;
  if (replies[0] === slot && (replies.length === 1 || replies[1]!.answer === null)) {
    // The common case: the answer owed first, and nothing ready behind it.
    takeFirst(replies);
    link.held -= answer.length;
    writeTo(sink, link, answer);
    if (slot.end) link.endpoint.end();
  } else {
    flush(sink, link);
  }
  // Answers held behind an unfinished one are bytes waiting to be written, too.
  if (link.held > 0 && link.held + link.endpoint.queuedBytes > sink.options.maxWriteQueueBytes) {
    sink.drop(link, "too many answers waiting to be written");
  }
}

/** Writes the answers ready at the head of `link`'s list. */
function flush(sink: AnswerSink, link: Link): void {
  const replies = link.replies;
  let ready = 0;
  while (ready < replies.length && replies[ready]!.answer !== null) ready++;
  if (ready === 0) return;
  // Taken off the list before anything is written: a write can drop the connection, and
  // what that sets off must not find these answers again.
  const out = replies.splice(0, ready);
  for (const r of out) link.held -= r.answer!.length;
  let from = 0;
  for (let i = 0; i < out.length; i++) {
    const end = out[i]!.end;
    if (!end && i < out.length - 1) continue;
    writeTo(sink, link, joinAnswers(out, from, i + 1));
    from = i + 1;
    if (end) link.endpoint.end();
  }
}

/** The bytes of the answers of `slots[from, to)`, all filled in, as one buffer. */
function joinAnswers(slots: Slot[], from: number, to: number): Uint8Array {
  if (to - from === 1) return slots[from]!.answer!;
  let length = 0;
  for (let i = from; i < to; i++) length += slots[i]!.answer!.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (let i = from; i < to; i++) {
    out.set(slots[i]!.answer!, at);
    at += slots[i]!.answer!.length;
  }
  return out;
}
