/**
 * The pseudo-user `server` at work: its answers to what users write to it (`who`, the
 * `EXTENSIONS` negotiation, anything else), and the presence notices (`Event: online`,
 * `joined`, `left`) it queues for users who negotiated them.
 *
 * Notices travel like messages: through the recipient's mailbox, one FORWARD in flight at a
 * time, under the same acknowledgement timeout and queue limits. They are bounded on top of that:
 * at most {@link NOTICE_LIMIT} notices wait for one user. A presence notice that does not fit is
 * dropped and the user marked stale; once a notice or message to it is answered and there is
 * room again, it gets one fresh `Event: online` list in place of all it missed. So a slow or
 * silent reader costs at most a few notices of memory however many users come and go.
 *
 * @module
 */
import { ErrorCode, isReservedName, SERVER_NAME } from "../protocol/mod.ts";
import { errorBytes, reserve } from "./answers.ts";
import { answerChallenge, answerIdentify } from "./identity.ts";
import { startFeed } from "./mail.ts";
import {
  eventNotice,
  Ext,
  HELP_TEXT,
  negotiationAnswer,
  type NoticeEvent,
  plainNotice,
  readServerRequest,
  sortNames,
  whoText,
} from "./extensions.ts";
import { Delivery, EMPTY, type Link, type Slot } from "./link.ts";
import type { Router } from "./router.ts";

/** Most notices from `server` waiting for (or sent to and unanswered by) one user. */
export const NOTICE_LIMIT = 16;

/** The cached plain `SENT server` answer (the common spelling). */
const SENT_SERVER = new TextEncoder().encode(`SENT ${SERVER_NAME}\n\n`);

/**
 * Answers a SEND from `link` to the pseudo-user (`to` as written, `server` in some letter case)
 * in its answer `slot`, then queues the pseudo-user's reply on the writer's TORECV connection,
 * if it has one.
 */
export function answerServer(
  router: Router,
  link: Link,
  to: string,
  body: Uint8Array,
  slot: Slot,
): void {
  const user = link.user!;
  const request = readServerRequest(body);
  switch (request.kind) {
    case "challenge":
      return answerChallenge(router, link, to, slot);
    case "identify":
      return answerIdentify(router, link, to, request, slot);
    case "malformed-identify":
      return answerIdentify(router, link, to, null, slot);
  }
  let answer: Uint8Array = to === SERVER_NAME
    ? SENT_SERVER
    : new TextEncoder().encode(`SENT ${to}\n\n`);
  if (request.kind === "extensions") {
    answer = negotiationAnswer(to, request.names, router.options.maxBodyBytes);
    setExtensions(router, link, request.mask);
    router.log({ event: "extensions", name: user.name, extensions: request.names });
  }
  router.answerSend(link, slot, answer);
  const r = user.recv;
  if (r === null || r.mailbox === null || r.endpoint.closed) return;
  switch (request.kind) {
    case "extensions":
      if ((r.ext & Ext.Who) !== 0) sendOnlineList(router, r);
      if (user.send !== null) startFeed(router, r);
      return;
    case "who":
      if ((r.ext & Ext.Who) !== 0) return sendOnlineList(router, r);
      // The list is not even built for a user who does not read its notices.
      if (r.notices < NOTICE_LIMIT) {
        queueNotice(router, r, plainNotice(whoText(onlineNames(router))));
      }
      return;
    case "other":
      queueNotice(router, r, plainNotice(HELP_TEXT));
  }
}

/**
 * A SEND before REGISTER: `CHALLENGE` and `IDENTIFY …` written to `server` are answered (true);
 * anything else is left to the caller (false), which answers ERROR 101 as always.
 */
