/**
 * The ceiling: a minimal relay of the two-socket chat protocol on the same transport as the
 * real server (`transport.ts`), doing no more than forwarding needs. It recognizes `REGISTER`
 * lines, finds the header end and `Content-length`, rewrites `SEND to` into `FORWARD from`
 * (the header lines and body are copied as they are) and turns each `RECEIVED` into the
 * sender's `SENT`. `SEND ALL` goes to every other user and is answered once all have
 * acknowledged.
 *
 * It trusts its input to be canonical (what the bench's generator writes), pipelines FORWARDs
 * (it does not wait for one RECEIVED before the next), does not keep answers in request order
 * across different recipients, and has no limits or timeouts: it is a yardstick for
 * `bench/main.ts`, not a server.
 *
 * With `--web PORT` it also takes the protocol over WebSocket on that port (`ws.ts`: any path is
 * upgraded, frames carry the bytes), the same users on both edges, and prints `chat server`'s
 * `Web client listening on HOST:PORT` line.
 *
 * Usage: `deno run --allow-net bench/relay.ts [--host H] [--port N] [--transport deno|node]
 * [--web PORT]`; prints `Chat server listening on HOST:PORT` like `chat server`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Conn, type ConnHandler, listen, type TransportKind } from "../src/net/transport.ts";
import { acceptWs } from "./ws.ts";

const LF = 10;
const ENC = new TextEncoder();
const ERROR_102 = ENC.encode("ERROR 102 Unable to send\n\n");
const ERROR_104 = ENC.encode("ERROR 104 Username taken\n\n");
const SENT_ALL = ENC.encode("SENT ALL\n\n");

/** A user's two connections. */
interface Peer {
  send: RelayConn | null;
  recv: RelayConn | null;
}

/** A FORWARD awaiting its RECEIVED: who to answer, and with what. */
interface Waiter {
  sender: RelayConn;
  reply: Uint8Array;
  /** For SEND ALL: acknowledgements still awaited, shared by all recipients. */
  group: { left: number; failed: boolean } | null;
}

const peers = new Map<string, Peer>();
const sentReplies = new Map<string, Uint8Array>();

function sentReply(to: string): Uint8Array {
  let r = sentReplies.get(to);
  if (r === undefined) {
    r = ENC.encode(`SENT ${to}\n\n`);
    sentReplies.set(to, r);
  }
  return r;
}

function ascii(b: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
}

/** Index just past the blank line ending the header that starts at `pos`, or -1. */
function headerEnd(b: Uint8Array, pos: number): number {
  let i = pos;
  while ((i = b.indexOf(LF, i)) !== -1) {
    if (i + 1 >= b.length) return -1;
    if (b[i + 1] === LF) return i + 2;
    i++;
  }
  return -1;
}

/** One connection of the relay. */
class RelayConn implements ConnHandler {
  readonly conn: Conn;
  name = "";
  half: "TOSEND" | "TORECV" | "" = "";
  /** "FORWARD <name>" as bytes, once registered. */
  forwardHead: Uint8Array | null = null;
  /** On a TORECV connection: FORWARDs written and not acknowledged yet, oldest first. */
  readonly waiting: Waiter[] = [];
  #rest: Uint8Array | null = null;

  constructor(conn: Conn) {
    this.conn = conn;
  }

