/**
 * The scripted server that `chat conformance client` plays: it listens on loopback, accepts the
 * client's two connections, answers their REGISTERs, records every byte the client writes (the
 * evidence of a failure) and lets a case write exactly the bytes it chooses, whole, a byte at a
 * time, or several messages at once.
 *
 * @module
 */
import {
  BROADCAST,
  type DecodeEvent,
  Decoder,
  encode,
  ErrorCode,
  errorMessage,
  type Half,
  type Message,
} from "../protocol/mod.ts";
import { CaseFailure } from "./case.ts";
import { escapeBytes } from "./report.ts";

const encoder = new TextEncoder();

/**
 * The other users online at the scripted server, as the cases use them. A SEND to one of them
 * (or to ALL) waits for the case to answer it; a SEND to any other name is answered
 * `ERROR 102 Unable to send` at once, as every base-protocol server does (a client's probe for
 * extensions, `SEND server`, is one), and the cases do not see it.
 */
export const SCRIPTED_USERS: readonly string[] = Object.freeze(["xyz", "bob"]);

/** Something that happened and may end a wait: bytes came, a connection closed, output came. */
export class Pulse {
  #waiters: (() => void)[] = [];

  /** Wakes everyone waiting. */
  fire(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves at the next {@link fire}, or after `ms` (so that no wait can miss a deadline). */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(ms, 250)));
      this.#waiters.push(done);
    });
  }
}

/** Why a wait ended without what it waited for. */
export type WaitEnd = "timeout" | "aborted";

/**
 * Polls `ready` each time `pulse` fires until it returns a value, the deadline passes or
 * `signal` aborts; returns the value, or why there is none.
 */
export async function waitFor<T>(
  ready: () => T | undefined,
  pulse: Pulse,
  ms: number,
  signal: AbortSignal,
): Promise<T | WaitEnd> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = ready();
    if (value !== undefined) return value;
    if (signal.aborted) return "aborted";
    const left = deadline - Date.now();
    if (left <= 0) return "timeout";
    await pulse.next(left);
  }
}

/** One connection the client opened, with everything it wrote and the messages decoded from it. */
export class ScriptedConn {
  /** Halves this connection registered (a client may put both on one socket). */
  readonly halves = new Set<Half>();
  /** Every byte the client wrote on this connection, in order. */
  bytes: Uint8Array = new Uint8Array(0);
  /** What the decoder made of those bytes, in order. */
  readonly events: DecodeEvent[] = [];
  /** How many entries of {@link events} a case has consumed. */
  consumed = 0;
  /** Indexes in {@link events} of the SENDs the server answered itself (to names nobody has). */
  readonly answered = new Set<number>();
  /** True once the client closed it (or it broke). */
  closed = false;
  /** When the last bytes came (`Date.now()`), 0 before any. */
  lastAt = 0;
  readonly #conn: Deno.TcpConn;
  readonly #pulse: Pulse;
  /** The read loop; ends when the connection closes. */
  readonly loop: Promise<void>;

  /** Starts reading `conn`: each message decoded goes to `onMessage`, each change fires `pulse`. */
  constructor(conn: Deno.TcpConn, pulse: Pulse, onMessage: (c: ScriptedConn, m: Message) => void) {
    this.#conn = conn;
    this.#pulse = pulse;
    try {
      conn.setNoDelay(true); // so that a message written a byte at a time goes out so
    } catch { /* closed already */ }
    this.loop = this.#read(onMessage);
  }

  async #read(onMessage: (c: ScriptedConn, m: Message) => void): Promise<void> {
    const decoder = new Decoder();
    const buf = new Uint8Array(16 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        const all = new Uint8Array(this.bytes.length + n);
        all.set(this.bytes);
        all.set(chunk, this.bytes.length);
        this.bytes = all;
        this.lastAt = Date.now();
        for (const e of decoder.push(chunk)) {
          this.events.push(e);
          if (e.kind === "message") onMessage(this, e.message);
        }
        this.#pulse.fire();
      }
    } catch { /* reset or closed by us */ }
    this.closed = true;
    this.#pulse.fire();
  }

  /**
   * Writes `data` (bytes, text or messages) to the client: in one write call, or (`"bytes"`)
   * one byte per write call, each flushed on its own.
   */
  async write(
    data: Uint8Array | string | Message[],
    how: "whole" | "bytes" = "whole",
  ): Promise<void> {
    const bytes = toBytes(data);
    if (how === "bytes") {
      for (let i = 0; i < bytes.length; i++) await this.#writeAll(bytes.subarray(i, i + 1));
      return;
    }
    await this.#writeAll(bytes);
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let off = 0;
    try {
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
    } catch {
      const half = [...this.halves].join(" and ") || "unregistered";
      throw new CaseFailure(`The client closed its ${half} connection while the server wrote.`, {
        sent: escapeBytes(bytes),
      });
    }
  }

  /**
   * The next decoded event a case has not consumed yet, consuming it; undefined if none yet.
   * REGISTERs, and SENDs to names nobody has, are skipped: the server answers them itself.
   */
  take(): DecodeEvent | undefined {
    for (;;) {
      const e = this.events[this.consumed];
      if (e === undefined) return undefined;
      const skip = this.answered.has(this.consumed);
      this.consumed++;
      if (skip) continue;
      if (e.kind !== "message" || e.message.type !== "REGISTER") return e;
    }
  }

  /** Closes the connection (again is fine). */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/** Bytes of `data`: as is, UTF-8 text, or messages each encoded canonically one after another. */
