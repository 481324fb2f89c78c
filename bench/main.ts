/**
 * `deno task bench`: drives the real `chat server` process over loopback with the real
 * protocol from separate load-generator processes (`bench/gen.ts`), and the same load against
 * a minimal relay (`bench/relay.ts`) as the ceiling, on both transports.
 *
 * Scenarios: `closed` (saturation, closed loop), `open` (fixed offered rate, latency),
 * `broadcast` (SEND ALL at a steady rate) and `scale` (as many users as possible, idle then
 * active); and, only when asked for, `soak` (normal users at a fixed rate, alone and then beside
 * hostile clients from `bench/hostile.ts`; see `soak.ts`). Server CPU time comes from
 * `/proc/PID/stat`, memory from `/proc/PID/status`; the
 * server and the generators are pinned to different cores with `taskset` when it exists.
 *
 * Prints a table and writes JSON (default `bench/results/latest.json`). See bench/README.md.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Histogram, type HistogramData, type LatencySummary } from "./hist.ts";
import {
  clockTicksPerSecond,
  cpuTicks,
  findTaskset,
  kernelRelease,
  openFiles,
  openFilesHardLimit,
  rssKiB,
} from "./proc.ts";
import { Child, killAll } from "./procs.ts";
import type { ConnectReply, GenApi, GenReport } from "./gen.ts";
import { parseMix, renderSoak, runSoak, SOAK_CONFIGS, type SoakResult } from "./soak.ts";
import type { HostileMix } from "./hostile.ts";
import { type RoundRatio, runPaired } from "./paired.ts";
import { OFFLINE_CONFIGS, type OfflineResult, renderOffline, runOffline } from "./offline.ts";
import { type Edge, type EdgeComparison, runEdges } from "./edges.ts";

/** The scenarios, in the order they run. */
export const SCENARIOS = ["closed", "open", "broadcast", "scale", "soak", "offline"] as const;
/**
 * The scenarios a run without `--scenario` runs: the soak takes minutes, and offline stores on
 * disk (`chat server --data`), so those only on demand.
 */
export const DEFAULT_SCENARIOS = SCENARIOS.filter((s) => s !== "soak" && s !== "offline");
/** One scenario's name. */
export type ScenarioName = typeof SCENARIOS[number];
/** Which socket API the server under test uses. */
export type Transport = "deno" | "node";
/** What is under test: the real server, or the minimal relay (the ceiling). */
export type TargetKind = "server" | "relay";

/** Sizes and durations of one scenario. */
export interface ScenarioConfig {
  /** Users (two connections each). */
  users: number;
  /** Offered rate: messages per second (open), broadcasts per second (broadcast). */
  rate?: number;
  /** Load before the measured window starts, ms. */
  warmupMs: number;
  /** The measured window, ms. */
  windowMs: number;
  /** Scale: time connected and idle before memory is read, ms. */
  idleMs?: number;
  /**
   * Closed and open, with the relay: the window is cut into this many rounds, each measured on
   * the server and on the relay in turn (see `paired.ts`).
   */
  rounds?: number;
  /** Paired rounds: load before each round's window, ms. */
  settleMs?: number;
}

/** Full-mode and quick-mode sizes of each scenario (the soak's are in `soak.ts`). */
export const CONFIGS: Record<
  "full" | "quick",
  Record<Exclude<ScenarioName, "soak" | "offline">, ScenarioConfig>
> = {
  full: {
    closed: { users: 2000, warmupMs: 2000, windowMs: 6000, rounds: 6, settleMs: 500 },
    open: { users: 2000, rate: 4000, warmupMs: 1500, windowMs: 8000, rounds: 8, settleMs: 500 },
    broadcast: { users: 500, rate: 20, warmupMs: 1500, windowMs: 6000 },
    scale: { users: 10_000, idleMs: 3000, warmupMs: 1000, windowMs: 4000 },
  },
  quick: {
    closed: { users: 100, warmupMs: 300, windowMs: 1000, rounds: 2, settleMs: 100 },
    open: { users: 100, rate: 500, warmupMs: 300, windowMs: 1000, rounds: 2, settleMs: 100 },
    broadcast: { users: 50, rate: 10, warmupMs: 300, windowMs: 1000 },
    scale: { users: 300, idleMs: 300, warmupMs: 200, windowMs: 700 },
  },
};

/** The figures of one scenario against one target on one transport. */
export interface RunResult {
  scenario: ScenarioName;
  target: TargetKind;
  transport: Transport;
  /** Users asked for. */
  requestedUsers: number;
  /** Users connected with both halves registered. */
  users: number;
  /** Users that could not connect or register. */
  failedUsers: number;
  /** Time to connect and register all users, s. */
  connectSec: number;
  /** Length of the measured window, s. */
  windowSec: number;
  /** Offered rate, when the load is open (messages or broadcasts per second). */
  offeredPerSec: number | null;
  /** Acknowledged messages (SENT) in the window. */
  acked: number;
  /** ERROR answers to SEND in the window. */
  errors: number;
  /** Acknowledged messages per second (broadcast: acknowledged SEND ALLs per second). */
  msgsPerSec: number;
  /** FORWARDs received by users per second. */
  deliveriesPerSec: number;
  /** Server CPU per acknowledged message (broadcast: per delivery), µs; user + kernel. */
  cpuUsPerMsg: number;
  /** The user-mode part of {@link cpuUsPerMsg}. */
  cpuUserUsPerMsg: number;
  /** The kernel part of {@link cpuUsPerMsg}. */
  cpuSysUsPerMsg: number;
  /** Server CPU use in the window, % of one core. */
  serverCpuPct: number;
  /** Load generators' CPU use in the window, % of one core (all generators together). */
  genCpuPct: number;
  /** SEND → SENT (broadcast: SEND ALL → SENT ALL), ms. */
  latencyMs: LatencySummary;
  /** Broadcast only: SEND ALL → FORWARD at each recipient, ms. */
  deliveryLatencyMs: LatencySummary | null;
  /** Open loop and broadcast: how late the generator sent against its schedule, ms. */
  sendLagMs: LatencySummary | null;
  /** Least-served user's acknowledged messages over the median user's (closed loops). */
  fairness: number | null;
  /** Server RSS right after start, KiB. */
  rssBaseKiB: number;
  /** Server RSS at the end of the window, KiB. */
  rssKiB: number;
  /** (RSS at the end − RSS at start) per connected user, kB (1000 bytes). */
  kBPerUser: number;
  /** Scale: RSS with every user connected and idle, KiB. */
  rssIdleKiB: number | null;
  /** Scale: (idle RSS − RSS at start) per connected user, kB. */
  idleKBPerUser: number | null;
  /** Connections closed by the target during the run. */
  lostConns: number;
  /** Open files of the target right after start (the rest of the fd limit is for sockets). */
  fdsBase: number | null;
  /** Most users the target's open-file limit leaves room for: (limit − fdsBase) ÷ 2. */
  usersFdCap: number | null;
  /**
   * What limited a closed loop: "server" (its core ≥ 90 % busy), "generator" (the generators'
   * core ≥ 90 % busy), or "neither" (both had idle time: scheduling or latency bound).
   */
  bottleneck: "server" | "generator" | "neither" | null;
  /**
   * The edge the users came in by, only on the runs of the edge comparison (`edges.ts`: one
   * server, TCP and WebSocket users in turn); absent on every other run (TCP).
   */
  edge?: Edge;
}

