/**
 * The client's protocol engine: one user's session with a server (registration of the two
 * connections, the outbox and its answers, ERROR 106 resends, acknowledging FORWARDs,
 * reconnecting, leaving). The terminal and piped faces drive it and render its events.
 *
 * @module
 */
import { formatAddress } from "../net/address.ts";
import {
  bodyText,
  type DecodeError,
  type DecodeEvent,
  Decoder,
  describeDecodeError,
  encode,
  ErrorCode,
  errorMessage,
  type Half,
  type Message,
  utf8Bytes,
} from "../protocol/mod.ts";
import { type Conn, connect as transportConnect, type ConnectOptions } from "../net/transport.ts";
import {
  type Backoff,
  backoffDelay,
  classifyConnectError,
  type ClientEvent,
  describeFailure,
  looksLikeTls,
  messageLine,
  NAME_TAKEN_TRIES,
  printable,
  RATE_RETRY_BACKOFF,
  RATE_RETRY_ROUNDS,
  RECONNECT_BACKOFF,
} from "./view.ts";

/** How long /quit waits for the server to confirm UNREGISTER before just closing. */
const LEAVE_WAIT_MS = 1000;
/** Largest incoming message body shown; larger ones are refused with ERROR 103. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Most messages on the wire awaiting their answers (the server allows 256 per connection). */
const DEFAULT_WINDOW = 32;
/** Most messages waiting to go out (typed while reconnecting, or held back by ERROR 106). */
export const DEFAULT_MAX_QUEUED = 100;

/** Options of {@link ChatSession}. */
export interface ChatSessionOptions {
  /** Server host name or address. */
  host: string;
  /** Server port. */
  port: number;
  /** Username to register. */
  name: string;
  /** How long connecting and registering may take. */
  timeoutMs: number;
  /** Receives every event to show. */
  onEvent: (event: ClientEvent) => void;
  /** Opens a connection; default the TCP transport. */
  connect?: typeof transportConnect;
  /** Speak TLS on both connections; `caCerts` (PEM text) are trusted too. */
  tls?: { caCerts?: string[] };
  /**
   * When the connection is lost once registered, reconnect (with {@link reconnectBackoff})
   * instead of ending; until it is back, messages sent are queued.
   */
  reconnect?: boolean;
  /** Waits between reconnect attempts. Default {@link RECONNECT_BACKOFF}. */
  reconnectBackoff?: Backoff;
  /** Waits before resending messages refused with ERROR 106. Default {@link RATE_RETRY_BACKOFF}. */
  rateRetryBackoff?: Backoff;
  /** Rounds of ERROR 106 in a row, with nothing delivered, before giving up. Default 5. */
  rateRetryRounds?: number;
  /** Reconnect attempts that may find the name taken before giving up. Default 5. */
  nameTakenTries?: number;
  /** Most messages awaiting answers at once. Default 32. */
  window?: number;
  /** Most messages waiting to go out; {@link ChatSession.send} refuses more. Default 100. */
  maxQueued?: number;
  /** Random numbers in [0, 1) for the jitter; default `Math.random`. */
  random?: () => number;
}

/** The outcome of {@link ChatSession.open}. */
export type OpenResult =
  | { ok: true }
  | { ok: false; event: ClientEvent; nameRefused: boolean };

/** How a session ended. */
export type SessionEnd = "left" | "disconnected";

/** One message the user asked to send, from then until it is answered or given up. */
interface Outgoing {
  /** Order in which it was typed. */
  id: number;
  to: string;
  body: Uint8Array;
  /** How many times the server answered ERROR 106 to it. */
  refusals: number;
}

/** What the session waits an answer for on TOSEND, in the order they were sent. */
type Pending = { kind: "send"; msg: Outgoing } | { kind: "unregister" };

/**
 * One pair of connections (TOSEND and TORECV) and the answers owed on them. A reconnect makes
 * a new one; events of an old one are ignored.
 */
