/**
 * The load generator: a separate process, driven by `bench/main.ts` over standard input and
 * output (one JSON command per line in, one JSON answer per line out). It opens users (two
 * connections each, registered with the real protocol) and drives them in one of three ways:
 *
 * - `closed`: each user sends a 64-byte message to the next user of a ring and sends the next
 *   one only after its `SENT`;
 * - `open`: messages go out at a fixed offered rate, round-robin over the users, whether or
 *   not earlier ones were answered; with `verify` (the soak), each body carries the sender's
 *   index and a sequence number, and the recipient checks the sender, the recipient and the
 *   order, so that a `SENT` whose `FORWARD` never arrived is counted as lost;
 * - `broadcast`: `SEND ALL` at a fixed rate, round-robin over the users; each body carries its
 *   send time so recipients can time the delivery.
 *
 * Latency is from writing the `SEND` to reading its `SENT`. Every user's `TORECV` answers each
 * `FORWARD` with `RECEIVED` at once.
 *
 * The process is bounded: it exits by itself at its `--deadline`, when its input closes, or on
 * `quit`. Sockets use `node:net` or `Deno.connect` (`--api`); the protocol is parsed by hand,
 * just enough for what the server writes, to keep the generator light.
 *
 * With `--web PORT` users connect to the server's WebSocket edge instead (`ws.ts`: the HTTP
 * upgrade on `node:net`, then each protocol message in one masked binary frame), all of them
 * (`--edge ws`) or every other one (`--edge mixed`: even users on TCP, odd ones on WebSocket, so
 * that every ring message crosses from one edge to the other).
 *
 * Usage: `deno run --allow-net bench/gen.ts --port N [--host H] [--api node|deno]
 * [--web PORT --edge tcp|ws|mixed] [--deadline SECONDS]`
 *
 * @module
 */
import * as net from "node:net";
import { serveCommands, startChild } from "./child.ts";
import { Histogram, type HistogramData } from "./hist.ts";
import { openWs } from "./ws.ts";

/** Socket API the generator uses. */
export type GenApi = "node" | "deno";
/** Which edge of the server the users connect to (`mixed`: every other user on each). */
export type GenEdge = "tcp" | "ws" | "mixed";

/** A command from `bench/main.ts`. */
export type GenCommand =
  | {
    cmd: "connect";
    /** Index of the first user (users are named `u<index>`). */
    first: number;
    /** Users to open. */
    count: number;
    /** Users being opened at once. */
    concurrency: number;
    /** How long one user may take to connect and register both halves. */
    timeoutMs: number;
    /** Stop opening users after this many failures in a row. */
    maxFailures: number;
  }
  | { cmd: "closed" }
  | { cmd: "open"; rate: number; verify?: boolean }
  | { cmd: "broadcast"; rate: number }
  | { cmd: "mark" }
  | { cmd: "report" }
  | { cmd: "idle"; timeoutMs: number }
  | { cmd: "quit" };

/** The answer to `connect`. */
export interface ConnectReply {
  ok: true;
  /** Users with both halves registered. */
  connected: number;
  /** Users that could not connect or register in time. */
  failed: number;
  /** Time taken, ms. */
  ms: number;
}

/** The answer to `report`: what happened since the last `mark`. */
export interface GenReport {
  ok: true;
  /** Time since `mark`, ms. */
  elapsedMs: number;
  /** SENT answers received. */
  acked: number;
  /** ERROR answers to SEND. */
  errors: number;
  /** The same by code ("102", "106", ...). */
  errorCodes: Record<string, number>;
  /** FORWARDs received (and answered) by this generator's users. */
  deliveries: number;
  /** SENT answers per user, in user order. */
  perUser: number[];
  /** SEND → SENT latency, µs. */
  lat: HistogramData;
  /** Broadcast: SEND ALL → FORWARD at each recipient, µs. */
  dlat: HistogramData;
  /** Open loop and broadcast: how late each send went out against its schedule, µs. */
  lag: HistogramData;
  /** Messages sent and not answered yet. */
  outstanding: number;
  /** Connections the server closed since the users were opened. */
  lostConns: number;
  /** Open loop with `verify`: what the recipients' checks found since `mark`. */
  verify: VerifyCounts | null;
  /** With `--edge mixed`: the same counts for the users of each edge (null otherwise). */
  byEdge: Record<"tcp" | "ws", EdgeCounts> | null;
}