/** The server's figures over the relay's, for one scenario and transport. */
export interface Ratio {
  scenario: ScenarioName;
  transport: Transport;
  /** Server msgs/s ÷ relay msgs/s (1 = as fast as the ceiling). */
  msgsPerSec: number | null;
  /** Server CPU µs/msg ÷ relay's (1 = as cheap as the ceiling). */
  cpuUsPerMsg: number | null;
  /** Server p99 ÷ relay p99. */
  p99: number | null;
  /** Server kB/user ÷ relay's (scale: idle). */
  kBPerUser: number | null;
  /** Paired runs (closed, open): each round's server ÷ relay, in order; empty otherwise. */
  rounds: RoundRatio[];
  /**
   * Paired runs: the median of {@link rounds}, figure by figure (null otherwise). Less moved by
   * one round that other work on the machine spoiled than the ratio of the pooled figures.
   */
  roundsMedian: RoundRatio | null;
}

/** One of the team's targets, and how this run measured against it. */
export interface Goal {
  id: string;
  description: string;
  transport: Transport;
  value: number;
  limit: number;
  unit: string;
  /** "≤" or "≥". */
  direction: "max" | "min";
  met: boolean;
  /** False in quick mode, whose sizes are not the goal's. */
  comparable: boolean;
}

/** The whole JSON document the bench writes. */
export interface BenchResults {
  schema: 1;
  mode: "full" | "quick";
  startedAt: string;
  durationSec: number;
  args: string[];
  env: {
    deno: string;
    v8: string;
    kernel: string;
    cpus: number;
    clockTicks: number;
    fdLimit: number;
    taskset: boolean;
    serverCores: string | null;
    genCores: string | null;
    genApi: GenApi;
    serverFlags: string[];
  };
  config: Partial<Record<ScenarioName, ScenarioConfig>>;
  runs: RunResult[];
  ratios: Ratio[];
  goals: Goal[];
  /** The soak, when it ran (one per transport): see `soak.ts`. */
  soak?: SoakResult[];
  /** The offline scenario, when it ran (one per transport): see `offline.ts`. */
  offline?: OfflineResult[];
  /**
   * The closed loop over the WebSocket edge beside the TCP edge of the same server (`edges.ts`),
   * when it ran; its two runs are in {@link runs} with `edge` set.
   */
  edges?: EdgeComparison[];
}

const HELP = `Usage: deno task bench [options]

Load-tests the chat server over loopback with the real protocol: the server runs as its own
process, load generators (bench/gen.ts) as others, and a minimal relay (bench/relay.ts) takes
the same load as the ceiling. Prints a table; writes JSON.

Options:
  --quick                 Small smoke run (about 1 s per scenario), for CI
  --scenario NAME         closed, open, broadcast, scale, soak (repeatable or comma list;
                          default all but soak, which runs only when named)
  --transport KIND        deno, node or both (default both)
  --out FILE              Where to write the JSON (default bench/results/latest.json;
                          "-" prints it on standard output and the table on standard error)
  --no-relay              Skip the relay runs (no ceiling, no ratios)
  --no-web                TCP only: no closed loop over the WebSocket edge, and a soak
                          without WebSocket users or attackers (as before issue 12)
  --gen-api API           Socket API of the load generator: node or deno (default node)
  --cpu-prof DIR          Run the server with --cpu-prof, writing profiles into DIR
  --soak-seconds N        Soak: length of the baseline and of the hostile phase each
                          (default 120; 10 with --quick)
  --soak-mix KIND=N,...   Soak: hostile clients of each kind instead of the default split
                          (garbage, slowloris, flood, broadcast, nonreader, huge, churn, spoof)
  -h, --help              Show this help

Scenarios (full mode):
  closed     2,000 users, each sends 64 bytes to the next and waits for SENT: msgs/s, CPU/msg, fairness;
             then the same over the WebSocket edge beside the TCP edge of one server
             (chat server --web 0, the two edges' users in turn): CPU/msg of each
  open       2,000 users, 4,000 msgs/s offered: latency p50/p99/p99.9
  broadcast  500 users, SEND ALL 20 times a second: deliveries/s, p99
  scale      10,000 users connected, idle then active: server memory per user
  soak       1,000 users at 2,000 msgs/s for 120 s, then the same beside 1,000 hostile clients
             (garbage, slowloris, floods, SEND ALL floods, non-readers, huge lengths, churn,
             spoofed RECEIVED; and 200 WebSocket ones: bad upgrades, malformed and huge frames,
             floods, non-readers) for 120 s, then 10 s after they left: delivered messages, lost
             acknowledged messages, p50/p99, server memory and CPU, survival. Half the normal
             users are on the WebSocket edge. Not in the default set; runs on the server's
             default transport (node) unless --transport is given.
             --quick: 100 users at 200 msgs/s and 100 hostile clients, 10 s phases.
  offline    chat server --data: 200 senders write to 20 offline owners (closed loop, 5 s):
             stored/s, CPU per stored message, database bytes per message; then a restart
             and the time to deliver a 10,000-message mailbox to its owner. Not in the
             default set; node transport unless --transport is given.
`;

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Parsed command line. */
interface Options {
  quick: boolean;
  scenarios: ScenarioName[];
  transports: Transport[];
  out: string;
  relay: boolean;
  /** Use the server's web port (the WebSocket edge's closed loop, the soak's WebSocket clients). */
  web: boolean;
  genApi: GenApi;
  cpuProf: string | null;
  /** Soak: length of each phase, s (null: the mode's default). */
  soakSeconds: number | null;
  /** Soak: hostile clients per kind, overriding the default split. */
  soakMix: Partial<HostileMix>;
  /** Transports for the soak: those asked for, else the server's default. */
  soakTransports: Transport[];
}

