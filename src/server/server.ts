/**
 * `chat server`: the relay. Users register two connections (TOSEND and TORECV); a SEND on one
 * user's TOSEND becomes a FORWARD on the recipient's TORECV, and the recipient's RECEIVED
 * becomes the sender's SENT.
 *
 * @module
 */
import {
  BROADCAST,
  type DecodeEvent,
  Decoder,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  encode,
  ERROR_TEXT,
  ErrorCode,
  errorMessage,
  type Half,
  isValidName,
  type Message,
} from "../protocol/mod.ts";
import {
  type Conn,
  type ConnHandler,
  listen,
  type Listener,
  type TransportKind,
} from "../net/transport.ts";
import type { Logger } from "./log.ts";

/** Settings of a running server; every field has a default in {@link DEFAULT_SERVER_OPTIONS}. */
export interface ServerOptions {
  /** Interface to listen on. */
  hostname: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** How long a recipient has to answer a FORWARD before the sender gets ERROR 102. */
  ackTimeoutMs: number;
  /** Largest header accepted, in bytes. */
  maxHeaderBytes: number;
  /** Largest message body accepted, in bytes. */
  maxBodyBytes: number;
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
  /** Messages per second one user may send, on average; 0 for no limit. */
  rateLimit: number;
  /** Messages one user may send in a burst above the average rate. */
  rateBurst: number;
  /** On shutdown, how long to wait for messages in flight to be acknowledged. */
  drainTimeoutMs: number;
  /** Socket API. */
  transport: TransportKind;
  /** Serve TLS with this certificate chain and key (PEM text); plain TCP when absent. */
  tls?: { cert: string; key: string };
  /** Where events go. */
  log: Logger;
}

/** Defaults of {@link ServerOptions}. */
export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  hostname: "0.0.0.0",
  port: 5500,
  ackTimeoutMs: 30_000,
  maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  maxQueuedForwards: 256,
  maxQueuedBytes: 1024 * 1024,
  maxPendingSends: 256,
  maxWriteQueueBytes: 1024 * 1024,
  registerTimeoutMs: 10_000,
  stallTimeoutMs: 60_000,
  maxConnections: 50_000,
  maxPerAddress: 256,
  rateLimit: 50,
  rateBurst: 100,
  drainTimeoutMs: 5_000,
  // node:net inside Deno: fair to every connection under load, and about a third of the memory
  // per idle user of Deno.listen (figures in bench/README.md).
  transport: "node",
  log: () => {},
};

/** A running server. */
export interface ChatServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** Names of the users online now (both halves registered). */
  onlineUsers(): string[];
  /** How many connections are open now. */
  connectionCount(): number;
  /**
   * Stops accepting, waits up to `drainTimeoutMs` for messages in flight to be acknowledged
   * (new ones are refused meanwhile), closes every connection and resolves when all are closed.
   * With `{ drain: false }`, closes at once.
   */
  close(options?: { drain?: boolean }): Promise<void>;
}

/** One FORWARD on its way to a recipient. */
interface Delivery {
  from: string;
  to: string;
  bytes: Uint8Array;
  sentAt: number;
  /** When it was queued: a queued message may wait at most twice the ack timeout. */
  queuedAt: number;
  done: (ok: boolean, reason: string) => void;
}

/** One answer owed to a connection, in the order of the requests. */
interface Reply {
  bytes: Uint8Array | null;
  after?: () => void;
}

/** A registered (or half-registered) username. */
interface User {
  name: string;
  send: Session | null;
  recv: Session | null;
}

