/**
 * The soak scenario of `deno task bench --scenario soak`: normal users send at a fixed offered
 * rate to the real server, first alone (baseline), then beside hostile clients
 * (`bench/hostile.ts`), then alone again after the hostile clients have gone. Each phase reports
 * what the normal users got: messages delivered (`SENT`), errors, acknowledged messages that
 * never reached their recipient, latency, and the server's memory and CPU; and whether the
 * server survived.
 *
 * The server runs with the per-address and connection limits lifted (every client here is
 * 127.0.0.1, so the per-address limit would stop the normal users, and would refuse the hostile
 * clients at the door, which tests nothing else) and with its default rate limit, 50 messages a
 * second with bursts of 100: normal users send 2 a second each, far below it; the floods meet it.
 *
 * @module
 */
import { Histogram, type LatencySummary } from "./hist.ts";
import { cpuTicks, openFiles, rssKiB } from "./proc.ts";
import { Child } from "./procs.ts";
import {
  type EdgeCounts,
  emptyVerifyCounts,
  type GenApi,
  type GenReport,
  type VerifyCounts,
} from "./gen.ts";
import {
  HOSTILE_KINDS,
  type HostileMix,
  type HostileReport,
  type KindStats,
  WS_KINDS,
} from "./hostile.ts";
import {
  connectUsers,
  type Machine,
  type ScenarioConfig,
  startTarget,
  type Transport,
} from "./main.ts";

/** Sizes of the soak. */
export interface SoakConfig extends ScenarioConfig {
  /** Normal users' offered rate, messages per second in all. */
  rate: number;
  /** Hostile clients in all (split by {@link defaultMix}). */
  hostile: number;
  /** Most SENDs per second the flood and broadcast clients write together. */
  floodRate: number;
  /** Slowloris: ms between bytes. */
  slowMs: number;
  /** Time for the hostile clients to connect before the hostile window starts, ms. */
  rampMs: number;
  /** The window after the hostile clients have gone, ms. */
  afterMs: number;
}

/** Full-mode and quick-mode sizes (`windowMs` is each phase; `--soak-seconds` overrides it). */
export const SOAK_CONFIGS: Record<"full" | "quick", SoakConfig> = {
  full: {
    users: 1000,
    rate: 2000,
    warmupMs: 3000,
    windowMs: 120_000,
    hostile: 1000,
    floodRate: 20_000,
    slowMs: 3000,
    rampMs: 3000,
    afterMs: 10_000,
  },
  quick: {
    users: 100,
    rate: 200,
    warmupMs: 1000,
    windowMs: 10_000,
    hostile: 100,
    floodRate: 4000,
    slowMs: 1000,
    rampMs: 1000,
    afterMs: 3000,
  },
};

/** Share of each kind in the default split. */
const SHARES: HostileMix = {
  garbage: 0.15,
  slowloris: 0.15,
  flood: 0.14,
  broadcast: 0.01,
  nonreader: 0.15,
  huge: 0.10,
  churn: 0.15,
  spoof: 0.15,
  // The WebSocket clients come on top of the TCP ones (their shares add up to 1 alone).
  wsgarbage: 0.05,
  wshuge: 0.05,
  wsflood: 0.05,
  wsnonreader: 0.05,
};

/**
 * Splits `total` hostile clients over the TCP kinds (1,000: 150, 150, 140, 10, 150, 100, 150, 150)
 * and, with `web`, adds a fifth as many WebSocket clients (1,000: 50 of each WebSocket kind).
 */
export function defaultMix(total: number, web = true): HostileMix {
  const mix = {} as HostileMix;
  let given = 0;
  for (const k of HOSTILE_KINDS) {
    const ws = WS_KINDS.includes(k);
    mix[k] = ws && !web ? 0 : Math.floor(total * SHARES[k]);
    if (!ws) given += mix[k];
  }
  if (total >= 20 && mix.broadcast === 0) {
    mix.broadcast = 1;
    mix.flood -= 1;
  }
  mix.garbage += total - given; // what rounding left over
  return mix;
}

/** Parses `--soak-mix`: `kind=N` pairs, comma-separated. */
export function parseMix(text: string): Partial<HostileMix> {
  const mix: Partial<HostileMix> = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)$/.exec(part);
    if (!m || !(HOSTILE_KINDS as readonly string[]).includes(m[1]!)) {
      throw new Error(
        `Invalid --soak-mix "${part}": use KIND=N with KIND one of ${HOSTILE_KINDS.join(", ")}.`,
      );
    }
    mix[m[1] as keyof HostileMix] = Number(m[2]);
  }
  return mix;
}