class UsageError extends Error {}

function parseOptions(args: string[]): Options | null {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        quick: { type: "boolean" },
        scenario: { type: "string", multiple: true },
        transport: { type: "string" },
        out: { type: "string" },
        "no-relay": { type: "boolean" },
        "no-web": { type: "boolean" },
        "gen-api": { type: "string" },
        "cpu-prof": { type: "string" },
        "soak-seconds": { type: "string" },
        "soak-mix": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  if (v.help) return null;
  if (parsed.positionals.length > 0) {
    throw new UsageError(`Unexpected argument "${parsed.positionals[0]}".`);
  }
  let scenarios: ScenarioName[] = [...DEFAULT_SCENARIOS];
  if (v.scenario) {
    const names = v.scenario.flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
    for (const n of names) {
      if (!(SCENARIOS as readonly string[]).includes(n)) {
        throw new UsageError(`Unknown scenario "${n}": use ${SCENARIOS.join(", ")}.`);
      }
    }
    scenarios = SCENARIOS.filter((s) => names.includes(s));
  }
  const t = v.transport ?? "both";
  if (t !== "deno" && t !== "node" && t !== "both") {
    throw new UsageError(`Invalid --transport "${t}": use deno, node or both.`);
  }
  const api = v["gen-api"] ?? "node";
  if (api !== "node" && api !== "deno") {
    throw new UsageError(`Invalid --gen-api "${api}": use node or deno.`);
  }
  let soakSeconds: number | null = null;
  if (v["soak-seconds"] !== undefined) {
    soakSeconds = Number(v["soak-seconds"]);
    if (!Number.isFinite(soakSeconds) || soakSeconds < 1 || soakSeconds > 3600) {
      throw new UsageError(`Invalid --soak-seconds "${v["soak-seconds"]}": use 1 to 3600.`);
    }
  }
  let soakMix: Partial<HostileMix> = {};
  try {
    if (v["soak-mix"] !== undefined) soakMix = parseMix(v["soak-mix"]);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  return {
    quick: v.quick === true,
    scenarios,
    transports: t === "both" ? ["deno", "node"] : [t],
    out: v.out ?? `${ROOT}bench/results/latest.json`,
    relay: v["no-relay"] !== true,
    web: v["no-web"] !== true,
    genApi: api,
    cpuProf: v["cpu-prof"] ?? null,
    soakSeconds,
    soakMix,
    soakTransports: v.transport === undefined ? ["node"] : t === "both" ? ["deno", "node"] : [t],
  };
}

/** Machine facts every run needs. */
export interface Machine {
  /** Extra `chat server` flags that lift its per-address, rate and connection limits. */
  serverFlags: string[];
  /**
   * The soak's `chat server` flags: per-address and connection limits lifted (every client is
   * 127.0.0.1), the rate limit kept at its default (the floods should meet it; normal users,
   * at 2 msgs/s each, should not).
   */
  soakServerFlags: string[];
  /** `chat server` has `--web` (a web port with the WebSocket edge). */
  web: boolean;
  clockTicks: number;
  fdLimit: number;
  taskset: string | null;
  serverCores: string | null;
  genCores: string | null;
}

let log: (line: string) => void = (line) => console.error(line);

/**
 * The server's defences are meant for many clients on many addresses; the bench is one address
 * sending as fast as it can. Lift the limits the server has (asked through its --help, so the
 * bench works with a server with or without them).
 */
async function liftLimits(): Promise<{ flags: string[]; soak: string[]; web: boolean }> {
  const out = await new Deno.Command(DENO, {
    args: ["run", "--allow-net", "main.ts", "server", "--help"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
  }).output();
  const help = new TextDecoder().decode(out.stdout);
  const flags: string[] = [];
  const soak: string[] = [];
  for (const flag of ["--max-per-address", "--max-connections", "--rate-limit"]) {
    if (help.includes(flag)) flags.push(flag, "0");
    if (help.includes(flag) && flag !== "--rate-limit") soak.push(flag, "0");
  }
  // The web port (on by default at 8080) only where a scenario asks for it (`--web 0`).
  if (help.includes("--no-web")) flags.push("--no-web"), soak.push("--no-web");
  // The server's defaults, spelled out so that the soak does not change with them.
  if (help.includes("--rate-limit")) soak.push("--rate-limit", "50");
  if (help.includes("--rate-burst")) soak.push("--rate-burst", "100");
  // These scenarios measure relaying: keep names and mail in memory, as before issue 11 (and so
  // the server needs no file permission). The offline scenario drops it and passes --data.
  if (help.includes("--memory")) flags.push("--memory"), soak.push("--memory");
  return { flags, soak, web: /--web\b/.test(help) };
}

/**
 * Starts the server (or relay) and waits for its "listening" line; with `web`, on a free web
 * port too (`--web 0`), and waits for its `Web client listening on HOST:PORT` line as well.
 */
export async function startTarget(
  kind: TargetKind,
  transport: Transport,
  m: Machine,
  o: { cpuProf: string | null },
  serverFlags = m.serverFlags,
  web = false,
): Promise<{ child: Child; port: number; webPort: number | null }> {
  const net = ["--host", "127.0.0.1", "--port", "0", "--transport", transport];
  if (web) {
    net.push("--web", "0");
    serverFlags = serverFlags.filter((f) => f !== "--no-web");
  }
  const prof = o.cpuProf && kind === "server" ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProf}`] : [];
  const cmd = kind === "server"
    ? [
      DENO,
      "run",
      "--allow-net",
      ...prof,
      "main.ts",
      "server",
      ...net,
      "--quiet",
      ...serverFlags,
    ]
    : [DENO, "run", "--allow-net", "bench/relay.ts", ...net];
  const child = Child.spawn({
    cmd,
    cwd: ROOT,
    fdLimit: m.fdLimit,
    cores: m.serverCores ?? undefined,
    taskset: m.taskset,
    label: `${kind} (${transport})`,
  });
  try {
    let port: number | null = null;
    let webPort: number | null = null;
    const until = performance.now() + 30_000;
    while (port === null || (web && webPort === null)) {
      const line = await child.nextLine(Math.max(1, until - performance.now()));
      const webMatch = /Web client listening on .*:(\d+) \(open /.exec(line);
      const match = /listening on .*:(\d+)\s*$/.exec(line);
      if (webMatch) webPort = Number(webMatch[1]);
      else if (match) port = Number(match[1]);
      else if (port === null || !web) {
        throw new Error(`${kind} printed ${JSON.stringify(line)} instead of its address`);
      }
    }
    child.discardLines();
    return { child, port, webPort };
  } catch (error) {
    await child.stop("SIGKILL", 1000);
    throw error;
  }
}

/** What {@link connectUsers} reports. */
export interface Connected {
  /** Users connected and registered. */
  users: number;
  /** Users that could not connect or register. */
  failedUsers: number;
  /** How long connecting took, s. */
  connectSec: number;
}

/**
 * Starts as many generators as `count` users need (pushed onto `gens`, so that the caller stops
 * them whatever happens) and has them connect and register the users `u0`…; throws if fewer than
 * two could.
 */
export async function connectUsers(
  tag: string,
  count: number,
  port: number,
  m: Machine,
  o: { genApi: GenApi },
  deadlineSec: number,
  gens: Child[],
  limits: { timeoutMs: number; maxFailures: number },
  genArgs: string[] = [],
  firstUser = 0,
): Promise<Connected> {
  // One generator holds at most 2,500 users (5,000 sockets), fewer if the fd limit is low: with
  // 5,000 users a node:net generator process left both cores partly idle yet could not keep
  // up (Deno's node:net slows down with sockets per process), with 2,500 it saturates the server.
  const perGen = Math.max(1, Math.min(2500, Math.floor((m.fdLimit - 200) / 2)));
  const genCount = Math.ceil(count / perGen);
  gens.push(...startGens(genCount, port, m, o, deadlineSec, genArgs));
  const share = Math.ceil(count / genCount);
  log(`${tag}: connecting ${count} users (${genCount} generator(s))`);
  const t0 = performance.now();
  const connects = await Promise.all(gens.map((g, i) =>
    g.request<ConnectReply>({
      cmd: "connect",
      first: firstUser + i * share,
      count: Math.min(share, count - i * share),
      concurrency: 100,
      ...limits,
    }, 300_000)
  ));
  const connectSec = (performance.now() - t0) / 1000;
  const users = connects.reduce((n, c) => n + c.connected, 0);
  const failedUsers = connects.reduce((n, c) => n + c.failed, 0);
  if (users < 2) throw new Error(`${tag}: only ${users} user(s) could connect`);
  log(
    `${tag}: ${users} users connected in ${round(connectSec, 1)} s` +
      (failedUsers > 0 ? `, ${failedUsers} failed` : ""),
  );
  return { users, failedUsers, connectSec };
}

/** Starts `count` load generators (`bench/gen.ts`) for the target on `port`. */
export function startGens(
  count: number,
  port: number,
  m: Machine,
  o: { genApi: GenApi },
  deadlineSec: number,
  genArgs: string[] = [],
) {
  return Array.from({ length: count }, (_, i) =>
    Child.spawn({
      cmd: [
        DENO,
        "run",
        "--allow-net",
        "bench/gen.ts",
        "--port",
        String(port),
        "--api",
        o.genApi,
        "--deadline",
        String(deadlineSec),
        ...genArgs,
      ],
      cwd: ROOT,
      fdLimit: m.fdLimit,
      cores: m.genCores ?? undefined,
      taskset: m.taskset,
      stdin: true,
      label: `generator ${i + 1}`,
    }));
}

/** What one measured window saw, merged over all generators. */
export interface Window {
  seconds: number;
  cpuSec: number;
  acked: number;
  errors: number;
  deliveries: number;
  perUser: number[];
  lat: Histogram;
  dlat: Histogram;
  lag: Histogram;
  serverUser: number;
  serverSys: number;
  genTicks: number;
  lostConns: number;
}

async function measure(gens: Child[], serverPid: number, windowMs: number, m: Machine) {
  const all = <T>(cmd: unknown, timeout = 15_000) =>
    Promise.all(gens.map((g) => g.request<T>(cmd, timeout)));
  await all({ cmd: "mark" });
  const sample = () => Promise.all([serverPid, ...gens.map((g) => g.pid)].map(cpuTicks));
  const [s0, ...g0] = await sample();
  const t0 = performance.now();
  await sleep(windowMs);
  const [s1, ...g1] = await sample();
  const cpuSec = (performance.now() - t0) / 1000;
  const reports = await all<GenReport>({ cmd: "report" });
  if (!s0 || !s1) throw new Error("the server exited during the measurement");
  const w: Window = {
    seconds: Math.max(...reports.map((r) => r.elapsedMs)) / 1000,
    cpuSec,
    acked: 0,
    errors: 0,
    deliveries: 0,
    perUser: [],
    lat: new Histogram(),
    dlat: new Histogram(),
    lag: new Histogram(),
    serverUser: (s1.user - s0.user) / m.clockTicks,
    serverSys: (s1.sys - s0.sys) / m.clockTicks,
    genTicks: 0,
    lostConns: 0,
  };
  for (let i = 0; i < gens.length; i++) {
    const a = g0[i], b = g1[i];
    if (a && b) w.genTicks += b.user + b.sys - a.user - a.sys;
  }
  const merge = (h: Histogram, d: HistogramData) => h.merge(d);
  for (const r of reports) {
    w.acked += r.acked;
    w.errors += r.errors;
    w.deliveries += r.deliveries;
    w.perUser.push(...r.perUser);
    merge(w.lat, r.lat);
    merge(w.dlat, r.dlat);
    merge(w.lag, r.lag);
    w.lostConns += r.lostConns;
  }
  return w;
}

/** Adds window `b` to `a` (windows of the same target, measured one after the other). */
export function addWindow(a: Window, b: Window): Window {
  a.seconds += b.seconds;
  a.cpuSec += b.cpuSec;
  a.acked += b.acked;
  a.errors += b.errors;
  a.deliveries += b.deliveries;
  a.perUser = a.perUser.length === 0
    ? [...b.perUser]
    : a.perUser.map((n, i) => n + (b.perUser[i] ?? 0));
  a.lat.merge(b.lat.toJSON());
  a.dlat.merge(b.dlat.toJSON());
  a.lag.merge(b.lag.toJSON());
  a.serverUser += b.serverUser;
  a.serverSys += b.serverSys;
  a.genTicks += b.genTicks;
  // The generators count lost connections since they started: the latest count is the total.
  a.lostConns = Math.max(a.lostConns, b.lostConns);
  return a;
}

function bottleneck(server: number, gen: number): RunResult["bottleneck"] {
  if (server >= 90) return "server";
  if (gen >= 90) return "generator";
  return "neither";
}

function fairness(perUser: number[]): number | null {
  if (perUser.length === 0) return null;
  const sorted = [...perUser].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return median === 0 ? 0 : round(sorted[0]! / median, 3);
}

/** One target started, with its users connected: what the measured windows run against. */
export interface Setup {
  scenario: ScenarioName;
  kind: TargetKind;
  transport: Transport;
  cfg: ScenarioConfig;
  tag: string;
  target: Child;
  /** The generators (stopped by {@link tearDown} whatever happened). */
  gens: Child[];
  connected: Connected;
  rssBase: number;
  fdsBase: number | null;
  rssIdle: number | null;
  /** RSS at the end of the latest window, KiB. */
  rssEnd: number;
  /** Messages still unanswered after the load of a window stopped, summed over windows. */
  stuck: number;
}

/** Starts a target and connects the scenario's users to it (scale: and lets them idle). */
export async function setUp(
  scenario: ScenarioName,
  kind: TargetKind,
  transport: Transport,
  cfg: ScenarioConfig,
  m: Machine,
  o: { cpuProf: string | null; genApi: GenApi },
): Promise<Setup> {
  const tag = `${scenario}/${transport}/${kind}`;
  const { child: target, port } = await startTarget(kind, transport, m, o);
  const s: Setup = {
    scenario,
    kind,
    transport,
    cfg,
    tag,
    target,
    gens: [],
    connected: { users: 0, failedUsers: 0, connectSec: 0 },
    rssBase: 0,
    fdsBase: null,
    rssIdle: null,
    rssEnd: 0,
    stuck: 0,
  };
  try {
    await sleep(300);
    s.rssBase = (await rssKiB(target.pid)) ?? 0;
    s.fdsBase = await openFiles(target.pid);
    const deadline = Math.ceil((cfg.warmupMs + cfg.windowMs + (cfg.idleMs ?? 0)) / 1000) + 120;
    s.connected = await connectUsers(tag, cfg.users, port, m, o, deadline, s.gens, {
      timeoutMs: scenario === "scale" ? 5000 : 15_000,
      maxFailures: scenario === "scale" ? 100 : 1_000_000,
    });
    if (scenario === "scale") {
      await sleep(cfg.idleMs ?? 0);
      s.rssIdle = await rssKiB(target.pid);
    }
  } catch (error) {
    await tearDown(s, o);
    throw error;
  }
  return s;
}

/**
 * Puts the scenario's load on a set-up target, waits `settleMs`, measures `windowMs`, then
 * stops the load and waits for what is in flight to be answered (so that the next window, on
 * this target or another, starts from quiet).
 */
export async function loadWindow(
  s: Setup,
  settleMs: number,
  windowMs: number,
  m: Machine,
): Promise<Window> {
  const { cfg, gens } = s;
  const load = s.scenario === "open"
    ? { cmd: "open", rate: cfg.rate! / gens.length }
    : s.scenario === "broadcast"
    ? { cmd: "broadcast", rate: cfg.rate! / gens.length }
    : { cmd: "closed" };
  await Promise.all(gens.map((g) => g.request(load, 15_000)));
  await sleep(settleMs);
  const w = await measure(gens, s.target.pid, windowMs, m);
  s.rssEnd = (await rssKiB(s.target.pid)) ?? 0;
  const drained = await Promise.all(
    gens.map((g) => g.request<{ outstanding: number }>({ cmd: "idle", timeoutMs: 5000 }, 15_000)),
  );
  s.stuck += drained.reduce((n, d) => n + d.outstanding, 0);
  return w;
}

/** The figures of a target from its measured window(s) (`w`: all of them added up). */
export function figures(
  s: Setup,
  w: Window,
  m: Machine,
  say?: (line: string) => void,
): RunResult {
  const { scenario, cfg, tag, rssEnd } = s;
  const { users, failedUsers, connectSec } = s.connected;
  if (say && s.stuck > 0) {
    say(`${tag}: ${s.stuck} message(s) still unanswered after the load stopped`);
  }
  if (say && w.errors > 0) say(`${tag}: ${w.errors} SEND(s) answered with ERROR in the window`);

  const msgsPerSec = w.acked / w.seconds;
  const deliveriesPerSec = w.deliveries / w.seconds;
  // CPU per message: the server's CPU over the messages completed in the same span.
  const per = (scenario === "broadcast" ? deliveriesPerSec : msgsPerSec) * w.cpuSec;
  const us = (sec: number) => per > 0 ? round((sec * 1e6) / per, 1) : 0;
  const closedLoop = scenario === "closed" || scenario === "scale";
  const kB = (kib: number) => round((kib * 1024) / users / 1000, 2);
  const serverCpuPct = round(((w.serverUser + w.serverSys) / w.cpuSec) * 100, 1);
  const genCpuPct = round((w.genTicks / m.clockTicks / w.cpuSec) * 100, 1);
  return {
    scenario,
    target: s.kind,
    transport: s.transport,
    requestedUsers: cfg.users,
    users,
    failedUsers,
    connectSec: round(connectSec, 2),
    windowSec: round(w.seconds, 3),
    offeredPerSec: cfg.rate ?? null,
    acked: w.acked,
    errors: w.errors,
    msgsPerSec: round(msgsPerSec, 1),
    deliveriesPerSec: round(deliveriesPerSec, 1),
    cpuUsPerMsg: us(w.serverUser + w.serverSys),
    cpuUserUsPerMsg: us(w.serverUser),
    cpuSysUsPerMsg: us(w.serverSys),
    serverCpuPct,
    genCpuPct,
    latencyMs: w.lat.summary(),
    deliveryLatencyMs: scenario === "broadcast" ? w.dlat.summary() : null,
    sendLagMs: scenario === "open" || scenario === "broadcast" ? w.lag.summary() : null,
    fairness: closedLoop ? fairness(w.perUser) : null,
    rssBaseKiB: s.rssBase,
    rssKiB: rssEnd,
    kBPerUser: kB(rssEnd - s.rssBase),
    rssIdleKiB: s.rssIdle,
    idleKBPerUser: s.rssIdle === null ? null : kB(s.rssIdle - s.rssBase),
    lostConns: w.lostConns,
    fdsBase: s.fdsBase,
    usersFdCap: s.fdsBase === null ? null : Math.floor((m.fdLimit - s.fdsBase) / 2),
    bottleneck: closedLoop ? bottleneck(serverCpuPct, genCpuPct) : null,
  };
}

/** Stops a target's generators, then the target. */
export async function tearDown(s: Setup, o: { cpuProf: string | null }): Promise<void> {
  await Promise.all(s.gens.map(async (g) => {
    try {
      await g.request({ cmd: "quit" }, 10_000);
    } catch { /* it is stopped below anyway */ }
    await g.stop(null, 5000);
  }));
  const status = await s.target.stop("SIGTERM", o.cpuProf ? 30_000 : 10_000);
  if (!status.success && status.signal !== "SIGTERM") {
    log(`${s.tag}: the ${s.kind} exited with code ${status.code}`);
  }
}

/** Runs one scenario against one target alone and returns its figures. */
async function runOne(
  scenario: ScenarioName,
  kind: TargetKind,
  transport: Transport,
  cfg: ScenarioConfig,
  m: Machine,
  o: Options,
): Promise<RunResult> {
  const s = await setUp(scenario, kind, transport, cfg, m, o);
  try {
    return figures(s, await loadWindow(s, cfg.warmupMs, cfg.windowMs, m), m, log);
  } finally {
    await tearDown(s, o);
  }
}

function ratioOf(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return round(a / b, 2);
}

function median(xs: (number | null)[]): number | null {
  const sorted = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : round((sorted[mid - 1]! + sorted[mid]!) / 2, 2);
}

function medianRound(rounds: RoundRatio[]): RoundRatio | null {
  if (rounds.length === 0) return null;
  return {
    cpuUsPerMsg: median(rounds.map((r) => r.cpuUsPerMsg)),
    p99: median(rounds.map((r) => r.p99)),
  };
}

function ratios(runs: RunResult[], rounds: Map<string, RoundRatio[]>): Ratio[] {
  const out: Ratio[] = [];
  for (const s of runs.filter((r) => r.target === "server" && r.edge === undefined)) {
    const r = runs.find((x) =>
      x.target === "relay" && x.scenario === s.scenario && x.transport === s.transport
    );
    if (!r) continue;
    out.push({
      scenario: s.scenario,
      transport: s.transport,
      msgsPerSec: ratioOf(s.msgsPerSec, r.msgsPerSec),
      cpuUsPerMsg: ratioOf(s.cpuUsPerMsg, r.cpuUsPerMsg),
      p99: ratioOf(s.latencyMs.p99, r.latencyMs.p99),
      kBPerUser: s.scenario === "scale"
        ? ratioOf(s.idleKBPerUser, r.idleKBPerUser)
        : ratioOf(s.kBPerUser, r.kBPerUser),
      rounds: rounds.get(`${s.scenario}/${s.transport}`) ?? [],
      roundsMedian: medianRound(rounds.get(`${s.scenario}/${s.transport}`) ?? []),
    });
  }
  return out;
}

function goals(runs: RunResult[], quick: boolean): Goal[] {
  const out: Goal[] = [];
  const add = (
    id: string,
    description: string,
    r: RunResult,
    value: number | null,
    limit: number,
    unit: string,
    direction: "max" | "min",
  ) => {
    if (value === null) return;
    const met = direction === "max" ? value <= limit : value >= limit;
    out.push({
      id,
      description,
      transport: r.transport,
      value,
      limit,
      unit,
      direction,
      met,
      comparable: !quick,
    });
  };
  for (const r of runs.filter((x) => x.target === "server" && x.edge === undefined)) {
    switch (r.scenario) {
      case "closed":
        add("cpu", "server CPU per message at saturation", r, r.cpuUsPerMsg, 40, "µs", "max");
        add("fairness", "fairness at saturation", r, r.fairness, 0.9, "", "min");
        break;
      case "open":
        add("p99", `p99 at ${r.offeredPerSec} msgs/s offered`, r, r.latencyMs.p99, 1, "ms", "max");
        break;
      case "broadcast":
        add("broadcast-p99", "broadcast p99", r, r.latencyMs.p99, 30, "ms", "max");
        break;
      case "scale":
        add("users", "concurrent users held", r, r.users, 10_000, "", "min");
        add("memory", "server memory per idle user", r, r.idleKBPerUser, 10, "kB", "max");
        break;
    }
  }
  return out;
}

function table(rows: string[][], align: ("l" | "r")[]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  return rows.map((r) =>
    r.map((c, i) => align[i] === "l" ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("  ")
      .trimEnd()
  ).join("\n");
}

const fmt = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined ? "-" : x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });

/** Renders the results as text tables. */
export function renderTables(res: BenchResults): string {
  const head = [
    "scenario",
    "transport",
    "target",
    "users",
    "msgs/s",
    "err",
    "deliv/s",
    "µs/msg",
    "(usr+sys)",
    "srv%",
    "gen%",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "fair",
    "kB/user",
    "bound",
  ];
  const rows: string[][] = [head];
  for (const r of res.runs) {
    rows.push([
      r.scenario,
      r.transport,
      r.edge === undefined ? r.target : `${r.target} ${r.edge === "tcp" ? "TCP" : "WS"}`,
      String(r.users),
      fmt(r.msgsPerSec, 0),
      String(r.errors),
      fmt(r.deliveriesPerSec, 0),
      fmt(r.cpuUsPerMsg),
      `${fmt(r.cpuUserUsPerMsg)}+${fmt(r.cpuSysUsPerMsg)}`,
      fmt(r.serverCpuPct, 0),
      fmt(r.genCpuPct, 0),
      fmt(r.latencyMs.p50, 3),
      fmt(r.latencyMs.p99, 3),
      fmt(r.latencyMs.p999, 3),
      fmt(r.fairness, 2),
      fmt(r.scenario === "scale" ? r.idleKBPerUser : r.kBPerUser, 2),
      r.bottleneck === "generator" ? "gen" : r.bottleneck === "server" ? "srv" : r.bottleneck ?? "",
    ]);
    const ratio = res.ratios.find((x) =>
      r.target === "relay" && x.scenario === r.scenario && x.transport === r.transport
    );
    const edge = res.edges?.find((x) =>
      r.edge === "websocket" && x.scenario === r.scenario && x.transport === r.transport
    );
    if (edge) {
      rows.push([
        r.scenario,
        r.transport,
        "WS/TCP",
        "",
        "",
        "",
        "",
        fmt(edge.cpuRatio, 2),
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
      ]);
    }
    if (ratio) {
      rows.push([
        r.scenario,
        r.transport,
        "server/relay",
        "",
        fmt(ratio.msgsPerSec, 2),
        "",
        "",
        fmt(ratio.cpuUsPerMsg, 2),
        "",
        "",
        "",
        "",
        fmt(ratio.p99, 2),
        "",
        "",
        fmt(ratio.kBPerUser, 2),
        "",
      ]);
    }
  }
  const align = head.map((_, i) => (i < 3 || i === head.length - 1 ? "l" : "r")) as (
    | "l"
    | "r"
  )[];
  let text = res.runs.length > 0 ? table(rows, align) : "";
  if (res.goals.length > 0) {
    const g: string[][] = [["goal", "transport", "measured", "target", "met"]];
    for (const x of res.goals) {
      const unit = x.unit ? ` ${x.unit}` : "";
      g.push([
        x.description,
        x.transport,
        `${fmt(x.value, x.unit === "" && x.value < 10 ? 3 : 1)}${unit}`,
        `${x.direction === "max" ? "≤" : "≥"} ${fmt(x.limit, x.limit < 10 ? 1 : 0)}${unit}`,
        !x.comparable ? "n/a (quick)" : x.met ? "yes" : "NO",
      ]);
    }
    text += "\n\n" + table(g, ["l", "l", "r", "r", "l"]);
  }
  const paired = res.ratios.filter((x) => x.rounds.length > 0);
  if (paired.length > 0) {
    const list = (xs: (number | null)[]) => xs.map((x) => fmt(x, 2)).join(" ");
    text += "\n\nserver/relay in each round (server and relay measured in turn, same run):";
    for (const x of paired) {
      const open = x.scenario === "open";
      const values = x.rounds.map((r) => open ? r.p99 : r.cpuUsPerMsg);
      const mid = open ? x.roundsMedian?.p99 : x.roundsMedian?.cpuUsPerMsg;
      text += `\n  ${x.scenario} ${x.transport}: ${open ? "p99" : "CPU/msg"} ${list(values)}` +
        ` (median ${fmt(mid, 2)}; all rounds pooled ${fmt(open ? x.p99 : x.cpuUsPerMsg, 2)})`;
    }
  }
  for (const x of res.edges ?? []) {
    text += `\n\nWebSocket edge beside TCP edge (${x.scenario} loop, one server, ${x.transport} ` +
      `transport, the two edges' users in turn): server CPU per message ` +
      `${fmt(x.websocketCpuUsPerMsg)} µs over WebSocket, ${fmt(x.tcpCpuUsPerMsg)} µs over TCP ` +
      `(WS/TCP ${fmt(x.cpuRatio, 2)}; each round ${
        x.rounds.map((r) => fmt(r, 2)).join(" ")
      }, median ${fmt(x.roundsMedian, 2)})`;
  }
  if (res.soak && res.soak.length > 0) text += (text ? "\n\n" : "") + renderSoak(res.soak);
  if (res.offline && res.offline.length > 0) {
    text += (text ? "\n\n" : "") + renderOffline(res.offline, res.mode === "quick");
  }
  if (res.runs.length === 0) return text;
  text += "\n\nµs/msg: server CPU (user+kernel, from /proc/PID/stat) per acknowledged message " +
    "(broadcast: per delivery). kB/user: server RSS growth per connected user (scale: idle).\n" +
    "bound (closed loops): srv = server core ≥ 90 % busy, gen = generator core ≥ 90 % busy, " +
    "neither = both idle part of the time.";
  return text;
}

async function main(args: string[]): Promise<number> {
  let o: Options | null;
  try {
    o = parseOptions(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(
        `${error.message}\nUsage: deno task bench [--quick] [--scenario NAME] ` +
          `[--transport deno|node|both] [--out FILE] (--help for more)`,
      );
      return 2;
    }
    throw error;
  }
  if (o === null) {
    console.log(HELP);
    return 0;
  }
  if (Deno.build.os !== "linux") {
    console.error("The bench reads /proc for CPU time and memory: it runs on Linux only.");
    return 1;
  }
  const toStdout = o.out === "-";
  log = (line) => console.error(`[bench] ${line}`);
  const taskset = findTaskset();
  const cpus = navigator.hardwareConcurrency;
  const pin = taskset !== null && cpus >= 2;
  const limits = await liftLimits();
  const m: Machine = {
    serverFlags: limits.flags,
    soakServerFlags: limits.soak,
    web: limits.web && o.web,
    clockTicks: await clockTicksPerSecond(),
    fdLimit: await openFilesHardLimit(),
    taskset,
    serverCores: pin ? "0" : null,
    genCores: pin ? (cpus > 2 ? `1-${cpus - 1}` : "1") : null,
  };
  if (m.taskset && m.genCores) {
    // This process samples /proc and spawns `cat` now and then: keep it off the server's core.
    await new Deno.Command(m.taskset, {
      args: ["-p", "-c", m.genCores, String(Deno.pid)],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => {});
  }
  if (o.cpuProf) await Deno.mkdir(o.cpuProf, { recursive: true });
  const mode = o.quick ? "quick" : "full";
  const configs = CONFIGS[mode];
  const started = new Date();
  const t0 = performance.now();

  // Bounded whatever happens: stop everything well past the expected time.
  const soakCfg = SOAK_CONFIGS[mode];
  const soakSec = o.soakSeconds ?? soakCfg.windowMs / 1000;
  const limitSec = (o.quick ? 180 : 1200) +
    (o.scenarios.includes("soak") ? o.soakTransports.length * (2 * soakSec + 120) : 0) +
    (o.scenarios.includes("offline") ? o.soakTransports.length * 180 : 0);
  const guard = setTimeout(() => {
    log(`still running after ${limitSec} s: stopping`);
    killAll();
    Deno.exit(1);
  }, limitSec * 1000);
  const onSignal = () => {
    killAll();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);

  const runs: RunResult[] = [];
  const paired = new Map<string, RoundRatio[]>();
  const soaks: SoakResult[] = [];
  const offline: OfflineResult[] = [];
  const edges: EdgeComparison[] = [];
  let failed = false;
  /**
   * The closed loop over the WebSocket edge beside the TCP edge: once per run, on the node
   * transport (the web edge's own) when it is among those asked for, else on the first.
   */
  const edgesRun = async (transport: Transport) => {
    const on = o.transports.includes("node") ? "node" : o.transports[0];
    if (transport !== on) return;
    if (!m.web) {
      log(
        o.web
          ? "chat server has no --web: the WebSocket edge is not measured"
          : "--no-web: the WebSocket edge is not measured",
      );
      return;
    }
    try {
      const r = await runEdges(transport, configs.closed, m, o, log);
      runs.push(r.tcp, r.websocket);
      edges.push(r.comparison);
    } catch (error) {
      failed = true;
      log(
        `closed/${transport} over both edges failed: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
  };
  try {
    for (const scenario of o.scenarios) {
      if (scenario === "offline") {
        for (const transport of o.soakTransports) {
          try {
            offline.push(await runOffline(transport, OFFLINE_CONFIGS[mode], m, log));
          } catch (error) {
            failed = true;
            log(`offline/${transport} failed: ${error instanceof Error ? error.message : error}`);
          }
        }
        continue;
      }
      if (scenario === "soak") {
        for (const transport of o.soakTransports) {
          try {
            const cfg = { ...soakCfg, windowMs: soakSec * 1000 };
            const r = await runSoak(transport, cfg, o.soakMix, m, o, log);
            soaks.push(r);
            if (!r.survived) failed = true;
          } catch (error) {
            failed = true;
            log(`soak/${transport} failed: ${error instanceof Error ? error.message : error}`);
          }
        }
        continue;
      }
      for (const transport of o.transports) {
        if (o.relay && (configs[scenario].rounds ?? 0) > 0) {
          try {
            const p = await runPaired(scenario, transport, configs[scenario], m, o, log);
            runs.push(p.server, p.relay);
            paired.set(`${scenario}/${transport}`, p.rounds);
          } catch (error) {
            failed = true;
            log(
              `${scenario}/${transport} failed: ${error instanceof Error ? error.message : error}`,
            );
          }
          if (scenario === "closed") await edgesRun(transport);
          continue;
        }
        if (scenario === "closed") await edgesRun(transport);
        for (const kind of (o.relay ? ["server", "relay"] : ["server"]) as TargetKind[]) {
          try {
            runs.push(await runOne(scenario, kind, transport, configs[scenario], m, o));
          } catch (error) {
            failed = true;
            log(
              `${scenario}/${transport}/${kind} failed: ${
                error instanceof Error ? error.message : String(error)
              }`,
            );
          }
        }
      }
    }
  } finally {
    clearTimeout(guard);
    Deno.removeSignalListener("SIGINT", onSignal);
  }

  const results: BenchResults = {
    schema: 1,
    mode,
    startedAt: started.toISOString(),
    durationSec: round((performance.now() - t0) / 1000, 1),
    args,
    env: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      kernel: await kernelRelease(),
      cpus,
      clockTicks: m.clockTicks,
      fdLimit: m.fdLimit,
      taskset: taskset !== null,
      serverCores: m.serverCores,
      genCores: m.genCores,
      genApi: o.genApi,
      serverFlags: m.serverFlags,
    },
    config: Object.fromEntries(
      o.scenarios.map((
        s,
      ) => [
        s,
        s === "soak"
          ? { ...soakCfg, windowMs: soakSec * 1000 }
          : s === "offline"
          ? OFFLINE_CONFIGS[mode]
          : configs[s],
      ]),
    ),
    runs,
    ratios: ratios(runs, paired),
    goals: goals(runs, o.quick),
    ...(soaks.length > 0 ? { soak: soaks } : {}),
    ...(offline.length > 0 ? { offline } : {}),
    ...(edges.length > 0 ? { edges } : {}),
  };
  const json = JSON.stringify(results, null, 2) + "\n";
  const text = renderTables(results);
  if (toStdout) {
    console.error(text);
    await Deno.stdout.write(new TextEncoder().encode(json));
  } else {
    const dir = o.out.slice(0, o.out.lastIndexOf("/") + 1);
    if (dir) await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(o.out, json);
    console.log(text);
    console.log(`\nJSON written to ${o.out} (${results.durationSec} s in all).`);
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
