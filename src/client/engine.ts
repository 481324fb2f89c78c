/**
 * The client's protocol engine: one user's session with a server (registration of the two
 * connections, the negotiation of extensions, the outbox and its answers, ERROR 106 resends,
 * acknowledging FORWARDs, reconnecting, leaving). The terminal and piped faces drive it and
 * render its events.
 *
 * It imports no runtime API: the connect function is passed in, and timers are the global
 * `setTimeout`, so it runs in a browser too (`src/client/web_safe_test.ts` checks).
 *
 * @module
 */
import type { ConnHandler } from "../net/conn.ts";
import { formatAddress } from "../net/address.ts";
import { encode, ErrorCode, type Half, type Message } from "../protocol/mod.ts";
import {
  NAME_TAKEN_TRIES,
  RATE_RETRY_BACKOFF,
  RATE_RETRY_ROUNDS,
  RECONNECT_BACKOFF,
} from "./backoff.ts";
import type { ClientEvent } from "./events.ts";
import { Negotiation } from "./negotiation.ts";
import { withoutOsError } from "./failures.ts";
import type { ChatSessionOptions } from "./options.ts";
import { Link, openLink, type OpenResult, type Outgoing, registerFailed } from "./link.ts";
import { Outbox } from "./outbox.ts";
import { Ownership } from "./ownership.ts";
import { Tally } from "./tally.ts";
import { MailBook } from "./mail.ts";
import { Watch } from "./watch.ts";
import { unregister } from "./leaving.ts";
import { RatePolicy } from "./rate.ts";
import { type NameRefused, type ReconnectHost, Reconnector } from "./reconnect.ts";
import { type IdentityFailed, identityFailed } from "./proof.ts";
import { readChunk, type ReadHost, unexpected } from "./reading.ts";

