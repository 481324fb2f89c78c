/**
 * The closed loop over both edges of one server: the TCP edge (`--port`) and the WebSocket edge
 * of the web port (`--web 0`). One `chat server` process takes two populations of users, one per
 * edge (each with its own generators: `gen.ts --edge ws` for the WebSocket users, who do the HTTP
 * upgrade on `node:net` and send each protocol message in one masked binary frame), and the load
 * goes to one population at a time in alternating windows, as `paired.ts` does for the server and
 * the relay: so both edges are measured on the same server build, with the same load shape (the
 * ring of 64-byte messages), in the same run and the same background noise, and each round's
 * WebSocket ÷ TCP CPU per message is printed beside the pooled figure.
 *
 * The WebSocket users of this scenario talk among themselves (their ring stays on the edge), so
 * that the figure is the cost of the WebSocket edge both ways; the soak mixes the edges.
 *
 * @module
 */
import {
  addWindow,
  connectUsers,
  figures,
  loadWindow,
  type Machine,
  type RunResult,
  type ScenarioConfig,
  type Setup,
  startTarget,
  type TargetKind,
  type Transport,
  type Window,
} from "./main.ts";
import type { GenApi } from "./gen.ts";
import { rssKiB } from "./proc.ts";

/** Which edge a run's users came in by. */
export type Edge = "tcp" | "websocket";

/** The WebSocket edge beside the TCP edge, closed loop, one server process. */
export interface EdgeComparison {
  scenario: "closed";
  transport: Transport;
  /** Server CPU per message over the TCP edge, µs (the run with `edge: "tcp"`). */
  tcpCpuUsPerMsg: number;
  /** Server CPU per message over the WebSocket edge, µs (the run with `edge: "websocket"`). */
  websocketCpuUsPerMsg: number;
  /** WebSocket ÷ TCP, pooled over all rounds. */
  cpuRatio: number | null;
  /** WebSocket ÷ TCP in each round, in order. */
  rounds: (number | null)[];
  /** The median of {@link rounds}. */
  roundsMedian: number | null;
}

/** What {@link runEdges} returns: each edge's figures (`edge` set) and their comparison. */
export interface EdgesResult {
  tcp: RunResult & { edge: Edge };
  websocket: RunResult & { edge: Edge };
  comparison: EdgeComparison;
}

const ratio = (a: number, b: number) => b > 0 ? Math.round((a / b) * 100) / 100 : null;

function median(xs: (number | null)[]): number | null {
  const sorted = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[mid]!
    : Math.round(((sorted[mid - 1]! + sorted[mid]!) / 2) * 100) / 100;
}

/**
 * Runs the closed loop (`cfg`: users per edge, warm-up, window cut into `cfg.rounds` rounds) on one
 * server with a web port, the TCP users and the WebSocket users in turn.
 */
export async function runEdges(
  transport: Transport,
  cfg: ScenarioConfig,
  m: Machine,
  o: { cpuProf: string | null; genApi: GenApi },
  log: (line: string) => void,
  kind: TargetKind = "server",
): Promise<EdgesResult> {
  const rounds = Math.max(1, cfg.rounds ?? 1);
  const slice = Math.round(cfg.windowMs / rounds);
  const settle = cfg.settleMs ?? 500;
  const { child: target, port, webPort } = await startTarget(
    kind,
    transport,
    m,
    o,
    m.serverFlags,
    true,
  );
  const setups: Setup[] = [];
  try {
    await new Promise((r) => setTimeout(r, 300));
    const rssBase = (await rssKiB(target.pid)) ?? 0;
    const deadline = Math.ceil((cfg.warmupMs * 2 + cfg.windowMs * 2) / 1000) + 180;
    for (const edge of ["tcp", "websocket"] as const) {
      const s: Setup = {
        scenario: "closed",
        kind,
        transport,
        cfg,
        tag: `closed/${transport}/${kind} over ${edge === "tcp" ? "TCP" : "WebSocket"}`,
        target,
        gens: [],
        connected: { users: 0, failedUsers: 0, connectSec: 0 },
        rssBase,
        fdsBase: null,
        rssIdle: null,
        rssEnd: 0,
        stuck: 0,
      };
      setups.push(s);
      const genArgs = edge === "tcp" ? [] : ["--web", String(webPort), "--edge", "ws"];
      // The WebSocket users are named after the TCP ones (one namespace).
      const first = edge === "tcp" ? 0 : cfg.users;
      s.connected = await connectUsers(
        s.tag,
        cfg.users,
        port,
        m,
        o,
        deadline,
        s.gens,
        {
          timeoutMs: 15_000,
          maxFailures: 1_000_000,
        },
        genArgs,
        first,
      );
    }
    const [tcp, ws] = setups as [Setup, Setup];
    // Warm-up, the WebSocket edge's last, so that the first TCP window follows a WebSocket one
    // like every other.
    await loadWindow(tcp, cfg.warmupMs, 200, m);
    await loadWindow(ws, cfg.warmupMs, 200, m);
    log(`closed/${transport}: ${rounds} round(s) of ${slice} ms, TCP and WebSocket edges in turn`);
    let sum: { tcp: Window | null; ws: Window | null } = { tcp: null, ws: null };
    const perRound: (number | null)[] = [];
    for (let i = 0; i < rounds; i++) {
      const wt = await loadWindow(tcp, settle, slice, m);
      const ww = await loadWindow(ws, settle, slice, m);
      perRound.push(ratio(figures(ws, ww, m).cpuUsPerMsg, figures(tcp, wt, m).cpuUsPerMsg));
      sum = {
        tcp: sum.tcp ? addWindow(sum.tcp, wt) : wt,
        ws: sum.ws ? addWindow(sum.ws, ww) : ww,
      };
    }
    const t = { ...figures(tcp, sum.tcp!, m, log), edge: "tcp" as Edge };
    const w = { ...figures(ws, sum.ws!, m, log), edge: "websocket" as Edge };
    return {
      tcp: t,
      websocket: w,
      comparison: {
        scenario: "closed",
        transport,
        tcpCpuUsPerMsg: t.cpuUsPerMsg,
        websocketCpuUsPerMsg: w.cpuUsPerMsg,
        cpuRatio: ratio(w.cpuUsPerMsg, t.cpuUsPerMsg),
        rounds: perRound,
        roundsMedian: median(perRound),
      },
    };
  } finally {
    await Promise.all(setups.flatMap((s) =>
      s.gens.map(async (g) => {
        try {
          await g.request({ cmd: "quit" }, 10_000);
        } catch { /* stopped below anyway */ }
        await g.stop(null, 5000);
      })
    ));
    const status = await target.stop("SIGTERM", o.cpuProf ? 30_000 : 10_000);
    if (!status.success && status.signal !== "SIGTERM") {
      log(`closed/${transport} (both edges): the server exited with code ${status.code}`);
    }
  }
}
