/**
 * The soak's hostile clients' connections (`hostile.ts` has the kinds and the commands): their
 * shared state and counts, a connection on TCP or WebSocket whose answers are counted by kind,
 * and the helpers every kind uses (open a user, hold, keep coming back).
 *
 * @module
 */
import * as net from "node:net";
import { Opcode } from "../src/net/websocket.ts";
import { frame, Reader, WsReader, wsUpgrade } from "./hostile_wire.ts";

/** The kinds of hostile client, in the order they are reported. */
export const HOSTILE_KINDS = [
  "garbage",
  "slowloris",
  "flood",
  "broadcast",
  "nonreader",
  "huge",
  "churn",
  "spoof",
  "wsgarbage",
  "wshuge",
  "wsflood",
  "wsnonreader",
] as const;
/** The kinds that connect to the web port. */
export const WS_KINDS: readonly HostileKind[] = ["wsgarbage", "wshuge", "wsflood", "wsnonreader"];
/** One kind of hostile client. */
export type HostileKind = typeof HOSTILE_KINDS[number];
/** How many clients of each kind. */
export type HostileMix = Record<HostileKind, number>;

/** What one kind of client did and got, since `start`. */
export interface KindStats {
  /** Clients of this kind kept connected. */
  clients: number;
  /** Connections opened. */
  opened: number;
  /** Connections that could not be opened. */
  connectFailed: number;
  /** Connections the server closed. */
  serverClosed: number;
  /** Bytes written. */
  bytesOut: number;
  /** SENDs written (flood, broadcast, huge). */
  sends: number;
  /** Answers and messages from the server, by their first word (ERRORs by code). */
  got: Record<string, number>;
  /** REGISTERED answers for a normal user's name: a takeover (should stay 0). */
  takeovers: number;
}

export const ENC = new TextEncoder();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Where the hostile clients connect, and whether they are running (set by `hostile.ts`). */
export const state = {
  host: "127.0.0.1",
  port: 0,
  /** The server's web port (0: none, and no WebSocket clients). */
  webPort: 0,
  running: false,
  /** Names of the normal users. */
  normals: [] as string[],
};

export const stats = {} as Record<HostileKind, KindStats>;
export const live = new Set<net.Socket>();

export function resetStats(mix: HostileMix): void {
  for (const k of HOSTILE_KINDS) {
    stats[k] = {
      clients: mix[k],
      opened: 0,
      connectFailed: 0,
      serverClosed: 0,
      bytesOut: 0,
      sends: 0,
      got: {},
      takeovers: 0,
    };
  }
}

export const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
export const normal = () => state.normals.length > 0 ? pick(state.normals) : "u0";

/**
 * One hostile connection: plain TCP, or a WebSocket on the web port (`ws`), whose server frames
 * are unwrapped before the protocol reader and whose writes go out in masked binary frames once
 * upgraded. HTTP statuses and close frames are counted as `HTTP <code>` and `WS close <code>`.
 */
export class Conn {
  readonly sock: net.Socket;
  readonly closed: Promise<void>;
  /** Resolves true when the server answered the upgrade with 101 (false: refused or closed). */
  readonly upgraded: Promise<boolean>;
  readonly #ws: WsReader | null;
  #byUs = false;

