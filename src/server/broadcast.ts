/**
 * SEND ALL: delivered to every other online user, one broadcast per sender at a time, with the
 * sender's later messages waiting behind it in order (see {@link broadcast}).
 *
 * @module
 */
import { BROADCAST, encode, ErrorCode } from "../protocol/mod.ts";
import { errorBytes } from "./answers.ts";
import type { UserHalves } from "./directory.ts";
import { broadcastReport, Ext, forwardToAll } from "./extensions.ts";
import { Broadcast, type Link, type Slot } from "./link.ts";
import type { Router } from "./router.ts";

const SENT_ALL = encode({ type: "SENT", to: BROADCAST });
const E102 = errorBytes(ErrorCode.UnableToSend);

/**
 * Delivers a SEND ALL to every other online user. One broadcast per sender is delivered at a
 * time: the sender's later messages wait until every recipient of the broadcast has answered.
 * A SEND ALL costs one rate-limit token but asks for a FORWARD to everyone, so without this a
 * few senders could keep every user's queue full and hold up everyone else's messages.
 */
export function broadcast(
  router: Router,
  link: Link,
  from: string,
  body: Uint8Array,
  slot: Slot,
): void {
  link.broadcasting = true;
  const targets: UserHalves<Link>[] = [];
  for (const user of router.directory.users()) {
    if (user.name !== from && user.send !== null && user.recv !== null) targets.push(user);
  }
  const group = new Broadcast(from, link, slot);
  group.targets = group.waiting = targets.length;
  if (targets.length === 0) return settled(router, group);
  const bytes = router.forward(link, body);
  let toAll: Uint8Array | null = null; // with `To: ALL`, made once if anyone asked for it
  const now = router.clock.now();
  for (const user of targets) {
    // A delivery can set off others that take a later target offline (a dropped reader).
    if (router.directory.online(user.name) !== user) {
      groupDone(router, group, false);
      continue;
    }
    const r = user.recv!;
    const shared = (r.ext & Ext.To) === 0 ? bytes : (toAll ??= forwardToAll(from, body));
    router.deliver(r, router.delivery(link, user, body, now, group), body, shared);
  }
}

/** One recipient of a SEND ALL answered (or failed). */
export function groupDone(router: Router, group: Broadcast, ok: boolean): void {
  if (!ok) group.failed++;
  if (--group.waiting === 0) settled(router, group);
}

/** Every recipient of a SEND ALL has answered: its sender's answer, and what waited. */
function settled(router: Router, group: Broadcast): void {
  const { from, sender, failed } = group;
  if (router.logging) {
    router.log({ event: "broadcast", from, delivered: group.targets - failed, failed });
  }
  const answer = (sender.ext & Ext.Reason) !== 0
    ? broadcastReport(group.targets - failed, group.targets)
    : failed === 0
    ? SENT_ALL
    : E102;
  router.answerSend(sender, group.slot, answer);
  sender.broadcasting = false;
  // Not inside the callbacks of whichever connection finished this broadcast.
  queueMicrotask(() => resume(router, sender));
}

/** Starts what waited behind a finished SEND ALL, in order, up to the next SEND ALL. */
export function resume(router: Router, link: Link): void {
  while (!link.broadcasting && link.waiting.length > 0) {
    const w = link.waiting.shift()!;
    link.waitingBytes -= w.body.length;
    const from = link.user?.name;
    if (from === undefined || link.endpoint.closed || router.draining) {
      const reason = from === undefined || link.endpoint.closed
        ? "the sender left"
        : "the server is shutting down";
      router.notDelivered(from ?? "?", w.to, reason);
      router.answerSend(link, w.slot, router.failAnswer(link, "shutdown"));
      continue;
    }
    router.dispatch(link, from, w.to, w.body, w.slot, router.clock.now());
  }
}
