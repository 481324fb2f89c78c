/**
 * A tiny raw-socket client for tests: it speaks the protocol byte for byte, with no client
 * logic of its own, so tests can send exactly the bytes they mean (split, coalesced, CRLF...)
 * and read the server's answers one decoded message at a time, with a timeout on every read.
 *
 * Every wire must be closed (see {@link Wire.close} and {@link withWires}) so that Deno's
 * resource and op sanitizers pass.
 *
 * @module
 */
import { type DecodeEvent, Decoder, encode, type Message } from "../src/protocol/mod.ts";

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

/** What the read loop puts in the inbox: a decoded event, or the end of the stream. */
type Incoming = DecodeEvent | { kind: "closed"; error?: string | undefined };

interface Waiter {
  resolve: (item: Incoming) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** One raw test connection to a server. */
export class Wire {
  /** Name used in failure messages, such as `alice/TOSEND`. */
  label: string;
  /** Every byte received so far, in order (for tests that check exact bytes). */
  readonly received: Uint8Array[] = [];
  readonly #conn: Deno.TcpConn;
  readonly #decoder = new Decoder({ from: "server" });
  readonly #inbox: Incoming[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #loop: Promise<void>;
  #ended = false;
  #closed = false;

  private constructor(conn: Deno.TcpConn, label: string) {
    this.#conn = conn;
    this.label = label;
    try {
      conn.setNoDelay(true);
    } catch { /* not fatal */ }
    this.#loop = this.#read();
  }

  /** Opens a connection to `addr`. */
  static async connect(addr: Addr, label = "wire"): Promise<Wire> {
    const conn = await Deno.connect({ hostname: addr.hostname, port: addr.port });
    return new Wire(conn, label);
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let error: string | undefined;
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.received.push(buf.slice(0, n));
        this.#decoder.feed(buf.subarray(0, n), (e) => this.#put(e));
      }
    } catch (e) {
      if (!this.#closed) error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    this.#ended = true;
    this.#put({ kind: "closed", error });
  }

  #put(item: Incoming): void {
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

  /** The next decoded event or end of stream, or `null` if none arrives within `timeoutMs`. */
  #take(timeoutMs: number): Promise<Incoming | null> {
    const ready = this.#inbox[0];
    if (ready !== undefined) {
      if (ready.kind !== "closed") this.#inbox.shift();
      return Promise.resolve(ready);
    }
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

  /** Sends bytes (a string is sent as UTF-8) in one write call, completely. */
  async send(data: string | Uint8Array | Message): Promise<void> {
    const bytes = data instanceof Uint8Array || typeof data === "string"
      ? bytesOf(data)
      : encode(data);
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  /** Sends bytes one write call per byte, yielding to the event loop between bytes. */
  async sendBytewise(data: string | Uint8Array): Promise<void> {
    const bytes = bytesOf(data);
    for (let i = 0; i < bytes.length; i++) {
      await this.send(bytes.subarray(i, i + 1));
      await new Promise<void>((r) => setTimeout(r, 0));
    }
  }

  /**
   * The next message from the server. Throws, naming this wire, if none arrives within
   * `timeoutMs`, if the server closes the connection first, or if the bytes do not decode.
   */
  async next(timeoutMs = ARRIVE_MS): Promise<Message> {
    const item = await this.#take(timeoutMs);
    if (item === null) throw new Error(`${this.label}: no message within ${timeoutMs} ms`);
    if (item.kind === "closed") {
      throw new Error(
        `${this.label}: connection closed by the server while waiting for a message` +
          (item.error ? ` (${item.error})` : ""),
      );
    }
    if (item.kind === "error") {
      throw new Error(
        `${this.label}: undecodable bytes from the server: ` +
          JSON.stringify(item.error),
      );
    }
    return item.message;
  }

  /** Throws if a message arrives (or the connection closes) within `timeoutMs`. */
  async expectNothing(timeoutMs = QUIET_MS): Promise<void> {
    const item = await this.#take(timeoutMs);
    if (item === null) return;
    if (item.kind === "message") {
      throw new Error(`${this.label}: expected nothing, got ${describe(item.message)}`);
    }
    if (item.kind === "closed") throw new Error(`${this.label}: expected nothing, got closed`);
    throw new Error(`${this.label}: expected nothing, got ${JSON.stringify(item.error)}`);
  }

  /**
   * Waits until the server closes the connection. Throws if a message arrives first or
   * nothing happens within `timeoutMs`. A reset counts as closed.
   */
  async expectClosed(timeoutMs = ARRIVE_MS): Promise<void> {
    const item = await this.#take(timeoutMs);
    if (item === null) {
      throw new Error(`${this.label}: the server did not close the connection in ${timeoutMs} ms`);
    }
    if (item.kind === "closed") return;
    throw new Error(
      `${this.label}: expected the connection to close, got ` +
        (item.kind === "message" ? describe(item.message) : JSON.stringify(item.error)),
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

/**
 * Opens wires and closes them all at the end, whatever happens: pass it to a test body with
 * {@link withWires}.
 */
export class Wires {
  /** The server's address. */
  readonly addr: Addr;
  readonly #open: Wire[] = [];

  /** A set of wires to `addr`. */
  constructor(addr: Addr) {
    this.addr = addr;
  }

  /** Opens one more wire. */
  async connect(label = "wire"): Promise<Wire> {
    const wire = await Wire.connect(this.addr, label);
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
      const answer = await wire.next();
      if (answer.type !== "REGISTERED" || answer.half !== half || answer.name !== name) {
        throw new Error(`${wire.label}: REGISTER ${half} ${name} answered ${describe(answer)}`);
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

/** Runs `body` with a fresh {@link Wires} and closes every wire it opened afterwards. */
export async function withWires<T>(addr: Addr, body: (w: Wires) => Promise<T>): Promise<T> {
  const wires = new Wires(addr);
  try {
    return await body(wires);
  } finally {
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

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