class Link {
  send: Conn | null = null;
  recv: Conn | null = null;
  sendDecoder = new Decoder({ from: "server", maxBodyBytes: MAX_BODY_BYTES });
  recvDecoder = new Decoder({ from: "server", maxBodyBytes: MAX_BODY_BYTES });
  readonly registered = new Set<Half>();
  /** Halves whose first bytes were checked for a TLS answer. */
  readonly sniffed = new Set<Half>();
  readonly registration = Promise.withResolvers<OpenResult>();
  /** Messages and UNREGISTER on the wire, awaiting their answers in order. */
  fifo: Pending[] = [];
  /** How many of {@link fifo} are messages. */
  wireSends = 0;
  /** Closed, or given up on: its events no longer count. */
  dead = false;
  /** Registered and handed over to the session (until then, a failure fails the attempt). */
  live = false;
  /** Failed after its registration succeeded but before it was handed over. */
  broken = false;
  /** True for the links made by a reconnect. */
  readonly again: boolean;

  constructor(again: boolean) {
    this.again = again;
  }

  /** Closes both connections; resolves once they are fully closed. */
  async close(): Promise<void> {
    this.dead = true;
    const conns = [this.send, this.recv].filter((c): c is Conn => c !== null);
    for (const c of conns) c.close();
    await Promise.all(conns.map((c) => c.done));
  }
}

/**
 * One user's session with a server: registration of the two connections, sending with a FIFO
 * of messages that await their answers, resending what the server refused with ERROR 106,
 * acknowledging FORWARDs, reconnecting (when asked) and leaving. Reports everything through
 * `onEvent`; never throws once open.
 */
export class ChatSession {
  readonly #opts: ChatSessionOptions;
  readonly #server: string;
  readonly #window: number;
  readonly #maxQueued: number;
  #state: "new" | "registering" | "ready" | "reconnecting" | "leaving" | "ended" = "new";
  #link: Link | null = null;
  /** Messages not on the wire yet, in the order typed (refused ones go back in their place). */
  #outbox: Outgoing[] = [];
  #nextId = 0;
  #idleWaiters: (() => void)[] = [];
  #roomWaiters: (() => void)[] = [];
  #leaveDone = Promise.withResolvers<boolean>();
  #end = Promise.withResolvers<SessionEnd>();
  #endValue: SessionEnd | null = null;
  // ERROR 106: sending holds until the wait is over and the messages on the wire are answered.
  #rateHold = false;
  #rateWaited = false;
  #rateTimer: ReturnType<typeof setTimeout> | null = null;
  /** Holds in a row with nothing delivered in between. */
  #rateStrikes = 0;
  /** The last hold: every refused message is given up, not resent. */
  #rateGivingUp = false;
  /**
   * Set by ERROR 106: one message at a time, so that none overtakes one that waits to be sent
   * again, until everything sent has its answer.
   */
  #rateSlow = false;
  // Reconnecting.
  #reconnecting: Promise<void> | null = null;
  #sleep: { timer: ReturnType<typeof setTimeout>; resolve: (slept: boolean) => void } | null = null;

  /** Messages the server confirmed as delivered. */
  delivered = 0;
  /** Messages the server answered with an ERROR (after any resends for ERROR 106). */
  notDelivered = 0;
  /** Messages that got no answer before the connection was lost or the session ended. */
  unconfirmed = 0;
  /** Messages that never went out before the session ended. */
  notSent = 0;

  /** Creates a session; nothing happens until {@link open}. */
  constructor(options: ChatSessionOptions) {
    this.#opts = options;
    this.#server = formatAddress(options.host, options.port);
    this.#window = Math.max(1, options.window ?? DEFAULT_WINDOW);
    this.#maxQueued = Math.max(1, options.maxQueued ?? DEFAULT_MAX_QUEUED);
  }

  /** The server as `host:port`. */
  get server(): string {
    return this.#server;
  }

  /** Resolves when the session has ended (both connections closed, no reconnecting). */
  get ended(): Promise<SessionEnd> {
    return this.#end.promise;
  }

  /** True while messages go out at once. */
  get ready(): boolean {
    return this.#state === "ready";
  }

  /** True once the session has ended. */
  get done(): boolean {
    return this.#endValue !== null;
  }

  /** True while the connection is lost and the client tries to get it back. */
  get reconnecting(): boolean {
    return this.#state === "reconnecting";
  }

  /** Messages sent or queued whose answer has not come yet. */
  get pending(): number {
    return this.#outbox.length + (this.#link?.wireSends ?? 0);
  }

  /** True when {@link send} would refuse a message because too many wait to go out. */
  get full(): boolean {
    return this.#outbox.length >= this.#maxQueued;
  }

