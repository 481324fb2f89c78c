/**
 * A raw-socket peer for checking a server: it speaks the protocol byte for byte, with no
 * client logic of its own, so a case can send exactly the bytes it means (split, coalesced,
 * CRLF...) and read the server's answers one decoded message at a time. Every wait is bounded
 * by a time and by the case's AbortSignal; what goes wrong is thrown as a {@link CaseFailure}
 * (with the bytes as evidence) or, when the server closes or cannot be reached, as a
 * {@link TargetGone}.
 *
 * Each wire also checks that what the server writes is canonical (PROTOCOL.md, "What we accept
 * and what we write") and keeps the first difference in {@link Wire.canonicalProblem}.
 *
 * @module
 */
import { type DecodeEvent, Decoder, encode, type Message } from "../protocol/mod.ts";
import { formatAddress } from "../net/address.ts";
import { CaseFailure, type Evidence, TargetGone } from "./case.ts";
import { escapeBytes } from "./report.ts";

/** Where a server listens. */
export interface Addr {
  /** Host name or address, such as `127.0.0.1`. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/** Default wait for something that should arrive. Generous: the machine may be busy. */
export const ARRIVE_MS = 5000;
/** Default wait when checking that something does NOT arrive. */
export const QUIET_MS = 250;
/** Most characters of escaped bytes kept as evidence. */
const EVIDENCE_CHARS = 300;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of a string (UTF-8), or the bytes themselves. */
export function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** The bytes of the parts one after another (strings as UTF-8). */
export function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const arrays = parts.map(bytesOf);
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

/** UTF-8 text of bytes. */
export function textOf(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Escaped bytes, shortened for a report. */
export function evidenceOf(bytes: Uint8Array | string): string {
  const text = escapeBytes(bytes);
  return text.length <= EVIDENCE_CHARS
    ? text
    : `${text.slice(0, EVIDENCE_CHARS)}... (${bytesOf(bytes).length} bytes)`;
}

/**
 * A short printable form of a message, for failure messages and comparisons. Extra header lines
 * show, so that a check expecting a plain message fails when a server sends a plain client any
 * (PROTOCOL.md, "Extension registry").
 */
export function describe(m: Message): string {
  const first = describeFirstLine(m);
  return m.headers === undefined ? first : `${first} with headers ${JSON.stringify(m.headers)}`;
}

/** {@link describe} without the headers. */
function describeFirstLine(m: Message): string {
  switch (m.type) {
    case "SEND":
      return `SEND ${m.to} (${m.body.length} bytes: ${
        JSON.stringify(textOf(m.body).slice(0, 40))
      })`;
    case "FORWARD":
      return `FORWARD ${m.from} (${m.body.length} bytes: ${
        JSON.stringify(textOf(m.body).slice(0, 40))
      })`;
    case "ERROR":
      return `ERROR ${m.code} ${m.text}`;
    case "REGISTER":
    case "REGISTERED":
      return `${m.type} ${m.half} ${m.name}`;
    case "SENT":
      return `SENT ${m.to}`;
    case "RECEIVED":
      return `RECEIVED ${m.from}`;
    case "UNREGISTER":
    case "UNREGISTERED":
      return `${m.type} ${m.name}`;
  }
}

/** `m` without extra header lines. */
function withoutHeaders(m: Message): Message {
  if (m.headers === undefined) return m;
  const { headers: _, ...rest } = m;
  return rest as Message;
}

/** What the read loop puts in the inbox: a decoded event, or the end of the stream. */
type Incoming = DecodeEvent | { kind: "closed"; error?: string | undefined };

interface Waiter {
  resolve: (item: Incoming | null) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** How a wire waits and whom it tells what it sent. */
export interface WireOptions {
  /** Ends every wait (and closes the wire) when aborted. */
  signal?: AbortSignal;
  /** Default wait for a message, in milliseconds ({@link ARRIVE_MS} if not given). */
  waitMs?: number;
  /**
   * Shared by the wires of one case: the last thing any of them sent, as `label: bytes`
   * escaped, which failures show as what was sent.
   */
  journal?: { lastSent?: string };
}

/** Where the server's output first differed from the canonical form. */
export interface CanonicalProblem {
  /** The canonical bytes, escaped. */
  expected: string;
  /** The bytes the server wrote, escaped. */
  got: string;
}

/** One raw connection to a server. */
export class Wire {
  /** Name used in failure messages, such as `alice/TOSEND`. */
  label: string;
  /** Every byte received so far, in order (for checks of exact bytes). */
  readonly received: Uint8Array[] = [];
  readonly #conn: Deno.TcpConn;
  readonly #decoder = new Decoder({ from: "server" });
  readonly #inbox: Incoming[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #loop: Promise<void>;
  readonly #options: WireOptions;
  readonly #onAbort = () => this.#abortWaits();
  #lastSent: Uint8Array = new Uint8Array(0);
  #ended = false;
  #closed = false;
  // Canonical check: raw bytes and decoded messages since the decoder was last between messages.
  #raw: Uint8Array[] = [];
  #decoded: Message[] = [];
  #canonical: CanonicalProblem | undefined;

  private constructor(conn: Deno.TcpConn, label: string, options: WireOptions) {
    this.#conn = conn;
    this.label = label;
    this.#options = options;
    try {
      conn.setNoDelay(true);
    } catch { /* not fatal */ }
    options.signal?.addEventListener("abort", this.#onAbort);
    this.#loop = this.#read();
  }

  /**
   * Opens a connection to `addr`. Throws a {@link TargetGone} if the server cannot be reached.
   */
  static async connect(addr: Addr, label = "wire", options: WireOptions = {}): Promise<Wire> {
    options.signal?.throwIfAborted();
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: addr.hostname, port: addr.port });
    } catch (e) {
      throw new TargetGone(
        `Cannot connect to "${formatAddress(addr.hostname, addr.port)}" (${label}): ${
          e instanceof Error ? e.message : e
        }.`,
      );
    }
    return new Wire(conn, label, options);
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let error: string | undefined;
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        this.received.push(chunk);
        this.#raw.push(chunk);
        this.#decoder.feed(chunk, (e) => this.#put(e));
        if (this.#decoder.idle && !this.#decoder.dead) this.#checkCanonical();
      }
    } catch (e) {
      if (!this.#closed) error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    this.#ended = true;
    this.#put({ kind: "closed", error });
  }

  /** Compares the raw bytes since the last boundary with the canonical form of their messages. */
  #checkCanonical(): void {
    const raw = concat(...this.#raw.splice(0));
    const messages = this.#decoded.splice(0);
    if (this.#canonical !== undefined) return;
    const canonical = concat(...messages.map((m) => encode(withoutHeaders(m))));
    const same = raw.length === canonical.length && raw.every((b, k) => b === canonical[k]);
    if (!same || messages.some((m) => m.headers !== undefined)) {
      this.#canonical = { expected: evidenceOf(canonical), got: evidenceOf(raw) };
    }
  }

  /** The first place the server's bytes on this wire were not canonical, if any. */
  get canonicalProblem(): CanonicalProblem | undefined {
    return this.#canonical;
  }

  #put(item: Incoming): void {
    if (item.kind === "message") this.#decoded.push(item.message);
    if (item.kind === "closed") {
      // The end of the stream stays in the inbox: every later read sees it too.
      this.#inbox.push(item);
      for (const w of this.#waiters.splice(0)) {
        clearTimeout(w.timer);
        w.resolve(item);
      }
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(item);
    } else {
      this.#inbox.push(item);
    }
  }

  #abortWaits(): void {
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
  }

  /** The next decoded event or end of stream, or `null` if none arrives in time. */
  #take(timeoutMs: number): Promise<Incoming | null> {
    const ready = this.#inbox[0];
    if (ready !== undefined) {
      if (ready.kind !== "closed") this.#inbox.shift();
      return Promise.resolve(ready);
    }
    if (this.#options.signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          const k = this.#waiters.indexOf(waiter);
          if (k !== -1) this.#waiters.splice(k, 1);
          resolve(null);
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** The last bytes sent on this wire, escaped (evidence for a failure). */
  get lastSent(): string {
    return evidenceOf(this.#lastSent);
  }

  /**
   * Sends bytes (a string is sent as UTF-8) in one write call, completely. Throws a
   * {@link TargetGone} if the server has closed the connection.
   */
  async send(data: string | Uint8Array | Message): Promise<void> {
    const bytes = data instanceof Uint8Array || typeof data === "string"
      ? bytesOf(data)
      : encode(data);
    this.#lastSent = bytes;
    if (this.#options.journal) {
      this.#options.journal.lastSent = `${this.label}: ${evidenceOf(bytes)}`;
    }
    let off = 0;
    try {
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
    } catch (e) {
      throw new TargetGone(
        `${this.label}: the server closed the connection before it could send ` +
          `${evidenceOf(bytes)} (${e instanceof Error ? e.message : e}).`,
      );
    }
  }

  /** Sends bytes one write call per byte, yielding to the event loop between bytes. */
  async sendBytewise(data: string | Uint8Array): Promise<void> {
    const bytes = bytesOf(data);
    for (let i = 0; i < bytes.length; i++) {
      await this.send(bytes.subarray(i, i + 1));
      await new Promise<void>((r) => setTimeout(r, 0));
    }
    this.#lastSent = bytes;
    if (this.#options.journal) {
      this.#options.journal.lastSent = `${this.label}: ${evidenceOf(bytes)}`;
    }
  }

  /**
   * The next message from the server. Throws a {@link CaseFailure} naming this wire (and what
   * was `expected`, if given) if none arrives within `timeoutMs` or before the case is aborted,
   * or if the bytes do not decode; a {@link TargetGone} if the server closes the connection.
   */
  async next(timeoutMs = this.#options.waitMs ?? ARRIVE_MS, expected?: string): Promise<Message> {
    const started = performance.now();
    const item = await this.#take(timeoutMs);
    const want = expected ?? "a message";
    if (item === null) {
      const ms = Math.round(performance.now() - started);
      throw new CaseFailure(`${this.label}: expected ${want}, nothing came within ${ms} ms.`, {
        ...this.#sent(),
        ...(expected !== undefined ? { expected } : {}),
        got: `nothing within ${ms} ms`,
      });
    }
    if (item.kind === "closed") {
      throw new TargetGone(
        `${this.label}: the server closed the connection while ${want} was expected` +
          (item.error ? ` (${item.error})` : "") + ".",
      );
    }
    if (item.kind === "error") {
      throw new CaseFailure(`${this.label}: the server's bytes do not decode as a message.`, {
        ...this.#sent(),
        ...(expected !== undefined ? { expected } : {}),
        got: evidenceOf(concat(...this.received.slice(-4))),
      });
    }
    return item.message;
  }

  /** What was sent last (by this case's wires, or this wire) as evidence. */
  get sentEvidence(): Evidence {
    return this.#sent();
  }

  /** This wire's last sent bytes as evidence. */
  #sent(): Evidence {
    const shared = this.#options.journal?.lastSent;
    if (shared !== undefined) return { sent: shared };
    return this.#lastSent.length > 0 ? { sent: `${this.label}: ${this.lastSent}` } : {};
  }

  /** Throws a {@link CaseFailure} if a message arrives (or the connection closes) in time. */
  async expectNothing(timeoutMs = QUIET_MS): Promise<void> {
    const item = await this.#take(timeoutMs);
    if (item === null) return;
    const got = item.kind === "message"
      ? evidenceOf(encode(item.message))
      : item.kind === "closed"
      ? "the connection closed"
      : JSON.stringify(item.error);
    throw new CaseFailure(`${this.label}: expected nothing, got ${got}.`, {
      ...this.#sent(),
      expected: "nothing",
      got,
    });
  }

  /**
   * Waits until the server closes the connection. Throws a {@link CaseFailure} if a message
   * arrives first or nothing happens in time. A reset counts as closed.
   */
  async expectClosed(timeoutMs = this.#options.waitMs ?? ARRIVE_MS): Promise<void> {
    const started = performance.now();
    const item = await this.#take(timeoutMs);
    if (item !== null && item.kind === "closed") return;
    const ms = Math.round(performance.now() - started);
    const got = item === null
      ? `nothing within ${ms} ms`
      : item.kind === "message"
      ? evidenceOf(encode(item.message))
      : JSON.stringify(item.error);
    throw new CaseFailure(
      item === null
        ? `${this.label}: the server did not close the connection in ${ms} ms.`
        : `${this.label}: expected the connection to close, got ${got}.`,
      { ...this.#sent(), expected: "the connection closed", got },
    );
  }

  /** True once the server's end of the stream (or an error) has been seen. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Closes the connection and waits for the read loop to end. Safe to call more than once. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#options.signal?.removeEventListener("abort", this.#onAbort);
      this.#abortWaits();
      try {
        this.#conn.close();
      } catch { /* already closed */ }
    }
    await this.#loop;
  }
}