/** One connection's state. */
class Session implements ConnHandler {
  readonly conn: Conn;
  readonly decoder: Decoder;
  readonly server: Relay;
  user: User | null = null;
  halves = 0; // bit 1: TOSEND, bit 2: TORECV
  readonly replies: Reply[] = [];
  /** Bytes of answers filled in but held behind an earlier one still owed. */
  held = 0;
  pendingSends = 0;
  /** True while a SEND ALL of this connection is being delivered. */
  broadcasting = false;
  /** SENDs waiting for that SEND ALL to finish, in order. */
  readonly waiting: { to: string; body: Uint8Array; finish: (m: Message) => void }[] = [];
  /** Bytes of the bodies in {@link waiting}. */
  waitingBytes = 0;
  inflight: Delivery | null = null;
  readonly queue: Delivery[] = [];
  /** Bytes of the FORWARDs in {@link queue}. */
  queuedBytes = 0;
  /** When the connection opened (for the registration deadline). */
  readonly openedAt = performance.now();
  /** When the first byte of the message being received arrived; 0 when between messages. */
  partialSince = 0;
  /** Since when the bytes waiting to be written to this connection have not moved; 0: none wait. */
  writeStuckSince = 0;
  /** {@link Conn.sentBytes} when that was last seen to move. */
  lastSent = 0;
  /** True until the first bytes arrive. */
  firstRead = true;
  /** True when the connection was refused on arrival: its input is ignored. */
  refused = false;
  /** Events decoded so far (to tell when a read finished one message and started another). */
  events = 0;
  readonly onEvent = (e: DecodeEvent) => {
    this.events++;
    this.server.onEvent(this, e);
  };

  constructor(server: Relay, conn: Conn) {
    this.server = server;
    this.conn = conn;
    this.decoder = new Decoder({
      maxHeaderBytes: server.options.maxHeaderBytes,
      maxBodyBytes: server.options.maxBodyBytes,
    });
  }

  has(half: Half): boolean {
    return (this.halves & halfBit(half)) !== 0;
  }

  data(chunk: Uint8Array): void {
    if (this.firstRead) {
      this.firstRead = false;
      // 0x16 0x03: a TLS handshake record. No protocol message starts so; say why and close
      // rather than let the client wait for the registration deadline.
      if (chunk[0] === 0x16 && chunk[1] === 0x03 && !this.server.options.tls) {
        this.server.drop(this, "it speaks TLS, but this server does not (no --tls-cert)");
        return;
      }
    }
    const before = this.events;
    this.decoder.feed(chunk, this.onEvent);
    if (this.decoder.idle) this.partialSince = 0;
    // A message that ended in this chunk means the unfinished one started in it too.
    else if (this.partialSince === 0 || this.events !== before) {
      this.partialSince = performance.now();
    }
  }

  closed(error?: Error): void {
    this.server.onClosed(this, error);
  }

  /** Writes one message now, dropping the connection if its reader has fallen too far behind. */
  write(bytes: Uint8Array): void {
    this.conn.write(bytes);
    if (this.conn.queuedBytes > this.server.options.maxWriteQueueBytes) {
      this.server.drop(this, "too slow: it does not read what the server sends");
    }
  }

  /** Reserves the next answer slot; fill it with {@link resolve}. */
  reserve(): Reply {
    const reply: Reply = { bytes: null };
    this.replies.push(reply);
    return reply;
  }

  /**
   * Fills an answer slot and writes every answer that is now ready, in order. Answers that
   * become ready together (those held behind a slow one) go out in one write: a sender with
   * thousands held must not cost thousands of writes, nor a shift of the whole list for each.
   */
  resolve(reply: Reply, message: Message): void {
    reply.bytes = encodeAnswer(message);
    this.held += reply.bytes.length;
    const replies = this.replies;
    let ready = 0;
    while (ready < replies.length && replies[ready]!.bytes !== null) ready++;
    if (ready > 0) {
      // Taken off the list before anything is written: a write can drop the connection, and
      // what that sets off must not find these answers again.
      const out = replies.splice(0, ready);
      for (const r of out) this.held -= r.bytes!.length;
      let from = 0;
      for (let i = 0; i < out.length; i++) {
        const after = out[i]!.after;
        if (after === undefined && i < out.length - 1) continue;
        this.write(joinReplies(out, from, i + 1));
        from = i + 1;
        after?.();
      }
    }
    // Answers held behind an unfinished one are bytes waiting to be written, too.
    if (
      this.held > 0 && this.held + this.conn.queuedBytes > this.server.options.maxWriteQueueBytes
    ) {
      this.server.drop(this, "too many answers waiting to be written");
    }
  }

