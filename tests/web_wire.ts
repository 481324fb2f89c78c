/**
 * A raw WebSocket client for tests of the server's web port, written here on a plain socket and
 * the codec of src/net/websocket.ts (masked frames, as a browser sends): the upgrade request is
 * written by hand, so tests can send any header, any frame, and any byte.
 *
 * @module
 */
import { Decoder, type Message } from "../src/protocol/mod.ts";
import { encodeFrame, FrameDecoder, type FrameEvent, Opcode } from "../src/net/websocket.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where to connect, and how. */
export interface WsOptions {
  /** The web port. */
  port: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** Default `/ws`. */
  path?: string;
  /** An Origin header to send; none by default (not a browser). */
  origin?: string;
  /** Extra or replaced request headers (a value of null leaves a default header out). */
  headers?: Record<string, string | null>;
  /** Speak TLS, trusting this CA certificate (PEM). */
  tlsCa?: string;
}

/** The answer to the upgrade request. */
export interface UpgradeAnswer {
  /** The status code. */
  status: number;
  /** The headers, by lower-case name. */
  headers: Map<string, string>;
  /** The body (for a refusal: its one sentence). */
  body: string;
}

/** A WebSocket to the server's `/ws`, upgraded or refused. */
export class WsWire {
  /** The answer to the upgrade. */
  readonly answer: UpgradeAnswer;
  /** Protocol messages received in binary frames, decoded. */
  readonly messages: Message[] = [];
  /** Control frames received (close, ping, pong) and decoder errors. */
  readonly controls: FrameEvent[] = [];
  /** True once the server closed the TCP connection. */
  ended = false;
  readonly #conn: Deno.Conn;
  readonly #frames = new FrameDecoder({ masked: false });
  readonly #protocol = new Decoder({ from: "server" });
  readonly #loop: Promise<void>;
  #wake: (() => void) | null = null;
  #closed = false;

  private constructor(conn: Deno.Conn, answer: UpgradeAnswer, rest: Uint8Array) {
    this.#conn = conn;
    this.answer = answer;
    if (rest.length > 0) this.#input(rest);
    this.#loop = this.#read();
  }

  /** Opens a connection, sends the upgrade request and reads the answer's head. */
  static async open(options: WsOptions): Promise<WsWire> {
    const hostname = options.hostname ?? "127.0.0.1";
    const conn = options.tlsCa !== undefined
      ? await Deno.connectTls({ hostname, port: options.port, caCerts: [options.tlsCa] })
      : await Deno.connect({ hostname, port: options.port });
    const headers: Record<string, string | null> = {
      Host: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${options.port}`,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...(options.origin !== undefined ? { Origin: options.origin } : {}),
      ...options.headers,
    };
    const lines = Object.entries(headers).filter(([, v]) => v !== null).map(([k, v]) =>
      `${k}: ${v}`
    );
    const request = `GET ${options.path ?? "/ws"} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
    try {
      await writeAll(conn, encoder.encode(request));
      const { answer, rest } = await readAnswerHead(conn);
      return new WsWire(conn, answer, rest);
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  /** Sends `data` (protocol bytes) as one masked binary frame. */
  async send(data: string | Uint8Array): Promise<void> {
    await this.sendFrame(Opcode.Binary, typeof data === "string" ? encoder.encode(data) : data);
  }

  /** Sends one masked frame. */
  async sendFrame(opcode: number, payload: Uint8Array, fin = true): Promise<void> {
    const frame = encodeFrame(opcode, payload, crypto.getRandomValues(new Uint8Array(4)));
    if (!fin) frame[0] = frame[0]! & 0x7f;
    await this.sendRaw(frame);
  }

  /** Sends bytes as they are. */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    await writeAll(this.#conn, bytes);
  }

  /** Waits for the next protocol message (within `timeoutMs`) and takes it. */
  async next(timeoutMs = 5000): Promise<Message> {
    await this.#until(() => this.messages.length > 0, timeoutMs, "a message");
    return this.messages.shift()!;
  }

  /** Waits for a control frame of `type` and returns it. */
  async control(type: FrameEvent["type"], timeoutMs = 5000): Promise<FrameEvent> {
    await this.#until(() => this.controls.some((c) => c.type === type), timeoutMs, type);
    return this.controls.find((c) => c.type === type)!;
  }

  /** Waits until the server has closed the connection. */
  async waitEnded(timeoutMs = 5000): Promise<void> {
    await this.#until(() => this.ended, timeoutMs, "the end of the connection");
  }

  /** Registers `half` of `name` and checks the answer. */
  async register(half: "TOSEND" | "TORECV", name: string): Promise<void> {
    await this.send(`REGISTER ${half} ${name}\n\n`);
    const m = await this.next();
    if (m.type !== "REGISTERED") throw new Error(`REGISTER ${half} ${name}: ${JSON.stringify(m)}`);
  }

  async #until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0 || (this.ended && !done())) {
        throw new Error(
          `No ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.messages)} and ` +
            `${JSON.stringify(this.controls)}${this.ended ? " (connection ended)" : ""}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, Math.min(left, 100));
      });
      clearTimeout(timer);
    }
  }

  #input(chunk: Uint8Array): void {
    this.#frames.push(chunk, (e) => {
      if (e.type === "data") {
        this.#protocol.feed(e.bytes, (d) => {
          if (d.kind === "message") this.messages.push(d.message);
        });
      } else this.controls.push(e);
    });
    this.#wake?.();
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#input(buf.subarray(0, n));
      }
    } catch { /* reset */ }
    this.ended = true;
    this.#wake?.();
  }

  /** Closes the socket (no close frame) and waits for the reader. */
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

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** Reads an HTTP answer's head (and, when not 101, its body up to the end of the connection). */
async function readAnswerHead(
  conn: Deno.Conn,
): Promise<{ answer: UpgradeAnswer; rest: Uint8Array }> {
  let bytes = new Uint8Array(0);
  const buf = new Uint8Array(16 * 1024);
  let end = -1;
  while (end === -1) {
    const n = await conn.read(buf);
    if (n === null) {
      throw new Error(`The server closed before answering: "${decoder.decode(bytes)}"`);
    }
    const next = new Uint8Array(bytes.length + n);
    next.set(bytes);
    next.set(buf.subarray(0, n), bytes.length);
    bytes = next;
    end = decoder.decode(bytes).indexOf("\r\n\r\n");
  }
  const headText = decoder.decode(bytes).slice(0, end);
  const headLength = encoder.encode(headText).length + 4;
  const [statusLine = "", ...fields] = headText.split("\r\n");
  const headers = new Map<string, string>();
  for (const f of fields) {
    const colon = f.indexOf(":");
    headers.set(f.slice(0, colon).toLowerCase(), f.slice(colon + 1).trim());
  }
  const status = Number(statusLine.split(" ")[1]);
  let rest = bytes.slice(headLength);
  let body = "";
  if (status !== 101) {
    // Read the body to the end: the server closes after an answer.
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      const next = new Uint8Array(rest.length + n);
      next.set(rest);
      next.set(buf.subarray(0, n), rest.length);
      rest = next;
    }
    body = decoder.decode(rest);
    rest = new Uint8Array(0);
  }
  return { answer: { status, headers, body }, rest };
}

/** Sends a raw HTTP request and reads the whole answer (the server closes after it). */
export async function rawHttp(
  port: number,
  request: string | Uint8Array,
): Promise<UpgradeAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(conn, typeof request === "string" ? encoder.encode(request) : request);
    return (await readAnswerHead(conn)).answer;
  } finally {
    conn.close();
  }
}
