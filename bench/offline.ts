/**
 * `--scenario offline`: mail for owners who are offline, through a real `chat server --data DIR`
 * (SQLite, `synchronous=FULL`, one commit per event-loop turn). Raw clients (`offline_wire.ts`)
 * claim names with Ed25519 keys and leave; then:
 *
 * 1. **stored/s**: many senders that agreed `mail` send 64-byte messages to the offline owners in
 *    a closed loop (the next `SEND` after the `SENT … Mail:`); the window's stored messages per
 *    second, SEND→SENT latency, and server CPU per stored message (`/proc/PID/stat`);
 * 2. one owner's mailbox is filled to exactly `mailbox` messages;
 * 3. the server is stopped (SIGTERM: it commits and checkpoints), and the database's size per
 *    stored message is read (`chat.db` plus any `-wal`);
 * 4. it is started again on the same directory (how long until it listens), and the owner of the
 *    full mailbox comes back (proves its key on both connections, registers, negotiates `mail`)
 *    and answers every `FORWARD` at once: the time until the last one arrived, checked for order
 *    and duplicates, and server CPU per delivered message.
 *
 * @module
 */
import { Histogram, type LatencySummary } from "./hist.ts";
import { cpuTicks } from "./proc.ts";
import { Child } from "./procs.ts";
import {
  claimName,
  connectUser,
  type Identity,
  type Incoming,
  makeIdentity,
  type User,
} from "./offline_wire.ts";

/** Sizes of the offline scenario. */
export interface OfflineConfig {
  /** Senders, each with one message in flight. */
  senders: number;
  /** Owned names the senders write to, round-robin (all offline). */
  owners: number;
  /** Closed loop before the measured window, ms. */
  warmupMs: number;
  /** The measured window, ms. */
  windowMs: number;
  /** Messages in the mailbox whose delivery is timed. */
  mailbox: number;
}

/** Full-mode and quick-mode sizes. */
export const OFFLINE_CONFIGS: Record<"full" | "quick", OfflineConfig> = {
  full: { senders: 200, owners: 20, warmupMs: 1000, windowMs: 5000, mailbox: 10_000 },
  quick: { senders: 20, owners: 4, warmupMs: 200, windowMs: 1000, mailbox: 1000 },
};

/** The offline scenario's figures. */
export interface OfflineResult {
  /** The server's transport. */
  transport: "deno" | "node";
  /** The sizes it ran with. */
  config: OfflineConfig;
  /** Messages answered `SENT` with `Mail:` in the window. */
  stored: number;
  /** {@link stored} per second (target ≥ 10,000 in full mode). */
  storedPerSec: number;
  /** Answers other than a stored `SENT` in the window, by first line and reason. */
  errors: Record<string, number>;
  /** SEND → SENT with `Mail:`, ms. */
  latencyMs: LatencySummary;
  /** Server CPU (user + kernel) per stored message in the window, µs. */
  cpuUsPerStored: number;
  /** Its user-mode part. */
  cpuUserUsPerStored: number;
  /** Server CPU use in the window, % of one core. */
  serverCpuPct: number;
  /** The bench's own CPU use in the window (its clients), % of one core. */
  benchCpuPct: number;
  /** Messages waiting when the server was stopped. */
  totalStored: number;
  /** Size of `chat.db` after the stop, bytes. */
  dbBytes: number;
  /** Size of `chat.db-wal` after the stop (0 when checkpointed away), bytes. */
  walBytes: number;
  /** (db + wal) ÷ {@link totalStored}. */
  bytesPerMessage: number;
  /** From starting the server again to its listening line, s. */
  restartSec: number;
  /** The owner's first connect → the last stored `FORWARD`, s (target < 2 for 10,000). */
  deliverSec: number;
  /** The answer to the owner's negotiation → the last stored `FORWARD`, s. */
  deliverAfterNegotiationSec: number;
  /** Stored `FORWARD`s the owner got (with distinct `Mail:` ids). */
  delivered: number;
  /** `FORWARD`s whose `Mail:` id was seen before. */
  duplicates: number;
  /** Time between two stored `FORWARD`s at the owner, ms (one is in flight at a time). */
  gapMs: LatencySummary;
  /** `FORWARD`s whose `Mail:` id was not above the one before. */
  outOfOrder: number;
  /** Server CPU per delivered message, µs. */
  cpuUsPerDelivered: number;
}

