/**
 * Mail for offline users (PROTOCOL.md, "Mail for offline users"): a message from a sender who
 * agreed `mail` to an owned name whose owner is offline (or still catching up) is stored in the
 * {@link ServerData}, answered `SENT` with `Mail:` once durable, and delivered when the owner is
 * back, in the order stored, one FORWARD at a time through the owner's ordinary queue. Each
 * stored message that is acknowledged, refused or expired makes a receipt for its sender.
 *
 * The owner's stored mail is read in pages ({@link PAGE} at a time), never all at once. A
 * stored delivery that does not end in an answer (the owner left, or did not answer in time)
 * stays stored, and is delivered again next time: delivery is at least once.
 *
 * @module
 */
import { BROADCAST, SERVER_NAME } from "../protocol/mod.ts";
import type { Mail, Receipt, ReceiptEvent } from "../store/data.ts";
import {
  Ext,
  limitError,
  mailStoredAnswer,
  reasonError,
  receiptForward,
  storedForward,
} from "./extensions.ts";
import { Delivery, EMPTY, type Link, type Slot } from "./link.ts";
import type { UserHalves } from "./directory.ts";
import type { Router } from "./router.ts";

/** How many stored messages are read from the data at a time. */
export const PAGE = 256;

/** How often the sweep deletes mail that waited too long. */
export const EXPIRY_EVERY_MS = 60_000;

/** One owner's stored mail and waiting receipts on their way to its TORECV connection. */
export class MailFeed {
  /** The page of stored mail read last, and where in it the next one is. */
  page: Mail[] = [];
  /** Index of the next message of {@link page}. */
  at = 0;
  /** The id of the last stored message taken: the next page starts after it. */
  after = 0;
  /** The stored message in the owner's queue (one at a time), or null. */
  current: Delivery | null = null;
  /** Receipts that waited for this user, read once when it negotiated. */
  receipts: Receipt[] = [];
  /** Index of the next of {@link receipts}. */
  nextReceipt = 0;
  /** The waiting receipt in the queue (one at a time), or null. */
  receiptInQueue: Delivery | null = null;
}

/**
 * True when a SEND from `sender` to `to` is to be stored rather than delivered live: the sender
 * agreed `mail` (checked by the caller), `to` is owned exactly as written, and its owner is
 * offline (`target` undefined) or still catching up.
 */
export function shouldStore(
  router: Router,
  to: string,
  target: UserHalves<Link> | undefined,
): boolean {
  if (to === BROADCAST || router.draining) return false;
  if (target !== undefined && !target.recv!.catchingUp) return false;
  return router.data.owner(to)?.name === to;
}

/**
 * Stores `body` from `from` (on `link`) for `to` and answers the SEND in `slot`: `SENT` with
 * `Mail:` once durable, or ERROR 102 with `mailbox-full` / `mailbox-bytes` (and `Limit:`) past
 * a limit, or `not-stored` when the data refused it. The caller counted the SEND as pending.
 */
export function storeMail(
  router: Router,
  link: Link,
  from: string,
  to: string,
  body: Uint8Array,
  slot: Slot,
): void {
  const o = router.options;
  const size = router.data.size(to);
  if (size.count >= o.mailMaxMessages) {
    router.notDelivered(from, to, `the mailbox of "${to}" holds ${o.mailMaxMessages} messages`);
    return router.answerSend(link, slot, limitError("mailbox-full", o.mailMaxMessages));
  }
  if (size.bytes + body.length > o.mailMaxBytes) {
    router.notDelivered(from, to, `the mailbox of "${to}" holds ${o.mailMaxBytes} bytes`);
    return router.answerSend(link, slot, limitError("mailbox-bytes", o.mailMaxBytes));
  }
  const storing = router.storing;
  storing.set(to, (storing.get(to) ?? 0) + 1);
  const done = () => {
    const left = (storing.get(to) ?? 1) - 1;
    if (left > 0) storing.set(to, left);
    else storing.delete(to);
  };
  router.data.put(from, to, body, router.wall.now()).then(
    (mail) => {
      done();
      router.log({ event: "stored", from, to, mail: mail.id });
      router.answerSend(link, slot, mailStoredAnswer(to, mail.id));
      const r = router.directory.find(to)?.recv;
      if (r) feedNext(router, r);
    },
    (error) => {
      done();
      router.notDelivered(from, to, `the server could not store it: ${describe(error)}`);
      router.answerSend(link, slot, reasonError("not-stored", o.maxBodyBytes));
      const r = router.directory.find(to)?.recv;
      if (r) feedNext(router, r);
    },
  );
}

