/**
 * The soak's hostile clients: a separate process, driven by `bench/main.ts` like the load
 * generator (one JSON command per line on standard input, one JSON answer per line out). It
 * keeps a fixed number of misbehaving clients connected to the server, of these kinds:
 *
 * | kind        | what each one does                                                              |
 * | ----------- | ------------------------------------------------------------------------------- |
 * | `garbage`   | random bytes, or junk protocol lines, 4 times a second; never registers         |
 * | `slowloris` | a header one byte every `slowMs`: half never finish REGISTER, half register and |
 * |             | then dribble a SEND                                                             |
 * | `flood`     | a registered user sending SENDs as fast as it is allowed to write (within the   |
 * |             | process's `floodRate`): to normal users, to the non-readers (4 KiB bodies), to   |
 * |             | names nobody has                                                                |
 * | `broadcast` | a registered user sending `SEND ALL` the same way                               |
 * | `nonreader` | a registered user that never answers a FORWARD: half read and drop what comes,  |
 * |             | half never read at all                                                          |
 * | `huge`      | a registered TOSEND with huge `Content-length`s: 2 GB streamed slowly, a number |
 * |             | of 26 digits, legal 64 KiB bodies to normal users, an endless header line       |
 * | `churn`     | connects and drops, 4 times a second: bare, after REGISTER, after both halves   |
 * | `spoof`     | a registered user answering FORWARDs with `RECEIVED <someone else>`, sending    |
 * |             | unsolicited RECEIVEDs and `UNREGISTER <normal user>`, and trying to register    |
 * |             | normal users' names                                                             |
 *
 * and, on the server's web port (`--web PORT`), WebSocket clients (`hostile_wire.ts`):
 *
 * | kind          | what each one does                                                            |
 * | ------------- | ----------------------------------------------------------------------------- |
 * | `wsgarbage`   | refused upgrades (foreign Origin, no key, old version, wrong path, endless    |
 * |               | head), malformed frames (unmasked, reserved bits, unknown opcodes, long or    |
 * |               | fragmented pings, bad close frames, noise), or protocol junk in good frames   |
 * | `wshuge`      | a frame announcing 2^53 - 1 bytes streamed slowly with a 2 GB SEND inside;    |
 * |               | legal 64 KiB bodies inside a 1 TB frame; a message in 1-byte fragments with   |
 * |               | pings between that never ends; a 26-digit Content-length                      |
 * | `wsflood`     | a registered WebSocket user flooding SENDs like `flood` (half add pings)      |
 * | `wsnonreader` | a registered WebSocket user that never answers a FORWARD (half never read)    |
 *
 * When the server closes a hostile client, it comes back after a short pause, so the numbers
 * hold for the whole phase. Hostile users are named by kind (`fl3`, `nr12`, ...), never `u<N>`,
 * and their bodies start with `H`, so the normal users can tell their messages apart.
 *
 * Bounded: everything stops on `stop` or `quit`, when the input closes, or at `--deadline`.
 *
 * Usage: `deno run --allow-net bench/hostile.ts --port N [--web PORT] [--host H]
 * [--deadline SECONDS]`
 *
 * @module
 */
import { Opcode } from "../src/net/websocket.ts";
import { serveCommands, startChild } from "./child.ts";
import { badFrames, badUpgrades, frame, hugeFrameHeader, JUNK, maskInto } from "./hostile_wire.ts";
import {
  type Conn,
  connect,
  ENC,
  hold,
  type HostileKind,
  type HostileMix,
  keep,
  type KindStats,
  live,
  normal,
  openUser,
  pick,
  resetStats,
  sleep,
  state,
  stats,
} from "./hostile_conn.ts";

export {
  HOSTILE_KINDS,
  type HostileKind,
  type HostileMix,
  type KindStats,
  WS_KINDS,
} from "./hostile_conn.ts";

/** A command from `bench/main.ts`. */
export type HostileCommand =
  | {
    cmd: "start";
    mix: HostileMix;
    /** Names of the normal users (targets of floods, huge bodies and spoofs). */
    normals: string[];
    /** Most SENDs per second written by all `flood` and `broadcast` clients together. */
    floodRate: number;
    /** Slowloris: ms between bytes. */
    slowMs: number;
  }
  | { cmd: "report" }
  | { cmd: "stop" }
  | { cmd: "quit" };

/** The answer to `report` (and `stop`). */
export interface HostileReport {
  ok: true;
  elapsedMs: number;
  kinds: Record<HostileKind, KindStats>;
  /** Connections open now. */
  open: number;
}

/** When the hostile clients started (for `report`). */
let startedAt = 0;
let floodRate = 0;
let slowMs = 3000;
/** Flood and broadcast clients ready to write: the pump gives them their share of floodRate. */
const flooders = new Set<Flooder>();