/** What the scenario needs of the bench. */
export interface OfflineMachine {
  /** Extra `chat server` flags (limits lifted); `--memory` is dropped from them here. */
  serverFlags: string[];
  /** Clock ticks per second (`/proc/PID/stat` counts in them). */
  clockTicks: number;
  /** The open-file limit the server gets. */
  fdLimit: number;
  /** Path of `taskset`, or null. */
  taskset: string | null;
  /** The cores the server is pinned to, or null. */
  serverCores: string | null;
}

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const BODY = new Uint8Array(64).fill(0x61);

/** Starts `chat server --data dir`; resolves once it listens. */
async function startServer(
  dir: string,
  transport: string,
  m: OfflineMachine,
): Promise<{ child: Child; port: number }> {
  const flags = m.serverFlags.filter((f) => f !== "--memory");
  const child = Child.spawn({
    cmd: [
      DENO,
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "main.ts",
      "server",
      ...["--host", "127.0.0.1", "--port", "0", "--transport", transport, "--quiet"],
      ...["--data", dir, "--mail-max-messages", "100000000", "--mail-max-bytes", "4096m"],
      ...flags,
    ],
    cwd: ROOT,
    fdLimit: m.fdLimit,
    cores: m.serverCores ?? undefined,
    taskset: m.taskset,
    label: `server (--data, ${transport})`,
  });
  try {
    for (let i = 0; i < 10; i++) {
      const line = await child.nextLine(30_000);
      const match = /listening on .*:(\d+)\s*$/.exec(line);
      if (match) {
        child.discardLines();
        return { child, port: Number(match[1]) };
      }
    }
    throw new Error("the server printed no listening line");
  } catch (error) {
    await child.stop("SIGKILL", 1000);
    throw error;
  }
}

/** Closed loop: each sender sends to `target(i)` until `more()` says stop. */
class Senders {
  stored = 0;
  readonly errors: Record<string, number> = {};
  readonly lat = new Histogram();
  #running = 0;
  #done: (() => void) | null = null;

  constructor(readonly users: User[]) {}

