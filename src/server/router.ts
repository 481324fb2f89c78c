/**
 * The routing core: who is online, deliveries and their acknowledgements, the order of answers,
 * broadcast pacing, limits and deadlines. It knows nothing of sockets: connections are
 * {@link Endpoint}s that take bytes, the time comes from an injected {@link Clock}, and the
 * periodic {@link Router.sweep} is driven from outside. Edges (see session.ts) decode the input
 * and call {@link Router.receive}, {@link Router.decodeError} and {@link Router.closed}.
 *
 * Beside it: registration.ts (REGISTER, a user coming online, UNREGISTER, removal),
 * presence.ts (what the pseudo-user `server` answers, and its notices), extensions.ts (the
 * negotiated extensions' bytes), answers.ts (answers in request order), deadlines.ts,
 * broadcast.ts (SEND ALL), identity.ts (owned names: challenges, proofs, claims) and mail.ts
 * (mail stored for owners who are offline, its delivery and receipts, on the ServerData).
 *
 * @module
 */
import {
  BROADCAST,
  type DecodeError,
  describeDecodeError,
  encodeForward,
  ErrorCode,
  forwardHead,
  type Half,
  isReservedName,
  type Message,
} from "../protocol/mod.ts";
import { Ext, reasonError, type ReasonToken } from "./extensions.ts";
import { answerServer, noticeDone, readEarlyRequest, refreshPresence } from "./presence.ts";
import { isIdentityRequest } from "./identity.ts";
import { type Directory, LocalDirectory, type UserHalves } from "./directory.ts";
import { admission, TokenBuckets } from "./limits.ts";
import { errorBytes, reserve, resolve, writeTo } from "./answers.ts";
import { register, removeUser, unregister } from "./registration.ts";
import { type Clock, SYSTEM_CLOCK, WALL_CLOCK } from "./clock.ts";
import { sweepLink } from "./deadlines.ts";
import { broadcast, groupDone, resume } from "./broadcast.ts";
import { type Broadcast, Delivery, EMPTY, type Endpoint, Link, type Slot } from "./link.ts";
import type { LogEvent, Logger } from "./log.ts";
import { MemoryStore, type MessageStore } from "./store.ts";
import type { ServerData } from "../store/data.ts";
import { MemoryData } from "../store/memory.ts";
import {
  expireMail,
  EXPIRY_EVERY_MS,
  shouldStore,
  storedDone,
  storeInstead,
  storeMail,
} from "./mail.ts";

export { type Endpoint, Link } from "./link.ts";
export { type Clock, InputClock, SYSTEM_CLOCK } from "./clock.ts";

/** The rules the router enforces (the server's options that are not about listening). */
export interface RouterOptions {
  /** How long a recipient has to answer a FORWARD before the sender gets ERROR 102. */
  ackTimeoutMs: number;
  /** Most FORWARDs waiting for one recipient; past that, senders get ERROR 102 at once. */
  maxQueuedForwards: number;
  /** Most bytes of FORWARDs waiting for one recipient; past that, senders get ERROR 102 at once. */
  maxQueuedBytes: number;
  /** Most SENDs from one connection waiting for their answers; past that, ERROR 102 at once. */
  maxPendingSends: number;
  /** Most bytes waiting to be written to one connection before it is dropped as too slow. */
  maxWriteQueueBytes: number;
  /** How long a new connection may take to register before it is closed. */
  registerTimeoutMs: number;
  /** How long a message may take to arrive once its first byte has (slowloris defence). */
  stallTimeoutMs: number;
  /** Most open connections in all; 0 for no limit. */
  maxConnections: number;
  /** Most open connections from one remote address; 0 for no limit. */
  maxPerAddress: number;
  /** Largest body accepted, in bytes (said to users who negotiate, and with `too-large`). */
  maxBodyBytes: number;
  /** `mail`: most messages stored for one owner (past it: `mailbox-full`). */
  mailMaxMessages: number;
  /** `mail`: most bytes of bodies stored for one owner (past it: `mailbox-bytes`). */
  mailMaxBytes: number;
  /** `mail`: how long a stored message waits before it expires. */
  mailMaxAgeMs: number;
  /** Messages per second one user may send, on average; 0 for no limit. */
  rateLimit: number;
  /** Messages one user may send in a burst above the average rate. */
  rateBurst: number;
  /** Where events go. */
  log: Logger;
}