async function garbage(i: number): Promise<void> {
  await keep(200, async () => {
    const c = await connect("garbage");
    if (c === null) return;
    if (i % 3 === 2) {
      // A TLS ClientHello on a plain server, then garbage.
      c.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    }
    while (await hold(c, 250)) {
      if (i % 3 === 0) c.write(crypto.getRandomValues(new Uint8Array(512)));
      else c.write(pick(JUNK));
    }
    c.close();
  });
}

async function slowloris(i: number): Promise<void> {
  await keep(200, async () => {
    const c = await connect("slowloris");
    if (c === null) return;
    let text = `REGISTER TOSEND sl${i}\n\n`;
    if (i % 2 === 1) {
      // Registered (so the registration deadline does not apply), then a SEND that never ends.
      c.write(text);
      text = `SEND ${normal()}\nContent-length: 5\n\nhello`;
    }
    for (let k = 0; k < text.length && await hold(c, slowMs); k++) c.write(text.charAt(k));
    while (await hold(c, slowMs)) { /* finished (it should not get this far): just wait */ }
    c.close();
  });
}

/** A flood or broadcast client, fed by {@link pump}. */
interface Flooder {
  kind: "flood" | "broadcast" | "wsflood";
  send: Conn;
  n: number;
  /** A WebSocket flooder that writes ten pings with each batch. */
  pings: boolean;
}

/** Ten pings in a row, for the WebSocket flooders that add pings. */
const PINGS = (() => {
  const one = frame(Opcode.Ping, "ping");
  const out = new Uint8Array(one.length * 10);
  for (let k = 0; k < 10; k++) out.set(one, k * one.length);
  return out;
})();

const FLOOD_BODY = "H".padEnd(32, "h");
const BIG_BODY = "H".padEnd(4096, "h");
const floodMsg = (to: string, body: string) =>
  `SEND ${to}\nContent-length: ${body.length}\n\n${body}`;

function floodBatch(f: Flooder, count: number): string {
  let out = "";
  for (let k = 0; k < count; k++, f.n++) {
    if (f.kind === "broadcast") out += floodMsg("ALL", FLOOD_BODY);
    else {
      const r = f.n % 8;
      const nr = stats.nonreader.clients;
      if (r < 5) out += floodMsg(normal(), FLOOD_BODY);
      else if (r < 7 && nr > 0) out += floodMsg(`nr${f.n % nr}`, BIG_BODY);
      else out += floodMsg(`nobody${f.n % 1000}`, FLOOD_BODY);
    }
  }
  return out;
}

/**
 * Every 10 ms, shares out floodRate / 100 SENDs among the flood and broadcast clients whose
 * sockets are not backed up. The cap keeps this process from taking the whole core it shares
 * with the normal users' generator: the soak measures the server, not a starved generator.
 */
async function pump(): Promise<void> {
  let turn = 0;
  while (state.running) {
    await sleep(10);
    const ready = [...flooders].filter((f) => f.send.open && f.send.backlog < 64 * 1024);
    if (ready.length === 0) continue;
    let budget = Math.max(1, Math.round(floodRate / 100));
    const each = Math.max(1, Math.ceil(budget / ready.length));
    for (let k = 0; k < ready.length && budget > 0; k++) {
      const f = ready[(turn + k) % ready.length]!;
      const n = Math.min(each, budget);
      budget -= n;
      f.send.write(floodBatch(f, n));
      if (f.pings) f.send.writeRaw(PINGS);
      stats[f.kind].sends += n;
    }
    turn++;
  }
}

/** Answers each FORWARD on TORECV properly (flood and broadcast users are not non-readers). */
function answerForwards(line: string, recv: Conn): void {
  if (line.startsWith("FORWARD ")) recv.write(`RECEIVED ${line.slice(8)}\n\n`);
}

async function flooder(kind: Flooder["kind"], i: number): Promise<void> {
  const name = `${kind === "flood" ? "fl" : kind === "broadcast" ? "bc" : "wf"}${i}`;
  await keep(500, async () => {
    const u = await openUser(kind, name, answerForwards, null, kind === "wsflood" ? "ws" : "tcp");
    if (u === null) return;
    const f: Flooder = { kind, send: u.send, n: i, pings: kind === "wsflood" && i % 2 === 1 };
    flooders.add(f);
    await Promise.race([u.send.closed, u.recv.closed, stopped]);
    flooders.delete(f);
    u.send.close();
    u.recv.close();
  });
}

