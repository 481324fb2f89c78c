/**
 * The routing state of one connection, as the router sees it: the edge it writes to (an
 * {@link Endpoint}), the user and halves it holds, the answers it is owed in request order, and
 * the messages on their way to it. Also the records those are made of.
 *
 * @module
 */
import type { Half } from "../protocol/mod.ts";
import type { UserHalves } from "./directory.ts";
import type { Mailbox, StoredMessage } from "./store.ts";
import type { Mail, Receipt } from "../store/data.ts";
import type { MailFeed } from "./mail.ts";

/**
 * What the router needs of a connection: where its bytes go. Every edge (TCP and TLS today,
 * WebSocket next) carries the same protocol bytes, so the router writes encoded messages.
 */
export interface Endpoint {
  /** The peer's address as `host:port`, for the log. */
  readonly remote: string;
  /** The peer's host alone, for the per-address limit. */
  readonly remoteHost: string;
  /** Bytes written but not yet handed on (the slow-reader limit). */
  readonly queuedBytes: number;
  /** Bytes handed on so far (the stuck-writer deadline watches it move). */
  readonly sentBytes: number;
  /** True once closed by either side. */
  readonly closed: boolean;
  /** Queues bytes to send; ignored once closed or ending. */
  write(bytes: Uint8Array): void;
  /** Closes once what is queued is sent. */
  end(): void;
  /**
   * Closes now, dropping what is queued. The edge then tells the router
   * ({@link import("./router.ts").Router.closed}), at once or later.
   */
  close(): void;
}

/** One answer owed to a connection, in the order of the requests. */
export interface Slot {
  /** The answer's bytes once known; null while it is still owed. */
  answer: Uint8Array | null;
  /** Close the connection (cleanly) once this answer is written. */
  end: boolean;
}

/** An answer slot on its own (for requests answered without a delivery). */
export function newSlot(end = false): Slot {
  return { answer: null, end };
}

/** The progress of one SEND ALL, shared by its deliveries, and where its answer goes. */
export class Broadcast {
  /** Recipients asked. */
  targets = 0;
  /** Recipients yet to answer. */
  waiting = 0;
  /** Recipients that did not acknowledge it. */
  failed = 0;

  /** A SEND ALL from `from` on `sender`, answered in `slot`. */
  constructor(readonly from: string, readonly sender: Link, readonly slot: Slot) {}
}

/**
 * One FORWARD on its way to one recipient. For a lone SEND it is its own answer slot in the
 * sender's list (one record per message); a SEND ALL's deliveries share a {@link Broadcast}.
 */
export class Delivery implements StoredMessage, Slot {
  /** See {@link Slot.answer}: the sender's answer, once this delivery is done. */
  answer: Uint8Array | null = null;
  /** See {@link Slot.end}. */
  end = false;
  /** When it was handed to the recipient; 0 while queued. */
  sentAt = 0;
  /** Where a lone SEND's answer goes: this delivery itself, or a slot reserved earlier. */
  slot: Slot = this;
  /**
   * True for a notice from the pseudo-user `server`: nobody waits for its answer, and its
   * {@link sender} is the recipient's own connection (whose count of notices it is in).
   */
  notice = false;
  /**
   * The stored message this delivers (`mail`), or null for a live one. Its end settles the
   * stored message rather than answering a sender; {@link sender} is then the recipient's own
   * connection.
   */
  mail: Mail | null = null;
  /** The receipt this carries (a FORWARD from `server`), or null; its sender is the recipient. */
  receipt: Receipt | null = null;
  /** True when {@link receipt} is also kept in the data, to be deleted once acknowledged. */
  receiptKept = false;

  /** A delivery record; its FORWARD bytes are set once it is queued. */
  constructor(
    /** See {@link StoredMessage.id}. */
    readonly id: number,
    /** The sender's username. */
    readonly from: string,
    /** See {@link StoredMessage.to}. */
    readonly to: string,
    /** See {@link StoredMessage.bytes}; emptied once done, so a held answer keeps no body. */
    public bytes: Uint8Array,
    /** Size of the body, for the log. */
    readonly bodyBytes: number,
    /** When it was queued: a queued message may wait at most twice the ack timeout. */
    readonly queuedAt: number,
    /** The sender's connection. */
    readonly sender: Link,
    /** The SEND ALL it is part of, which answers the sender; null for a lone SEND. */
    readonly group: Broadcast | null,
    /** The encoded SENT answer for this recipient. */
    readonly sent: Uint8Array,
  ) {}
}