  /** Answers at once, after any earlier answers still owed. */
  reply(message: Message, after?: () => void): void {
    const slot = this.reserve();
    if (after) slot.after = after;
    this.resolve(slot, message);
  }

  get label(): string | undefined {
    return this.user?.name;
  }
}

const EMPTY_BYTES = new Uint8Array(0);

/**
 * The function that answers one SEND in its reserved slot. Made here, away from the SEND's
 * body, so that what waits for an answer does not keep the body alive.
 */
function answerer(s: Session, slot: Reply): (m: Message) => void {
  return (message) => {
    s.pendingSends--;
    s.resolve(slot, message);
  };
}

/** Canonical ERROR answers, encoded once: a flood can be answered with many thousands. */
const ERROR_BYTES = new Map<number, Uint8Array>();

/** Encodes an answer; the canonical ERROR answers come from a cache (never modified). */
function encodeAnswer(message: Message): Uint8Array {
  if (message.type !== "ERROR" || message.text !== ERROR_TEXT[message.code]) return encode(message);
  let bytes = ERROR_BYTES.get(message.code);
  if (bytes === undefined) ERROR_BYTES.set(message.code, bytes = encode(message));
  return bytes;
}

/** The bytes of `replies[from, to)`, all filled in, as one buffer. */
function joinReplies(replies: Reply[], from: number, to: number): Uint8Array {
  if (to - from === 1) return replies[from]!.bytes!;
  let length = 0;
  for (let i = from; i < to; i++) length += replies[i]!.bytes!.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (let i = from; i < to; i++) {
    out.set(replies[i]!.bytes!, at);
    at += replies[i]!.bytes!.length;
  }
  return out;
}

function halfBit(half: Half): number {
  return half === "TOSEND" ? 1 : 2;
}

/** The relay's state and rules, independent of how it was started. */
class Relay {
  readonly options: ServerOptions;
  readonly users = new Map<string, User>();
  readonly sessions = new Set<Session>();
  readonly perAddress = new Map<string, number>();
  /** Rate-limit token buckets by username. */
  readonly buckets = new Map<string, { tokens: number; at: number }>();
  readonly log: Logger;
  /** True while shutting down: new messages are refused. */
  draining = false;

  constructor(options: ServerOptions) {
    this.options = options;
    this.log = options.log;
  }

  accept(conn: Conn): Session {
    const session = new Session(this, conn);
    const o = this.options;
    const fromHere = (this.perAddress.get(conn.remoteHost) ?? 0) + 1;
    this.perAddress.set(conn.remoteHost, fromHere);
    this.sessions.add(session);
    let refuse = "";
    if (this.draining) refuse = "the server is shutting down";
    else if (o.maxConnections > 0 && this.sessions.size > o.maxConnections) {
      refuse = `the server already has ${o.maxConnections} connections`;
    } else if (o.maxPerAddress > 0 && fromHere > o.maxPerAddress) {
      refuse = `${conn.remoteHost} already has ${o.maxPerAddress} connections`;
    }
    if (refuse) {
      session.refused = true;
      this.log({ event: "dropped", remote: conn.remote, reason: `refused: ${refuse}` });
      session.reply(errorMessage(ErrorCode.TooManyConnections), () => conn.end());
    }
    return session;
  }