/** What the router is built from besides its options; each has an in-process default. */
export interface RouterParts {
  /** The time. Default {@link SYSTEM_CLOCK}. */
  clock?: Clock;
  /**
   * Wall time, for what the data keeps (when mail was stored, `Sent-at:`, expiry, claims): it
   * must mean the same after a restart. Default `Date.now()`, or {@link clock} when only that is
   * given (tests move one clock for both).
   */
  wall?: Clock;
  /** The user namespace. Default a {@link LocalDirectory}. */
  directory?: Directory<Link>;
  /** Messages not yet delivered. Default a {@link MemoryStore}. */
  store?: MessageStore<Delivery>;
  /** Owned names and stored mail (kept across restarts). Default a {@link MemoryData}. */
  data?: ServerData;
}

/** Canonical answers, encoded once: a flood is answered with many thousands. */
const E101 = errorBytes(ErrorCode.NoUserRegistered);
const E102 = errorBytes(ErrorCode.UnableToSend);
const E103 = errorBytes(ErrorCode.HeaderIncomplete);

/** The relay's state and rules, independent of how connections reach it. */
export class Router {
  /** The rules. */
  readonly options: RouterOptions;
  /** Where the time comes from. */
  readonly clock: Clock;
  /** Wall time, for the data's timestamps. */
  readonly wall: Clock;
  /** Who holds which half of each name. */
  readonly directory: Directory<Link>;
  /** Where messages wait until they are delivered. */
  readonly store: MessageStore<Delivery>;
  /** Owned names, stored mail and receipts. */
  readonly data: ServerData;
  /** Messages being stored, by recipient: its owner is still catching up while any are. */
  readonly storing = new Map<string, number>();
  /** Ownership keys of names whose claim is being stored. */
  readonly claiming = new Set<string>();
  /** Every open connection. */
  readonly links = new Set<Link>();
  /** Open connections by remote host. */
  readonly perAddress = new Map<string, number>();
  /** True while shutting down: new messages are refused. */
  draining = false;
  /** How many users are online (both halves registered). */
  onlineCount = 0;
  /** TORECV connections of the users who negotiated `joins`. */
  readonly joinsListeners = new Set<Link>();
  /** False when the logger is silent: events are then not even built. */
  readonly logging: boolean;
  readonly #log: Logger;
  readonly #buckets: TokenBuckets;
  #ids = 0;
  #lastExpiry: number;

  /** A router with `options`; `parts` replace the in-process clock, directory or store. */
  constructor(options: RouterOptions, parts: RouterParts = {}) {
    this.options = options;
    this.clock = parts.clock ?? SYSTEM_CLOCK;
    this.wall = parts.wall ?? parts.clock ?? WALL_CLOCK;
    this.directory = parts.directory ?? new LocalDirectory<Link>();
    this.store = parts.store ?? new MemoryStore<Delivery>();
    this.data = parts.data ?? new MemoryData();
    this.#lastExpiry = this.clock.now();
    this.#log = options.log;
    this.logging = options.log.silent !== true;
    this.#buckets = new TokenBuckets(options.rateLimit, options.rateBurst);
  }

  /** Logs an event (callers on busy paths check {@link logging} before building one). */
  log(event: LogEvent): void {
    if (this.logging) this.#log(event);
  }

