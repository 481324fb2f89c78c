/**
 * One pair of connections of a client session (TOSEND and TORECV): their decoders, their
 * registration, and the answers owed on TOSEND. Opening one connects both halves through an
 * injected {@link ConnectFn} and registers them. No runtime API: it runs in a browser too.
 *
 * @module
 */
import type { Conn, ConnectOptions, ConnHandler } from "../net/conn.ts";
import {
  type DecodeError,
  Decoder,
  describeDecodeError,
  encode,
  ErrorCode,
  type Half,
  type Message,
} from "../protocol/mod.ts";
import type { ClientEvent } from "./events.ts";
import type { ChatSessionOptions } from "./options.ts";
import type { ClientKey } from "./identity.ts";
import { proveHalf } from "./proof.ts";
import { classifyConnectError, connectFailed, looksLikeTls } from "./failures.ts";
import { messageLine } from "./render.ts";

/** Largest incoming message body shown; larger ones are refused with ERROR 103. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The outcome of opening a session (or a link): registered, or the event that explains why not. */
export type OpenResult =
  | { ok: true }
  | {
    ok: false;
    event: ClientEvent;
    nameRefused: boolean;
    /**
     * The server closed a connection in answer to CHALLENGE, as a base server may: the caller
     * tries again on fresh connections without the proof.
     */
    retryPlain?: true;
  };

/** Why a registration failed, as the `reason` of a `register-failed` event. */
export type RegisterFailure = Extract<ClientEvent, { type: "register-failed" }>["reason"];

/** The failed {@link OpenResult} for a registration that did not complete (not a name problem). */
export function registerFailed(
  server: string,
  reason: RegisterFailure,
  detail = "",
  timeoutMs = 0,
): NotOpened {
  return notOpened({ type: "register-failed", server, reason, detail, timeoutMs });
}

/** A failed {@link OpenResult} that is not a name problem. */
type NotOpened = { ok: false; event: ClientEvent; nameRefused: false };

/** The failed {@link OpenResult} that `event` explains (not a name problem). */
function notOpened(event: ClientEvent): NotOpened {
  return { ok: false, nameRefused: false, event };
}

/** One message the user asked to send, from then until it is answered or given up. */
export interface Outgoing {
  /** Order in which it was typed. */
  id: number;
  /** Recipient (`"ALL"` for everyone). */
  to: string;
  /** The message body. */
  body: Uint8Array;
  /** How many times the server answered ERROR 106 to it. */
  refusals: number;
}

/**
 * What the session waits an answer for on TOSEND, in the order they were sent: a message, the
 * extension probe (`SEND server` `EXTENSIONS ...`), or UNREGISTER.
 */
export type Pending =
  | { kind: "send"; msg: Outgoing }
  | { kind: "probe" }
  | { kind: "unregister" }
  | { kind: "challenge" }
  | { kind: "identify" };

/**
 * What the connections of a link proved before REGISTER: `owner` (the key owns the name),
 * `unclaimed` (nobody owns it: claim it after negotiating), `no-support` (the server answered
 * CHALLENGE as a base server), or `none` (nothing was proven: no key).
 */
export type Proof = "owner" | "unclaimed" | "no-support" | "none";

/** A decoder for what the server sends. */
export function serverDecoder(): Decoder {
  return new Decoder({ from: "server", maxBodyBytes: MAX_BODY_BYTES });
}

/**
 * One pair of connections (TOSEND and TORECV) and the answers owed on them. A reconnect makes
 * a new one; events of an old one are ignored.
 */