  onEvent(s: Session, e: DecodeEvent): void {
    if (s.conn.closed || s.refused) return;
    if (e.kind === "error") return this.onDecodeError(s, e.error);
    const m = e.message;
    if (m.type === "REGISTER") return this.register(s, m.half, m.name);
    if (s.user === null) {
      this.log({
        event: "protocol-error",
        remote: s.conn.remote,
        reason: `${m.type} before REGISTER`,
        closed: false,
      });
      return s.reply(errorMessage(ErrorCode.NoUserRegistered));
    }
    switch (m.type) {
      case "SEND":
        return this.send(s, m.to, m.body);
      case "RECEIVED":
        return this.acknowledged(s, m.from, true);
      case "ERROR":
        return this.acknowledged(s, "", false, `it answered ERROR ${m.code} ${m.text}`);
      case "UNREGISTER":
        return this.unregister(s, m.name);
      default:
        this.log({
          event: "protocol-error",
          remote: s.conn.remote,
          name: s.label,
          reason: `unexpected ${m.type} from a client`,
          closed: false,
        });
        s.reply(errorMessage(ErrorCode.HeaderIncomplete));
        return this.answeredWrong(s, `it answered ${m.type} instead of RECEIVED`);
    }
  }

  /** A recipient answered something other than RECEIVED: the message in flight failed. */
  answeredWrong(s: Session, why: string): void {
    if (s.inflight !== null && s.has("TORECV")) this.acknowledged(s, "", false, why);
  }

  onDecodeError(s: Session, error: import("../protocol/mod.ts").DecodeError): void {
    let reason: string;
    switch (error.code) {
      case "header-too-large":
        reason = `header longer than ${error.limit} bytes`;
        break;
      case "body-too-large":
        reason =
          `${error.verb} body of ${error.length} bytes is over the ${error.limit}-byte limit`;
        break;
      case "unknown-verb":
        reason = `unknown message ${JSON.stringify(error.line.slice(0, 80))}`;
        break;
      case "malformed":
        reason = error.reason;
        break;
    }
    this.log({
      event: "protocol-error",
      remote: s.conn.remote,
      name: s.label,
      reason,
      closed: error.fatal,
    });
    if (error.fatal) {
      s.reply(errorMessage(ErrorCode.HeaderIncomplete), () => s.conn.end());
      return;
    }
    if (error.code === "body-too-large" && error.verb === "SEND" && s.has("TOSEND")) {
      // The body was skipped, so the stream is still in step: refuse just this message.
      return s.reply(errorMessage(ErrorCode.UnableToSend));
    }
    if (s.user === null && (error.code === "unknown-verb" || error.code === "body-too-large")) {
      return s.reply(errorMessage(ErrorCode.NoUserRegistered));
    }
    s.reply(errorMessage(ErrorCode.HeaderIncomplete));
    this.answeredWrong(s, `it answered with something unreadable (${reason})`);
  }

  register(s: Session, half: Half, name: string): void {
    if (!isValidName(name)) {
      this.log({
        event: "rejected",
        remote: s.conn.remote,
        reason: `malformed username ${JSON.stringify(name.slice(0, 80))}`,
      });
      return s.reply(errorMessage(ErrorCode.MalformedUsername));
    }
    if (s.user !== null && s.user.name !== name) {
      this.log({
        event: "rejected",
        remote: s.conn.remote,
        reason: `connection already registered as "${s.user.name}", cannot also be "${name}"`,
      });
      return s.reply(errorMessage(ErrorCode.MalformedUsername));
    }
    let user = this.users.get(name);
    if (user === undefined) {
      user = { name, send: null, recv: null };
      this.users.set(name, user);
    }
    const holder = half === "TOSEND" ? user.send : user.recv;
    if (holder === s) {
      return s.reply({ type: "REGISTERED", half, name });
    }
    if (holder !== null) {
      this.log({
        event: "rejected",
        remote: s.conn.remote,
        reason: `${half} of "${name}" is already registered`,
      });
      return s.reply(errorMessage(ErrorCode.UsernameTaken));
    }
    if (half === "TOSEND") user.send = s;
    else user.recv = s;
    s.user = user;
    s.halves |= halfBit(half);
    s.reply({ type: "REGISTERED", half, name });
    this.log({ event: "registered", name, half, remote: s.conn.remote });
  }

