/**
 * A session's mail (PROTOCOL.md, "Mail for offline users"): the messages it stored for offline
 * users, waiting for their receipts, and the mail ids already seen, so that a message or a
 * receipt delivered twice (delivery is at least once) is shown once. No runtime API.
 *
 * @module
 */
import type { ClientEvent } from "./events.ts";
import type { SeenMail } from "./options.ts";

/**
 * True if `key` is a key of `SeenMail`: `m` (a message) or `r` (a receipt), its mail id, and
 * when it was stored (milliseconds since the epoch).
 */
export function isSeenKey(key: string): boolean {
  return /^[mr] \d{1,15} \d{0,16}$/.test(key);
}

/**
 * A {@link SeenMail} over the keys read back from where a face keeps them (`earlier`; what is not
 * a key, as in a damaged file, is skipped), keeping the newest `kept` to `2 * kept`. After each
 * key added, `write(key, keys, cut)` stores it: `keys` is the list to keep, `cut` true when it was
 * just cut back to `kept` (rewrite everything), else only `key` is new (append it). A write that
 * throws stops the writing: the keys are then remembered for this run only.
 */
export function seenMailOver(
  earlier: Iterable<string>,
  kept: number,
  write: (key: string, keys: readonly string[], cut: boolean) => void,
): SeenMail {
  const keys = [...earlier].filter(isSeenKey).slice(-2 * kept);
  const set = new Set(keys);
  let writable = true;
  return {
    has: (key) => set.has(key),
    add(key) {
      if (!isSeenKey(key) || set.has(key)) return;
      set.add(key);
      keys.push(key);
      const cut = keys.length > 2 * kept;
      if (cut) keys.splice(0, keys.length - kept);
      if (!writable) return;
      try {
        write(key, keys, cut);
      } catch {
        writable = false;
      }
    },
  };
}

/** Most ids remembered of each kind; the oldest are forgotten past it. */
const REMEMBERED = 100_000;

/** A set that forgets its oldest entries past {@link REMEMBERED}. */
class RecentIds {
  readonly #ids = new Set<number>();

  /** Adds `id`; false if it was there already. */
  add(id: number): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > REMEMBERED) {
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
    return true;
  }
}

/** The mail of one session, across its connections. */
export class MailBook {
  /** This session's stored messages without a receipt yet: mail id → message id. */
  readonly #waiting = new Map<number, number>();
  /** Mail ids of this session's stored messages that got their receipt. */
  readonly #answered = new Map<number, number>();
  readonly #messages = new RecentIds();
  readonly #receipts = new RecentIds();
  /** Receipts that came before the answer that stored their message (read on TORECV first). */
  readonly #early = new RecentIds();
  /** Messages stored for offline users in this session. */
  stored = 0;
  /** Opens the mail shown in earlier runs (once, when the first mail arrives). */
  readonly #open: (() => SeenMail | null) | undefined;
  #earlier: SeenMail | null | undefined;

  /**
   * A book for one session; `earlier` opens what was shown in earlier runs (see
   * `IdentityStore.seenMail`), so that mail delivered again after a crash is dropped there too.
   */
  constructor(earlier?: () => SeenMail | null) {
    this.#open = earlier;
  }

  /** True if `key` was shown in an earlier run; notes it as shown otherwise. */
  #shownBefore(key: string): boolean {
    if (this.#earlier === undefined) {
      try {
        this.#earlier = this.#open?.() ?? null;
      } catch {
        this.#earlier = null; // no record of earlier runs: duplicates are dropped in this run only
      }
    }
    if (this.#earlier === null) return false;
    if (this.#earlier.has(key)) return true;
    this.#earlier.add(key);
    return false;
  }

  /** Stored messages of this session still without a receipt. */
  get awaitingReceipts(): number {
    return this.#waiting.size;
  }

  /**
   * Sees `event` on its way to the face: notes stored messages, gives a receipt the id of the
   * message it is about (when sent in this session), and returns null for a mail message or a
   * receipt already reported (a duplicate), else the event.
   */
  see(event: ClientEvent): ClientEvent | null {
    switch (event.type) {
      case "stored":
        this.stored++;
        if (this.#early.add(event.mail)) this.#waiting.set(event.mail, event.id);
        return event;
      case "message":
        if (event.mail === undefined) return event;
        if (!this.#messages.add(event.mail)) return null;
        return this.#shownBefore(`m ${event.mail} ${event.sentAt ?? ""}`) ? null : event;
      case "receipt": {
        if (!this.#receipts.add(event.mail)) return null;
        if (this.#shownBefore(`r ${event.mail} ${event.sentAt}`)) return null;
        const id = this.#waiting.get(event.mail) ?? this.#answered.get(event.mail);
        this.#waiting.delete(event.mail);
        if (id === undefined) {
          this.#early.add(event.mail);
          return event;
        }
        this.#answered.set(event.mail, id);
        return { ...event, id };
      }
      default:
        return event;
    }
  }
}