/** What the users of one edge saw, in a mixed generator. */
export interface EdgeCounts {
  /** Users of this edge. */
  users: number;
  /** SENT answers to their SENDs since `mark`. */
  acked: number;
  /** ERROR answers to their SENDs since `mark`. */
  errors: number;
  /** FORWARDs they received since `mark`. */
  deliveries: number;
  /** Verify mode: their messages answered SENT whose FORWARD never arrived, since `mark`. */
  lostAcked: number;
  /** Their connections the server closed since the users were opened. */
  lostConns: number;
}

/** What the recipients of verified (soak) messages found. */
export interface VerifyCounts {
  /** FORWARDs of verified messages that arrived intact, from the right sender, in order. */
  verified: number;
  /** Messages answered `SENT` whose FORWARD never reached the recipient. */
  lostAcked: number;
  /** FORWARDs whose `FORWARD <name>` is not the user whose index the body carries. */
  wrongSender: number;
  /** FORWARDs of verified messages that reached a user other than the one they were sent to. */
  misdelivered: number;
  /** FORWARDs that arrived twice or out of order (sequence not above the last one seen). */
  outOfOrder: number;
  /** FORWARDs from anyone else (the soak's hostile users), answered but not verified. */
  foreign: number;
}

/** Verification counts that are all zero. */
export function emptyVerifyCounts(): VerifyCounts {
  return { verified: 0, lostAcked: 0, wrongSender: 0, misdelivered: 0, outOfOrder: 0, foreign: 0 };
}

const LF = 10;
const READ_SIZE = 2048;
const BODY_SIZE = 64;
const ENC = new TextEncoder();
const CH_R = 82; // 'R'
const CH_S = 83; // 'S'
const CH_E = 69; // 'E'
const CH_F = 70; // 'F'

/** One end of a connection, as the generator needs it. */
interface Sock {
  write(bytes: Uint8Array): void;
  close(): void;
}

type OnData = (chunk: Uint8Array) => void;

function openNode(host: string, port: number, onData: OnData, onClose: () => void): Promise<Sock> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const fail = (e: Error) => {
      s.destroy();
      reject(e);
    };
    s.once("error", fail);
    s.once("connect", () => {
      s.off("error", fail);
      // Deno's node:net ignores the noDelay option (no TCP_NODELAY is set): set it explicitly,
      // or Nagle holds back a second small write until the first is acknowledged (up to 200 ms).
      s.setNoDelay(true);
      s.on("error", () => {/* "close" follows */});
      s.on("data", onData);
      s.once("close", onClose);
      resolve({
        write(bytes) {
          s.write(bytes);
        },
        close() {
          s.destroy();
        },
      });
    });
  });
}

class DenoSock implements Sock {
  #conn: Deno.TcpConn;
  #busy = false;
  #pending: Uint8Array[] = [];
  #closed = false;

  constructor(conn: Deno.TcpConn, onData: OnData, onClose: () => void) {
    this.#conn = conn;
    this.#read(onData, onClose);
  }