export type { OpenResult } from "./link.ts";
export type { ChatSessionOptions, IdentityStore, SeenMail } from "./options.ts";
export type { ClientKey } from "./identity.ts";
export type { ClientEvent, ConnectFailure } from "./events.ts";
export type { Backoff } from "./backoff.ts";
export { DEFAULT_EXTENSIONS } from "./extensions.ts";
export type { Conn, ConnectFn, ConnectOptions, ConnHandler, TransportKind } from "../net/conn.ts";

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
 * acknowledging FORWARDs, negotiating the extensions after each registration, reconnecting
 * (when asked) and leaving. Until a server has agreed to an extension, and with a
 * base-protocol server always, it sends only REGISTER, SEND and RECEIVED, with no header line but
 * Content-length. Reports everything through `onEvent`; never throws once open.
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
  /** The extensions asked for and agreed. */
  readonly #ext: Negotiation;
  /** Waits for the state to change: for room, for answers, for the end. */
  readonly #watch = new Watch();
  /** The answer to UNREGISTER: UNREGISTERED (true) or an ERROR (false). */
  #leaveAnswer: boolean | null = null;
  /** The connection closed while leaving. */
  #leaveCut = false;
  #end = Promise.withResolvers<SessionEnd>();
  #endValue: SessionEnd | null = null;
  /** What became of the messages sent. */
  readonly #tally = new Tally((e) => this.#emit(e));
  /** Messages stored for offline users, their receipts, and the mail ids seen. */
  readonly #mail: MailBook;
  /** The user's key, what each registration proved, and the claim of the name. */
  readonly #owner: Ownership;
  /** What reading the connections may do to this session. */
  readonly #reader: ReadHost;

  /**
   * Creates a session; nothing happens until {@link open}. Throws if an extension's name in
   * `options.extensions` is not one word.
   */
  constructor(options: ChatSessionOptions) {
    this.#opts = options;
    this.#ext = new Negotiation(options.name, options.extensions, (e) => this.#emit(e));
    this.#server = formatAddress(options.host, options.port);
    const store = options.identity;
    this.#mail = new MailBook(() => store?.seenMail?.(this.#server, options.name) ?? null);
    this.#reader = {
      name: options.name,
      tls: options.tls !== undefined,
      current: (link) => link === this.#link && this.#state !== "ended",
      answer: (link, m) => {
        this.#onAnswer(link, m);
        this.#watch.changed();
      },
      forward: (link, m) => this.#ext.forward(link, m),
      lost: (link, detail) => this.#lost(link, detail),
      emit: (event) => this.#emit(event),
    };
    this.#owner = new Ownership({
      server: this.#server,
      name: options.name,
      store: options.identity,
      emit: (e) => this.#emit(e),
      changed: () => {
        this.#watch.changed();
        this.#pump();
      },
    });
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

  /** Messages the server confirmed as delivered. */
  get delivered(): number {
    return this.#tally.delivered;
  }

  /** Messages the server answered with an ERROR (after any resends for ERROR 106). */
  get notDelivered(): number {
    return this.#tally.notDelivered;
  }

  /** Messages that got no answer before the connection was lost or the session ended. */
  get unconfirmed(): number {
    return this.#tally.unconfirmed;
  }

  /** Messages that never went out before the session ended. */
  get notSent(): number {
    return this.#tally.notSent;
  }

  /** Messages the server stored for offline users (the `mail` extension): sent, for the user. */
  get stored(): number {
    return this.#mail.stored;
  }

  /** Messages stored in this session whose receipt (delivered, expired...) has not come yet. */
  get awaitingReceipts(): number {
    return this.#mail.awaitingReceipts;
  }

  /**
   * Waits until every message stored in this session has its receipt, the session ends, or
   * `timeoutMs` passes. Resolves true if none is left waiting.
   */
  async receipts(timeoutMs: number): Promise<boolean> {
    const done = () => this.awaitingReceipts === 0 || this.#endValue !== null;
    await this.#watch.until(done, timeoutMs);
    return this.awaitingReceipts === 0;
  }

  /** The server as `host:port`. */
  get server(): string {
    return this.#server;
  }

  /**
   * The extensions the server agreed to use with this session (PROTOCOL.md, "Negotiation"):
   * empty until its answer comes, with a base-protocol server, and while reconnecting.
   */
  get extensions(): ReadonlySet<string> {
    return this.#ext.agreed;
  }

  /** The largest message body the server accepts, in bytes, when it said (in the negotiation). */
  get maxBody(): number | undefined {
    return this.#ext.maxBody;
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
    await this.#watch.until(() => !this.full || this.#endValue !== null, Infinity);
  }

  /** Connects both halves and registers them. On failure everything is closed again. */
  async open(): Promise<OpenResult> {
    if (this.#state !== "new") throw new Error("ChatSession.open called twice");
    this.#state = "registering";
    try {
      await this.#owner.load();
    } catch (error) {
      this.#state = "ended";
      this.#finish("disconnected");
      const detail = error instanceof Error ? error.message : String(error);
      const event = identityFailed(this.#server, this.#opts.name, "not-stored", detail);
      return { ok: false, nameRefused: false, event };
    }
    const [result, link] = await this.#connectLink(false);
    if (result.ok && this.#state === "registering" && this.#adopt(link)) return result;
    this.#state = "ended";
    await link.close();
    this.#finish("disconnected");
    return result.ok ? registerFailed(this.#server, "closed") : result;
  }

  /**
   * Takes the registered `link` into use (in the same turn as it registered): reports what it
   * proved, asks for the extensions, sends what waits. False if it broke meanwhile.
   */
  #adopt(link: Link): boolean {
    if (!link.adopt()) return false;
    this.#state = "ready";
    this.#owner.registered(link);
    this.#ext.start(link);
    this.#pump();
    return true;
  }

  /**
   * Opens a new pair of connections and registers it (proving the key first, if any; again
   * without it on fresh connections if the server closed them in answer to CHALLENGE); on
   * failure closes it again and returns the event that explains why. Does not change the
   * session's state.
   */
  async #connectLink(again: boolean): Promise<[OpenResult, Link]> {
    const once = async (): Promise<[OpenResult, Link]> => {
      const link = new Link(this.#server, again);
      this.#link = link;
      const handler = (half: Half): ConnHandler => ({
        data: (chunk) => readChunk(this.#reader, link, half, chunk),
        closed: (error) => this.#closed(link, half, error),
      });
      const key = this.#owner.proofKey;
      return [await openLink(link, { ...this.#opts, handler, key }), link];
    };
    const first = await once();
    if (first[0].ok || !first[0].retryPlain || this.#state === "ended") return first;
    this.#owner.closedOnChallenge();
    return await once();
  }

  /**
   * Sends `text` to `to` (`"ALL"` for everyone) and returns the message's id (from 1 up), which
   * every event about it carries. It goes out at once, or waits its turn while the client
   * reconnects, resends after ERROR 106 (keeping its id), or has many messages awaiting answers.
   * Null if the session is not open, or {@link full}.
   */
  send(to: string, text: string): number | null {
    if (this.#state !== "ready" && this.#state !== "reconnecting") return null;
    const msg = this.#outbox.add(to, text);
    if (msg === null) return null;
    this.#pump();
    return msg.id;
  }

  /** Puts waiting messages on the wire, in order, as far as the window and the state allow. */
  #pump(): void {
    const link = this.#link;
    if (
      this.#state !== "ready" || link === null || link.send === null || this.#rate.holding ||
      link.claiming
    ) {
      // The claim of the name goes first: its answers come before any message sent after it.
      return;
    }
    const window = this.#rate.window(this.#window, this.pending);
    while (this.#outbox.length > 0 && link.wireSends < window) {
      const msg = this.#outbox.shift()!;
      link.fifo.push({ kind: "send", msg });
      link.wireSends++;
      link.send.write(encode({ type: "SEND", to: msg.to, body: msg.body }));
    }
    this.#watch.changed();
  }

  /**
   * Waits until every message sent has its answer, the session ends, or `timeoutMs` passes.
   * Resolves true if nothing is left waiting.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    const claiming = () => this.#link?.claiming === true;
    const done = () => (this.pending === 0 && !claiming()) || this.#endValue !== null;
    await this.#watch.until(done, timeoutMs);
    return this.pending === 0;
  }

  /**
   * Leaves: with a server that agreed to `unregister`, sends `UNREGISTER name` and waits up to a
   * second for the answer; with any other server (a base-protocol one) waits as long for the
   * answers still owed and sends nothing. Answers to earlier messages are still reported. Then
   * closes both connections. Messages still unanswered are reported as unconfirmed, those not
   * sent yet as not sent. While reconnecting, stops trying and ends.
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
    const plain = !(await unregister(link, {
      watch: this.#watch,
      name: this.#opts.name,
      agreed: () => this.#ext.agreed,
      cut: () => this.#leaveCut,
      answer: () => this.#leaveAnswer,
    }));
    this.#state = "ended";
    this.#reportUnanswered(link, "you left");
    this.#reportUnsent("you left before it was sent");
    await link.close();
    const confirmed = this.#leaveAnswer === true;
    this.#emit({ type: "left", confirmed, ...(plain ? { plain: true as const } : {}) });
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
    this.#owner.stop();
    this.#watch.changed();
    this.#end.resolve(end);
  }

  /** Reports `event`, unless it repeats a mail message or receipt already reported. */
  #emit(event: ClientEvent): void {
    const seen = this.#mail.see(event);
    if (seen !== null) this.#opts.onEvent(seen);
    if (event.type === "receipt") this.#watch.changed();
  }

  /**
   * Reports the FORWARDs `link` still holds (see `Negotiation.forward`), then its messages on
   * the wire as unconfirmed, and forgets them.
   */
  #reportUnanswered(link: Link, why: string): void {
    this.#ext.release(link);
    this.#tally.unanswered(link.fifo, why);
    link.fifo = [];
    link.wireSends = 0;
    this.#watch.changed();
  }

  /** Reports the messages that never went out as not sent, and forgets them. */
  #reportUnsent(why: string): void {
    this.#tally.unsent(this.#outbox.takeAll(), why);
    this.#watch.changed();
  }

  // -------------------------------------------------------------------------------------------
  // ERROR 106: wait, then resend in the order typed (the policy is in rate.ts).

  /** The server refused `msg` with ERROR 106: queue it again, or give up on it. */
  #rateLimited(msg: Outgoing, text: string): void {
    msg.refusals++;
    const canResend = this.#state === "ready" || this.#state === "reconnecting";
    switch (this.#rate.refused(canResend)) {
      case "give-up":
        return this.#tally.rateLimited(msg, text);
      case "give-up-all":
        for (const m of [msg, ...this.#outbox.takeRefused()].sort((a, b) => a.id - b.id)) {
          this.#tally.rateLimited(m, text);
        }
        return;
      case "resend":
        this.#outbox.putBack(msg);
    }
  }

  /** Ends an ERROR 106 hold once its wait is over and nothing sent before it is unanswered. */
  #maybeResume(): void {
    if (this.#rate.resume(this.#link?.wireSends ?? 0)) this.#pump();
  }

  // -------------------------------------------------------------------------------------------
  // Answers (the reading is in reading.ts).

  /** An answer on TOSEND: to the oldest message, probe or UNREGISTER on the wire. */
  #onAnswer(link: Link, m: Message): void {
    const head = link.fifo[0];
    if (head?.kind === "send" && (m.type === "SENT" || m.type === "ERROR")) {
      link.fifo.shift();
      link.wireSends--;
      this.#onMessageAnswer(head.msg, m);
      this.#maybeResume();
      this.#pump();
    } else if (head !== undefined && head.kind !== "send" && head.kind !== "unregister") {
      if (m.type !== "SENT" && m.type !== "ERROR") return this.#unexpected(m);
      link.fifo.shift();
      if (head.kind === "probe") {
        this.#ext.answered(link, m);
        this.#owner.negotiated(link, this.#ext.agreed);
      } else if (head.kind === "challenge") this.#owner.challenged(link, m);
      else this.#owner.identified(link, m);
    } else if (head?.kind === "unregister" && (m.type === "ERROR" || m.type === "UNREGISTERED")) {
      link.fifo.shift();
      this.#leaveAnswer = m.type === "UNREGISTERED";
    } else {
      this.#unexpected(m);
    }
  }

  #unexpected(m: Message): void {
    this.#emit(unexpected(m));
  }

  /** The answer `m` (SENT or ERROR) to the message `msg`. */
  #onMessageAnswer(msg: Outgoing, m: Message & { type: "SENT" | "ERROR" }): void {
    if (m.type === "ERROR" && m.code === ErrorCode.RateLimited) {
      return this.#rateLimited(msg, m.text);
    }
    if (m.type === "SENT") this.#rate.delivered();
    this.#tally.answered(msg, m, this.#ext.details(m));
    this.#ext.userAnswer(msg.to, m);
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
      if (half === "TOSEND") this.#lost(link, "the server closed the connection");
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
      // Nothing more is waited for.
      this.#leaveCut = true;
      return this.#watch.changed();
    }
    if (!link.live) {
      link.broken = true;
      link.fail("unexpected", detail);
      return;
    }
    if (this.#state !== "ready") return;
    link.dead = true;
    this.#rate.clear();
    this.#ext.reset();
    this.#owner.lost(link);
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
      adopt: (link: Link) => this.#adopt(link),
      giveUp: (refusal: NameRefused | IdentityFailed, tries: number) =>
        this.#giveUp(
          "the client could not reconnect",
          refusal.type === "identity-failed" ? refusal : {
            type: "reconnect-failed",
            ...{ server: this.#server, name: this.#opts.name, tries },
            ...{ code: refusal.code, text: refusal.text },
          },
        ),
      emit: (event: ClientEvent) => this.#emit(event),
    };
  }

  /** A bug, not the network: still end with one line rather than an unhandled rejection. */
  #reconnectCrashed(error: unknown): void {
    const why = error instanceof Error ? error.message : String(error);
    const detail = `the client failed while reconnecting (${why})`;
    this.#giveUp("the client stopped", { type: "disconnected", server: this.#server, detail });
  }

  /** Stops reconnecting for good: reports what was not sent (because of `why`), then `event`. */
  #giveUp(why: string, event: ClientEvent): void {
    this.#state = "ended";
    this.#reportUnsent(why);
    this.#emit(event);
    this.#finish("disconnected");
  }
}