  /** Runs every sender until `more()` is false; resolves when all have stopped. */
  run(target: (sender: number, n: number) => string, more: () => boolean): Promise<void> {
    this.#running = this.users.length;
    const finished = new Promise<void>((r) => this.#done = r);
    this.users.forEach((u, i) => this.#loop(u, i, target, more));
    return finished;
  }

  async #loop(
    u: User,
    i: number,
    target: (sender: number, n: number) => string,
    more: () => boolean,
  ): Promise<void> {
    for (let n = 0; more(); n++) {
      const t0 = performance.now();
      const answer = await u.tosend.send(target(i, n), BODY);
      if (answer.line.startsWith("SENT ") && answer.headers.has("Mail")) {
        this.stored++;
        this.lat.record((performance.now() - t0) * 1000);
      } else {
        const key = `${answer.line} ${answer.headers.get("Reason") ?? ""}`.trim();
        this.errors[key] = (this.errors[key] ?? 0) + 1;
        if (answer.line === "CLOSED") break;
      }
    }
    if (--this.#running === 0) this.#done?.();
  }
}

async function serverCpu(pid: number): Promise<{ user: number; sys: number }> {
  const t = await cpuTicks(pid);
  if (t === null) throw new Error("the server exited during the scenario");
  return t;
}

/** Phase 1: the closed loop to the offline owners; its figures. */
async function measureStoring(
  senders: Senders,
  owners: Identity[],
  cfg: OfflineConfig,
  pid: number,
  ticks: number,
) {
  let phase: "warmup" | "window" | "stop" = "warmup";
  const running = senders.run(
    (i, n) => owners[(i + n) % owners.length]!.name,
    () => phase !== "stop",
  );
  await new Promise((r) => setTimeout(r, cfg.warmupMs));
  const c0 = await serverCpu(pid);
  const b0 = await serverCpu(Deno.pid);
  const n0 = senders.stored;
  senders.lat.reset();
  for (const k of Object.keys(senders.errors)) delete senders.errors[k];
  const t0 = performance.now();
  phase = "window";
  await new Promise((r) => setTimeout(r, cfg.windowMs));
  const c1 = await serverCpu(pid);
  const b1 = await serverCpu(Deno.pid);
  const stored = senders.stored - n0;
  const sec = (performance.now() - t0) / 1000;
  phase = "stop";
  await running;
  const us = (t: number) => round((t / ticks) * 1e6 / Math.max(1, stored), 1);
  return {
    stored,
    storedPerSec: round(stored / sec, 0),
    errors: { ...senders.errors },
    latencyMs: senders.lat.summary(),
    cpuUsPerStored: us(c1.user - c0.user + c1.sys - c0.sys),
    cpuUserUsPerStored: us(c1.user - c0.user),
    serverCpuPct: round(((c1.user - c0.user + c1.sys - c0.sys) / ticks / sec) * 100, 1),
    benchCpuPct: round(((b1.user - b0.user + b1.sys - b0.sys) / ticks / sec) * 100, 1),
  };
}

/** Phase 4: the owner of the full mailbox comes back; times the delivery. */
async function measureDelivery(port: number, owner: Identity, mailbox: number, pid: number) {
  const seen = new Set<number>();
  let last = 0, duplicates = 0, outOfOrder = 0, tNegotiated = 0, tLast = 0, tPrev = 0;
  const gaps = new Histogram();
  let done: () => void = () => {};
  const all = new Promise<void>((r) => done = r);
  const onForward = (m: Incoming) => {
    const id = Number(m.headers.get("Mail"));
    if (!m.headers.has("Mail")) return;
    if (seen.has(id)) duplicates++;
    else if (id <= last) outOfOrder++;
    seen.add(id);
    const now = performance.now();
    if (tPrev > 0) gaps.record((now - tPrev) * 1000);
    tPrev = now;
    last = Math.max(last, id);
    if (seen.size === mailbox) {
      tLast = performance.now();
      done();
    }
  };
  const c0 = await serverCpu(pid);
  const t0 = performance.now();
  const user = await connectUser(port, owner.name, "mail", onForward, owner);
  tNegotiated = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([all, new Promise((r) => timer = setTimeout(r, 60_000))]);
  clearTimeout(timer);
  const c1 = await serverCpu(pid);
  user.tosend.close();
  user.torecv.close();
  if (seen.size < mailbox) {
    throw new Error(`the owner got ${seen.size} of ${mailbox} stored messages within 60 s`);
  }
  return {
    tNegotiated: tNegotiated - t0,
    tLast: tLast - t0,
    gaps: gaps.summary(),
    seen,
    duplicates,
    outOfOrder,
    c0,
    c1,
  };
}

/** Runs the whole offline scenario on `transport`. */
export async function runOffline(
  transport: "deno" | "node",
  cfg: OfflineConfig,
  m: OfflineMachine,
  log: (line: string) => void,
): Promise<OfflineResult> {
  const dir = await Deno.makeTempDir({ prefix: "chat-bench-offline-" });
  let server = await startServer(dir, transport, m);
  const users: User[] = [];
  try {
    const owners = await Promise.all(
      Array.from({ length: cfg.owners }, (_, i) => makeIdentity(`owner${i}`)),
    );
    const big = await makeIdentity("mailbox");
    for (const id of [...owners, big]) await claimName(server.port, id);
    log(`offline/${transport}: ${owners.length + 1} names claimed; ${cfg.senders} senders`);
    for (let i = 0; i < cfg.senders; i += 50) {
      const batch = Array.from({ length: Math.min(50, cfg.senders - i) }, (_, k) => i + k);
      users.push(
        ...await Promise.all(batch.map((k) => connectUser(server.port, `s${k}`, "mail", () => {}))),
      );
    }
    const senders = new Senders(users);
    const storing = await measureStoring(senders, owners, cfg, server.child.pid, m.clockTicks);
    log(`offline/${transport}: ${storing.storedPerSec} stored/s; filling a ${cfg.mailbox} mailbox`);
    let left = cfg.mailbox;
    const fill = new Senders(users);
    await fill.run(() => big.name, () => left-- > 0);
    if (fill.stored !== cfg.mailbox) {
      throw new Error(`filling the mailbox: ${fill.stored} stored, ${JSON.stringify(fill.errors)}`);
    }
    for (const u of users.splice(0)) {
      u.tosend.close();
      u.torecv.close();
    }
    await server.child.stop("SIGTERM", 30_000);
    const totalStored = senders.stored + fill.stored;
    const size = (f: string) => Deno.stat(`${dir}/${f}`).then((s) => s.size, () => 0);
    const [dbBytes, walBytes] = [await size("chat.db"), await size("chat.db-wal")];
    const t0 = performance.now();
    server = await startServer(dir, transport, m);
    const restartSec = round((performance.now() - t0) / 1000, 2);
    const d = await measureDelivery(server.port, big, cfg.mailbox, server.child.pid);
    const cpu = d.c1.user - d.c0.user + d.c1.sys - d.c0.sys;
    return {
      transport,
      config: cfg,
      ...storing,
      totalStored,
      dbBytes,
      walBytes,
      bytesPerMessage: round((dbBytes + walBytes) / totalStored, 0),
      restartSec,
      deliverSec: round(d.tLast / 1000, 3),
      deliverAfterNegotiationSec: round((d.tLast - d.tNegotiated) / 1000, 3),
      gapMs: d.gaps,
      delivered: d.seen.size,
      duplicates: d.duplicates,
      outOfOrder: d.outOfOrder,
      cpuUsPerDelivered: round((cpu / m.clockTicks) * 1e6 / d.seen.size, 1),
    };
  } finally {
    for (const u of users) {
      u.tosend.close();
      u.torecv.close();
    }
    await server.child.stop("SIGTERM", 30_000);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The offline scenario's figures as text, with the targets. */
export function renderOffline(results: OfflineResult[], quick: boolean): string {
  const lines = ["offline (mail for offline owners, chat server --data, synchronous=FULL):"];
  const goal = (met: boolean) => quick ? "n/a (quick)" : met ? "met" : "NOT MET";
  for (const r of results) {
    const c = r.config;
    const errs = Object.entries(r.errors).map(([k, n]) => `${k}: ${n}`).join(", ") || "none";
    lines.push(
      `  ${r.transport}: ${c.senders} senders → ${c.owners} offline owners, closed loop, ` +
        `${c.windowMs / 1000} s window`,
      `    stored/s            ${r.storedPerSec.toLocaleString("en-US")} ` +
        `(target ≥ 10,000: ${goal(r.storedPerSec >= 10_000)}); errors: ${errs}`,
      `    SEND→SENT Mail      p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`,
      `    server CPU/stored   ${r.cpuUsPerStored} µs (user ${r.cpuUserUsPerStored}), ` +
        `server ${r.serverCpuPct} % of a core, bench clients ${r.benchCpuPct} %`,
      `    database            ${r.bytesPerMessage} bytes per message (${r.totalStored} ` +
        `waiting, 64-byte bodies: chat.db ${r.dbBytes} + wal ${r.walBytes} bytes)`,
      `    restart             ${r.restartSec} s to listen again with them`,
      `    ${c.mailbox.toLocaleString("en-US")}-message mailbox  delivered in ${r.deliverSec} s ` +
        `from the owner's connect (target < 2 s: ${goal(r.deliverSec < 2)}), ` +
        `${r.deliverAfterNegotiationSec} s after its negotiation; between two: ` +
        `p50 ${r.gapMs.p50} ms, p99 ${r.gapMs.p99} ms, max ${r.gapMs.max} ms`,
      `    delivery            ${r.delivered} delivered, ${r.duplicates} duplicates, ` +
        `${r.outOfOrder} out of order, server CPU ${r.cpuUsPerDelivered} µs per message`,
    );
  }
  return lines.join("\n");
}
