/**
 * What the server keeps across restarts (PROTOCOL.md, "Names that belong to their owners, and
 * mail for offline users"): who owns which name, the mail waiting for owners who are offline, and
 * the receipts waiting for senders. {@link ServerData} is the interface the router uses; there is
 * an in-memory implementation (`memory.ts`, for `--memory` and tests) and a durable one on
 * node:sqlite (`sqlite.ts`).
 *
 * Reads are synchronous and answered from memory or a quick local query, and see every change at
 * once; every change returns a promise that resolves once the change is durable (the SQLite store
 * commits the changes of one event-loop turn in one transaction, `synchronous=FULL`; a `settle`
 * or `receiptDone` may wait up to 20 ms for the next commit, as delivery is at least once). The
 * router answers "stored" only after that promise resolves.
 *
 * @module
 */

/** A name's owner: the name exactly as it was claimed, and the public key that proves it. */
export interface Owner {
  /** The name as claimed (its {@link import("../protocol/names.ts").nameKey} is the lookup key). */
  readonly name: string;
  /** The owner's Ed25519 public key, 32 raw bytes. */
  readonly key: Uint8Array;
  /** When it was claimed (milliseconds since the epoch). */
  readonly claimedAt: number;
}

/** One stored message, waiting for its recipient. */
export interface Mail {
  /** Unique on this server and never reused (also after a restart). */
  readonly id: number;
  /** The sender's name. */
  readonly from: string;
  /** The recipient's name, exactly as owned. */
  readonly to: string;
  /** The message body. */
  readonly body: Uint8Array;
  /** When it was stored (milliseconds since the epoch). */
  readonly sentAt: number;
}

/** What became of a stored message, as a receipt's `Event:` says it. */
export type ReceiptEvent = "delivered" | "expired" | "refused" | "released";

/** A receipt waiting for the sender of a stored message. */
export interface Receipt {
  /** The stored message's id (its `Mail:`). */
  readonly mail: number;
  /** Who gets the receipt: the message's sender. */
  readonly sender: string;
  /** The message's recipient (the receipt's body). */
  readonly recipient: string;
  /** What happened. */
  readonly event: ReceiptEvent;
  /** When the message was stored (the receipt's `Sent-at:`). */
  readonly sentAt: number;
  /** When the receipt was made. */
  readonly at: number;
}

/** How much waits in one mailbox. */
export interface MailboxSize {
  /** Messages waiting. */
  readonly count: number;
  /** Bytes of their bodies. */
  readonly bytes: number;
}

/** What {@link ServerData.summary} reports (printed at startup and by `chat server names`). */
export interface DataSummary {
  /** Owned names. */
  readonly owners: number;
  /** Messages waiting, in all mailboxes. */
  readonly mail: number;
  /** Receipts waiting. */
  readonly receipts: number;
}

/**
 * The server's durable state. Implementations keep mailbox sizes in memory so that
 * {@link size} costs nothing on the hot path.
 */
export interface ServerData {
  /** Where the data lives, for people: a file path, or `"memory"`. */
  readonly location: string;

  /** The owner of `name` or of any lookalike of it (same `nameKey`), or undefined. */
  owner(name: string): Owner | undefined;
  /** Makes `name` owned by `key` (durable when it resolves). Rejects if its key is owned. */
  claim(name: string, key: Uint8Array, at: number): Promise<void>;
  /**
   * Releases `name` (or the owned name with its key): its owner is forgotten, its waiting mail
   * deleted with a `released` receipt for each sender who owns a name. Resolves to the released
   * name and how many messages were deleted, or null if nobody owned it.
   */
  release(name: string, at: number): Promise<{ name: string; mail: number } | null>;
  /** Every owner, by name. */
  owners(): Owner[];

  /** How much waits for `name` (zero when nothing does). */
  size(name: string): MailboxSize;
  /**
   * Stores a message for `to` and resolves to it, with its id, once durable. Ids grow in the
   * order of calls, so a mailbox read back is in the order its messages were stored.
   */
  put(from: string, to: string, body: Uint8Array, at: number): Promise<Mail>;
  /** Up to `limit` messages for `to` with ids above `after`, oldest first. */
  mail(to: string, after: number, limit: number): Mail[];
  /**
   * Message `mail` was acknowledged (`delivered`), refused or expired: it is deleted, and its
   * receipt is made; the receipt is also stored, in the same transaction, when `keepReceipt`
   * (its sender owns a name, so it waits for the sender). Resolves to the receipt once durable;
   * an unknown id (settled already, as after a duplicate delivery) resolves to null.
   */
  settle(
    mail: Mail,
    event: ReceiptEvent,
    at: number,
    keepReceipt: boolean,
  ): Promise<Receipt | null>;
  /** Receipts waiting for `sender`, oldest first. */
  receipts(sender: string): Receipt[];
  /** The receipt of message `mail` reached its sender: deleted. */
  receiptDone(mail: number): Promise<void>;
  /**
   * Deletes receipts made before `before`, then messages stored before it, with an `expired`
   * receipt made at `at` (default: now) for each sender who owns a name; resolves to the expired
   * messages, oldest first.
   */
  expire(before: number, at?: number): Promise<Mail[]>;
  /** Counts, for people. */
  summary(): DataSummary;
  /** Waits for every change made so far to be durable, then closes. */
  close(): Promise<void>;
}

/**
 * Why opening the data failed, said in one sentence that tells the operator what to do
 * (`chat server` prints it and exits 1; it never starts with empty data in its place).
 */
export class DataError extends Error {
  /** What kind of failure: the command may choose its exit code or advice by it. */
  readonly kind: "unreadable" | "locked" | "corrupt" | "too-new" | "io";

  /** A failure of `kind`, with `message` the sentence to print. */
  constructor(kind: DataError["kind"], message: string) {
    super(message);
    this.name = "DataError";
    this.kind = kind;
  }
}