  online(name: string): User | undefined {
    const user = this.users.get(name);
    return user && user.send !== null && user.recv !== null ? user : undefined;
  }

  send(s: Session, to: string, body: Uint8Array): void {
    const from = s.user!.name;
    if (!s.has("TOSEND")) {
      this.log({
        event: "protocol-error",
        remote: s.conn.remote,
        name: from,
        reason: "SEND on a TORECV connection",
        closed: false,
      });
      return s.reply(errorMessage(ErrorCode.UnableToSend));
    }
    const slot = s.reserve();
    if (this.draining) {
      this.log({ event: "not-delivered", from, to, reason: "the server is shutting down" });
      return s.resolve(slot, errorMessage(ErrorCode.UnableToSend));
    }
    if (!this.takeToken(s.user!)) {
      this.log({ event: "not-delivered", from, to, reason: "sender is over the rate limit" });
      return s.resolve(slot, errorMessage(ErrorCode.RateLimited));
    }
    if (s.pendingSends >= this.options.maxPendingSends) {
      this.log({ event: "not-delivered", from, to, reason: "too many messages awaiting answers" });
      return s.resolve(slot, errorMessage(ErrorCode.UnableToSend));
    }
    s.pendingSends++;
    const finish = answerer(s, slot);
    if (s.broadcasting || s.waiting.length > 0) {
      // Behind a SEND ALL still being delivered: wait in order, so that every recipient gets
      // this sender's messages in the order they were sent.
      if (s.waiting.length > 0 && s.waitingBytes + body.length > this.options.maxQueuedBytes) {
        this.log({ event: "not-delivered", from, to, reason: "too many messages waiting to go" });
        return finish(errorMessage(ErrorCode.UnableToSend));
      }
      s.waiting.push({ to, body, finish });
      s.waitingBytes += body.length;
      return;
    }
    this.dispatch(s, from, to, body, finish);
  }

  /** Starts delivering one SEND whose turn has come. */
  dispatch(
    s: Session,
    from: string,
    to: string,
    body: Uint8Array,
    finish: (m: Message) => void,
  ): void {
    if (to === BROADCAST) return this.broadcast(s, from, body, finish);
    const target = this.online(to);
    if (target === undefined) {
      this.log({ event: "not-delivered", from, to, reason: `"${to}" is not online` });
      return finish(errorMessage(ErrorCode.UnableToSend));
    }
    this.deliver(target.recv!, from, to, body, null, (ok) => {
      finish(ok ? { type: "SENT", to } : errorMessage(ErrorCode.UnableToSend));
    });
  }

  /**
   * Delivers a SEND ALL to every other online user. One broadcast per sender is delivered at a
   * time: the sender's later messages wait until every recipient of the broadcast has answered.
   * A SEND ALL costs one rate-limit token but asks for a FORWARD to everyone, so without this a
   * few senders could keep every user's queue full and hold up everyone else's messages.
   */
  broadcast(s: Session, from: string, body: Uint8Array, finish: (m: Message) => void): void {
    s.broadcasting = true;
    const targets: User[] = [];
    for (const user of this.users.values()) {
      if (user.name !== from && user.send !== null && user.recv !== null) targets.push(user);
    }
    const bytes = targets.length > 0 ? encode({ type: "FORWARD", from, body }) : EMPTY_BYTES;
    let waiting = targets.length;
    let failed = 0;
    const settle = () => {
      this.log({ event: "broadcast", from, delivered: targets.length - failed, failed });
      finish(failed === 0 ? { type: "SENT", to: BROADCAST } : errorMessage(ErrorCode.UnableToSend));
      s.broadcasting = false;
      // Not inside the callbacks of whichever connection finished this broadcast.
      queueMicrotask(() => this.resume(s));
    };
    if (waiting === 0) return settle();
    for (const user of targets) {
      const done = (ok: boolean) => {
        if (!ok) failed++;
        if (--waiting === 0) settle();
      };
      // A delivery can set off others that take a later target offline (a dropped reader).
      if (this.online(user.name) !== user) done(false);
      else this.deliver(user.recv!, from, user.name, body, bytes, done);
    }
  }