export class Link {
  /** The TOSEND connection, once connected. */
  send: Conn | null = null;
  /** The TORECV connection, once connected. */
  recv: Conn | null = null;
  /** Reads the answers on TOSEND. */
  sendDecoder: Decoder = serverDecoder();
  /** Reads the FORWARDs on TORECV. */
  recvDecoder: Decoder = serverDecoder();
  /** Halves whose REGISTERED came. */
  readonly registered: Set<Half> = new Set<Half>();
  /** Halves whose first bytes were checked for a TLS answer. */
  readonly sniffed: Set<Half> = new Set<Half>();
  /** Settles once the registration succeeded or failed. */
  readonly registration: PromiseWithResolvers<OpenResult> = Promise.withResolvers<OpenResult>();
  /** Messages, the probe and UNREGISTER on the wire, awaiting their answers in order. */
  fifo: Pending[] = [];
  /** True from the extension probe until its answer. */
  negotiating = false;
  /**
   * FORWARDs (already acknowledged) held while {@link negotiating}: one with header lines may
   * need the answer to be read, and those after it wait with it to keep their order.
   */
  held: (Message & { type: "FORWARD" })[] = [];
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
  /** What the connections proved before REGISTER. */
  proof: Proof = "none";
  /** True from the start of a claim of the name (after negotiating) until its answer. */
  claiming = false;
  /** Who waits for the next message on a half that proves itself before REGISTER. */
  readonly #asking = new Map<Half, (m: Message) => void>();
  /** The server as `host:port`, for the events. */
  readonly server: string;

  /** A link to `server` (`host:port`), not connected yet; `again` when made by a reconnect. */
  constructor(server: string, again: boolean) {
    this.server = server;
    this.again = again;
  }

  /** Closes both connections; resolves once they are fully closed. */
  async close(): Promise<void> {
    this.dead = true;
    const conns = [this.send, this.recv].filter((c): c is Conn => c !== null);
    for (const c of conns) c.close();
    await Promise.all(conns.map((c) => c.done));
  }

  /**
   * Takes the link into use, unless it broke after its registration (to be called in the same
   * turn as the caller's state change, so no close event can fall in between).
   */
  adopt(): boolean {
    if (this.broken || this.dead) return false;
    this.live = true;
    return true;
  }

  /** Ends the registration as failed; a later outcome no longer counts. */
  fail(reason: RegisterFailure, detail = ""): void {
    this.registration.resolve(registerFailed(this.server, reason, detail));
  }

  /**
   * Checks the first bytes of `half` (without TLS) for a TLS server's answer; true (and the
   * registration failed) if they are one.
   */
  sniffTls(half: Half, chunk: Uint8Array): boolean {
    if (this.registered.has(half) || this.sniffed.has(half)) return false;
    this.sniffed.add(half);
    if (!looksLikeTls(chunk)) return false;
    this.fail("tls-server");
    return true;
  }

  /**
   * A registration answer on `half` for user `name`. True when it completes the registration
   * (both halves now registered).
   */
  answer(half: Half, m: Message, name: string): boolean {
    const asking = this.#asking.get(half);
    if (asking !== undefined) {
      this.#asking.delete(half);
      asking(m);
      return false;
    }
    if (m.type === "REGISTERED" && m.half === half) {
      this.registered.add(half);
      if (this.registered.size < 2) return false;
      this.registration.resolve({ ok: true });
      return true;
    }
    if (m.type !== "ERROR") {
      this.fail("unexpected", JSON.stringify(messageLine(m)));
    } else if (m.code === ErrorCode.MalformedUsername || m.code === ErrorCode.UsernameTaken) {
      this.registration.resolve({
        ok: false,
        nameRefused: true,
        event: { type: "name-refused", name, code: m.code, text: m.text },
      });
    } else {
      const full = m.code === ErrorCode.TooManyConnections;
      this.fail(full ? "full" : "unexpected", `ERROR ${m.code} ${m.text}`);
    }
    return false;
  }

  /**
   * The event for its registration as `name` (`tls`: over TLS): `registered`, or `reconnected`
   * for a link made by a reconnect.
   */
  registeredEvent(name: string, tls: boolean): ClientEvent {
    if (this.again) return { type: "reconnected", name, server: this.server };
    return { type: "registered", name, server: this.server, hint: false, ...(tls ? { tls } : {}) };
  }