/** What the normal users saw in one phase of the soak. */
export interface SoakPhase {
  phase: "baseline" | "hostile" | "after";
  /** Length of the measured window, s. */
  windowSec: number;
  /** Offered rate, messages per second. */
  offeredPerSec: number;
  /** Messages answered SENT (delivered and acknowledged). */
  acked: number;
  /** Messages answered with an ERROR. */
  errors: number;
  /** The same by code ("102", "106", ...). */
  errorCodes: Record<string, number>;
  /** Acknowledged messages per second. */
  msgsPerSec: number;
  /** Acknowledged ÷ offered in the window, %. */
  deliveredPct: number;
  /** What the recipients' checks found: lost acknowledged messages, wrong senders, ... */
  verify: VerifyCounts | null;
  /** SEND → SENT, ms. */
  latencyMs: LatencySummary;
  /** How late the generator sent against its schedule, ms. */
  sendLagMs: LatencySummary;
  /** Messages sent and not answered yet when the window ended. */
  outstanding: number;
  /** Normal users' connections the server closed during the window. */
  lostConns: number;
  /** Server CPU in the window, % of one core. */
  serverCpuPct: number;
  /** Normal users' generator CPU, % of one core. */
  genCpuPct: number;
  /** Hostile process CPU, % of one core (null without hostile clients). */
  hostileCpuPct: number | null;
  /** Server RSS at the start and end of the window, and the most seen (sampled each second). */
  rssStartKiB: number;
  rssEndKiB: number;
  rssPeakKiB: number;
  /** Server's open files at the end of the window. */
  serverFds: number | null;
  /** Whether the server was still running at the end of the window. */
  serverAlive: boolean;
  /**
   * With a web port: what the normal users of each edge got in the window (TCP users and
   * WebSocket "browser" users, every message crossing from one edge to the other); null without.
   */
  byEdge: Record<"tcp" | "ws", EdgeCounts> | null;
}