  /** Resolves once a message can be queued again (or the session has ended). */
  async room(): Promise<void> {
    if (!this.full || this.#endValue !== null) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#roomWaiters.push(resolve);
    await Promise.race([promise, this.#end.promise]);
    this.#roomWaiters = this.#roomWaiters.filter((w) => w !== resolve);
  }

  /** Connects both halves and registers them. On failure everything is closed again. */
  async open(): Promise<OpenResult> {
    if (this.#state !== "new") throw new Error("ChatSession.open called twice");
    this.#state = "registering";
    const [result, link] = await this.#connectLink(false);
    if (result.ok && this.#state === "registering" && this.#adopt(link)) {
      this.#state = "ready";
      this.#pump();
      return result;
    }
    this.#state = "ended";
    await link.close();
    this.#finish("disconnected");
    return result.ok ? this.#closedDuringRegistration() : result;
  }

  /**
   * Takes a registered link into use, unless it broke after its registration (checked in the
   * same turn as the caller's state change, so no close event can fall in between).
   */
  #adopt(link: Link): boolean {
    if (link.broken || link.dead) return false;
    link.live = true;
    return true;
  }

  #closedDuringRegistration(): { ok: false; event: ClientEvent; nameRefused: false } {
    return {
      ok: false,
      nameRefused: false,
      event: {
        type: "register-failed",
        server: this.#server,
        reason: "closed",
        detail: "",
        timeoutMs: 0,
      },
    };
  }

  /**
   * Opens a new pair of connections and registers it; on failure closes it again and returns
   * the event that explains why. Does not change the session's state.
   */
  async #connectLink(again: boolean): Promise<[OpenResult, Link]> {
    const link = new Link(again);
    this.#link = link;
    const { host, port, timeoutMs } = this.#opts;
    const tls = this.#opts.tls;
    const connect = this.#opts.connect ?? transportConnect;
    const options: ConnectOptions = { hostname: host, port, ...(tls ? { tls } : {}) };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const fail = async (event: ClientEvent, nameRefused = false): Promise<[OpenResult, Link]> => {
      await link.close();
      return [{ ok: false, event, nameRefused }, link];
    };
    try {
      const attempts = (["TOSEND", "TORECV"] as const).map((half) =>
        connect(options, {
          data: (chunk) => this.#data(link, half, chunk),
          closed: (error) => this.#closed(link, half, error),
        }).then((conn) => {
          // A connection that comes after a failure or the timeout is not wanted.
          if (link.dead) conn.close();
          else if (half === "TOSEND") link.send = conn;
          else link.recv = conn;
          return conn;
        })
      );
      // Ends early if the registration fails first (a half closed, or close() was called).
      const connected = await Promise.race([
        Promise.all(attempts),
        timeout,
        link.registration.promise,
      ]);
      if (connected === "timeout") {
        attempts.forEach((a) => a.catch(() => {}));
        return await fail({
          type: "connect-failed",
          server: this.#server,
          host: printable(host),
          reason: "timeout",
          detail: "",
          timeoutMs,
          ...(tls ? { tls: true } : {}),
        });
      }
      if (!Array.isArray(connected)) {
        attempts.forEach((a) => a.catch(() => {}));
        return connected.ok
          ? [connected, link]
          : await fail(connected.event, connected.nameRefused);
      }
      for (const conn of connected) {
        const half = conn === link.send ? "TOSEND" : "TORECV";
        conn.write(encode({ type: "REGISTER", half, name: this.#opts.name }));
      }
      const result = await Promise.race([link.registration.promise, timeout]);
      if (result === "timeout") {
        return await fail({
          type: "register-failed",
          server: this.#server,
          reason: "timeout",
          detail: "",
          timeoutMs,
        });
      }
      if (!result.ok) return await fail(result.event, result.nameRefused);
      return [result, link];
    } catch (error) {
      return await fail(classifyConnectError(error, host, this.#server, timeoutMs, !!tls));
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends `text` to `to` (`"ALL"` for everyone). It goes out at once, or waits its turn while
   * the client reconnects, resends after ERROR 106, or has many messages awaiting answers.
   * False if the session is not open, or {@link full}.
   */
  send(to: string, text: string): boolean {
    if (this.#state !== "ready" && this.#state !== "reconnecting") return false;
    if (this.full) return false;
    this.#outbox.push({ id: this.#nextId++, to, body: utf8Bytes(text), refusals: 0 });
    this.#pump();
    return true;
  }

  /** Puts waiting messages on the wire, in order, as far as the window and the state allow. */
  #pump(): void {
    const link = this.#link;
    if (this.#state !== "ready" || link === null || link.send === null || this.#rateHold) return;
    if (this.#rateSlow && this.pending === 0) this.#rateSlow = false;
    const window = this.#rateSlow ? 1 : this.#window;
    while (this.#outbox.length > 0 && link.wireSends < window) {
      const msg = this.#outbox.shift()!;
      link.fifo.push({ kind: "send", msg });
      link.wireSends++;
      link.send.write(encode({ type: "SEND", to: msg.to, body: msg.body }));
    }
    this.#wakeRoom();
  }

  /**
   * Waits until every message sent has its answer, the session ends, or `timeoutMs` passes.
   * Resolves true if nothing is left waiting.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0 || this.#endValue !== null) return this.pending === 0;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#idleWaiters.push(resolve);
    const timer = setTimeout(resolve, timeoutMs);
    await Promise.race([promise, this.#end.promise]);
    clearTimeout(timer);
    this.#idleWaiters = this.#idleWaiters.filter((w) => w !== resolve);
    return this.pending === 0;
  }

  /**
   * Leaves: sends `UNREGISTER name`, waits up to a second for the answer (answers to earlier
   * messages are still reported), then closes both connections. Messages still unanswered
   * are reported as unconfirmed, those not sent yet as not sent. While reconnecting, stops
   * trying and ends.
   */
  async leave(): Promise<void> {
    if (this.#state === "leaving") {
      await this.#end.promise;
      return;
    }
    if (this.#state === "reconnecting") {
      this.#state = "ended";
      this.#reportUnsent("you left before the client could reconnect");
      await this.#stopReconnecting();
      this.#emit({ type: "left", confirmed: false, offline: true });
      this.#finish("left");
      return;
    }
    const link = this.#link;
    if (this.#state !== "ready" || link === null || link.send === null) {
      await this.close();
      return;
    }
    this.#state = "leaving";
    this.#clearRateHold();
    link.fifo.push({ kind: "unregister" });
    link.send.write(encode({ type: "UNREGISTER", name: this.#opts.name }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const confirmed = await Promise.race([
      this.#leaveDone.promise,
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), LEAVE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    this.#state = "ended";
    this.#reportUnanswered(link, "you left");
    this.#reportUnsent("you left before it was sent");
    await link.close();
    this.#emit({ type: "left", confirmed });
    this.#finish("left");
  }

  /** Closes both connections at once, without leaving (and stops reconnecting). */
  async close(): Promise<void> {
    const link = this.#link;
    if (this.#state !== "ended") {
      this.#state = "ended";
      if (link !== null) this.#reportUnanswered(link, "the client closed");
      this.#reportUnsent("the client closed before it was sent");
    }
    await this.#stopReconnecting();
    this.#finish("disconnected");
  }

  /** Ends whatever the links are doing: timers, a registration under way, the connections. */
  async #stopReconnecting(): Promise<void> {
    this.#clearRateHold();
    if (this.#sleep !== null) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve(false);
      this.#sleep = null;
    }
    const link = this.#link;
    // An open() or a reconnect still waiting for the registration ends now.
    link?.registration.resolve(this.#closedDuringRegistration());
    await link?.close();
    await this.#reconnecting;
  }

  #finish(end: SessionEnd): void {
    if (this.#endValue !== null) return;
    this.#endValue = end;
    this.#clearRateHold();
    this.#end.resolve(end);
  }

  #emit(event: ClientEvent): void {
    this.#opts.onEvent(event);
  }

  /** Reports the messages on the wire of `link` as unconfirmed, and forgets them. */
  #reportUnanswered(link: Link, why: string): void {
    for (const p of link.fifo) {
      if (p.kind !== "send") continue;
      this.unconfirmed++;
      this.#emit({ type: "unconfirmed", to: p.msg.to, why });
    }
    link.fifo = [];
    link.wireSends = 0;
    this.#wakeIdle();
  }

  /** Reports the messages that never went out as not sent, and forgets them. */
  #reportUnsent(why: string): void {
    for (const msg of this.#outbox) {
      this.notSent++;
      this.#emit({
        type: "not-sent",
        to: msg.to,
        why: msg.refusals > 0
          ? `${why} (it was waiting to be sent again after ERROR 106, sending too fast)`
          : why,
      });
    }
    this.#outbox = [];
    this.#wakeIdle();
    this.#wakeRoom();
  }

  #wakeIdle(): void {
    if (this.pending > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #wakeRoom(): void {
    if (this.full) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  // -------------------------------------------------------------------------------------------
  // ERROR 106: wait, then resend in the order typed.

  /** The server refused `msg` with ERROR 106: queue it again, or give up on it. */
  #rateLimited(msg: Outgoing, text: string): void {
    msg.refusals++;
    this.#rateSlow = true;
    const canResend = this.#state === "ready" || this.#state === "reconnecting";
    if (!canResend || this.#rateGivingUp) return this.#giveUpRefused(msg, text);
    if (!this.#rateHold) {
      this.#rateStrikes++;
      this.#rateHold = true;
      this.#rateWaited = false;
      if (this.#rateStrikes > (this.#opts.rateRetryRounds ?? RATE_RETRY_ROUNDS)) {
        // Nothing got through for several rounds: give up on everything refused so far.
        this.#rateGivingUp = true;
        this.#rateWaited = true;
        const refused = this.#outbox.filter((m) => m.refusals > 0);
        this.#outbox = this.#outbox.filter((m) => m.refusals === 0);
        for (const m of [msg, ...refused].sort((a, b) => a.id - b.id)) {
          this.#giveUpRefused(m, text);
        }
        return;
      }
      const delay = backoffDelay(
        this.#rateStrikes - 1,
        this.#opts.rateRetryBackoff ?? RATE_RETRY_BACKOFF,
        (this.#opts.random ?? Math.random)(),
      );
      this.#rateTimer = setTimeout(() => {
        this.#rateTimer = null;
        this.#rateWaited = true;
        this.#maybeResume();
      }, delay);
    }
    const at = this.#outbox.findIndex((m) => m.id > msg.id);
    if (at === -1) this.#outbox.push(msg);
    else this.#outbox.splice(at, 0, msg);
  }

  #giveUpRefused(msg: Outgoing, text: string): void {
    this.notDelivered++;
    this.#emit({
      type: "not-delivered",
      to: msg.to,
      code: ErrorCode.RateLimited,
      text,
      ...(msg.refusals > 1 ? { attempts: msg.refusals } : {}),
    });
  }

  /** Ends an ERROR 106 hold once its wait is over and nothing sent before it is unanswered. */
  #maybeResume(): void {
    if (!this.#rateHold || !this.#rateWaited || (this.#link?.wireSends ?? 0) > 0) return;
    this.#rateHold = false;
    if (this.#rateGivingUp) {
      this.#rateGivingUp = false;
      this.#rateStrikes = 0;
    }
    this.#pump();
  }

  #clearRateHold(): void {
    if (this.#rateTimer !== null) clearTimeout(this.#rateTimer);
    this.#rateTimer = null;
    this.#rateHold = false;
    this.#rateWaited = false;
    this.#rateGivingUp = false;
    this.#rateStrikes = 0;
    this.#rateSlow = false;
  }

  // -------------------------------------------------------------------------------------------
  // Incoming bytes.

  #data(link: Link, half: Half, chunk: Uint8Array): void {
    if (link.dead || link !== this.#link) return;
    if (!this.#opts.tls && !link.registered.has(half) && !link.sniffed.has(half)) {
      link.sniffed.add(half);
      if (looksLikeTls(chunk)) {
        link.registration.resolve({
          ok: false,
          nameRefused: false,
          event: {
            type: "register-failed",
            server: this.#server,
            reason: "tls-server",
            detail: "",
            timeoutMs: 0,
          },
        });
        return;
      }
    }
    if (half === "TOSEND") {
      link.sendDecoder.feed(chunk, (e) => this.#onSendEvent(link, e));
      return;
    }
    link.recvDecoder.feed(chunk, (e) => this.#onRecvEvent(link, e));
    // After a fatal error the rest of this chunk is lost; start afresh with the next one.
    if (link.recvDecoder.dead) {
      link.recvDecoder = new Decoder({ from: "server", maxBodyBytes: MAX_BODY_BYTES });
    }
  }

  /** A registration answer on either half. */
  #onRegistration(link: Link, half: Half, m: Message): void {
    if (m.type === "REGISTERED" && m.half === half) {
      link.registered.add(half);
      if (link.registered.size === 2) {
        link.registration.resolve({ ok: true });
        this.#emit(
          link.again ? { type: "reconnected", name: this.#opts.name, server: this.#server } : {
            type: "registered",
            name: this.#opts.name,
            server: this.#server,
            hint: false,
            ...(this.#opts.tls ? { tls: true } : {}),
          },
        );
      }
    } else if (m.type === "ERROR") {
      const refused = m.code === ErrorCode.MalformedUsername ||
        m.code === ErrorCode.UsernameTaken;
      link.registration.resolve({
        ok: false,
        nameRefused: refused,
        event: refused
          ? { type: "name-refused", name: this.#opts.name, code: m.code, text: m.text }
          : {
            type: "register-failed",
            server: this.#server,
            reason: m.code === ErrorCode.TooManyConnections ? "full" : "unexpected",
            detail: `ERROR ${m.code} ${m.text}`,
            timeoutMs: 0,
          },
      });
    } else {
      link.registration.resolve({
        ok: false,
        nameRefused: false,
        event: {
          type: "register-failed",
          server: this.#server,
          reason: "unexpected",
          detail: JSON.stringify(messageLine(m)),
          timeoutMs: 0,
        },
      });
    }
  }

  /** Bytes that are not a message where a registration answer was due. */
  #registrationGarbled(link: Link, error: DecodeError): void {
    link.registration.resolve({
      ok: false,
      nameRefused: false,
      event: {
        type: "register-failed",
        server: this.#server,
        reason: "unexpected",
        detail: describeDecodeError(error),
        timeoutMs: 0,
      },
    });
  }

  #onSendEvent(link: Link, e: DecodeEvent): void {
    if (this.#state === "ended" || link.dead) return;
    if (e.kind === "error" && !link.registered.has("TOSEND")) {
      return this.#registrationGarbled(link, e.error);
    }
    if (e.kind === "error") {
      this.#emit({ type: "unexpected", what: describeDecodeError(e.error) });
      if (e.error.fatal) {
        // The answers can no longer be told apart: this connection is of no more use.
        this.#lost(link, "it sent something this client cannot read");
      }
      return;
    }
    const m = e.message;
    if (!link.registered.has("TOSEND")) return this.#onRegistration(link, "TOSEND", m);
    const head = link.fifo[0];
    if (head?.kind === "send" && (m.type === "SENT" || m.type === "ERROR")) {
      link.fifo.shift();
      link.wireSends--;
      if (m.type === "SENT") {
        this.delivered++;
        this.#rateStrikes = 0;
        this.#emit({ type: "sent", to: head.msg.to });
      } else if (m.code === ErrorCode.RateLimited) {
        this.#rateLimited(head.msg, m.text);
      } else {
        this.notDelivered++;
        this.#emit({ type: "not-delivered", to: head.msg.to, code: m.code, text: m.text });
      }
      this.#maybeResume();
      this.#pump();
      this.#wakeIdle();
      return;
    }
    if (head?.kind === "unregister" && (m.type === "ERROR" || m.type === "UNREGISTERED")) {
      link.fifo.shift();
      this.#leaveDone.resolve(m.type === "UNREGISTERED");
      return;
    }
    this.#emit({ type: "unexpected", what: JSON.stringify(messageLine(m)) });
  }

  #onRecvEvent(link: Link, e: DecodeEvent): void {
    if (this.#state === "ended" || link.dead) return;
    const recv = link.recv;
    if (e.kind === "error" && !link.registered.has("TORECV")) {
      return this.#registrationGarbled(link, e.error);
    }
    if (e.kind === "error") {
      recv?.write(encode(errorMessage(ErrorCode.HeaderIncomplete)));
      this.#emit({ type: "bad-forward", reason: describeDecodeError(e.error) });
      return;
    }
    const m = e.message;
    if (!link.registered.has("TORECV")) return this.#onRegistration(link, "TORECV", m);
    if (m.type === "FORWARD") {
      recv?.write(encode({ type: "RECEIVED", from: m.from }));
      this.#emit({ type: "message", from: m.from, text: bodyText(m.body) });
      return;
    }
    this.#emit({ type: "unexpected", what: JSON.stringify(messageLine(m)) });
  }

  #closed(link: Link, half: Half, error?: Error): void {
    if (link.dead || link !== this.#link) return;
    if (!link.live) {
      // Still registering (first time or again): the attempt fails.
      link.broken = true;
      link.registration.resolve({
        ok: false,
        nameRefused: false,
        event: {
          type: "register-failed",
          server: this.#server,
          reason: "closed",
          detail: error?.message ?? "",
          timeoutMs: 0,
        },
      });
      return;
    }
    if (this.#state === "leaving") {
      // The server closes both connections after UNREGISTERED; TOSEND closing ends the wait.
      if (half === "TOSEND") this.#leaveDone.resolve(false);
      return;
    }
    if (this.#state !== "ready") return;
    const detail = error
      ? `connection error (${error.message.replace(/\s*\(os error \d+\)$/, "")})`
      : "the server closed the connection";
    this.#lost(link, detail);
  }

  /**
   * The server went away (or broke the protocol). What was on the wire is reported as
   * unconfirmed; then the session reconnects, or reports what was not sent and ends.
   */
  #lost(link: Link, detail: string): void {
    if (this.#state === "leaving") {
      this.#leaveDone.resolve(false);
      return;
    }
    if (!link.live) {
      link.broken = true;
      link.registration.resolve({
        ok: false,
        nameRefused: false,
        event: {
          type: "register-failed",
          server: this.#server,
          reason: "unexpected",
          detail: detail,
          timeoutMs: 0,
        },
      });
      return;
    }
    if (this.#state !== "ready") return;
    link.dead = true;
    this.#clearRateHold();
    this.#reportUnanswered(link, "the connection was lost");
    if (this.#opts.reconnect) {
      this.#state = "reconnecting";
      this.#reconnecting = this.#reconnect(link, detail).catch((error) => {
        // A bug, not the network: still end with one line rather than an unhandled rejection.
        this.#state = "ended";
        this.#reportUnsent("the client stopped");
        this.#emit({
          type: "disconnected",
          server: this.#server,
          detail: `the client failed while reconnecting (${
            error instanceof Error ? error.message : String(error)
          })`,
        });
        this.#finish("disconnected");
      });
      return;
    }
    this.#state = "ended";
    this.#reportUnsent("the connection was lost before it was sent");
    this.#emit({ type: "disconnected", server: this.#server, detail });
    link.close().then(() => this.#finish("disconnected"));
  }

  /** Waits `ms`; resolves false at once if the session stops meanwhile. */
  #wait(ms: number): Promise<boolean> {
    if (this.#state !== "reconnecting") return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = null;
        resolve(true);
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  /**
   * Tries to get the connection back, with backoff, until it is back, the session stops, or
   * the username stays refused.
   */
  async #reconnect(old: Link, detail: string): Promise<void> {
    await old.close();
    if (this.#state !== "reconnecting") return;
    const backoff = this.#opts.reconnectBackoff ?? RECONNECT_BACKOFF;
    const random = this.#opts.random ?? Math.random;
    const nameTries = this.#opts.nameTakenTries ?? NAME_TAKEN_TRIES;
    let attempt = 0;
    let refusals = 0;
    let delayMs = backoffDelay(attempt, backoff, random());
    let shown = "";
    this.#emit({ type: "reconnecting", server: this.#server, lost: true, detail, delayMs });
    for (;;) {
      if (!(await this.#wait(delayMs)) || this.#state !== "reconnecting") return;
      const [result, link] = await this.#connectLink(true);
      if (this.#state !== "reconnecting") {
        await link.close();
        return;
      }
      if (result.ok && this.#adopt(link)) {
        this.#state = "ready";
        this.#pump();
        return;
      }
      if (result.ok) await link.close();
      const event = result.ok ? this.#closedDuringRegistration().event : result.event;
      if (event.type === "name-refused") {
        refusals++;
        if (event.code !== ErrorCode.UsernameTaken || refusals >= nameTries) {
          this.#state = "ended";
          this.#reportUnsent("the client could not reconnect");
          this.#emit({
            type: "reconnect-failed",
            server: this.#server,
            name: this.#opts.name,
            code: event.code,
            text: event.text,
            tries: refusals,
          });
          this.#finish("disconnected");
          return;
        }
      }
      delayMs = backoffDelay(++attempt, backoff, random());
      const why = describeFailure(event);
      if (why !== shown) {
        shown = why;
        this.#emit({
          type: "reconnecting",
          server: this.#server,
          lost: false,
          detail: why,
          delayMs,
        });
      }
    }
  }
}