/** One user's two registered connections. */
export interface TestUser {
  /** The username. */
  name: string;
  /** The connection the user sends on. */
  tosend: Wire;
  /** The connection the user receives on. */
  torecv: Wire;
  /** Closes both connections. */
  close(): Promise<void>;
}

/** Options of {@link Wires}: the case's signal and the default wait. */
export interface WiresOptions {
  /** Ends every wait and closes every wire when aborted. */
  signal?: AbortSignal;
  /** Default wait for a message, in milliseconds. */
  waitMs?: number;
}

/**
 * Opens wires and closes them all at the end, whatever happens: pass it to a case body with
 * {@link withWires}.
 */
export class Wires {
  /** The server's address. */
  readonly addr: Addr;
  readonly #open: Wire[] = [];
  readonly #options: WireOptions;

  /** A set of wires to `addr`. */
  constructor(addr: Addr, options: WiresOptions = {}) {
    this.addr = addr;
    this.#options = { ...options, journal: {} };
  }

  /** Every wire opened so far and still tracked. */
  get open(): readonly Wire[] {
    return this.#open;
  }

  /** Opens one more wire. */
  async connect(label = "wire"): Promise<Wire> {
    const wire = await Wire.connect(this.addr, label, this.#options);
    this.#open.push(wire);
    return wire;
  }

  /** Registers `name` with two new wires, TOSEND then TORECV (or the other way round). */
  async user(name: string, order: "TOSEND first" | "TORECV first" = "TOSEND first"): Promise<
    TestUser
  > {
    const tosend = await this.connect(`${name}/TOSEND`);
    const torecv = await this.connect(`${name}/TORECV`);
    const halves: [Wire, "TOSEND" | "TORECV"][] = [[tosend, "TOSEND"], [torecv, "TORECV"]];
    if (order === "TORECV first") halves.reverse();
    for (const [wire, half] of halves) {
      await wire.send(`REGISTER ${half} ${name}\n\n`);
      const expected = `REGISTERED ${half} ${name}\\n\\n`;
      const answer = await wire.next(undefined, expected);
      if (answer.type !== "REGISTERED" || answer.half !== half || answer.name !== name) {
        throw new CaseFailure(
          `${wire.label}: REGISTER ${half} ${name} answered ${describe(answer)}.`,
          { ...wire.sentEvidence, expected, got: evidenceOf(encode(answer)) },
        );
      }
    }
    return {
      name,
      tosend,
      torecv,
      close: async () => {
        await Promise.all([tosend.close(), torecv.close()]);
      },
    };
  }

  /** Closes every wire opened so far. */
  async closeAll(): Promise<void> {
    await Promise.all(this.#open.splice(0).map((w) => w.close()));
  }
}

/**
 * Runs `body` with a fresh {@link Wires} and closes every wire it opened afterwards (and at once
 * when `options.signal` aborts, so that no write or read outlives the case).
 */
export async function withWires<T>(
  addr: Addr,
  body: (w: Wires) => Promise<T>,
  options: WiresOptions = {},
): Promise<T> {
  const wires = new Wires(addr, options);
  const onAbort = () => void wires.closeAll();
  options.signal?.addEventListener("abort", onAbort);
  try {
    return await body(wires);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await wires.closeAll();
  }
}

/**
 * Registers `name` on two fresh connections (TOSEND first) and returns them. The caller closes
 * them; prefer {@link Wires.user}, which closes them for you.
 */
export async function registerUser(addr: Addr, name: string): Promise<TestUser> {
  const wires = new Wires(addr);
  try {
    return await wires.user(name);
  } catch (error) {
    await wires.closeAll();
    throw error;
  }
}

/** Resolves after `ms` milliseconds, or at once when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}
