/**
 * {@link SqliteData}: the server's data in one SQLite file (`node:sqlite`, built into Deno), in
 * WAL mode with `synchronous=FULL` and an exclusive lock.
 *
 * **Group commit.** The first change opens a transaction; every change runs its SQL at once
 * inside it, and its promise resolves only after the COMMIT returned, so nothing is acknowledged
 * before it is on disk. A `put`, `claim`, `release` or `expire` schedules the COMMIT with
 * `setImmediate` (after the I/O callbacks of this turn: a burst of SENDs read in one turn shares
 * one fsync). A `settle` or `receiptDone` is _lazy_: it waits for the next COMMIT, at most
 * {@link LAZY_COMMIT_MS} ms (or {@link LAZY_COMMIT_CHANGES} changes). Delivery is at least once
 * anyway (a crash before the COMMIT forwards the message again, with the same id, and the client
 * drops it), and an fsync per acknowledged message would block the event loop once per message:
 * a 10,000-message mailbox took 7.5 s to deliver that way, 1 s with lazy settles. If the COMMIT
 * fails, the transaction is rolled back, every change in it rejects, and the in-memory state is
 * read again from the file.
 *
 * **Hot state in memory**: the owners, each mailbox's count and bytes, the counts for
 * {@link SqliteData.summary}, and the next mail id. Ids come from AUTOINCREMENT's
 * `sqlite_sequence` (the largest id ever stored), so they are never reused, also after a crash:
 * an id handed out in a transaction that never committed was never acknowledged to anyone.
 *
 * Reads see changes at once (they run on the same connection, inside the open transaction).
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { nameKey } from "../protocol/names.ts";
import type {
  DataSummary,
  Mail,
  MailboxSize,
  Owner,
  Receipt,
  ReceiptEvent,
  ServerData,
} from "./data.ts";
import { ownedMessage } from "./memory.ts";
import { migrate } from "./schema.ts";

/** A change waiting for its transaction's COMMIT. */
interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

type Row = Record<string, unknown>;

/** The longest a lazy change (settle, receiptDone) waits for its COMMIT, ms. */
export const LAZY_COMMIT_MS = 20;
/** Lazy changes that make the COMMIT come at once (after this turn). */
export const LAZY_COMMIT_CHANGES = 1000;

const SQL = {
  owners: "SELECT name_key, name, public_key, claimed_at FROM owners",
  sizes: "SELECT recipient, count(*) AS n, sum(length(body)) AS b FROM mail GROUP BY recipient",
  counts: "SELECT (SELECT count(*) FROM mail) AS mail, (SELECT count(*) FROM receipts) AS receipts",
  lastId: "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'mail'), 0), " +
    "coalesce((SELECT max(id) FROM mail), 0), coalesce((SELECT max(mail) FROM receipts), 0)) AS id",
  claim: "INSERT INTO owners (name_key, name, public_key, claimed_at) VALUES (?, ?, ?, ?)",
  unclaim: "DELETE FROM owners WHERE name_key = ?",
  put: "INSERT INTO mail (id, sender, recipient, body, sent_at) VALUES (?, ?, ?, ?, ?)",
  mail: "SELECT id, sender, recipient, body, sent_at FROM mail " +
    "WHERE recipient = ? AND id > ? ORDER BY id LIMIT ?",
  settle:
    "DELETE FROM mail WHERE id = ? RETURNING id, sender, recipient, length(body) AS n, sent_at",
  dropBox: "DELETE FROM mail WHERE recipient = ? " +
    "RETURNING id, sender, recipient, length(body) AS n, sent_at",
  expireMail: "DELETE FROM mail WHERE sent_at < ? " +
    "RETURNING id, sender, recipient, body, length(body) AS n, sent_at",
  receipt: "INSERT INTO receipts (mail, sender, recipient, event, sent_at, made_at) " +
    "VALUES (?, ?, ?, ?, ?, ?)",
  receipts: "SELECT mail, sender, recipient, event, sent_at, made_at FROM receipts " +
    "WHERE sender = ? ORDER BY made_at, mail",
  receiptDone: "DELETE FROM receipts WHERE mail = ?",
  expireReceipts: "DELETE FROM receipts WHERE made_at < ?",
} as const;