export function toBytes(data: Uint8Array | string | Message[]): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return encoder.encode(data);
  const parts = data.map(encode);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Options of {@link ScriptedServer.start}. */
export interface ScriptedServerOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on; default `127.0.0.1`. */
  hostname?: string;
}

/**
 * A server that answers each REGISTER with REGISTERED and each SEND to a name nobody has (see
 * {@link SCRIPTED_USERS}) with ERROR 102, and otherwise writes only what the case tells it to.
 * It keeps every connection the client opened, with its bytes.
 */
export class ScriptedServer {
  /** Every connection accepted, oldest first. */
  readonly conns: ScriptedConn[] = [];
  /** Fires on every byte, close and accept. */
  readonly pulse = new Pulse();
  /** The first connection that registered each half. */
  readonly byHalf = new Map<Half, ScriptedConn>();
  /** The name each REGISTER gave, in order (a well-behaved client gives one name twice). */
  readonly registrations: { half: Half; name: string; conn: ScriptedConn }[] = [];
  /** The SENDs to names nobody has, which the server answered ERROR 102 itself, in order. */
  readonly unknownSends: (Message & { type: "SEND" })[] = [];
  readonly #listener: Deno.TcpListener;
  readonly #accepting: Promise<void>;

  private constructor(listener: Deno.TcpListener) {
    this.#listener = listener;
    this.#accepting = this.#accept();
  }

  /** Listens on loopback (or `options.hostname`) at `options.port` (0: any free port). */
  static start(options: ScriptedServerOptions = {}): ScriptedServer {
    const listener = Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
    });
    return new ScriptedServer(listener);
  }

  /** The port it listens on. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** The address it listens on. */
  get hostname(): string {
    return this.#listener.addr.hostname;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.conns.push(new ScriptedConn(conn, this.pulse, (c, m) => this.#onMessage(c, m)));
        this.pulse.fire();
      }
    } catch { /* closed */ }
  }

  #onMessage(conn: ScriptedConn, m: Message): void {
    if (m.type === "SEND") return this.#onSend(conn, m);
    if (m.type !== "REGISTER") return;
    this.registrations.push({ half: m.half, name: m.name, conn });
    conn.halves.add(m.half);
    if (!this.byHalf.has(m.half)) this.byHalf.set(m.half, conn);
    conn.consumed = conn.events.length; // a REGISTER is answered here, not by the case
    conn.write(
      ({ ...[], ...[m] }).length === 0 ? "" : [{ type: "REGISTERED", half: m.half, name: m.name }],
    )
      .catch(() => {});
  }

  /**
   * A SEND to a name nobody has is answered ERROR 102 here, as a base server does (the answer
   * goes out at once: a client's probe comes right after its registration, before anything a
   * case makes it send). The case does not see it.
   */
  #onSend(conn: ScriptedConn, m: Message & { type: "SEND" }): void {
    if (m.to === BROADCAST || SCRIPTED_USERS.includes(m.to)) return;
    conn.answered.add(conn.events.length - 1);
    this.unknownSends.push(m);
    conn.write(encode(errorMessage(ErrorCode.UnableToSend))).catch(() => {});
  }

  /** The connections of both halves once both are registered, else undefined. */
  bothHalves(): { tosend: ScriptedConn; torecv: ScriptedConn } | undefined {
    const tosend = this.byHalf.get("TOSEND");
    const torecv = this.byHalf.get("TORECV");
    return tosend && torecv ? { tosend, torecv } : undefined;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await this.#accepting;
    for (const c of this.conns) c.close();
    await Promise.all(this.conns.map((c) => c.loop));
  }

  /** Marks every event so far as consumed, so that a case starts from what comes next. */
  skipPending(): void {
    for (const c of this.conns) c.consumed = c.events.length;
  }

  /** Closes the client's connections but keeps listening (the next case's client connects anew). */
  async dropClients(): Promise<void> {
    const conns = this.conns.splice(0);
    this.byHalf.clear();
    this.registrations.length = 0;
    this.unknownSends.length = 0;
    for (const c of conns) c.close();
    await Promise.all(conns.map((c) => c.loop));
  }
}
