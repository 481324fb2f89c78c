/**
 * {@link MemoryData}: the server's data kept in memory only (`chat server --memory`, and tests).
 * Everything is lost when the process ends; changes resolve at once (on a microtask).
 *
 * @module
 */
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

/** The sentence a claim of an owned name rejects with (both implementations use it). */
export function ownedMessage(name: string, owner: Owner): string {
  return owner.name === name
    ? `The name "${name}" is owned already: release it first ("chat server release ${name}").`
    : `The name "${name}" looks like "${owner.name}", which is owned: it cannot be claimed.`;
}

/** A mailbox: its messages by id (in id order, as a Map keeps insertion order) and its bytes. */
interface Box {
  readonly mail: Map<number, Mail>;
  bytes: number;
}

/**
 * {@link ServerData} in memory: owners by {@link nameKey}, one mailbox per recipient (exactly as
 * owned), receipts by sender, ids from a counter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryData, ownedMessage } from "./memory.ts";
 *
 * const data = new MemoryData();
 * await data.claim("alice", new Uint8Array(32), 1000);
 * assert.equal(data.owner("AIice")?.name, "alice");
 * assert.match(ownedMessage("Alice", data.owner("alice")!), /looks like "alice"/);
 * const mail = await data.put("bob", "alice", new TextEncoder().encode("hi"), 2000);
 * assert.deepEqual(data.size("alice"), { count: 1, bytes: 2 });
 * assert.equal((await data.settle(mail, "delivered", 3000, false))?.event, "delivered");
 * await data.close();
 * ```
 */
export class MemoryData implements ServerData {
  /** Always `"memory"`. */
  readonly location = "memory";
  readonly #owners = new Map<string, Owner>();
  readonly #boxes = new Map<string, Box>();
  /** Receipts by sender, and by mail id. */
  readonly #receipts = new Map<string, Map<number, Receipt>>();
  readonly #receiptSender = new Map<number, string>();
  #nextId = 1;
  #mailCount = 0;

  /** The owner of `name` or of a lookalike of it. */
  owner(name: string): Owner | undefined {
    return this.#owners.get(nameKey(name));
  }

  /** Makes `name` owned by `key`; rejects if its key is owned. */
  claim(name: string, key: Uint8Array, at: number): Promise<void> {
    const owner = this.owner(name);
    if (owner) return Promise.reject(new Error(ownedMessage(name, owner)));
    this.#owners.set(nameKey(name), { name, key: key.slice(), claimedAt: at });
    return Promise.resolve();
  }

  /** Forgets the owner of `name`; its mail is deleted with `released` receipts. */
  release(name: string, at: number): Promise<{ name: string; mail: number } | null> {
    const owner = this.owner(name);
    if (!owner) return Promise.resolve(null);
    this.#owners.delete(nameKey(name));
    const box = this.#boxes.get(owner.name);
    let count = 0;
    if (box) {
      for (const m of [...box.mail.values()]) {
        this.#drop(m, "released", at, this.#ownsName(m.from));
        count++;
      }
    }
    return Promise.resolve({ name: owner.name, mail: count });
  }

  /** Every owner, by name. */
  owners(): Owner[] {
    return [...this.#owners.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  /** How much waits for `name`. */
  size(name: string): MailboxSize {
    const box = this.#boxes.get(name);
    return { count: box?.mail.size ?? 0, bytes: box?.bytes ?? 0 };
  }

  /** Stores a message for `to`. */
  put(from: string, to: string, body: Uint8Array, at: number): Promise<Mail> {
    const mail: Mail = { id: this.#nextId++, from, to, body: body.slice(), sentAt: at };
    let box = this.#boxes.get(to);
    if (!box) this.#boxes.set(to, box = { mail: new Map(), bytes: 0 });
    box.mail.set(mail.id, mail);
    box.bytes += body.length;
    this.#mailCount++;
    return Promise.resolve(mail);
  }

  /** Up to `limit` messages for `to` with ids above `after`, oldest first. */
  mail(to: string, after: number, limit: number): Mail[] {
    const out: Mail[] = [];
    const box = this.#boxes.get(to);
    if (!box || limit <= 0) return out;
    for (const m of box.mail.values()) {
      if (m.id <= after) continue;
      out.push(m);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Deletes message `mail` and makes its receipt (kept when `keepReceipt`). */
  settle(
    mail: Mail,
    event: ReceiptEvent,
    at: number,
    keepReceipt: boolean,
  ): Promise<Receipt | null> {
    const stored = this.#boxes.get(mail.to)?.mail.get(mail.id);
    if (!stored) return Promise.resolve(null);
    return Promise.resolve(this.#drop(stored, event, at, keepReceipt));
  }

  /** Receipts waiting for `sender`, oldest first. */
  receipts(sender: string): Receipt[] {
    const mine = this.#receipts.get(sender);
    return mine ? [...mine.values()].sort((a, b) => a.at - b.at || a.mail - b.mail) : [];
  }

  /** Deletes the receipt of message `mail`. */
  receiptDone(mail: number): Promise<void> {
    const sender = this.#receiptSender.get(mail);
    if (sender !== undefined) this.#forgetReceipt(sender, mail);
    return Promise.resolve();
  }

  /** Deletes receipts made before `before`, then mail stored before it (with receipts). */
  expire(before: number, at: number = Date.now()): Promise<Mail[]> {
    for (const [sender, mine] of [...this.#receipts]) {
      for (const r of [...mine.values()]) if (r.at < before) this.#forgetReceipt(sender, r.mail);
    }
    const expired: Mail[] = [];
    for (const box of this.#boxes.values()) {
      for (const m of box.mail.values()) if (m.sentAt < before) expired.push(m);
    }
    expired.sort((a, b) => a.id - b.id);
    for (const m of expired) this.#drop(m, "expired", at, this.#ownsName(m.from));
    return Promise.resolve(expired);
  }

  /** Counts of owners, waiting mail and waiting receipts. */
  summary(): DataSummary {
    return {
      owners: this.#owners.size,
      mail: this.#mailCount,
      receipts: this.#receiptSender.size,
    };
  }

  /** Nothing to wait for. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** True if `name` is exactly an owned name. */
  #ownsName(name: string): boolean {
    return this.owner(name)?.name === name;
  }

  /** Deletes `mail` from its mailbox and makes its receipt, kept if `keep`. */
  #drop(mail: Mail, event: ReceiptEvent, at: number, keep: boolean): Receipt {
    const box = this.#boxes.get(mail.to);
    if (box?.mail.delete(mail.id)) {
      box.bytes -= mail.body.length;
      this.#mailCount--;
      if (box.mail.size === 0) this.#boxes.delete(mail.to);
    }
    const receipt: Receipt = {
      mail: mail.id,
      sender: mail.from,
      recipient: mail.to,
      event,
      sentAt: mail.sentAt,
      at,
    };
    if (keep) {
      let mine = this.#receipts.get(mail.from);
      if (!mine) this.#receipts.set(mail.from, mine = new Map());
      mine.set(mail.id, receipt);
      this.#receiptSender.set(mail.id, mail.from);
    }
    return receipt;
  }

  #forgetReceipt(sender: string, mail: number): void {
    const mine = this.#receipts.get(sender);
    mine?.delete(mail);
    if (mine?.size === 0) this.#receipts.delete(sender);
    this.#receiptSender.delete(mail);
  }
}