/** What a DELETE … RETURNING of a message gives. */
interface Deleted {
  readonly id: number;
  readonly sender: string;
  readonly recipient: string;
  readonly n: number;
  readonly sent_at: number;
}

/**
 * {@link ServerData} in one SQLite database file. Open it with `openServerData` (open.ts),
 * which makes the directory and says in one sentence why a file cannot be used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LAZY_COMMIT_CHANGES, LAZY_COMMIT_MS, SqliteData } from "./sqlite.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const data = new SqliteData(`${dir}/chat.db`);
 * await data.claim("alice", new Uint8Array(32), 1000);
 * const mail = await data.put("bob", "alice", new TextEncoder().encode("hi"), 2000);
 * assert.equal(data.mail("alice", 0, 10)[0]?.id, mail.id);
 * // A settle is durable within LAZY_COMMIT_MS (or LAZY_COMMIT_CHANGES settles), or at close.
 * assert.ok(LAZY_COMMIT_MS <= 20 && LAZY_COMMIT_CHANGES >= 100);
 * await data.settle(mail, "delivered", 3000, false);
 * await data.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SqliteData implements ServerData {
  /** The database file's path. */
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #st: Record<keyof typeof SQL, StatementSync>;
  readonly #owners = new Map<string, Owner>();
  readonly #sizes = new Map<string, { count: number; bytes: number }>();
  #mailCount = 0;
  #receiptCount = 0;
  #nextId = 1;
  #pending: Pending[] = [];
  #failure: Error | null = null;
  /** A transaction is open. */
  #open = false;
  /** A COMMIT is scheduled after this turn. */
  #soon = false;
  #lazyTimer: ReturnType<typeof setTimeout> | undefined;
  #lazyChanges = 0;
  #closed = false;
  /** Transactions committed, for the bench and tests. */
  commits = 0;

  /**
   * Opens (creating if missing) the database `path`: takes its exclusive lock, WAL,
   * `synchronous=FULL`, brings the schema up to date and loads the hot state. Throws the
   * SQLite error as is (open.ts turns it into a sentence) or a `DataError` `too-new`.
   */
  constructor(path: string) {
    this.location = path;
    this.#db = new DatabaseSync(path);
    try {
      this.#db.exec("PRAGMA busy_timeout = 0");
      this.#db.exec("PRAGMA locking_mode = EXCLUSIVE");
      const mode = this.#db.prepare("PRAGMA journal_mode = WAL").get() as Row | undefined;
      if (mode?.journal_mode !== "wal") {
        throw new Error(`SQLite could not use WAL mode (it is "${mode?.journal_mode}").`);
      }
      this.#db.exec("PRAGMA synchronous = FULL");
      migrate(this.#db, path);
      this.#st = Object.fromEntries(
        Object.entries(SQL).map(([k, sql]) => [k, this.#db.prepare(sql)]),
      ) as Record<keyof typeof SQL, StatementSync>;
      this.#load();
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Runs `PRAGMA quick_check` (or `integrity_check` when `full`); returns its lines. */
  check(full = false): string[] {
    const rows = this.#db.prepare(`PRAGMA ${full ? "integrity_check" : "quick_check"}`).all();
    return rows.map((r) => String(Object.values(r)[0]));
  }

  /** The owner of `name` or of a lookalike of it. */
  owner(name: string): Owner | undefined {
    return this.#owners.get(nameKey(name));
  }

  /** Makes `name` owned by `key`; rejects if its key is owned or the disk fails. */
  claim(name: string, key: Uint8Array, at: number): Promise<void> {
    const owner = this.owner(name);
    if (owner) return Promise.reject(new Error(ownedMessage(name, owner)));
    return this.#change(() => {
      this.#st.claim.run(nameKey(name), name, key, at);
      this.#owners.set(nameKey(name), { name, key: key.slice(), claimedAt: at });
    });
  }

  /** Forgets the owner of `name`; its mail is deleted with `released` receipts. */
  release(name: string, at: number): Promise<{ name: string; mail: number } | null> {
    const owner = this.owner(name);
    if (!owner) return Promise.resolve(null);
    return this.#change(() => {
      const dropped = this.#st.dropBox.all(owner.name) as unknown as Deleted[];
      this.#st.unclaim.run(nameKey(name));
      this.#owners.delete(nameKey(name));
      for (const m of dropped) this.#dropped(m, "released", at, this.#ownsName(m.sender));
      return { name: owner.name, mail: dropped.length };
    });
  }

  /** Every owner, by name. */
  owners(): Owner[] {
    return [...this.#owners.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  /** How much waits for `name` (from memory). */
  size(name: string): MailboxSize {
    const s = this.#sizes.get(name);
    return s ? { count: s.count, bytes: s.bytes } : { count: 0, bytes: 0 };
  }

  /** Stores a message for `to`; resolves once it is on disk. */
  put(from: string, to: string, body: Uint8Array, at: number): Promise<Mail> {
    return this.#change(() => {
      const id = this.#nextId;
      this.#st.put.run(id, from, to, body, at);
      this.#nextId++;
      this.#grow(to, 1, body.length);
      this.#mailCount++;
      return { id, from, to, body, sentAt: at };
    });
  }

  /** Up to `limit` messages for `to` with ids above `after`, oldest first. */
  mail(to: string, after: number, limit: number): Mail[] {
    if (limit <= 0 || !this.#sizes.has(to)) return [];
    return (this.#st.mail.all(to, after, limit) as Row[]).map(toMail);
  }

  /** Deletes message `mail` and makes its receipt (stored when `keepReceipt`). */
  settle(
    mail: Mail,
    event: ReceiptEvent,
    at: number,
    keepReceipt: boolean,
  ): Promise<Receipt | null> {
    return this.#change(() => {
      const row = this.#st.settle.get(mail.id) as Deleted | undefined;
      return row ? this.#dropped(row, event, at, keepReceipt) : null;
    }, true);
  }

  /** Receipts waiting for `sender`, oldest first. */
  receipts(sender: string): Receipt[] {
    if (this.#receiptCount === 0) return [];
    return (this.#st.receipts.all(sender) as Row[]).map(toReceipt);
  }

  /** Deletes the receipt of message `mail`. */
  receiptDone(mail: number): Promise<void> {
    return this.#change(() => {
      this.#receiptCount -= Number(this.#st.receiptDone.run(mail).changes);
    }, true);
  }

  /** Deletes receipts made before `before`, then mail stored before it (with receipts). */
  expire(before: number, at: number = Date.now()): Promise<Mail[]> {
    return this.#change(() => {
      this.#receiptCount -= Number(this.#st.expireReceipts.run(before).changes);
      const rows = this.#st.expireMail.all(before) as Row[];
      const expired = rows.map(toMail).sort((a, b) => a.id - b.id);
      for (const r of rows) {
        const d = r as unknown as Deleted;
        this.#dropped(d, "expired", at, this.#ownsName(d.sender));
      }
      return expired;
    });
  }

  /** Counts of owners, waiting mail and waiting receipts (from memory). */
  summary(): DataSummary {
    return { owners: this.#owners.size, mail: this.#mailCount, receipts: this.#receiptCount };
  }

  /** Commits what is pending, then closes the database (its WAL is checkpointed). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#flush();
    this.#closed = true;
    this.#db.close();
    return Promise.resolve();
  }

  /**
   * Runs `apply` (SQL, then the matching change of the hot state) inside the open transaction,
   * and resolves to its value once that transaction is committed: after this turn, or when
   * `lazy`, within {@link LAZY_COMMIT_MS}.
   */
  #change<T>(apply: () => T, lazy = false): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new Error(`The data in "${this.location}" is closed.`));
    }
    if (!this.#open) {
      try {
        this.#db.exec("BEGIN IMMEDIATE");
      } catch (error) {
        return Promise.reject(asError(error));
      }
      this.#open = true;
    }
    if (!lazy || ++this.#lazyChanges >= LAZY_COMMIT_CHANGES) {
      if (!this.#soon) {
        this.#soon = true;
        setImmediate(() => {
          this.#soon = false;
          this.#flush();
        });
      }
    } else if (this.#lazyTimer === undefined && !this.#soon) {
      this.#lazyTimer = setTimeout(() => this.#flush(), LAZY_COMMIT_MS);
    }
    let value: T;
    try {
      value = apply();
    } catch (error) {
      // A failed statement may have ended the transaction (SQLITE_FULL, SQLITE_IOERR), or left
      // half a change in it: the whole turn is rolled back, and none of it acknowledged.
      this.#failure ??= asError(error);
      return Promise.reject(asError(error));
    }
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ resolve: () => resolve(value), reject });
    });
  }

  /** Commits the open transaction and settles its changes' promises. */
  #flush(): void {
    if (this.#lazyTimer !== undefined) clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    this.#lazyChanges = 0;
    if (!this.#open) return;
    this.#open = false;
    const pending = this.#pending;
    this.#pending = [];
    const failure = this.#failure;
    this.#failure = null;
    try {
      if (failure) throw failure;
      this.#db.exec("COMMIT");
      this.commits++;
    } catch (error) {
      try {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        this.#load();
      } catch { /* the next change will fail and say why */ }
      const e = asError(error);
      for (const p of pending) p.reject(e);
      return;
    }
    for (const p of pending) p.resolve();
  }

  /** Reads the hot state from the file. */
  #load(): void {
    this.#owners.clear();
    for (const r of this.#st.owners.all() as Row[]) {
      this.#owners.set(String(r.name_key), {
        name: String(r.name),
        key: r.public_key as Uint8Array,
        claimedAt: Number(r.claimed_at),
      });
    }
    this.#sizes.clear();
    for (const r of this.#st.sizes.all() as Row[]) {
      this.#sizes.set(String(r.recipient), { count: Number(r.n), bytes: Number(r.b) });
    }
    const counts = this.#st.counts.get() as Row;
    this.#mailCount = Number(counts.mail);
    this.#receiptCount = Number(counts.receipts);
    const last = Number((this.#st.lastId.get() as Row).id);
    this.#nextId = Math.max(this.#nextId, last + 1);
  }

  /** True if `name` is exactly an owned name. */
  #ownsName(name: string): boolean {
    return this.owner(name)?.name === name;
  }

  #grow(to: string, count: number, bytes: number): void {
    const s = this.#sizes.get(to);
    if (!s) {
      this.#sizes.set(to, { count, bytes });
    } else if (s.count + count <= 0) {
      this.#sizes.delete(to);
    } else {
      s.count += count;
      s.bytes += bytes;
    }
  }

  /** A message was deleted: count it, make its receipt and store it if `keep`. */
  #dropped(m: Deleted, event: ReceiptEvent, at: number, keep: boolean): Receipt {
    this.#grow(m.recipient, -1, -m.n);
    this.#mailCount--;
    const receipt: Receipt = {
      mail: m.id,
      sender: m.sender,
      recipient: m.recipient,
      event,
      sentAt: m.sent_at,
      at,
    };
    if (keep) {
      this.#st.receipt.run(m.id, m.sender, m.recipient, event, m.sent_at, at);
      this.#receiptCount++;
    }
    return receipt;
  }
}

function toMail(r: Row): Mail {
  return {
    id: Number(r.id),
    from: String(r.sender),
    to: String(r.recipient),
    body: r.body as Uint8Array,
    sentAt: Number(r.sent_at),
  };
}

function toReceipt(r: Row): Receipt {
  return {
    mail: Number(r.mail),
    sender: String(r.sender),
    recipient: String(r.recipient),
    event: String(r.event) as ReceiptEvent,
    sentAt: Number(r.sent_at),
    at: Number(r.made_at),
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