export function readEarlyRequest(
  router: Router,
  link: Link,
  to: string,
  body: Uint8Array,
): boolean {
  if (to.length !== SERVER_NAME.length || !isReservedName(to)) return false;
  const request = readServerRequest(body);
  if (
    request.kind !== "challenge" && request.kind !== "identify" &&
    request.kind !== "malformed-identify"
  ) {
    return false;
  }
  // Past the registration deadline nothing more is answered, so that answers still owed cannot
  // keep an unregistered connection open (the sweep closes it once none are).
  const late = router.clock.now() - link.openedAt >= router.options.registerTimeoutMs;
  if (late || link.pendingSends >= router.options.maxPendingSends) {
    router.protocolError(
      link,
      late
        ? "identity requests past the registration deadline"
        : "too many requests awaiting answers before REGISTER",
    );
    router.reply(link, errorBytes(ErrorCode.NoUserRegistered));
    return true;
  }
  link.pendingSends++;
  const slot = reserve(link);
  if (request.kind === "challenge") answerChallenge(router, link, to, slot);
  else answerIdentify(router, link, to, request.kind === "identify" ? request : null, slot);
  return true;
}

/** Records the negotiated set `mask` on both connections of `link`'s user. */
function setExtensions(router: Router, link: Link, mask: number): void {
  const user = link.user!;
  link.ext = mask;
  link.negotiated = true;
  const r = user.recv;
  if (r === null) return;
  r.ext = mask;
  r.negotiated = true;
  listenForJoins(router, r);
}

/** Adds (or removes) the TORECV connection `r` to those told of joins, by its extensions. */
export function listenForJoins(router: Router, r: Link): void {
  if ((r.ext & Ext.Joins) !== 0) router.joinsListeners.add(r);
  else router.joinsListeners.delete(r);
}

/** Names of everyone online, sorted as the pseudo-user lists them. */
export function onlineNames(router: Router): string[] {
  return sortNames(router.onlineUsers());
}

/** Queues the `Event: online` list for `r`; if it does not fit, marks `r` stale. */
export function sendOnlineList(router: Router, r: Link): void {
  r.presenceStale = r.notices >= NOTICE_LIMIT ||
    !queueNotice(router, r, eventNotice("online", onlineNames(router).join(" ")));
}

/**
 * Queues a notice (a FORWARD from `server`, already encoded) for the TORECV connection `r`.
 * False when it does not fit: too many notices or messages wait for `r` already.
 */
export function queueNotice(router: Router, r: Link, bytes: Uint8Array): boolean {
  const box = r.mailbox;
  const user = r.user;
  // While shutting down nothing new is queued: the drain waits only for what was accepted.
  if (box === null || user === null || r.endpoint.closed || router.draining) return false;
  const o = router.options;
  if (
    r.notices >= NOTICE_LIMIT || box.count >= o.maxQueuedForwards ||
    (box.count > 0 && box.bytes + bytes.length > o.maxQueuedBytes)
  ) {
    return false;
  }
  const now = router.clock.now();
  const d = new Delivery(router.nextId(), SERVER_NAME, user.name, bytes, 0, now, r, null, EMPTY);
  d.notice = true;
  r.notices++;
  box.put(d);
  router.pump(r);
  return true;
}

/** A notice is over (answered, failed or dropped): it no longer counts for its recipient. */
export function noticeDone(d: Delivery): void {
  d.sender.notices--;
}

/**
 * Tells every user who negotiated `joins` (but `name` itself) that `name` came online
 * (`joined`) or left (`left`). Those whose notices do not fit are marked stale instead.
 */
export function announce(router: Router, name: string, event: NoticeEvent): void {
  if (router.joinsListeners.size === 0) return;
  // Collected first: queueing can drop a slow reader, which changes the set.
  const targets = [...router.joinsListeners];
  const bytes = eventNotice(event, name);
  for (const r of targets) {
    if (r.user === null || r.user.name === name || r.presenceStale) continue;
    if (!queueNotice(router, r, bytes)) r.presenceStale = true;
  }
}

/**
 * After a delivery to `r` is answered: if `r` missed presence notices, queues a fresh online
 * list in their place now that there may be room.
 */
export function refreshPresence(router: Router, r: Link): void {
  if (!r.presenceStale || r.user === null) return;
  if ((r.ext & (Ext.Who | Ext.Joins)) === 0) {
    r.presenceStale = false;
    return;
  }
  sendOnlineList(router, r);
}