/** A SEND waiting behind its sender's SEND ALL, in order. */
export interface Waiting {
  /** Recipient as written. */
  to: string;
  /** The body. */
  body: Uint8Array;
  /** Its answer slot, reserved when it arrived. */
  slot: Slot;
}

/** Bit of a half in {@link Link.halves}. */
export function halfBit(half: Half): number {
  return half === "TOSEND" ? 1 : 2;
}

/** One connection's routing state. Made by the router; edges only pass it back. */
export class Link {
  /** Where this connection's bytes go. */
  readonly endpoint: Endpoint;
  /** The user whose halves it holds, or null. */
  user: UserHalves<Link> | null = null;
  /** Bit 1: TOSEND, bit 2: TORECV. */
  halves = 0;
  /** Answers owed, in request order. */
  replies: Slot[] = [];
  /** Bytes of answers filled in but held behind an earlier one still owed. */
  held = 0;
  /** SENDs from it awaiting their answers. */
  pendingSends = 0;
  /** True while a SEND ALL of this connection is being delivered. */
  broadcasting = false;
  /** SENDs waiting for that SEND ALL to finish, in order. */
  readonly waiting: Waiting[] = [];
  /** Bytes of the bodies in {@link waiting}. */
  waitingBytes = 0;
  /** The FORWARD sent to it and awaiting its answer (one at a time). */
  inflight: Delivery | null = null;
  /** Messages for the user whose TORECV it is; null before that half registers. */
  mailbox: Mailbox<Delivery> | null = null;
  /** The SENT answer owed to senders of messages to it (encoded once). */
  sent: Uint8Array = EMPTY;
  /** The start of the FORWARDs of its user's messages (`forwardHead`), from its first SEND. */
  forward: Uint8Array = EMPTY;
  /** When the connection opened (for the registration deadline). */
  readonly openedAt: number;
  /** When the first byte of the message being received arrived; 0 between messages. */
  partialSince = 0;
  /** Since when bytes for it have waited without moving; 0: none wait. */
  writeStuckSince = 0;
  /** {@link Endpoint.sentBytes} when that was last seen to move. */
  lastSent = 0;
  /** True when the connection was refused on arrival: its input is ignored. */
  refused = false;
  /** The user's negotiated extensions (bits of `Ext` in extensions.ts); 0 for the base protocol. */
  ext = 0;
  /** Notices from `server` queued for it or awaiting its answer. */
  notices = 0;
  /** True when a presence notice for it was dropped: a fresh online list is owed once there is room. */
  presenceStale = false;
  /** The challenge last sent on this connection, until an IDENTIFY uses it. */
  challenge: string | null = null;
  /** The name and key this connection proved it holds (IDENTIFY before REGISTER), or null. */
  proven: { readonly name: string; readonly key: Uint8Array } | null = null;
  /** True once its user negotiated (whatever it agreed): stored mail may then flow. */
  negotiated = false;
  /**
   * TORECV of an owned name: true from its registration until its stored mail is delivered, so
   * that messages from `mail` senders are stored behind it, in order, rather than overtake it.
   */
  catchingUp = false;
  /** TORECV of an owned name: its stored mail and receipts on their way, once negotiated. */
  feed: MailFeed | null = null;

  /** State of a connection opened at `openedAt`. */
  constructor(endpoint: Endpoint, openedAt: number) {
    this.endpoint = endpoint;
    this.openedAt = openedAt;
  }

  /** True if it holds `half` of its user. */
  has(half: Half): boolean {
    return (this.halves & halfBit(half)) !== 0;
  }

  /** Its user's name, for the log. */
  get label(): string | undefined {
    return this.user?.name;
  }
}

/** No bytes. */
export const EMPTY: Uint8Array = new Uint8Array(0);
