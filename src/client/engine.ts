/**
 * The client's protocol engine: one user's session with a server (registration of the two
 * connections, the outbox and its answers, ERROR 106 resends, acknowledging FORWARDs,
 * reconnecting, leaving). The terminal and piped faces drive it and render its events.
 *
 * It imports no runtime API: the connect function is passed in, and timers are the global
 * `setTimeout`, so it runs in a browser too (`src/client/web_safe_test.ts` checks).
 *
 * @module
 */
import type { ConnHandler } from "../net/conn.ts";
import { formatAddress } from "../net/address.ts";
import {
  bodyText,
  type DecodeEvent,
  describeDecodeError,
  encode,
  ErrorCode,
  errorMessage,
  type Half,
  type Message,
} from "../protocol/mod.ts";
import {
  NAME_TAKEN_TRIES,
  RATE_RETRY_BACKOFF,
  RATE_RETRY_ROUNDS,
  RECONNECT_BACKOFF,
} from "./backoff.ts";
import type { ClientEvent } from "./events.ts";
import { withoutOsError } from "./failures.ts";
import type { ChatSessionOptions } from "./options.ts";
import {
  Link,
  openLink,
  type OpenResult,
  type Outgoing,
  registerFailed,
  serverDecoder,
} from "./link.ts";
import { Outbox } from "./outbox.ts";
import { RatePolicy } from "./rate.ts";
import { type NameRefused, type ReconnectHost, Reconnector } from "./reconnect.ts";
import { messageLine } from "./render.ts";

export type { OpenResult } from "./link.ts";
export type { ChatSessionOptions } from "./options.ts";
export type { ClientEvent, ConnectFailure } from "./events.ts";
export type { Backoff } from "./backoff.ts";
export type { Conn, ConnectFn, ConnectOptions, ConnHandler, TransportKind } from "../net/conn.ts";

/** How long /quit waits for the server to confirm UNREGISTER before just closing. */
const LEAVE_WAIT_MS = 1000;
/** Most messages on the wire awaiting their answers (the server allows 256 per connection). */
const DEFAULT_WINDOW = 32;
/** Most messages waiting to go out (typed while reconnecting, or held back by ERROR 106). */
export const DEFAULT_MAX_QUEUED = 100;

/** How a session ended. */
export type SessionEnd = "left" | "disconnected";