async function nonreader(i: number, kind: "nonreader" | "wsnonreader"): Promise<void> {
  await keep(500, async () => {
    // Half drop what arrives unread (they notice being closed); half never read at all, and
    // so cannot notice: they start again every 40 s (past the server's ack timeout).
    const deaf = i % 2 === 1;
    const ws = kind === "wsnonreader";
    const u = await openUser(kind, `${ws ? "wn" : "nr"}${i}`, null, null, ws ? "ws" : "tcp");
    if (u === null) return;
    if (deaf) {
      await sleep(200); // let REGISTERED arrive, then stop reading
      u.send.sock.pause();
      u.recv.sock.pause();
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      u.send.closed,
      u.recv.closed,
      stopped,
      new Promise<void>((r) => timer = setTimeout(r, deaf ? 40_000 : 1e9)),
    ]);
    clearTimeout(timer);
    u.send.close();
    u.recv.close();
  });
}

async function huge(i: number): Promise<void> {
  const variant = i % 4;
  await keep(500, async () => {
    const c = await connect("huge");
    if (c === null) return;
    c.write(`REGISTER TOSEND hg${i}\n\n`);
    const junk = "H".padEnd(16 * 1024, "j");
    if (variant === 0) {
      // 2 GB announced, streamed at 80 KB/s: the server must skip it without holding it.
      c.write(`SEND ${normal()}\nContent-length: 2000000000\n\n`);
      stats.huge.sends++;
      while (await hold(c, 200)) c.write(junk);
    } else if (variant === 1) {
      // A length no integer type holds.
      while (await hold(c, 1000)) {
        c.write(`SEND ${normal()}\nContent-length: 99999999999999999999999999\n\n`);
        stats.huge.sends++;
      }
    } else if (variant === 2) {
      // The largest legal body, to normal users, twice a second.
      const body = "H".padEnd(64 * 1024, "b");
      while (await hold(c, 500)) {
        c.write(floodMsg(normal(), body));
        stats.huge.sends++;
      }
    } else {
      // A header line that never ends.
      c.write(`SEND ${normal()}\nX-Pad: `);
      while (await hold(c, 200)) c.write(junk);
    }
    c.close();
  });
}

async function churn(i: number): Promise<void> {
  await keep(250, async (round) => {
    const variant = round % 3;
    if (variant === 2) {
      // A whole user, gone as soon as it is registered.
      const u = await openUser("churn", `ch${i}`, null);
      if (u === null) return;
      await hold(u.recv, 100);
      u.send.close();
      u.recv.close();
      return;
    }
    const c = await connect("churn");
    if (c === null) return;
    if (variant === 1) c.write(`REGISTER TOSEND ch${i}\n\n`);
    c.close();
  });
}

async function spoof(i: number): Promise<void> {
  await keep(500, async () => {
    // Answers every FORWARD naming someone else as the sender.
    const u = await openUser("spoof", `sp${i}`, (line, recv) => {
      if (line.startsWith("FORWARD ")) recv.write(`RECEIVED ${normal()}\n\n`);
    });
    if (u === null) return;
    for (let k = 0; await hold(u.recv, 500); k++) {
      u.recv.write(`RECEIVED ${normal()}\n\n`); // nothing awaits it
      u.send.write(`RECEIVED ${normal()}\n\nUNREGISTER ${normal()}\n\n`);
      if (k % 4 === i % 4) {
        // Try to take over a normal user's name (the server must answer ERROR 104).
        const name = normal();
        const c = await connect("spoof");
        if (c === null) continue;
        c.write(`REGISTER TORECV ${name}\n\nREGISTER TOSEND ${name}\n\n`);
        await hold(c, 300);
        c.close();
      }
    }
    u.send.close();
    u.recv.close();
  });
}

async function wsgarbage(i: number): Promise<void> {
  const variant = i % 3;
  await keep(200, async () => {
    if (variant === 0) {
      // An upgrade the server must refuse.
      const c = await connect("wsgarbage", null, "web");
      if (c === null) return;
      c.writeRaw(pick(badUpgrades(state.host, state.webPort)));
      await hold(c, 1000);
      c.close();
      return;
    }
    const c = await connect("wsgarbage", null, "ws");
    if (c === null) return;
    if (variant === 1) {
      // A malformed frame: the server closes with 1002.
      c.writeRaw(pick(badFrames()));
      await hold(c, 2000);
    } else {
      // Protocol junk in good frames, 4 times a second.
      while (await hold(c, 250)) c.write(pick(JUNK));
    }
    c.close();
  });
}