  async #read(onData: OnData, onClose: () => void): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        onData(buf.subarray(0, n));
      }
    } catch { /* closed */ }
    this.close();
    onClose();
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#busy) {
      this.#pending.push(bytes);
      return;
    }
    this.#busy = true;
    this.#write(bytes);
  }

  async #write(bytes: Uint8Array): Promise<void> {
    try {
      for (;;) {
        let off = 0;
        while (off < bytes.length) {
          off += await this.#conn.write(off === 0 ? bytes : bytes.subarray(off));
        }
        if (this.#pending.length === 0 || this.#closed) break;
        bytes = concat(this.#pending);
        this.#pending = [];
      }
    } catch {
      this.close();
    }
    this.#busy = false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

async function openDeno(
  host: string,
  port: number,
  onData: OnData,
  onClose: () => void,
): Promise<Sock> {
  const conn = await Deno.connect({ hostname: host, port });
  conn.setNoDelay(true);
  return new DenoSock(conn, onData, onClose);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// State shared by all users of this process.

type Mode = "idle" | "closed" | "open" | "broadcast";
let mode: Mode = "idle";
let outstanding = 0;
let acked = 0;
let errors = 0;
let errorCodes: Record<string, number> = {};
let deliveries = 0;
let lostConns = 0;
/** Open loop with bodies that carry the sender and a sequence number (see {@link VerifyCounts}). */
let verify = false;
const vc: VerifyCounts = emptyVerifyCounts();
/** Per-edge counts (reported with `--edge mixed`). */
const edgeCounts: Record<"tcp" | "ws", EdgeCounts> = { tcp: emptyEdge(), ws: emptyEdge() };

function emptyEdge(): EdgeCounts {
  return { users: 0, acked: 0, errors: 0, deliveries: 0, lostAcked: 0, lostConns: 0 };
}

/** Users of this generator by index, to find the sender a verified body names. */
const byIndex = new Map<number, User>();
let markTime = performance.now();
const lat = new Histogram();
const dlat = new Histogram();
const lag = new Histogram();

const FILLER = new Uint8Array(BODY_SIZE).fill(120); // "xxx..."

/** One user: a TOSEND and a TORECV connection, and the state of both parsers. */
class User {
  readonly name: string;
  readonly index: number;
  /** Connects to the WebSocket edge. */
  readonly ws: boolean;
  /** The counts of this user's edge. */
  readonly ec: EdgeCounts;
  /** The next user of the ring: whom this user sends to. */
  next: User | null = null;
  send: Sock | null = null;
  recv: Sock | null = null;
  /** Bit 1: TOSEND registered; bit 2: TORECV registered. */
  regs = 0;
  dead = false;
  onReg: ((ok: boolean) => void) | null = null;

  /** The ring message: SEND to the next user, built once. */
  msg: Uint8Array = FILLER;
  /** Send times (performance.now) of the messages awaiting an answer, oldest first. */
  times: number[] = [];
  completed = 0;
  /** Verify mode: header of the ring message, next sequence number, and those awaiting answers. */
  head: Uint8Array | null = null;
  seq = 0;
  seqs: number[] = [];
  /** Verify mode: this user's messages whose FORWARD reached the recipient, not answered yet. */
  delivered = new Set<number>();
  /** Verify mode, as a recipient: the last sequence number seen from the ring predecessor. */
  lastSeqIn = -1;

  // TOSEND parser: first byte of the current message, and whether the last byte was LF.
  #sFirst = 0;
  #sPrevLF = false;
  /** Bytes of the current message so far, and its byte at offset 8 (an ERROR's last digit). */
  #sOff = 0;
  #sCode = 0;

  // TORECV parser: header bytes so far, body bytes still to come, start of the body.
  #hdr = new Uint8Array(96);
  #hdrLen = 0;
  #bodyLeft = 0;
  #bodySeen = 0;
  #stamp = new Uint8Array(20);
  #from: Uint8Array | null = null;
  #fromName = "";
  #reply: Uint8Array | null = null;

  constructor(index: number) {
    this.name = `u${index}`;
    this.index = index;
    this.ws = edge === "ws" || (edge === "mixed" && index % 2 === 1);
    this.ec = edgeCounts[this.ws ? "ws" : "tcp"];
  }

  readonly onSendData = (chunk: Uint8Array): void => {
    this.#parseSend(chunk);
    if (pacer !== null) pumpDue();
  };

  #parseSend(chunk: Uint8Array): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      const idx = chunk.indexOf(LF, pos);
      if (idx === -1) {
        if (this.#sFirst === 0) this.#sFirst = chunk[pos]!;
        this.#sPrevLF = false;
        this.#seg(chunk, pos, n);
        return;
      }
      if (idx > pos) {
        if (this.#sFirst === 0) this.#sFirst = chunk[pos]!;
        this.#sPrevLF = false;
        this.#seg(chunk, pos, idx);
      }
      if (this.#sPrevLF) {
        const first = this.#sFirst;
        this.#sFirst = 0;
        this.#sPrevLF = false;
        const code = this.#sCode;
        this.#sOff = this.#sCode = 0;
        if (first !== 0) this.#onSendMessage(first, code);
      } else {
        this.#sPrevLF = true;
        if (this.#sFirst !== 0) this.#sOff++;
      }
      pos = idx + 1;
    }
  }

  /** Notes the byte at offset 8 of a message ("ERROR 10X": X), for the error counts. */
  #seg(chunk: Uint8Array, from: number, to: number): void {
    if (this.#sOff <= 8 && to - from > 8 - this.#sOff) this.#sCode = chunk[from + 8 - this.#sOff]!;
    this.#sOff += to - from;
  }

  #onSendMessage(first: number, code: number): void {
    if ((this.regs & 1) === 0) {
      if (first === CH_R) this.regs |= 1;
      this.onReg?.(first === CH_R);
      return;
    }
    if (first === CH_S) {
      const now = performance.now();
      const t = this.times.shift();
      if (t !== undefined) {
        lat.record((now - t) * 1000);
        outstanding--;
      }
      if (verify) {
        // The recipient is in this process and wrote RECEIVED before the server could say SENT.
        const seq = this.seqs.shift();
        if (seq !== undefined && !this.delivered.delete(seq)) {
          vc.lostAcked++;
          this.ec.lostAcked++;
        }
      }
      this.completed++;
      acked++;
      this.ec.acked++;
      if (mode === "closed") this.sendRing();
    } else if (first === CH_E) {
      if (this.times.shift() !== undefined) outstanding--;
      const key = code >= 48 && code <= 57 ? `10${code - 48}` : "?";
      errorCodes[key] = (errorCodes[key] ?? 0) + 1;
      if (verify) {
        const seq = this.seqs.shift();
        if (seq !== undefined) this.delivered.delete(seq);
      }
      errors++;
      this.ec.errors++;
      if (mode === "closed") this.sendRing();
    }
  }

  readonly onRecvData = (chunk: Uint8Array): void => {
    this.#parseRecv(chunk);
    if (pacer !== null) pumpDue();
  };

  #parseRecv(chunk: Uint8Array): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, n - pos);
        if (this.#bodySeen < this.#stamp.length) {
          const k = Math.min(take, this.#stamp.length - this.#bodySeen);
          this.#stamp.set(chunk.subarray(pos, pos + k), this.#bodySeen);
        }
        this.#bodySeen += take;
        this.#bodyLeft -= take;
        pos += take;
        if (this.#bodyLeft === 0) this.#onForward();
        continue;
      }
      const idx = chunk.indexOf(LF, pos);
      const end = idx === -1 ? n : idx + 1;
      const len = end - pos;
      if (this.#hdrLen + len > this.#hdr.length) {
        const grown = new Uint8Array(Math.max(this.#hdr.length * 2, this.#hdrLen + len));
        grown.set(this.#hdr.subarray(0, this.#hdrLen));
        this.#hdr = grown;
      }
      this.#hdr.set(chunk.subarray(pos, end), this.#hdrLen);
      this.#hdrLen += len;
      pos = end;
      if (idx === -1) continue;
      if (this.#hdrLen === 1) {
        this.#hdrLen = 0; // a stray blank line
      } else if (this.#hdr[this.#hdrLen - 2] === LF) {
        this.#onRecvHeader();
        this.#hdrLen = 0;
      }
    }
  }

  #onRecvHeader(): void {
    const h = this.#hdr;
    const first = h[0];
    if (first !== CH_F) {
      if ((this.regs & 2) === 0) {
        if (first === CH_R) this.regs |= 2;
        this.onReg?.(first === CH_R);
      }
      return;
    }
    // "FORWARD <from>\nContent-length: <n>\n\n"
    const nl = h.indexOf(LF);
    const from = h.subarray(8, nl);
    const colon = h.indexOf(58, nl);
    let length = 0;
    for (let i = colon + 1; i < this.#hdrLen; i++) {
      const c = h[i]!;
      if (c >= 48 && c <= 57) length = length * 10 + c - 48;
      else if (c === LF) break;
    }
    if (!sameBytes(from, this.#from)) {
      this.#from = from.slice();
      this.#fromName = new TextDecoder().decode(from);
      const reply = new Uint8Array(9 + from.length + 2);
      reply.set(ENC.encode("RECEIVED "));
      reply.set(from, 9);
      reply[reply.length - 2] = LF;
      reply[reply.length - 1] = LF;
      this.#reply = reply;
    }
    this.#bodySeen = 0;
    this.#bodyLeft = length;
    if (length === 0) this.#onForward();
  }

  #onForward(): void {
    if (verify) this.#check();
    this.recv?.write(this.#reply!);
    deliveries++;
    this.ec.deliveries++;
    if (mode === "broadcast" && this.#bodySeen >= 1) {
      let us = 0;
      const end = Math.min(this.#bodySeen, this.#stamp.length);
      for (let i = 0; i < end; i++) {
        const c = this.#stamp[i]!;
        if (c < 48 || c > 57) break;
        us = us * 10 + c - 48;
      }
      if (us > 0) dlat.record(performance.now() * 1000 - us);
    }
  }

  /**
   * Verify mode: checks a FORWARD's body, `S<sender index>:<seq>.` then filler, against its
   * `FORWARD <name>` line and the ring, and tells the sender it arrived.
   */
  #check(): void {
    const st = this.#stamp;
    const end = Math.min(this.#bodySeen, st.length);
    if (end < 4 || st[0] !== CH_S) {
      vc.foreign++;
      return;
    }
    let i = 1;
    let idx = 0;
    let seq = 0;
    for (; i < end && st[i] !== 58; i++) idx = idx * 10 + st[i]! - 48;
    for (i++; i < end && st[i] !== 46; i++) seq = seq * 10 + st[i]! - 48;
    const sender = byIndex.get(idx);
    if (sender === undefined || this.#fromName !== sender.name) {
      // Not from the user the body names (or not one of ours at all).
      if (/^u\d+$/.test(this.#fromName)) vc.wrongSender++;
      else vc.foreign++;
      return;
    }
    if (sender.next !== this) {
      vc.misdelivered++;
      return;
    }
    if (seq <= this.lastSeqIn) vc.outOfOrder++;
    else vc.verified++;
    this.lastSeqIn = seq;
    sender.delivered.add(seq);
  }

  /** Sends the ring message now. */
  sendRing(): void {
    if (this.dead) return;
    this.times.push(performance.now());
    outstanding++;
    if (verify && this.head !== null) {
      const seq = this.seq++;
      this.seqs.push(seq);
      const body = `S${this.index}:${seq}.`.padEnd(BODY_SIZE, "x");
      const msg = new Uint8Array(this.head.length + BODY_SIZE);
      msg.set(this.head);
      ENC.encodeInto(body, msg.subarray(this.head.length));
      this.send!.write(msg);
    } else {
      this.send!.write(this.msg);
    }
  }

  /** Sends SEND ALL with the send time in the body. */
  sendAll(): void {
    if (this.dead) return;
    const now = performance.now();
    const stamp = String(Math.round(now * 1000)).padEnd(BODY_SIZE, ".");
    this.times.push(now);
    outstanding++;
    this.send!.write(ENC.encode(`SEND ALL\nContent-length: ${BODY_SIZE}\n\n${stamp}`));
  }

  lost(): void {
    if (!this.dead && this.regs === 3) {
      lostConns++;
      this.ec.lostConns++;
    }
    this.dead = true;
    if (this.times.length > 0) {
      outstanding -= this.times.length;
      this.times = [];
    }
    this.seqs = [];
    this.delivered.clear();
  }

  close(): void {
    this.dead = true;
    this.send?.close();
    this.recv?.close();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array | null): boolean {
  if (b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Commands.

let host = "127.0.0.1";
let port = 0;
let webPort = 0;
let edge: GenEdge = "tcp";
let api: GenApi = "node";
const users: User[] = [];

function open(ws: boolean, onData: OnData, onClose: () => void): Promise<Sock> {
  if (ws) return openWs({ host, port: webPort }, onData, onClose);
  return api === "node"
    ? openNode(host, port, onData, onClose)
    : openDeno(host, port, onData, onClose);
}

/** Connects and registers one user; resolves false (with its sockets closed) on failure. */
function openUser(u: User, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      u.onReg = null;
      if (!ok) u.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    u.onReg = (ok) => {
      if (!ok) finish(false);
      else if (u.regs === 3) finish(true);
    };
    const onClose = () => {
      if (done) u.lost();
      else finish(false);
    };
    open(u.ws, u.onSendData, onClose).then((s) => {
      if (done) return s.close();
      u.send = s;
      s.write(ENC.encode(`REGISTER TOSEND ${u.name}\n\n`));
    }, () => finish(false));
    open(u.ws, u.onRecvData, onClose).then((s) => {
      if (done) return s.close();
      u.recv = s;
      s.write(ENC.encode(`REGISTER TORECV ${u.name}\n\n`));
    }, () => finish(false));
  });
}

async function connectUsers(c: Extract<GenCommand, { cmd: "connect" }>): Promise<ConnectReply> {
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  let failRun = 0;
  let stop = false;
  const opened: User[] = [];
  const worker = async () => {
    while (!stop && next < c.count) {
      const u = new User(c.first + next++);
      if (await openUser(u, c.timeoutMs)) {
        opened.push(u);
        failRun = 0;
      } else {
        failed++;
        if (++failRun >= c.maxFailures) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, c.concurrency) }, worker));
  opened.sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)));
  users.push(...opened);
  for (const u of opened) {
    byIndex.set(u.index, u);
    u.ec.users++;
  }
  // The ring: each user sends to the next one of this generator.
  users.forEach((user, i) => {
    const next = users[(i + 1) % users.length]!;
    const head = ENC.encode(`SEND ${next.name}\nContent-length: ${BODY_SIZE}\n\n`);
    const msg = new Uint8Array(head.length + BODY_SIZE);
    msg.set(head);
    msg.set(FILLER, head.length);
    user.msg = msg;
    user.head = head;
    user.next = next;
  });
  return { ok: true, connected: opened.length, failed, ms: Math.round(performance.now() - t0) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The open-loop schedule: message k is due at `start + k * interval`. Due messages are sent
 * whenever the generator wakes up: after each chunk it reads (several times a millisecond under
 * load) and on a 1 ms timer. Spinning instead would keep this process always runnable, and on a
 * shared machine the scheduler then takes the core away for whole time slices.
 */
interface Pacer {
  start: number;
  interval: number;
  k: number;
  own: Mode;
  fire: (k: number) => void;
  timer: ReturnType<typeof setInterval>;
}
let pacer: Pacer | null = null;

function pumpDue(): void {
  const p = pacer;
  if (p === null) return;
  if (mode !== p.own) {
    clearInterval(p.timer);
    pacer = null;
    return;
  }
  let now = performance.now();
  while (p.start + p.k * p.interval <= now) {
    lag.record((now - (p.start + p.k * p.interval)) * 1000);
    p.fire(p.k++);
    now = performance.now();
  }
}

/** Fires `fire(k)` for k = 0, 1, ... at `rate` per second while `mode` stays `own`. */
function pace(rate: number, own: Mode, fire: (k: number) => void): void {
  if (pacer !== null) clearInterval(pacer.timer);
  pacer = {
    start: performance.now(),
    interval: 1000 / rate,
    k: 0,
    own,
    fire,
    timer: setInterval(pumpDue, 1),
  };
  pumpDue();
}

function startLoad(c: GenCommand): void {
  const live = users.filter((u) => !u.dead);
  if (live.length === 0) return;
  if (c.cmd === "closed") {
    mode = "closed";
    for (const u of live) if (u.times.length === 0) u.sendRing();
  } else if (c.cmd === "open") {
    mode = "open";
    verify = c.verify === true;
    pace(c.rate, "open", (k) => live[k % live.length]!.sendRing());
  } else if (c.cmd === "broadcast") {
    mode = "broadcast";
    pace(c.rate, "broadcast", (k) => {
      // Skip users whose last broadcast is still awaiting its answer.
      for (let j = 0; j < live.length; j++) {
        const u = live[(k + j) % live.length]!;
        if (u.times.length === 0) return u.sendAll();
      }
    });
  }
}

function mark(): void {
  markTime = performance.now();
  acked = 0;
  errors = 0;
  errorCodes = {};
  deliveries = 0;
  lat.reset();
  dlat.reset();
  lag.reset();
  vc.verified =
    vc.lostAcked =
    vc.wrongSender =
    vc.misdelivered =
    vc.outOfOrder =
    vc.foreign =
      0;
  for (const ec of Object.values(edgeCounts)) {
    ec.acked =
      ec.errors =
      ec.deliveries =
      ec.lostAcked =
        0;
  }
  for (const u of users) u.completed = 0;
}

function report(): GenReport {
  return {
    ok: true,
    elapsedMs: performance.now() - markTime,
    acked,
    errors,
    errorCodes,
    deliveries,
    perUser: users.map((u) => u.completed),
    lat: lat.toJSON(),
    dlat: dlat.toJSON(),
    lag: lag.toJSON(),
    outstanding,
    lostConns,
    verify: verify ? { ...vc } : null,
    byEdge: edge === "mixed" ? { tcp: { ...edgeCounts.tcp }, ws: { ...edgeCounts.ws } } : null,
  };
}

async function idle(timeoutMs: number): Promise<{ ok: true; outstanding: number }> {
  mode = "idle";
  const until = performance.now() + timeoutMs;
  while (outstanding > 0 && performance.now() < until) await sleep(5);
  return { ok: true, outstanding };
}

async function handle(c: GenCommand): Promise<unknown> {
  switch (c.cmd) {
    case "connect":
      return await connectUsers(c);
    case "closed":
    case "open":
    case "broadcast":
      startLoad(c);
      return { ok: true };
    case "mark":
      mark();
      return { ok: true };
    case "report":
      return report();
    case "idle":
      return await idle(c.timeoutMs);
    case "quit":
      return { ok: true };
  }
}

async function main(): Promise<void> {
  const args = startChild("gen", { api: "node", web: "0", edge: "tcp" });
  host = args.host;
  port = args.port;
  if (args.extra.api !== "node" && args.extra.api !== "deno") {
    console.error('gen: --api must be "node" or "deno"');
    Deno.exit(2);
  }
  api = args.extra.api;
  const e = args.extra.edge;
  if (e !== "tcp" && e !== "ws" && e !== "mixed") {
    console.error('gen: --edge must be "tcp", "ws" or "mixed"');
    Deno.exit(2);
  }
  edge = e;
  webPort = Number(args.extra.web);
  if (edge !== "tcp" && !(webPort > 0 && webPort < 65536)) {
    console.error("gen: --edge ws and mixed need --web PORT");
    Deno.exit(2);
  }
  await serveCommands<GenCommand>(handle, () => {
    mode = "idle";
    for (const u of users) u.close();
  });
}

if (import.meta.main) await main();