/** The soak against the server on one transport. */
export interface SoakResult {
  transport: Transport;
  serverFlags: string[];
  /** The server had a web port: half the normal users came over WebSocket, and so did some of the hostile clients. */
  web: boolean;
  requestedUsers: number;
  users: number;
  failedUsers: number;
  connectSec: number;
  hostileClients: number;
  mix: HostileMix;
  floodRate: number;
  /** Server RSS right after start, KiB. */
  rssBaseKiB: number;
  phases: SoakPhase[];
  /** What the hostile clients did and got, by kind, from their start to their stop. */
  hostile: Record<string, KindStats> | null;
  /** Normal users' messages still unanswered 5 s after the load stopped. */
  unanswered: number | null;
  /** True if the server ran to the end and stopped cleanly on SIGTERM. */
  survived: boolean;
  /** How the server exited: "SIGTERM", "code N", "signal S" or "killed". */
  exit: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs the soak against the server on one transport. */
export async function runSoak(
  transport: Transport,
  cfg: SoakConfig,
  mixOverride: Partial<HostileMix>,
  m: Machine,
  o: { cpuProf: string | null; genApi: GenApi },
  log: (line: string) => void,
): Promise<SoakResult> {
  const tag = `soak/${transport}`;
  const mix = { ...defaultMix(cfg.hostile, m.web), ...mixOverride };
  if (!m.web) { for (const k of WS_KINDS) mix[k] = 0; }
  const hostileClients = HOSTILE_KINDS.reduce((n, k) => n + mix[k], 0);
  const { child: server, port, webPort } = await startTarget(
    "server",
    transport,
    m,
    o,
    m.soakServerFlags,
    m.web,
  );
  // With a web port, every other normal user comes over WebSocket (gen.ts --edge mixed).
  const web = webPort === null ? [] : ["--web", String(webPort)];
  const gens: Child[] = [];
  let hostile: Child | null = null;
  const phases: SoakPhase[] = [];
  let hostileStats: Record<string, KindStats> | null = null;
  let unanswered: number | null = null;
  let users = 0, failedUsers = 0, connectSec = 0, rssBase = 0;
  const totalSec = (cfg.warmupMs + cfg.rampMs + 2 * cfg.windowMs + cfg.afterMs) / 1000;
  try {
    await sleep(300);
    rssBase = (await rssKiB(server.pid)) ?? 0;
    ({ users, failedUsers, connectSec } = await connectUsers(
      tag,
      cfg.users,
      port,
      m,
      o,
      Math.ceil(totalSec) + 180,
      gens,
      { timeoutMs: 15_000, maxFailures: 1_000_000 },
      webPort === null ? [] : [...web, "--edge", "mixed"],
    ));
    await Promise.all(
      gens.map((g) =>
        g.request({ cmd: "open", rate: cfg.rate / gens.length, verify: true }, 15_000)
      ),
    );
    await sleep(cfg.warmupMs);

    const phase = (name: SoakPhase["phase"], ms: number) =>
      measurePhase(name, ms, cfg, server, gens, hostile, m, log);
    log(`${tag}: baseline, ${cfg.windowMs / 1000} s without hostile clients`);
    phases.push(await phase("baseline", cfg.windowMs));

    if (!server.exited) {
      hostile = Child.spawn({
        cmd: [
          Deno.execPath(),
          "run",
          "--allow-net",
          "bench/hostile.ts",
          "--port",
          String(port),
          ...web,
          "--deadline",
          String(Math.ceil(totalSec) + 180),
        ],
        cwd: new URL("..", import.meta.url).pathname,
        fdLimit: m.fdLimit,
        cores: m.genCores ?? undefined,
        taskset: m.taskset,
        stdin: true,
        label: "hostile clients",
      });
      const normals = Array.from({ length: cfg.users }, (_, i) => `u${i}`);
      await hostile.request({
        cmd: "start",
        mix,
        normals,
        floodRate: cfg.floodRate,
        slowMs: cfg.slowMs,
      }, 30_000);
      log(
        `${tag}: ${hostileClients} hostile clients (${
          HOSTILE_KINDS.map((k) => `${k} ${mix[k]}`).join(", ")
        }); hostile phase, ${cfg.windowMs / 1000} s`,
      );
      await sleep(cfg.rampMs);
      phases.push(await phase("hostile", cfg.windowMs));
      const stopped = await hostile.request<HostileReport>({ cmd: "stop" }, 30_000);
      hostileStats = stopped.kinds;
      await hostile.request({ cmd: "quit" }, 15_000).catch(() => {});
      await hostile.stop(null, 5000);
      hostile = null;
    }
    if (!server.exited) {
      await sleep(1000);
      log(`${tag}: after, ${cfg.afterMs / 1000} s once the hostile clients have gone`);
      phases.push(await phase("after", cfg.afterMs));
    }
    const drained = await Promise.all(
      gens.map((g) => g.request<{ outstanding: number }>({ cmd: "idle", timeoutMs: 5000 }, 15_000)),
    );
    unanswered = drained.reduce((n, d) => n + d.outstanding, 0);
  } finally {
    if (hostile !== null) {
      await hostile.request({ cmd: "quit" }, 15_000).catch(() => {});
      await hostile.stop(null, 5000);
    }
    await Promise.all(gens.map(async (g) => {
      await g.request({ cmd: "quit" }, 10_000).catch(() => {});
      await g.stop(null, 5000);
    }));
  }
  const alive = !server.exited;
  const status = await server.stop("SIGTERM", o.cpuProf ? 30_000 : 15_000);
  const exit = status.signal === "SIGKILL"
    ? "killed"
    : status.signal
    ? `signal ${status.signal}`
    : `code ${status.code}`;
  const survived = alive && status.success;
  if (!survived) log(`${tag}: the server did not survive (${alive ? exit : "it died"})`);
  return {
    transport,
    serverFlags: webPort === null
      ? m.soakServerFlags
      : [...m.soakServerFlags.filter((f) => f !== "--no-web"), "--web", "0"],
    web: webPort !== null,
    requestedUsers: cfg.users,
    users,
    failedUsers,
    connectSec: round(connectSec),
    hostileClients,
    mix,
    floodRate: cfg.floodRate,
    rssBaseKiB: rssBase,
    phases,
    hostile: hostileStats,
    unanswered,
    survived,
    exit,
  };
}

/** One measured window: marks the generators, samples the server each second, reports. */
async function measurePhase(
  phase: SoakPhase["phase"],
  windowMs: number,
  cfg: SoakConfig,
  server: Child,
  gens: Child[],
  hostile: Child | null,
  m: Machine,
  log: (line: string) => void,
): Promise<SoakPhase> {
  const before = await Promise.all(
    gens.map((g) => g.request<GenReport>({ cmd: "report" }, 15_000)),
  );
  await Promise.all(gens.map((g) => g.request({ cmd: "mark" }, 15_000)));
  const pids = [server.pid, ...gens.map((g) => g.pid), ...(hostile ? [hostile.pid] : [])];
  const c0 = await Promise.all(pids.map(cpuTicks));
  const t0 = performance.now();
  const rssStart = (await rssKiB(server.pid)) ?? 0;
  let peak = rssStart;
  let last = rssStart;
  while (performance.now() - t0 < windowMs && !server.exited) {
    await sleep(Math.min(1000, windowMs - (performance.now() - t0)));
    const r = await rssKiB(server.pid);
    if (r !== null) {
      last = r;
      if (r > peak) peak = r;
    }
  }
  const c1 = await Promise.all(pids.map(cpuTicks));
  const sec = (performance.now() - t0) / 1000;
  const serverFds = await openFiles(server.pid);
  const reports = await Promise.all(
    gens.map((g) => g.request<GenReport>({ cmd: "report" }, 15_000)),
  );
  const pct = (i: number) => {
    const a = c0[i], b = c1[i];
    return a && b ? round((b.user + b.sys - a.user - a.sys) / m.clockTicks / sec * 100, 1) : 0;
  };
  const lat = new Histogram(), lag = new Histogram();
  let acked = 0, errors = 0, outstanding = 0, lostConns = 0;
  const errorCodes: Record<string, number> = {};
  let verify: VerifyCounts | null = null;
  let byEdge: Record<"tcp" | "ws", EdgeCounts> | null = null;
  for (const [i, r] of reports.entries()) {
    if (r.byEdge) {
      byEdge ??= {
        tcp: { users: 0, acked: 0, errors: 0, deliveries: 0, lostAcked: 0, lostConns: 0 },
        ws: { users: 0, acked: 0, errors: 0, deliveries: 0, lostAcked: 0, lostConns: 0 },
      };
      for (const edge of ["tcp", "ws"] as const) {
        const sum = byEdge[edge], got = r.byEdge[edge];
        sum.users += got.users;
        sum.acked += got.acked;
        sum.errors += got.errors;
        sum.deliveries += got.deliveries;
        sum.lostAcked += got.lostAcked;
        sum.lostConns += got.lostConns - (before[i]?.byEdge?.[edge].lostConns ?? 0);
      }
    }
    acked += r.acked;
    errors += r.errors;
    for (const [k, n] of Object.entries(r.errorCodes)) errorCodes[k] = (errorCodes[k] ?? 0) + n;
    outstanding += r.outstanding;
    lostConns += r.lostConns - (before[i]?.lostConns ?? 0);
    lat.merge(r.lat);
    lag.merge(r.lag);
    if (r.verify) {
      verify ??= emptyVerifyCounts();
      for (const k of Object.keys(verify) as (keyof VerifyCounts)[]) verify[k] += r.verify[k];
    }
  }
  const windowSec = Math.max(...reports.map((r) => r.elapsedMs)) / 1000;
  const genCpu = gens.reduce((n, _, i) => n + pct(1 + i), 0);
  const alive = !server.exited;
  if (!alive) log(`soak: the server exited during the ${phase} phase`);
  return {
    phase,
    windowSec: round(windowSec, 3),
    offeredPerSec: cfg.rate,
    acked,
    errors,
    errorCodes,
    msgsPerSec: round(acked / windowSec, 1),
    deliveredPct: round((acked / (cfg.rate * windowSec)) * 100, 1),
    verify,
    latencyMs: lat.summary(),
    sendLagMs: lag.summary(),
    outstanding,
    lostConns,
    serverCpuPct: pct(0),
    genCpuPct: round(genCpu, 1),
    hostileCpuPct: hostile ? pct(pids.length - 1) : null,
    rssStartKiB: rssStart,
    rssEndKiB: last,
    rssPeakKiB: peak,
    serverFds,
    serverAlive: alive,
    byEdge,
  };
}

const num = (x: number | null | undefined, digits = 0): string =>
  x === null || x === undefined ? "-" : x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });

function pad(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  return rows.map((r) =>
    r.map((c, i) => i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("  ").trimEnd()
  ).join("\n");
}

/** Renders the soak results as text tables. */
export function renderSoak(results: SoakResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    const rows: string[][] = [[
      "soak",
      "phase",
      "offered/s",
      "SENT/s",
      "deliv%",
      "err",
      "lost",
      "wrong",
      "p50 ms",
      "p99 ms",
      "p99.9 ms",
      "lostConn",
      "srv%",
      "gen%",
      "host%",
      "RSS start MB",
      "end",
      "peak",
      "fds",
    ]];
    for (const p of r.phases) {
      const v = p.verify;
      rows.push([
        r.transport,
        p.phase,
        num(p.offeredPerSec),
        num(p.msgsPerSec),
        num(p.deliveredPct, 1),
        num(p.errors),
        num(v?.lostAcked),
        v ? num(v.wrongSender + v.misdelivered + v.outOfOrder) : "-",
        num(p.latencyMs.p50, 3),
        num(p.latencyMs.p99, 3),
        num(p.latencyMs.p999, 3),
        num(p.lostConns),
        num(p.serverCpuPct),
        num(p.genCpuPct),
        num(p.hostileCpuPct),
        num(p.rssStartKiB / 1024, 1),
        num(p.rssEndKiB / 1024, 1),
        num(p.rssPeakKiB / 1024, 1),
        num(p.serverFds),
      ]);
    }
    out.push(pad(rows));
    const codes = r.phases.map((p) =>
      `${p.phase} ${
        Object.entries(p.errorCodes).map(([k, n]) => `${n} × ${k}`).join(", ") || "none"
      }`
    );
    out.push(`soak/${r.transport}: normal users' errors by code: ${codes.join("; ")}`);
    const edges = r.phases.filter((p) => p.byEdge !== null).map((p) => {
      const e = (c: EdgeCounts) =>
        `SENT ${num(c.acked)}, FORWARDs ${num(c.deliveries)}, err ${num(c.errors)}, ` +
        `lost ${num(c.lostAcked)}, lostConn ${num(c.lostConns)}`;
      return `${p.phase}: ${p.byEdge!.tcp.users} TCP users ${e(p.byEdge!.tcp)}; ` +
        `${p.byEdge!.ws.users} WebSocket users ${e(p.byEdge!.ws)}`;
    });
    if (edges.length > 0) {
      out.push(
        `soak/${r.transport}: by edge (every message crosses from one edge to the other):\n  ` +
          edges.join("\n  "),
      );
    }
    out.push(
      `soak/${r.transport}: ${r.users} normal users, ${r.hostileClients} hostile clients; ` +
        `server ${r.survived ? "survived" : "DID NOT SURVIVE"} (exit: ${r.exit}); ` +
        `unanswered after the load: ${r.unanswered ?? "-"}; flags ${r.serverFlags.join(" ")}`,
    );
    if (r.hostile) {
      const h: string[][] = [[
        "hostile",
        "kind",
        "clients",
        "opened",
        "closed by srv",
        "SENDs",
        "SENT",
        "FWD",
        "ERR 101",
        "102",
        "103",
        "104",
        "105",
        "106",
        "HTTP 4xx",
        "WS close",
        "takeover",
      ]];
      for (const k of HOSTILE_KINDS) {
        const s = r.hostile[k];
        if (!s || s.clients === 0) continue;
        const e = (code: number) => num(s.got[`ERROR ${code}`] ?? 0);
        const sum = (prefix: RegExp) =>
          num(Object.entries(s.got).reduce((n, [k, v]) => prefix.test(k) ? n + v : n, 0));
        h.push([
          r.transport,
          k,
          num(s.clients),
          num(s.opened),
          num(s.serverClosed),
          num(s.sends),
          num(s.got["SENT"] ?? 0),
          num(s.got["FORWARD"] ?? 0),
          e(101),
          e(102),
          e(103),
          e(104),
          e(105),
          e(106),
          sum(/^HTTP 4/),
          sum(/^WS close/),
          num(s.takeovers),
        ]);
      }
      out.push(pad(h));
    }
  }
  out.push(
    "soak: deliv% = SENT ÷ offered; lost = SENT whose FORWARD never reached the recipient; " +
      "wrong = FORWARD with the wrong sender, to the wrong user or out of order (all should be 0); " +
      "lostConn = normal users' connections closed by the server; host% = hostile process CPU; " +
      "hostile: FWD = FORWARDs read, ERR = ERROR answers by code, HTTP 4xx = refused upgrades, " +
      "WS close = close frames from the server.",
  );
  return out.join("\n\n");
}