  /**
   * Before REGISTER: writes `m` on `half` and resolves with the next message the server sends
   * there, or with the failed registration if it fails first (the connection closed).
   */
  ask(half: Half, m: Message): Promise<Message | OpenResult> {
    const conn = half === "TOSEND" ? this.send : this.recv;
    const { promise, resolve } = Promise.withResolvers<Message>();
    this.#asking.set(half, resolve);
    conn?.write(encode(m));
    return Promise.race([promise, this.registration.promise]);
  }

  /** Bytes that are not a message where a registration answer was due. */
  garbled(error: DecodeError): void {
    this.fail("unexpected", describeDecodeError(error));
  }
}

/** What {@link openLink} needs besides the link: the session's options for the connection. */
export type LinkSettings =
  & Pick<ChatSessionOptions, "connect" | "host" | "port" | "name" | "timeoutMs" | "tls">
  & {
    /** Receives the bytes and the close of each half. */
    handler: (half: Half) => ConnHandler;
    /** The key to prove before REGISTER on each connection, if any. */
    key: ClientKey | null;
  };

/**
 * Connects both halves of `link` and registers them. On failure closes the link again and
 * returns the event that explains why.
 */
export async function openLink(link: Link, s: LinkSettings): Promise<OpenResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), s.timeoutMs);
  });
  try {
    const result = await connectAndRegister(link, s, timeout);
    if (!result.ok) await link.close();
    return result;
  } catch (error) {
    await link.close();
    return notOpened(classifyConnectError(error, s.host, link.server, s.timeoutMs, !!s.tls));
  } finally {
    clearTimeout(timer);
  }
}

async function connectAndRegister(
  link: Link,
  s: LinkSettings,
  timeout: Promise<"timeout">,
): Promise<OpenResult> {
  const options: ConnectOptions = {
    hostname: s.host,
    port: s.port,
    ...(s.tls ? { tls: s.tls } : {}),
  };
  const attempts = (["TOSEND", "TORECV"] as const).map((half) =>
    s.connect(options, s.handler(half)).then((conn) => {
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
  if (!Array.isArray(connected)) attempts.forEach((a) => a.catch(() => {}));
  if (connected === "timeout") {
    const at = { server: link.server, host: s.host, timeoutMs: s.timeoutMs, tls: !!s.tls };
    return notOpened(connectFailed(at, "timeout", ""));
  }
  if (!Array.isArray(connected)) return connected;
  const register = (half: Half) =>
    (half === "TOSEND" ? link.send : link.recv)?.write(
      encode({ type: "REGISTER", half, name: s.name }),
    );
  const halves = ["TOSEND", "TORECV"] as const;
  if (s.key === null) {
    halves.forEach(register);
  } else {
    const key = s.key;
    const proving = Promise.all(halves.map(async (half) => {
      const proof = await proveHalf(link, half, key, s.name);
      // A half that failed ends the other half's wait too.
      if (typeof proof === "object") link.registration.resolve(proof);
      return proof;
    }));
    // Each step races the registration itself, so a closed connection ends it too.
    const proofs = await Promise.race([proving, timeout]);
    if (proofs === "timeout") return registerFailed(link.server, "timeout", "", s.timeoutMs);
    const failures = proofs.filter((p) => typeof p === "object");
    const failed = failures.find((p) => !p.ok && p.retryPlain) ?? failures[0];
    if (failed !== undefined) return failed;
    link.proof = proofs.includes("no-support")
      ? "no-support"
      : proofs.includes("unclaimed")
      ? "unclaimed"
      : "owner";
    halves.forEach(register);
  }
  const result = await Promise.race([link.registration.promise, timeout]);
  return result === "timeout" ? registerFailed(link.server, "timeout", "", s.timeoutMs) : result;
}
