/**
 * Users arriving and leaving: REGISTER of either half, the moment a user comes online (logged
 * with where it connected from, and announced to those who negotiated `joins`), UNREGISTER, and
 * removing a user with everything that waits for it.
 *
 * @module
 */
import { encode, ErrorCode, type Half, isReservedName, isValidName } from "../protocol/mod.ts";
import { errorBytes } from "./answers.ts";
import type { UserHalves } from "./directory.ts";
import { Ext, type ReasonToken } from "./extensions.ts";
import { EMPTY, halfBit, type Link } from "./link.ts";
import { announce, listenForJoins, sendOnlineList } from "./presence.ts";
import { ownershipRefusal } from "./identity.ts";
import { startFeed } from "./mail.ts";
import type { Router } from "./router.ts";

/** REGISTER `half` `name` on `link`. */
export function register(router: Router, link: Link, half: Half, name: string): void {
  const remote = link.endpoint.remote;
  if (!isValidName(name)) {
    const reason = `malformed username ${JSON.stringify(name.slice(0, 80))}`;
    router.log({ event: "rejected", remote, reason });
    return router.reply(link, errorBytes(ErrorCode.MalformedUsername));
  }
  if (isReservedName(name)) {
    router.log({ event: "rejected", remote, reason: `"${name}" is the server's own name` });
    return router.reply(link, errorBytes(ErrorCode.UsernameTaken));
  }
  if (link.user !== null && link.user.name !== name) {
    const reason = `connection already registered as "${link.user.name}", cannot also be "${name}"`;
    router.log({ event: "rejected", remote, reason });
    return router.reply(link, errorBytes(ErrorCode.MalformedUsername));
  }
  const refusal = ownershipRefusal(router, link, name);
  if (refusal !== null) {
    router.log({ event: "rejected", remote, reason: `${half} of ${refusal}` });
    return router.reply(link, errorBytes(ErrorCode.UsernameTaken));
  }
  const claimed = router.directory.claim(name, half, link);
  if (claimed === "already") return router.reply(link, encode({ type: "REGISTERED", half, name }));
  if (claimed === "taken") {
    router.log({ event: "rejected", remote, reason: `${half} of "${name}" is already registered` });
    return router.reply(link, errorBytes(ErrorCode.UsernameTaken));
  }
  const user = link.user = router.directory.find(name)!;
  link.halves |= halfBit(half);
  if (half === "TORECV") {
    link.mailbox = router.store.open(name);
    link.sent = encode({ type: "SENT", to: name });
    // Extensions negotiated before this half came are the user's: they hold here too.
    if (user.send !== null && user.send !== link) {
      link.ext = user.send.ext;
      link.negotiated = user.send.negotiated;
    }
    // An owner's stored mail goes first: messages from `mail` senders are stored behind it.
    link.catchingUp = router.data.owner(name)?.name === name;
    if (link.ext !== 0) listenForJoins(router, link);
  }
  router.reply(link, encode({ type: "REGISTERED", half, name }));
  router.log({ event: "registered", name, half, remote });
  if (user.send !== null && user.recv !== null) joined(router, user);
}

/**
 * `user` has just come online (its second half registered): counted, logged and announced. A
 * user that negotiated `who` before its TORECV half came gets the online list now.
 */
function joined(router: Router, user: UserHalves<Link>): void {
  const online = ++router.onlineCount;
  if (router.logging) {
    const from = user.send!.endpoint.remoteHost;
    const other = user.recv!.endpoint.remoteHost;
    const remote = other === from ? from : `${from} and ${other}`;
    router.log({ event: "joined", name: user.name, remote, online });
  }
  announce(router, user.name, "joined");
  if ((user.recv!.ext & Ext.Who) !== 0) sendOnlineList(router, user.recv!);
  startFeed(router, user.recv!);
}

/** UNREGISTER `name` on `link`: answered after what it is owed, then the connection ends. */
export function unregister(router: Router, link: Link, name: string): void {
  const user = link.user!;
  if (user.name !== name) {
    router.protocolError(link, `UNREGISTER "${name}" on a connection of "${user.name}"`);
    return router.reply(link, errorBytes(ErrorCode.NoUserRegistered));
  }
  router.log({ event: "unregistered", name });
  removeUser(router, user, link, "unregistered", "gone");
  router.reply(link, encode({ type: "UNREGISTERED", name }), true);
}

/**
 * Removes a user: fails what waits for it (`reason` for the log, `token` for its senders who
 * negotiated `reason`), closes its connections but `keep`, and tells those who negotiated
 * `joins` that it left.
 */
export function removeUser(
  router: Router,
  user: UserHalves<Link>,
  keep: Link | null,
  reason: string,
  token: ReasonToken,
): void {
  const { send, recv } = user;
  const wasOnline = send !== null && recv !== null;
  router.directory.release(user);
  for (const link of recv === send ? [send] : [send, recv]) {
    if (link === null) continue;
    link.user = null;
    link.halves = 0;
    link.forward = EMPTY;
    link.ext = 0;
    link.negotiated = false;
    link.catchingUp = false;
    link.feed = null;
    router.joinsListeners.delete(link);
    router.failDeliveries(link, reason, token);
    if (link !== keep) link.endpoint.end();
  }
  if (wasOnline) {
    router.onlineCount--;
    announce(router, user.name, "left");
  }
}