/**
 * A live message `d` failed because its recipient left (`gone`): stored instead, in order, if
 * its sender agreed `mail` and the recipient owns its name. True if it was taken over (its
 * answer then comes from {@link storeMail}).
 */
export function storeInstead(router: Router, d: Delivery): boolean {
  const sender = d.sender;
  if (
    (sender.ext & Ext.Mail) === 0 || sender.endpoint.closed || router.draining ||
    d.bytes.length < d.bodyBytes || router.data.owner(d.to)?.name !== d.to
  ) {
    return false;
  }
  // A lone SEND's FORWARD ends with its body.
  const body = d.bytes.slice(d.bytes.length - d.bodyBytes);
  storeMail(router, sender, d.from, d.to, body, d.slot);
  return true;
}

/**
 * The user of TORECV connection `r` is online and has negotiated: its stored mail (if it owns
 * its name) and the receipts that waited for it (if it agreed `mail`) start on their way.
 */
export function startFeed(router: Router, r: Link): void {
  const user = r.user;
  if (user === null || r.mailbox === null || !r.negotiated) return;
  if (r.feed === null) {
    if (!r.catchingUp && (r.ext & Ext.Mail) === 0) return;
    const feed = r.feed = new MailFeed();
    if ((r.ext & Ext.Mail) !== 0) feed.receipts = router.data.receipts(user.name);
  }
  feedNext(router, r);
}

/** Queues the next stored message and the next waiting receipt for `r`, if none is queued. */
export function feedNext(router: Router, r: Link): void {
  const f = r.feed;
  const user = r.user;
  if (f === null || user === null || r.endpoint.closed || router.draining) return;
  if (f.current === null && r.catchingUp) {
    let m = f.page[f.at++];
    if (m === undefined) {
      f.page = router.data.mail(user.name, f.after, PAGE);
      f.at = 0;
      m = f.page[f.at++];
    }
    if (m !== undefined) {
      f.after = m.id;
      const bytes = storedForward(m.from, m.body, m.id, m.sentAt, (r.ext & Ext.Mail) !== 0);
      const d = new Delivery(
        router.nextId(),
        m.from,
        user.name,
        bytes,
        m.body.length,
        router.clock.now(),
        r,
        null,
        EMPTY,
      );
      d.mail = m;
      f.current = d;
      queue(router, r, d);
    } else if (!router.storing.has(user.name)) {
      // Nothing stored and nothing on its way to the data: live messages may flow now.
      r.catchingUp = false;
      f.page = [];
    }
  }
  if (f.receiptInQueue === null && f.nextReceipt < f.receipts.length) {
    const receipt = f.receipts[f.nextReceipt++]!;
    f.receiptInQueue = queueReceipt(router, r, receipt, true);
    if (f.nextReceipt === f.receipts.length) f.receipts = [];
  }
}

/** Puts `d` in `r`'s queue, past the queue limits (what feeds it holds one at a time). */
function queue(router: Router, r: Link, d: Delivery): void {
  r.mailbox!.put(d);
  router.pump(r);
}

