/**
 * Paired runs of the server and the relay, for the scenarios whose figures are compared as a
 * ratio (`closed`: CPU per message; `open`: p99). Both targets are started and connected side by
 * side (each with its own generators, on the same cores as in a run alone), and the load goes to
 * one at a time in short windows, server and relay in turn. The idle target costs nothing
 * meanwhile (no load, no timers but the server's 1 s sweep).
 *
 * Why: the machine is shared. Run one after the other, the server and the relay met different
 * background load, and a single 8 s window's p99 moved with whatever else ran in it: on one
 * afternoon the same code gave open-loop p99 ratios of 3.43 and 0.10 in two runs a minute apart.
 * Interleaved, both targets see the same mix of quiet and busy moments, and the ratio of each
 * round (reported too) shows how far a ratio can be trusted.
 *
 * Strictly in turn (server, relay, server, relay, ...), so that every window follows one of the
 * other target, as the warm-up's last does: in the order server, relay, relay, server, ... a
 * window that followed one of the same target cost about 30 % less CPU per message than one
 * that followed the other's (closed loop, ratios of 0.91 and 1.22 in alternate rounds), and
 * the two targets did not get as many of each.
 *
 * @module
 */
import {
  addWindow,
  figures,
  loadWindow,
  type Machine,
  type RunResult,
  type ScenarioConfig,
  type ScenarioName,
  type Setup,
  setUp,
  tearDown,
  type Transport,
  type Window,
} from "./main.ts";
import type { GenApi } from "./gen.ts";

/** Server ÷ relay in one round of a paired run. */
export interface RoundRatio {
  /** CPU per message, server ÷ relay. */
  cpuUsPerMsg: number | null;
  /** p99 latency, server ÷ relay. */
  p99: number | null;
}

/** What {@link runPaired} returns: both targets' figures over all rounds, and each round's ratio. */
export interface PairedResult {
  server: RunResult;
  relay: RunResult;
  rounds: RoundRatio[];
}

const ratio = (a: number, b: number) => b > 0 ? Math.round((a / b) * 100) / 100 : null;

/**
 * Runs `scenario` against the server and the relay in alternating windows: a warm-up of
 * `cfg.warmupMs` each, then `cfg.rounds` rounds of `cfg.windowMs / cfg.rounds` each, every window
 * after `cfg.settleMs` of load. The figures add up every window of a target.
 */
export async function runPaired(
  scenario: ScenarioName,
  transport: Transport,
  cfg: ScenarioConfig,
  m: Machine,
  o: { cpuProf: string | null; genApi: GenApi },
  log: (line: string) => void,
): Promise<PairedResult> {
  const rounds = Math.max(1, cfg.rounds ?? 1);
  const slice = Math.round(cfg.windowMs / rounds);
  const settle = cfg.settleMs ?? 500;
  const server = await setUp(scenario, "server", transport, cfg, m, o);
  let relay: Setup | null = null;
  try {
    relay = await setUp(scenario, "relay", transport, cfg, m, o);
    // Warm-up (JIT, socket buffers): measured windows are thrown away. The relay's last, so
    // that the first round's server window follows a relay window like every other.
    await loadWindow(server, cfg.warmupMs, 200, m);
    await loadWindow(relay, cfg.warmupMs, 200, m);
    let sum: { server: Window | null; relay: Window | null } = { server: null, relay: null };
    const perRound: RoundRatio[] = [];
    log(`${scenario}/${transport}: ${rounds} round(s) of ${slice} ms, server and relay in turn`);
    for (let i = 0; i < rounds; i++) {
      const ws = await loadWindow(server, settle, slice, m);
      const wr = await loadWindow(relay, settle, slice, m);
      const fs = figures(server, ws, m), fr = figures(relay, wr, m);
      perRound.push({
        cpuUsPerMsg: ratio(fs.cpuUsPerMsg, fr.cpuUsPerMsg),
        p99: ratio(fs.latencyMs.p99, fr.latencyMs.p99),
      });
      sum = {
        server: sum.server ? addWindow(sum.server, ws) : ws,
        relay: sum.relay ? addWindow(sum.relay, wr) : wr,
      };
    }
    return {
      server: figures(server, sum.server!, m, log),
      relay: figures(relay, sum.relay!, m, log),
      rounds: perRound,
    };
  } finally {
    await Promise.all([tearDown(server, o), relay ? tearDown(relay, o) : undefined]);
  }
}