  /** Logs a protocol error on `link` (`closed`: the connection is closed for it). */
  protocolError(link: Link, reason: string, closed = false): void {
    if (this.logging) {
      this.#log({
        event: "protocol-error",
        remote: link.endpoint.remote,
        name: link.label,
        reason,
        closed,
      });
    }
  }

  /** Takes a new connection in, or refuses it (ERROR 105, then closed) past a limit. */
  accept(endpoint: Endpoint): Link {
    const link = new Link(endpoint, this.clock.now());
    const host = endpoint.remoteHost;
    const fromHere = (this.perAddress.get(host) ?? 0) + 1;
    this.perAddress.set(host, fromHere);
    this.links.add(link);
    const refuse = admission(this.options, this.draining, this.links.size, fromHere, host);
    if (refuse) {
      link.refused = true;
      this.log({ event: "dropped", remote: endpoint.remote, reason: `refused: ${refuse}` });
      this.reply(link, errorBytes(ErrorCode.TooManyConnections), true);
    }
    return link;
  }

  /** Names of the users online now (both halves registered). */
  onlineUsers(): string[] {
    const names: string[] = [];
    for (const u of this.directory.users()) if (u.send && u.recv) names.push(u.name);
    return names;
  }

  /** Answers at once, after any earlier answers still owed; `end` closes after it. */
  reply(link: Link, answer: Uint8Array, end = false): void {
    resolve(this, link, reserve(link, end), answer);
  }

  /** Answers one SEND of `link` in its slot. */
  answerSend(link: Link, slot: Slot, answer: Uint8Array): void {
    link.pendingSends--;
    resolve(this, link, slot, answer);
  }

  /** The ERROR 102 for `link`: with `Reason: token` if its user negotiated `reason`. */
  failAnswer(link: Link, token: ReasonToken): Uint8Array {
    return (link.ext & Ext.Reason) === 0 ? E102 : reasonError(token, this.options.maxBodyBytes);
  }

  /** A new delivery id. */
  nextId(): number {
    return ++this.#ids;
  }

  // -------------------------------------------------------------------------------------------
  // Input.

  /** A message arrived on `link`. */
  receive(link: Link, m: Message): void {
    if (link.endpoint.closed || link.refused) return;
    if (m.type === "SEND" && link.user !== null) return this.send(link, m.to, m.body);
    if (m.type === "RECEIVED" && link.user !== null) {
      return this.#acknowledged(link, m.from, true, "", false);
    }
    if (m.type === "REGISTER") return register(this, link, m.half, m.name);
    if (m.type === "SEND" && link.user === null && readEarlyRequest(this, link, m.to, m.body)) {
      return;
    }
    if (link.user === null) {
      this.protocolError(link, `${m.type} before REGISTER`);
      return this.reply(link, E101);
    }
    switch (m.type) {
      case "ERROR":
        return this.#acknowledged(link, "", false, `it answered ERROR ${m.code} ${m.text}`, true);
      case "UNREGISTER":
        return unregister(this, link, m.name);
      default:
        this.protocolError(link, `unexpected ${m.type} from a client`);
        this.reply(link, E103);
        return this.#answeredWrong(link, `it answered ${m.type} instead of RECEIVED`);
    }
  }

  /** A recipient answered something other than RECEIVED: the message in flight failed. */
  #answeredWrong(link: Link, why: string): void {
    if (link.inflight !== null && link.has("TORECV")) {
      this.#acknowledged(link, "", false, why, false);
    }
  }

  /** Input on `link` could not be decoded. */
  decodeError(link: Link, error: DecodeError): void {
    if (link.endpoint.closed || link.refused) return;
    const reason = describeDecodeError(error);
    this.protocolError(link, reason, error.fatal);
    if (error.fatal) return this.reply(link, E103, true);
    if (error.code === "body-too-large" && error.verb === "SEND" && link.has("TOSEND")) {
      // The body was skipped, so the stream is still in step: refuse just this message.
      return this.reply(link, this.failAnswer(link, "too-large"));
    }
    if (
      link.user === null && (error.code === "unknown-verb" || error.code === "body-too-large")
    ) {
      return this.reply(link, E101);
    }
    this.reply(link, E103);
    this.#answeredWrong(link, `it answered with something unreadable (${reason})`);
  }

  // -------------------------------------------------------------------------------------------
  // Sending.

  /** SEND `to` `body` on `link`, whose user is registered. */
  send(link: Link, to: string, body: Uint8Array): void {
    const from = link.user!.name;
    if (!link.has("TOSEND")) {
      this.protocolError(link, "SEND on a TORECV connection");
      return this.reply(link, E102);
    }
    const now = this.clock.now();
    if (this.draining) {
      const answer = this.failAnswer(link, "shutdown");
      return this.#refuse(link, from, to, answer, "the server is shutting down");
    }
    // A proof or a claim reaches no one: it does not count against the rate limit (a client
    // that piped many messages first must still be able to claim its name).
    if (!this.#buckets.take(from, now) && !isIdentityRequest(to, body)) {
      return this.#refuse(
        link,
        from,
        to,
        errorBytes(ErrorCode.RateLimited),
        "sender is over the rate limit",
      );
    }
    if (link.pendingSends >= this.options.maxPendingSends) {
      const answer = this.failAnswer(link, "busy");
      return this.#refuse(link, from, to, answer, "too many messages awaiting answers");
    }
    link.pendingSends++;
    if (link.broadcasting || link.waiting.length > 0) {
      // Behind a SEND ALL still being delivered: wait in order, so that every recipient gets
      // this sender's messages in the order they were sent.
      const slot = reserve(link);
      if (
        link.waiting.length > 0 && link.waitingBytes + body.length > this.options.maxQueuedBytes
      ) {
        this.notDelivered(from, to, "too many messages waiting to go");
        return this.answerSend(link, slot, this.failAnswer(link, "busy"));
      }
      link.waiting.push({ to, body, slot });
      link.waitingBytes += body.length;
      return;
    }
    this.dispatch(link, from, to, body, null, now);
  }

  /** Answers a SEND that is refused before it counts as pending. */
  #refuse(link: Link, from: string, to: string, answer: Uint8Array, reason: string): void {
    this.notDelivered(from, to, reason);
    this.reply(link, answer);
  }

  /** Logs a message not delivered. */
  notDelivered(from: string, to: string, reason: string): void {
    if (this.logging) this.#log({ event: "not-delivered", from, to, reason });
  }

  /**
   * Starts delivering one SEND whose turn has come. `slot` is its answer slot if one was
   * reserved already (it waited behind a SEND ALL); if null, the next slot of `link` is its.
   */
  dispatch(
    link: Link,
    from: string,
    to: string,
    body: Uint8Array,
    slot: Slot | null,
    now: number,
  ): void {
    if (to === BROADCAST) return broadcast(this, link, from, body, slot ?? reserve(link));
    const target = this.directory.online(to);
    if ((link.ext & Ext.Mail) !== 0 && (target === undefined || target.recv!.catchingUp)) {
      if (shouldStore(this, to, target)) {
        return storeMail(this, link, from, to, body, slot ?? reserve(link));
      }
    }
    if (target === undefined) {
      // The pseudo-user: checked only here, so that ordinary messages pay nothing for it.
      if (to.length === 6 && isReservedName(to)) {
        return answerServer(this, link, to, body, slot ?? reserve(link));
      }
      this.notDelivered(from, to, `"${to}" is not online`);
      return this.answerSend(link, slot ?? reserve(link), this.failAnswer(link, "offline"));
    }
    const r = target.recv!;
    const d = this.delivery(link, target, body, now, null);
    if (slot === null) link.replies.push(d);
    else d.slot = slot;
    this.deliver(r, d, body, null);
  }

  /**
   * Queues delivery `d` of `body` for the recipient `r` (`shared`: the FORWARD already encoded,
   * for a broadcast). The FORWARD is encoded only once it is queued: a flood at full queues
   * costs no copies.
   */
  deliver(r: Link, d: Delivery, body: Uint8Array, shared: Uint8Array | null): void {
    const box = r.mailbox!;
    // A FORWARD is its body plus a header of about 30 bytes and the sender's name.
    const size = body.length + d.from.length + 32;
    if (
      box.count >= this.options.maxQueuedForwards ||
      (box.count > 0 && box.bytes + size > this.options.maxQueuedBytes)
    ) {
      return this.done(d, false, `"${d.to}" has too many messages waiting`, "queue-full");
    }
    d.bytes = shared ?? this.forward(d.sender, body);
    box.put(d);
    this.pump(r);
  }

  /** The FORWARD of `body` from the user of `sender`'s TOSEND link. */
  forward(sender: Link, body: Uint8Array): Uint8Array {
    // The head is made on the first message, not at registration: an idle user costs nothing.
    if (sender.forward === EMPTY) sender.forward = forwardHead(sender.user!.name);
    return encodeForward(sender.forward, body);
  }

  /** A new delivery (with its id) of `body` from `sender`'s user to `to`. */
  delivery(
    sender: Link,
    to: UserHalves<Link>,
    body: Uint8Array,
    now: number,
    group: Broadcast | null,
  ): Delivery {
    const r = to.recv!;
    return new Delivery(
      ++this.#ids,
      sender.user!.name,
      to.name,
      EMPTY,
      body.length,
      now,
      sender,
      group,
      r.sent,
    );
  }

  /** Sends the recipient its next FORWARD if none is awaiting an answer. */
  pump(r: Link): void {
    if (r.inflight !== null || r.endpoint.closed || r.mailbox === null) return;
    const d = r.mailbox.next();
    if (d === undefined) return;
    r.inflight = d;
    d.sentAt = this.clock.now();
    writeTo(this, r, d.bytes);
  }

  /**
   * A delivery is over: logged, and its sender answered (or its broadcast counted). `reason`
   * says why it failed for the log, `token` for a sender who negotiated `reason`.
   */
  done(
    d: Delivery,
    ok: boolean,
    reason: string,
    token: ReasonToken = "refused",
    byError = false,
  ): void {
    if (d.notice) {
      d.bytes = EMPTY;
      return noticeDone(d);
    }
    if (d.mail !== null || d.receipt !== null) {
      d.bytes = EMPTY;
      return storedDone(this, d, ok, byError);
    }
    if (!ok && token === "gone" && d.group === null && storeInstead(this, d)) {
      d.bytes = EMPTY;
      return;
    }
    d.bytes = EMPTY;
    if (this.logging) {
      if (ok) this.#log({ event: "forwarded", from: d.from, to: d.to, bytes: d.bodyBytes });
      else this.#log({ event: "not-delivered", from: d.from, to: d.to, reason });
    }
    if (d.group !== null) groupDone(this, d.group, ok);
    else this.answerSend(d.sender, d.slot, ok ? d.sent : this.failAnswer(d.sender, token));
  }

  /** A recipient answered RECEIVED (ok) or ERROR (not ok) on its TORECV connection. */
  #acknowledged(r: Link, from: string, ok: boolean, why: string, byError: boolean): void {
    const d = r.inflight;
    if (d === null || !r.has("TORECV")) {
      this.protocolError(
        r,
        ok ? `RECEIVED ${from} matches no message awaiting an answer` : `unexpected ERROR`,
      );
      return;
    }
    r.inflight = null;
    const box = r.mailbox!;
    if (ok && from === d.from) {
      box.complete(d.id);
      this.done(d, true, "");
    } else {
      box.fail(d.id);
      this.done(
        d,
        false,
        ok
          ? `"${d.to}" acknowledged a message from "${from}" instead of "${d.from}"`
          : `"${d.to}" could not read it: ${why}`,
        "refused",
        byError,
      );
    }
    if (r.presenceStale) refreshPresence(this, r);
    this.pump(r);
  }

  /** Fails every message for `r`, in flight or queued. */
  failDeliveries(r: Link, reason: string, token: ReasonToken): void {
    r.inflight = null;
    if (r.mailbox === null) return;
    for (const d of r.mailbox.dropAll()) this.done(d, false, `"${d.to}" ${reason}`, token);
  }

  // -------------------------------------------------------------------------------------------
  // Connections ending, and deadlines.

  /** The edge of `link` closed (by either side); `error` if it broke. */
  closed(link: Link, error?: Error): void {
    this.links.delete(link);
    const host = link.endpoint.remoteHost;
    const left = (this.perAddress.get(host) ?? 1) - 1;
    if (left > 0) this.perAddress.set(host, left);
    else this.perAddress.delete(host);
    const user = link.user;
    if (user !== null) {
      const half: Half = user.send === link ? "TOSEND" : "TORECV";
      const why = error ? `connection error: ${error.message}` : "connection closed";
      this.log({ event: "disconnected", name: user.name, half, reason: why });
      removeUser(this, user, null, "disconnected", "gone"); // fails this link's deliveries too
    } else {
      this.failDeliveries(link, "disconnected", "gone");
    }
  }

  /** Closes a connection that broke a limit. */
  drop(link: Link, reason: string): void {
    if (link.endpoint.closed) return;
    this.log({ event: "dropped", remote: link.endpoint.remote, name: link.label, reason });
    link.endpoint.close();
  }

  /** True when no message is waiting for an answer anywhere. */
  quiet(): boolean {
    for (const link of this.links) {
      if (link.inflight !== null || (link.mailbox?.count ?? 0) > 0 || link.pendingSends > 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Fails every message still awaiting an answer (at the end of a drain), and answers the SENDs
   * that waited behind a SEND ALL now rather than in a later microtask: the connections are
   * ended right after this, and those answers must go out before.
   */
  failAll(reason: string): void {
    for (const link of this.links) this.failDeliveries(link, reason, "shutdown");
    for (const link of this.links) resume(this, link);
  }

  /**
   * Enforces the deadlines at time `now`: registration, a message stalled half-received, output
   * not read, queued too long, and the acknowledgement timeout.
   */
  sweep(now: number): void {
    if (this.#buckets.size > 0) this.#buckets.forgetFull(now);
    if (now - this.#lastExpiry >= EXPIRY_EVERY_MS) {
      this.#lastExpiry = now;
      expireMail(this, this.wall.now());
    }
    for (const link of this.links) {
      if (!link.endpoint.closed) sweepLink(this, link, now);
    }
  }
}