  /** Starts what waited behind a finished SEND ALL, in order, up to the next SEND ALL. */
  resume(s: Session): void {
    while (!s.broadcasting && s.waiting.length > 0) {
      const w = s.waiting.shift()!;
      s.waitingBytes -= w.body.length;
      const from = s.user?.name;
      if (from === undefined || s.conn.closed || this.draining) {
        const reason = from === undefined || s.conn.closed
          ? "the sender left"
          : "the server is shutting down";
        this.log({ event: "not-delivered", from: from ?? "?", to: w.to, reason });
        w.finish(errorMessage(ErrorCode.UnableToSend));
        continue;
      }
      this.dispatch(s, from, w.to, w.body, w.finish);
    }
  }

  /**
   * Takes one message's worth from the user's token bucket; false when it is empty. Buckets
   * are kept by name, so leaving and registering again does not refill one.
   */
  takeToken(user: User): boolean {
    const { rateLimit, rateBurst } = this.options;
    if (rateLimit <= 0) return true;
    const now = performance.now();
    let bucket = this.buckets.get(user.name);
    if (bucket === undefined) {
      bucket = { tokens: rateBurst, at: now };
      this.buckets.set(user.name, bucket);
    }
    bucket.tokens = Math.min(rateBurst, bucket.tokens + (now - bucket.at) * rateLimit / 1000);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets buckets that have refilled: they hold nothing a fresh one would not. */
  forgetFullBuckets(now: number): void {
    const { rateLimit, rateBurst } = this.options;
    for (const [name, b] of this.buckets) {
      if (b.tokens + (now - b.at) * rateLimit / 1000 >= rateBurst) this.buckets.delete(name);
    }
  }

  /** True when no message is waiting for an answer anywhere. */
  quiet(): boolean {
    for (const s of this.sessions) {
      if (s.inflight !== null || s.queue.length > 0 || s.pendingSends > 0) return false;
    }
    return true;
  }

  /**
   * Queues a FORWARD of `body` for a recipient (`shared`: the same FORWARD already encoded, for
   * a broadcast); `done` is called exactly once with the outcome. The FORWARD is encoded only
   * once it is queued: a flood at full queues costs no copies.
   */
  deliver(
    r: Session,
    from: string,
    to: string,
    body: Uint8Array,
    shared: Uint8Array | null,
    done: (ok: boolean) => void,
  ): void {
    const bodyBytes = body.length;
    // A FORWARD is its body plus a header of about 30 bytes and the sender's name.
    const size = bodyBytes + from.length + 32;
    const full = r.queue.length >= this.options.maxQueuedForwards ||
      (r.queue.length > 0 && r.queuedBytes + size > this.options.maxQueuedBytes);
    const delivery: Delivery = {
      from,
      to,
      bytes: full ? EMPTY_BYTES : shared ?? encode({ type: "FORWARD", from, body }),
      sentAt: 0,
      queuedAt: performance.now(),
      done: (ok, reason) => {
        if (ok) this.log({ event: "forwarded", from, to, bytes: bodyBytes });
        else this.log({ event: "not-delivered", from, to, reason });
        done(ok);
      },
    };
    if (full) {
      return delivery.done(false, `"${to}" has too many messages waiting`);
    }
    r.queue.push(delivery);
    r.queuedBytes += delivery.bytes.length;
    this.pump(r);
  }

  /** Sends the recipient its next FORWARD if none is awaiting an answer. */
  pump(r: Session): void {
    if (r.inflight !== null || r.queue.length === 0 || r.conn.closed) return;
    const d = r.queue.shift()!;
    r.queuedBytes -= d.bytes.length;
    r.inflight = d;
    d.sentAt = performance.now();
    r.write(d.bytes);
  }

  /** A recipient answered RECEIVED (ok) or ERROR (not ok) on its TORECV connection. */
  acknowledged(r: Session, from: string, ok: boolean, why = ""): void {
    const d = r.inflight;
    if (!r.has("TORECV") || d === null) {
      this.log({
        event: "protocol-error",
        remote: r.conn.remote,
        name: r.label,
        reason: ok ? `RECEIVED ${from} matches no message awaiting an answer` : `unexpected ERROR`,
        closed: false,
      });
      return;
    }
    r.inflight = null;
    if (ok && from !== d.from) {
      d.done(false, `"${d.to}" acknowledged a message from "${from}" instead of "${d.from}"`);
    } else {
      d.done(ok, ok ? "" : `"${d.to}" could not read it: ${why}`);
    }
    this.pump(r);
  }

  unregister(s: Session, name: string): void {
    const user = s.user!;
    if (user.name !== name) {
      this.log({
        event: "protocol-error",
        remote: s.conn.remote,
        name: user.name,
        reason: `UNREGISTER "${name}" on a connection of "${user.name}"`,
        closed: false,
      });
      return s.reply(errorMessage(ErrorCode.NoUserRegistered));
    }
    this.log({ event: "unregistered", name });
    this.removeUser(user, s, "unregistered");
    s.reply({ type: "UNREGISTERED", name }, () => s.conn.end());
  }

  /** Removes a user: fails what waits for it and closes its other connection. */
  removeUser(user: User, keep: Session | null, reason: string): void {
    if (this.users.get(user.name) === user) this.users.delete(user.name);
    for (const s of [user.send, user.recv]) {
      if (s === null) continue;
      s.user = null;
      s.halves = 0;
      this.failDeliveries(s, reason);
      if (s !== keep) s.conn.end();
    }
    user.send = null;
    user.recv = null;
  }

  failDeliveries(r: Session, reason: string): void {
    const pending = r.inflight ? [r.inflight, ...r.queue] : [...r.queue];
    r.inflight = null;
    r.queue.length = 0;
    r.queuedBytes = 0;
    for (const d of pending) d.done(false, `"${d.to}" ${reason}`);
  }

  onClosed(s: Session, error?: Error): void {
    this.sessions.delete(s);
    const left = (this.perAddress.get(s.conn.remoteHost) ?? 1) - 1;
    if (left > 0) this.perAddress.set(s.conn.remoteHost, left);
    else this.perAddress.delete(s.conn.remoteHost);
    const user = s.user;
    if (user !== null) {
      const half: Half = user.send === s ? "TOSEND" : "TORECV";
      // A TLS peer that just hangs up without close_notify has simply closed.
      const why = error && !/close_notify/.test(error.message)
        ? `connection error: ${error.message}`
        : "connection closed";
      this.log({ event: "disconnected", name: user.name, half, reason: why });
      this.removeUser(user, null, "disconnected");
    }
    this.failDeliveries(s, "disconnected");
  }

  /** Closes a connection that broke a limit. */
  drop(s: Session, reason: string): void {
    if (s.conn.closed) return;
    this.log({ event: "dropped", remote: s.conn.remote, name: s.label, reason });
    s.conn.close();
  }

  /**
   * Enforces the deadlines: acknowledgement timeout, registration deadline, and the stall
   * deadline for a message that started arriving and stopped.
   */
  sweep(now: number): void {
    const o = this.options;
    if (o.rateLimit > 0 && this.buckets.size > 0) this.forgetFullBuckets(now);
    for (const s of this.sessions) {
      if (s.conn.closed) continue;
      // pendingSends: a connection that left with UNREGISTER still gets the answers it is owed.
      if (s.user === null && s.pendingSends === 0 && now - s.openedAt >= o.registerTimeoutMs) {
        this.drop(s, `did not register within ${o.registerTimeoutMs} ms`);
        continue;
      }
      if (s.partialSince !== 0 && now - s.partialSince >= o.stallTimeoutMs) {
        this.drop(s, `a message stalled half-sent for ${o.stallTimeoutMs} ms`);
        continue;
      }
      // The other direction: bytes for it wait while it reads nothing (under the write-queue
      // limit, such a reader could otherwise hold its buffers for ever).
      if (s.conn.queuedBytes === 0) s.writeStuckSince = 0;
      else if (s.writeStuckSince === 0 || s.conn.sentBytes !== s.lastSent) {
        s.writeStuckSince = now;
        s.lastSent = s.conn.sentBytes;
      } else if (now - s.writeStuckSince >= o.stallTimeoutMs) {
        this.drop(s, `it has read nothing the server sent for ${o.stallTimeoutMs} ms`);
        continue;
      }
      // Queued behind a recipient that acknowledges slowly: give up rather than wait for ever.
      while (s.queue.length > 0 && now - s.queue[0]!.queuedAt >= 2 * o.ackTimeoutMs) {
        const late = s.queue.shift()!;
        s.queuedBytes -= late.bytes.length;
        late.done(false, `"${late.to}" did not take it within ${2 * o.ackTimeoutMs} ms`);
      }
      const d = s.inflight;
      if (d !== null && now - d.sentAt >= this.options.ackTimeoutMs) {
        s.inflight = null;
        // Its answers can no longer be matched to messages: close it, before its sender hears,
        // so that nothing the answer sets off still counts it as online.
        this.drop(s, "did not acknowledge a message in time");
        d.done(false, `"${d.to}" did not answer within ${this.options.ackTimeoutMs} ms`);
      }
    }
  }
}

/** Starts a server with the given options (the rest from {@link DEFAULT_SERVER_OPTIONS}). */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<ChatServer> {
  const opts: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  const relay = new Relay(opts);
  const listener: Listener = await listen(
    {
      hostname: opts.hostname,
      port: opts.port,
      transport: opts.transport,
      ...(opts.tls ? { tls: opts.tls } : {}),
    },
    (conn) => relay.accept(conn),
  );
  const shortest = Math.min(opts.ackTimeoutMs, opts.registerTimeoutMs, opts.stallTimeoutMs);
  const every = Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
  const timer = setInterval(() => relay.sweep(performance.now()), every);
  let closing: Promise<void> | null = null;
  return {
    hostname: listener.hostname,
    port: listener.port,
    connectionCount: () => relay.sessions.size,
    onlineUsers: () => [...relay.users.values()].filter((u) => u.send && u.recv).map((u) => u.name),
    close({ drain = true } = {}) {
      closing ??= (async () => {
        relay.draining = true;
        // Not awaited yet: node:net's listener only finishes closing once every connection has.
        const stopped = listener.close();
        if (drain) {
          const until = performance.now() + opts.drainTimeoutMs;
          while (!relay.quiet() && performance.now() < until) {
            await new Promise((r) => setTimeout(r, 20));
          }
          // What is still unacknowledged will not be: its senders get ERROR 102 before the end.
          for (const s of relay.sessions) {
            relay.failDeliveries(s, "did not acknowledge it before the server stopped");
          }
          // Close cleanly: what was written still reaches the clients.
          for (const s of relay.sessions) s.conn.end();
          const ended = Promise.all([...relay.sessions].map((s) => s.conn.done));
          let t: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([ended, new Promise((r) => t = setTimeout(r, 1000))]);
          clearTimeout(t);
        }
        clearInterval(timer);
        const sessions = [...relay.sessions];
        for (const s of sessions) s.conn.close();
        await Promise.all(sessions.map((s) => s.conn.done));
        await stopped;
      })();
      return closing;
    },
  };
}