type State = "new" | "registering" | "ready" | "reconnecting" | "leaving" | "ended";

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
  #state: State = "new";
  #link: Link | null = null;
  /** Messages not on the wire yet, in the order typed (refused ones go back in their place). */
  readonly #outbox: Outbox;
  readonly #rate: RatePolicy;
  readonly #reconnector: Reconnector;
  #reconnecting: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];
  #roomWaiters: (() => void)[] = [];
  #leaveDone = Promise.withResolvers<boolean>();
  #end = Promise.withResolvers<SessionEnd>();
  #endValue: SessionEnd | null = null;

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
    this.#outbox = new Outbox(options.maxQueued ?? DEFAULT_MAX_QUEUED);
    const random = options.random ?? Math.random;
    this.#rate = new RatePolicy({
      backoff: options.rateRetryBackoff ?? RATE_RETRY_BACKOFF,
      rounds: options.rateRetryRounds ?? RATE_RETRY_ROUNDS,
      random,
      onWaited: () => this.#maybeResume(),
    });
    this.#reconnector = new Reconnector({
      server: this.#server,
      backoff: options.reconnectBackoff ?? RECONNECT_BACKOFF,
      random,
      nameTakenTries: options.nameTakenTries ?? NAME_TAKEN_TRIES,
    });
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
    return this.#outbox.full;
  }

  /** Most messages that may wait to go out ({@link ChatSessionOptions.maxQueued}). */
  get maxQueued(): number {
    return this.#outbox.limit;
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
    if (result.ok && this.#state === "registering" && link.adopt()) {
      this.#state = "ready";
      this.#pump();
      return result;
    }
    this.#state = "ended";
    await link.close();
    this.#finish("disconnected");
    return result.ok ? registerFailed(this.#server, "closed") : result;
  }

  /**
   * Opens a new pair of connections and registers it; on failure closes it again and returns
   * the event that explains why. Does not change the session's state.
   */
  async #connectLink(again: boolean): Promise<[OpenResult, Link]> {
    const link = new Link(this.#server, again);
    this.#link = link;
    const handler = (half: Half): ConnHandler => ({
      data: (chunk) => this.#data(link, half, chunk),
      closed: (error) => this.#closed(link, half, error),
    });
    const result = await openLink(link, { ...this.#opts, handler });
    return [result, link];
  }

  /**
   * Sends `text` to `to` (`"ALL"` for everyone). It goes out at once, or waits its turn while
   * the client reconnects, resends after ERROR 106, or has many messages awaiting answers.
   * False if the session is not open, or {@link full}.
   */
  send(to: string, text: string): boolean {
    if (this.#state !== "ready" && this.#state !== "reconnecting") return false;
    if (!this.#outbox.add(to, text)) return false;
    this.#pump();
    return true;
  }

  /** Puts waiting messages on the wire, in order, as far as the window and the state allow. */
  #pump(): void {
    const link = this.#link;
    if (this.#state !== "ready" || link === null || link.send === null || this.#rate.holding) {
      return;
    }
    const window = this.#rate.window(this.#window, this.pending);
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
    this.#rate.clear();
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
    this.#rate.clear();
    this.#reconnector.cancel();
    const link = this.#link;
    // An open() or a reconnect still waiting for the registration ends now.
    link?.fail("closed");
    await link?.close();
    await this.#reconnecting;
  }

  #finish(end: SessionEnd): void {
    if (this.#endValue !== null) return;
    this.#endValue = end;
    this.#rate.clear();
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
    for (const msg of this.#outbox.takeAll()) {
      this.notSent++;
      this.#emit({
        type: "not-sent",
        to: msg.to,
        why: msg.refusals > 0
          ? `${why} (it was waiting to be sent again after ERROR 106, sending too fast)`
          : why,
      });
    }
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
  // ERROR 106: wait, then resend in the order typed (the policy is in rate.ts).

  /** The server refused `msg` with ERROR 106: queue it again, or give up on it. */
  #rateLimited(msg: Outgoing, text: string): void {
    msg.refusals++;
    const canResend = this.#state === "ready" || this.#state === "reconnecting";
    switch (this.#rate.refused(canResend)) {
      case "give-up":
        return this.#giveUpRefused(msg, text);
      case "give-up-all":
        for (const m of [msg, ...this.#outbox.takeRefused()].sort((a, b) => a.id - b.id)) {
          this.#giveUpRefused(m, text);
        }
        return;
      case "resend":
        this.#outbox.putBack(msg);
    }
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
    if (this.#rate.resume(this.#link?.wireSends ?? 0)) this.#pump();
  }

  // -------------------------------------------------------------------------------------------
  // Incoming bytes.

  #data(link: Link, half: Half, chunk: Uint8Array): void {
    if (link.dead || link !== this.#link) return;
    if (!this.#opts.tls && link.sniffTls(half, chunk)) return;
    if (half === "TOSEND") {
      link.sendDecoder.feed(chunk, (e) => this.#onSendEvent(link, e));
      return;
    }
    link.recvDecoder.feed(chunk, (e) => this.#onRecvEvent(link, e));
    // After a fatal error the rest of this chunk is lost; start afresh with the next one.
    if (link.recvDecoder.dead) link.recvDecoder = serverDecoder();
  }

  /** A registration answer on `half`; reports the registration once both halves have one. */
  #onRegistration(link: Link, half: Half, m: Message): void {
    if (!link.answer(half, m, this.#opts.name)) return;
    const { name } = this.#opts;
    this.#emit(
      link.again ? { type: "reconnected", name, server: this.#server } : {
        type: "registered",
        name,
        server: this.#server,
        hint: false,
        ...(this.#opts.tls ? { tls: true } : {}),
      },
    );
  }

  #onSendEvent(link: Link, e: DecodeEvent): void {
    if (this.#state === "ended" || link.dead) return;
    if (e.kind === "error" && !link.registered.has("TOSEND")) return link.garbled(e.error);
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
        this.#rate.delivered();
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
    if (e.kind === "error" && !link.registered.has("TORECV")) return link.garbled(e.error);
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

  // -------------------------------------------------------------------------------------------
  // Losing the connection, and getting it back.

  #closed(link: Link, half: Half, error?: Error): void {
    if (link.dead || link !== this.#link) return;
    if (!link.live) {
      // Still registering (first time or again): the attempt fails.
      link.broken = true;
      link.fail("closed", error?.message ?? "");
      return;
    }
    if (this.#state === "leaving") {
      // The server closes both connections after UNREGISTERED; TOSEND closing ends the wait.
      if (half === "TOSEND") this.#leaveDone.resolve(false);
      return;
    }
    if (this.#state !== "ready") return;
    const detail = error
      ? `connection error (${withoutOsError(error.message)})`
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
      link.fail("unexpected", detail);
      return;
    }
    if (this.#state !== "ready") return;
    link.dead = true;
    this.#rate.clear();
    this.#reportUnanswered(link, "the connection was lost");
    if (this.#opts.reconnect) {
      this.#state = "reconnecting";
      this.#reconnecting = this.#reconnector.run(this.#reconnectHost(), link, detail)
        .catch((error) => this.#reconnectCrashed(error));
      return;
    }
    this.#state = "ended";
    this.#reportUnsent("the connection was lost before it was sent");
    this.#emit({ type: "disconnected", server: this.#server, detail });
    link.close().then(() => this.#finish("disconnected"));
  }

  /** What the reconnect loop may do to this session. */
  #reconnectHost(): ReconnectHost {
    const reconnecting = () => this.#state === "reconnecting";
    return {
      get reconnecting() {
        return reconnecting();
      },
      attempt: () => this.#connectLink(true),
      adopt: (link: Link) => {
        if (!link.adopt()) return false;
        this.#state = "ready";
        this.#pump();
        return true;
      },
      giveUp: (event: NameRefused, tries: number) => {
        this.#state = "ended";
        this.#reportUnsent("the client could not reconnect");
        this.#emit({
          type: "reconnect-failed",
          server: this.#server,
          name: this.#opts.name,
          code: event.code,
          text: event.text,
          tries,
        });
        this.#finish("disconnected");
      },
      emit: (event: ClientEvent) => this.#emit(event),
    };
  }

  /** A bug, not the network: still end with one line rather than an unhandled rejection. */
  #reconnectCrashed(error: unknown): void {
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
  }
}