/** Queues a receipt for `r` (a user who agreed `mail`); `kept`: it waits in the data too. */
function queueReceipt(router: Router, r: Link, receipt: Receipt, kept: boolean): Delivery {
  const bytes = receiptForward(receipt.event, receipt.mail, receipt.sentAt, receipt.recipient);
  const now = router.clock.now();
  const d = new Delivery(router.nextId(), SERVER_NAME, r.user!.name, bytes, 0, now, r, null, EMPTY);
  d.receipt = receipt;
  d.receiptKept = kept;
  queue(router, r, d);
  return d;
}

/**
 * A stored message's or a receipt's delivery is over. A stored message acknowledged (`ok`) or
 * answered with an error (`refused`) is settled, and its receipt goes to its sender; one that
 * failed otherwise stays stored, and is sent again (at once if its owner is still connected).
 * A receipt acknowledged is deleted if kept.
 */
export function storedDone(router: Router, d: Delivery, ok: boolean, refused: boolean): void {
  const r = d.sender;
  const f = r.feed;
  if (d.receipt !== null) {
    if (f !== null && f.receiptInQueue === d) f.receiptInQueue = null;
    if (ok && d.receiptKept) {
      router.data.receiptDone(d.receipt.mail).catch((e) => dataFailed(router, e));
    }
    if (ok) feedNext(router, r);
    return;
  }
  const mail = d.mail!;
  if (f !== null && f.current === d) f.current = null;
  if (!ok && !refused) {
    // Not answered (the owner left, or it waited too long in the queue) or answered for another
    // sender: it stays stored. If the owner is still here, it goes again, before the rest.
    if (f !== null) {
      f.after = Math.min(f.after, mail.id - 1);
      f.page = [];
      f.at = 0;
      feedNext(router, r);
    }
    return;
  }
  settle(router, mail, ok ? "delivered" : "refused");
  feedNext(router, r);
}

/** Settles `mail` (`event`) in the data, then sends its receipt to its sender if online. */
function settle(router: Router, mail: Mail, event: ReceiptEvent): void {
  const keep = ownsName(router, mail.from);
  router.log({ event: "mail", to: mail.to, mail: mail.id, outcome: event });
  router.data.settle(mail, event, router.wall.now(), keep).then(
    (receipt) => {
      if (receipt !== null) sendReceipt(router, receipt, keep);
    },
    (e) => dataFailed(router, e),
  );
}

/** True when `name` is owned exactly so: receipts wait for it. */
function ownsName(router: Router, name: string): boolean {
  return router.data.owner(name)?.name === name;
}

/**
 * Sends `receipt` to its sender if it is online and agreed `mail` (a kept receipt otherwise
 * waits in the data; one not kept is gone).
 */
export function sendReceipt(router: Router, receipt: Receipt, kept: boolean): void {
  const r = router.directory.online(receipt.sender)?.recv;
  if (!r || !r.negotiated || (r.ext & Ext.Mail) === 0 || r.endpoint.closed || router.draining) {
    return;
  }
  // Bounded like messages: a kept receipt that does not fit waits for next time.
  if (r.mailbox!.count >= router.options.maxQueuedForwards) return;
  queueReceipt(router, r, receipt, kept);
}

/**
 * Deletes stored mail older than the mail age limit at wall time `now` (run by the sweep about
 * once a minute), and sends an `expired` receipt to each sender online who agreed `mail`.
 */
export function expireMail(router: Router, now: number): void {
  router.data.expire(now - router.options.mailMaxAgeMs, now).then(
    (expired) => {
      for (const m of expired) {
        router.log({ event: "mail", to: m.to, mail: m.id, outcome: "expired" });
        const receipt: Receipt = {
          mail: m.id,
          sender: m.from,
          recipient: m.to,
          event: "expired",
          sentAt: m.sentAt,
          at: now,
        };
        sendReceipt(router, receipt, ownsName(router, m.from));
      }
    },
    (e) => dataFailed(router, e),
  );
}

/** Logs a change the data could not make (the server keeps running; it is retried or lost). */
function dataFailed(router: Router, error: unknown): void {
  router.log({
    event: "data-error",
    reason: `"${router.data.location}" could not be changed: ${describe(error)}`,
  });
}

/** An error in words. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