  data(chunk: Uint8Array): void {
    let b = chunk;
    if (this.#rest !== null) {
      b = new Uint8Array(this.#rest.length + chunk.length);
      b.set(this.#rest);
      b.set(chunk, this.#rest.length);
      this.#rest = null;
    }
    let pos = 0;
    const n = b.length;
    while (pos < n) {
      if (b[pos] === LF) {
        pos++; // a stray blank line
        continue;
      }
      const end = headerEnd(b, pos);
      if (end === -1) break;
      const fl = b.indexOf(LF, pos);
      const first = b[pos];
      if (first === 83 /* S */) {
        // SEND <to>\nContent-length: N\n\n<body>
        const colon = b.indexOf(58, fl);
        let length = 0;
        for (let i = colon + 1; i < end; i++) {
          const c = b[i]!;
          if (c >= 48 && c <= 57) length = length * 10 + c - 48;
          else if (c === LF) break;
        }
        if (end + length > n) break;
        this.#send(ascii(b, pos + 5, fl), b, fl, end + length);
        pos = end + length;
        continue;
      }
      if (first === 82 /* R */ && b[pos + 2] === 71 /* REGISTER */) {
        this.#register(ascii(b, pos + 9, pos + 15), ascii(b, pos + 16, fl));
      } else if (first === 82 /* RECEIVED */ || first === 69 /* ERROR */) {
        this.#acknowledged(first === 82);
      }
      pos = end;
    }
    if (pos < n) this.#rest = b.slice(pos);
  }

  #register(half: string, name: string): void {
    if (half !== "TOSEND" && half !== "TORECV") return;
    let peer = peers.get(name);
    if (peer === undefined) {
      peer = { send: null, recv: null };
      peers.set(name, peer);
    }
    const key = half === "TOSEND" ? "send" : "recv";
    if (peer[key] !== null && peer[key] !== this) {
      this.conn.write(ERROR_104);
      return;
    }
    peer[key] = this;
    this.name = name;
    this.half = half;
    this.forwardHead = ENC.encode(`FORWARD ${name}`);
    this.conn.write(ENC.encode(`REGISTERED ${half} ${name}\n\n`));
  }

  /** Forwards `b[fl, end)` (the header after the first line, and the body) under a new first line. */
  #send(to: string, b: Uint8Array, fl: number, end: number): void {
    const head = this.forwardHead;
    if (head === null) {
      this.conn.write(ERROR_102);
      return;
    }
    const out = new Uint8Array(head.length + end - fl);
    out.set(head);
    out.set(b.subarray(fl, end), head.length);
    if (to === "ALL") {
      const group = { left: 0, failed: false };
      for (const [name, peer] of peers) {
        if (name === this.name || peer.recv === null || peer.send === null) continue;
        group.left++;
        peer.recv.waiting.push({ sender: this, reply: SENT_ALL, group });
        peer.recv.conn.write(out);
      }
      if (group.left === 0) this.conn.write(SENT_ALL);
      return;
    }
    const peer = peers.get(to);
    if (peer === undefined || peer.recv === null || peer.send === null) {
      this.conn.write(ERROR_102);
      return;
    }
    peer.recv.waiting.push({ sender: this, reply: sentReply(to), group: null });
    peer.recv.conn.write(out);
  }

  #acknowledged(ok: boolean): void {
    const w = this.waiting.shift();
    if (w !== undefined) settle(w, ok);
  }

  closed(): void {
    const peer = peers.get(this.name);
    if (peer !== undefined) {
      if (peer.send === this) peer.send = null;
      if (peer.recv === this) peer.recv = null;
      if (peer.send === null && peer.recv === null) peers.delete(this.name);
    }
    for (const w of this.waiting.splice(0)) settle(w, false);
  }
}

function settle(w: Waiter, ok: boolean): void {
  if (w.group === null) {
    w.sender.conn.write(ok ? w.reply : ERROR_102);
    return;
  }
  if (!ok) w.group.failed = true;
  if (--w.group.left === 0) w.sender.conn.write(w.group.failed ? ERROR_102 : w.reply);
}

/** Starts the relay and resolves with its port once it listens. */
export async function startRelay(
  hostname: string,
  port: number,
  transport: TransportKind,
): Promise<{ hostname: string; port: number; close(): Promise<void> }> {
  return await listen({ hostname, port, transport }, (conn) => new RelayConn(conn));
}

/** Starts the relay's WebSocket edge (node:net, as the server's web edge) on `port`. */
export async function startRelayWeb(
  hostname: string,
  port: number,
): Promise<{ hostname: string; port: number; close(): Promise<void> }> {
  return await listen(
    { hostname, port, transport: "node" },
    (conn) => acceptWs(conn, (ws) => new RelayConn(ws)),
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
      transport: { type: "string", default: "deno" },
      quiet: { type: "boolean" },
      web: { type: "string" },
    },
  });
  const transport = values.transport;
  if (transport !== "deno" && transport !== "node") {
    console.error('relay: --transport must be "deno" or "node"');
    Deno.exit(2);
  }
  const listener = await startRelay(values.host, Number(values.port), transport);
  const shown = listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname;
  Deno.stdout.writeSync(ENC.encode(`Chat server listening on ${shown}:${listener.port}\n`));
  if (values.web !== undefined) {
    const web = await startRelayWeb(values.host, Number(values.web));
    const address = `${shown}:${web.port}`;
    Deno.stdout.writeSync(
      ENC.encode(`Web client listening on ${address} (open http://${address}/)\n`),
    );
  }
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => Deno.exit(0));
}