async function wshuge(i: number): Promise<void> {
  const variant = i % 4;
  await keep(500, async () => {
    const c = await connect("wshuge", null, "ws");
    if (c === null) return;
    const junk = "H".padEnd(16 * 1024, "j");
    if (variant === 0 || variant === 1) {
      // One frame announcing 2^53 - 1 (or 2^40) bytes, its payload streamed: the server must
      // pass it on as it comes, never hold it.
      const { header, mask } = hugeFrameHeader(variant === 0 ? 2 ** 53 - 1 : 2 ** 40);
      c.writeRaw(header);
      let offset = 0;
      const put = (text: string) => {
        const bytes = ENC.encode(text);
        c.writeRaw(maskInto(bytes, mask, offset));
        offset += bytes.length;
      };
      put(`REGISTER TOSEND wh${i}

`);
      if (variant === 0) {
        // A 2 GB SEND inside, at 80 KB/s.
        put(`SEND ${normal()}
Content-length: 2000000000

`);
        stats.wshuge.sends++;
        while (await hold(c, 200)) put(junk);
      } else {
        // The largest legal body, to normal users, twice a second, inside the one frame.
        const body = "H".padEnd(64 * 1024, "b");
        while (await hold(c, 500)) {
          put(`SEND ${normal()}
Content-length: ${body.length}

${body}`);
          stats.wshuge.sends++;
        }
      }
    } else if (variant === 2) {
      // A message in 1-byte fragments, with pings between, that never ends.
      c.write(`REGISTER TOSEND wh${i}

`);
      const text = ENC.encode(`SEND ${normal()}
Content-length: 5

hello`);
      const first = frame(Opcode.Binary, text.subarray(0, 1));
      first[0] = 0x02; // no FIN
      c.writeRaw(first);
      for (let k = 1; await hold(c, 200); k++) {
        const part = frame(
          Opcode.Continuation,
          text.subarray(k % text.length, k % text.length + 1),
        );
        part[0] = 0x00;
        c.writeRaw(part);
        c.writeRaw(frame(Opcode.Ping, String(k)));
      }
    } else {
      // A length no integer type holds, in a good frame.
      c.write(`REGISTER TOSEND wh${i}

`);
      while (await hold(c, 1000)) {
        c.write(`SEND ${normal()}
Content-length: 99999999999999999999999999

`);
        stats.wshuge.sends++;
      }
    }
    c.close();
  });
}

let stopped: Promise<void> = Promise.resolve();
let stop: () => void = () => {};
let tasks: Promise<void>[] = [];

function start(c: Extract<HostileCommand, { cmd: "start" }>): void {
  resetStats(c.mix);
  state.normals = c.normals;
  floodRate = c.floodRate;
  slowMs = c.slowMs;
  state.running = true;
  startedAt = performance.now();
  stopped = new Promise((r) => stop = r);
  const m = c.mix;
  const times = (n: number, f: (i: number) => Promise<void>) =>
    Array.from({ length: n }, (_, i) => f(i));
  tasks = [
    pump(),
    ...times(m.garbage, garbage),
    ...times(m.slowloris, slowloris),
    ...times(m.flood, (i) => flooder("flood", i)),
    ...times(m.broadcast, (i) => flooder("broadcast", i)),
    ...times(m.nonreader, (i) => nonreader(i, "nonreader")),
    ...times(m.huge, huge),
    ...times(m.churn, churn),
    ...times(m.spoof, spoof),
    // The WebSocket clients, when the server has a web port.
    ...times(state.webPort > 0 ? m.wsgarbage : 0, wsgarbage),
    ...times(state.webPort > 0 ? m.wshuge : 0, wshuge),
    ...times(state.webPort > 0 ? m.wsflood : 0, (i) => flooder("wsflood", i)),
    ...times(state.webPort > 0 ? m.wsnonreader : 0, (i) => nonreader(i, "wsnonreader")),
  ];
}

function report(): HostileReport {
  return {
    ok: true,
    elapsedMs: performance.now() - startedAt,
    kinds: structuredClone(stats),
    open: live.size,
  };
}

async function halt(): Promise<void> {
  state.running = false;
  stop();
  for (const s of live) s.destroy();
  live.clear();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(tasks),
    new Promise<void>((r) => timer = setTimeout(r, 10_000)),
  ]);
  clearTimeout(timer);
}

async function handle(c: HostileCommand): Promise<unknown> {
  switch (c.cmd) {
    case "start":
      if (state.running) await halt();
      start(c);
      return { ok: true };
    case "report":
      return report();
    case "stop": {
      const r = report();
      await halt();
      return r;
    }
    case "quit":
      await halt();
      return { ok: true };
    default:
      return { ok: false, error: `unknown command ${JSON.stringify(c).slice(0, 80)}` };
  }
}

async function main(): Promise<void> {
  const args = startChild("hostile", { web: "0" });
  state.host = args.host;
  state.port = args.port;
  state.webPort = Number(args.extra.web) || 0;
  await serveCommands<HostileCommand>(handle);
}

if (import.meta.main) await main();
