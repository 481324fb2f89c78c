/**
 * The offline scenario's raw protocol clients (`node:net`, the protocol parsed by hand): users
 * that register, negotiate extensions, claim or prove a name with an Ed25519 key (WebCrypto), send
 * in a closed loop and answer every `FORWARD` with `RECEIVED` at once.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as net from "node:net";

/** One message from the server. */
export interface Incoming {
  /** The first line, e.g. `SENT alice` or `ERROR 102 Unable to send`. */
  readonly line: string;
  /** Header lines after the first, by name (`Content-length` included). */
  readonly headers: Map<string, string>;
  /** The body (empty when there is none). */
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();
const NL2 = Buffer.from("\n\n");

/** Splits a byte stream into {@link Incoming} messages. */
class Parser {
  #buf: Buffer = Buffer.alloc(0);

  /** Adds `chunk` and returns the messages it completes. */
  push(chunk: Uint8Array): Incoming[] {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    const out: Incoming[] = [];
    let at = 0;
    while (true) {
      const end = this.#buf.indexOf(NL2, at);
      if (end === -1) break;
      const lines = this.#buf.toString("latin1", at, end).split("\n");
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const colon = l.indexOf(":");
        if (colon > 0) headers.set(l.slice(0, colon), l.slice(colon + 1).trim());
      }
      const length = Number(headers.get("Content-length") ?? 0);
      if (end + 2 + length > this.#buf.length) break;
      const body = this.#buf.subarray(end + 2, end + 2 + length);
      out.push({ line: lines[0]!, headers, body });
      at = end + 2 + length;
    }
    this.#buf = this.#buf.subarray(at);
    return out;
  }
}

/** One connection: answers come in order, each to the oldest waiting request. */
export class Wire {
  readonly #socket: net.Socket;
  readonly #parser = new Parser();
  readonly #waiting: ((m: Incoming) => void)[] = [];
  /** Called for every message no request waits for (FORWARDs on a TORECV connection). */
  onUnasked: (m: Incoming, wire: Wire) => void = () => {};
  /** Set when the connection closed. */
  closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      for (const m of this.#parser.push(chunk)) {
        const waiter = this.#waiting.shift();
        if (waiter) waiter(m);
        else this.onUnasked(m, this);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      const closedMessage: Incoming = {
        line: "CLOSED",
        headers: new Map(),
        body: new Uint8Array(),
      };
      for (const w of this.#waiting.splice(0)) w(closedMessage);
    });
  }

  /** Connects to the server on 127.0.0.1:`port`. */
  static connect(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        s.setNoDelay(true);
        resolve(new Wire(s));
      });
    });
  }

  /** Writes raw bytes (no answer awaited). */
  write(bytes: Uint8Array | string): void {
    this.#socket.write(typeof bytes === "string" ? encoder.encode(bytes) : bytes);
  }

  /** Writes `bytes` and resolves to the next message that is not unasked. */
  request(bytes: Uint8Array | string): Promise<Incoming> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.write(bytes);
    });
  }

  /** `SEND to` with `body`, resolving to the answer. */
  send(to: string, body: Uint8Array | string): Promise<Incoming> {
    const b = typeof body === "string" ? encoder.encode(body) : body;
    const head = encoder.encode(`SEND ${to}\nContent-length: ${b.length}\n\n`);
    const frame = new Uint8Array(head.length + b.length);
    frame.set(head);
    frame.set(b, head.length);
    return this.request(frame);
  }

  /** Closes the connection. */
  close(): void {
    this.#socket.destroy();
  }
}

/** Throws unless `m`'s first line starts with `expected`. */
export function expect(m: Incoming, expected: string, what: string): Incoming {
  if (!m.line.startsWith(expected)) {
    const reason = m.headers.get("Reason");
    throw new Error(
      `${what}: expected "${expected}", got "${m.line}"${reason ? ` (${reason})` : ""}`,
    );
  }
  return m;
}

/** An Ed25519 key pair and its raw public key in base64. */
export interface Identity {
  /** The name it owns. */
  readonly name: string;
  /** The Ed25519 key pair. */
  readonly keys: CryptoKeyPair;
  /** The public key, 32 raw bytes in base64. */
  readonly publicKey: string;
}

const b64 = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)));

/** Makes a key pair for `name`. */
export async function makeIdentity(name: string): Promise<Identity> {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const raw = await crypto.subtle.exportKey("raw", keys.publicKey);
  return { name, keys, publicKey: b64(raw) };
}

/** Asks for a challenge on `w` and sends the `IDENTIFY` that answers it; resolves to the answer. */
export async function identify(w: Wire, id: Identity): Promise<Incoming> {
  const c = expect(await w.send("server", "CHALLENGE"), "SENT server", "CHALLENGE");
  const challenge = c.headers.get("Challenge");
  if (!challenge) throw new Error(`The answer to CHALLENGE has no Challenge: "${c.line}"`);
  const signed = encoder.encode(`chat-identity-1 ${challenge} ${id.name}`);
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, id.keys.privateKey, signed);
  return await w.send("server", `IDENTIFY ${id.name} ${id.publicKey} ${b64(sig)}`);
}

/** A user with both halves connected. */
export interface User {
  /** Its name. */
  readonly name: string;
  /** The connection it sends on. */
  readonly tosend: Wire;
  /** The connection it receives on (every FORWARD answered at once). */
  readonly torecv: Wire;
}

/**
 * Connects `name`'s two halves, proving `id` on each before `REGISTER` when given, registers
 * them, negotiates `extensions`; every `FORWARD` on TORECV goes to `onForward` and is answered
 * `RECEIVED` at once.
 */
export async function connectUser(
  port: number,
  name: string,
  extensions: string,
  onForward: (m: Incoming) => void,
  id?: Identity,
): Promise<User> {
  const [tosend, torecv] = await Promise.all([Wire.connect(port), Wire.connect(port)]);
  torecv.onUnasked = (m, w) => {
    if (!m.line.startsWith("FORWARD ")) return;
    w.write(`RECEIVED ${m.line.slice(8)}\n\n`);
    onForward(m);
  };
  if (id) {
    for (const w of [tosend, torecv]) {
      expect(await identify(w, id), "SENT server", `proving "${name}"`);
    }
  }
  const [a, b] = await Promise.all([
    tosend.request(`REGISTER TOSEND ${name}\n\n`),
    torecv.request(`REGISTER TORECV ${name}\n\n`),
  ]);
  expect(a, "REGISTERED", `registering "${name}"`);
  expect(b, "REGISTERED", `registering "${name}"`);
  const n = expect(await tosend.send("server", `EXTENSIONS ${extensions}`), "SENT server", "EXT");
  const agreed = n.headers.get("Extensions") ?? "";
  for (const e of extensions.split(" ")) {
    if (!agreed.split(" ").includes(e)) throw new Error(`The server did not agree "${e}".`);
  }
  return { name, tosend, torecv };
}

/** Registers `id.name`, claims it with `id`, then leaves (both connections closed). */
export async function claimName(port: number, id: Identity): Promise<void> {
  const u = await connectUser(port, id.name, "identity mail", () => {});
  const answer = expect(await identify(u.tosend, id), "SENT server", `claiming "${id.name}"`);
  const said = answer.headers.get("Identity");
  if (said !== "claimed" && said !== "owner") {
    throw new Error(`Claiming "${id.name}": the server said Identity: ${said}.`);
  }
  u.tosend.close();
  u.torecv.close();
}