  constructor(
    readonly kind: HostileKind,
    sock: net.Socket,
    onMessage: ((line: string) => void) | null,
    web = false,
  ) {
    this.sock = sock;
    const st = stats[kind];
    let upgraded: (ok: boolean) => void = () => {};
    this.upgraded = web ? new Promise((r) => upgraded = r) : Promise.resolve(false);
    const count = (line: string) => {
      const key = line.startsWith("ERROR ")
        ? line.slice(0, 9)
        : line.startsWith("HTTP ") || line.startsWith("WS ")
        ? line
        : line.split(" ", 1)[0]!;
      st.got[key] = (st.got[key] ?? 0) + 1;
      if (line.startsWith("HTTP ")) upgraded(line === "HTTP 101");
      if (/^REGISTERED \S+ u\d+$/.test(line)) st.takeovers++;
      onMessage?.(line);
    };
    const reader = new Reader(count);
    this.#ws = web ? new WsReader((bytes) => reader.feed(bytes), count) : null;
    const ws = this.#ws;
    sock.on("data", (chunk: Uint8Array) => ws ? ws.feed(chunk) : reader.feed(chunk));
    sock.on("error", () => {/* "close" follows */});
    this.closed = new Promise((resolve) =>
      sock.once("close", () => {
        live.delete(sock);
        upgraded(false);
        if (!this.#byUs) st.serverClosed++;
        resolve();
      })
    );
  }

  /** Writes protocol bytes: in a masked binary frame on an upgraded WebSocket. */
  write(bytes: Uint8Array | string): void {
    if (this.#ws?.upgraded) this.writeRaw(frame(Opcode.Binary, bytes));
    else this.writeRaw(bytes);
  }

  /** Writes bytes as they are (frames, HTTP heads). */
  writeRaw(bytes: Uint8Array | string): void {
    if (this.sock.destroyed) return;
    const b = typeof bytes === "string" ? ENC.encode(bytes) : bytes;
    stats[this.kind].bytesOut += b.length;
    this.sock.write(b);
  }

  /** Bytes written but not yet taken by the kernel. */
  get backlog(): number {
    return this.sock.writableLength;
  }

  get open(): boolean {
    return !this.sock.destroyed;
  }

  close(): void {
    this.#byUs = true;
    this.sock.destroy();
  }
}

/**
 * Opens a connection; null when it cannot be opened within 5 s. `edge`: `tcp` (the chat port),
 * `ws` (the web port, upgraded: null if the server refuses), `web` (the web port, nothing sent).
 */
export async function connect(
  kind: HostileKind,
  onMessage: ((line: string) => void) | null = null,
  edge: "tcp" | "ws" | "web" = "tcp",
): Promise<Conn | null> {
  const c = await connectTo(kind, onMessage, edge);
  if (c === null || edge !== "ws") return c;
  c.writeRaw(wsUpgrade(state.host, state.webPort));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ok = await Promise.race([
    c.upgraded,
    new Promise<false>((r) => timer = setTimeout(() => r(false), 5000)),
  ]);
  clearTimeout(timer);
  if (ok) return c;
  c.close();
  return null;
}

function connectTo(
  kind: HostileKind,
  onMessage: ((line: string) => void) | null,
  edge: "tcp" | "ws" | "web",
) {
  return new Promise<Conn | null>((resolve) => {
    const s = net.connect({ host: state.host, port: edge === "tcp" ? state.port : state.webPort });
    const timer = setTimeout(() => fail(), 5000);
    const fail = () => {
      clearTimeout(timer);
      s.destroy();
      stats[kind].connectFailed++;
      resolve(null);
    };
    s.once("error", fail);
    s.once("connect", () => {
      clearTimeout(timer);
      s.off("error", fail);
      s.setNoDelay(true);
      if (!state.running) {
        s.destroy();
        return resolve(null);
      }
      live.add(s);
      stats[kind].opened++;
      resolve(new Conn(kind, s, onMessage, edge !== "tcp"));
    });
  });
}

/** Waits until `conn` closes, `running` ends, or `ms` pass; true if it is still open. */
export async function hold(conn: Conn, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([conn.closed, new Promise<void>((r) => timer = setTimeout(r, ms))]);
  clearTimeout(timer);
  return state.running && conn.open;
}

/**
 * Opens a user's two connections and registers them; null if either fails. `onRecv` sees the
 * messages arriving on TORECV.
 */
export async function openUser(
  kind: HostileKind,
  name: string,
  onRecv: ((line: string, recv: Conn) => void) | null,
  onSend: ((line: string) => void) | null = null,
  edge: "tcp" | "ws" = "tcp",
): Promise<{ send: Conn; recv: Conn } | null> {
  let recv: Conn | null = null;
  const [send, r] = await Promise.all([
    connect(kind, onSend, edge),
    connect(kind, (line) => onRecv?.(line, recv!), edge),
  ]);
  recv = r;
  if (send === null || recv === null) {
    send?.close();
    recv?.close();
    return null;
  }
  send.write(`REGISTER TOSEND ${name}\n\n`);
  recv.write(`REGISTER TORECV ${name}\n\n`);
  return { send, recv };
}

/** Runs `once` for one client over and over while the soak lasts, pausing between rounds. */
export async function keep(pauseMs: number, once: (round: number) => Promise<void>): Promise<void> {
  for (let round = 0; state.running; round++) {
    try {
      await once(round);
    } catch { /* a round that failed: try again after the pause */ }
    if (state.running) await sleep(pauseMs * (0.5 + Math.random()));
  }
}
