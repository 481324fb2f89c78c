/**
 * Summarises V8 CPU profiles (`deno run --cpu-prof`): the functions with the most self time,
 * and self time by source file, so a profile of the server under load can be read at a glance.
 *
 * Usage: `deno run --allow-read bench/profile.ts [--top N] FILE.cpuprofile...`
 *
 * @module
 */
import { parseArgs } from "node:util";

/** A node of a `.cpuprofile` call tree. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/** The parts of a `.cpuprofile` this summary needs. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One line of the summary. */
export interface HotSpot {
  /** `function (file:line)`. */
  name: string;
  /** Self time, ms. */
  selfMs: number;
  /** Share of the sampled time that was not idle, %. */
  pct: number;
  /** Time with this function anywhere on the stack, ms (counted once per sample). */
  totalMs: number;
}

function shortUrl(url: string): string {
  if (url === "") return "";
  const m = /\/work\/main\/(.*)$/.exec(url) ?? /([^/]+\/[^/]+)$/.exec(url);
  return m?.[1] ?? url;
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const fn = f.functionName || "(anonymous)";
  const where = shortUrl(f.url);
  return where ? `${fn} (${where}:${f.lineNumber + 1})` : fn;
}

/** Self and inclusive time per function, and self time per file, busiest first. */
export function summarise(p: CpuProfile): {
  busyMs: number;
  idleMs: number;
  functions: HotSpot[];
  files: { file: string; selfMs: number; pct: number }[];
} {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000; // the delta after a sample is its duration
    const node = byId.get(p.samples[i]!);
    if (!node) continue;
    const name = label(node);
    if (node.callFrame.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    busy += dt;
    self.set(name, (self.get(name) ?? 0) + dt);
    const file = shortUrl(node.callFrame.url) || node.callFrame.functionName || "?";
    files.set(file, (files.get(file) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      const l = label(n);
      if (l === "(root)" || seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + dt);
    }
  }
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const functions = [...self].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({
    name,
    selfMs: r1(ms),
    pct: r1((ms / busy) * 100),
    totalMs: r1(total.get(name) ?? ms),
  }));
  return {
    busyMs: r1(busy),
    idleMs: r1(idle),
    functions,
    files: [...files].sort((a, b) => b[1] - a[1]).map(([file, ms]) => ({
      file,
      selfMs: r1(ms),
      pct: r1((ms / busy) * 100),
    })),
  };
}

/** Renders a summary as text. */
export function render(path: string, p: CpuProfile, top: number): string {
  const s = summarise(p);
  const lines = [
    `${path}: ${s.busyMs} ms busy, ${s.idleMs} ms idle`,
    "",
    "  self ms   self %   total ms  function",
  ];
  for (const f of s.functions.slice(0, top)) {
    lines.push(
      `${f.selfMs.toFixed(1).padStart(9)}  ${f.pct.toFixed(1).padStart(6)}%  ${
        f.totalMs.toFixed(1).padStart(9)
      }  ${f.name}`,
    );
  }
  lines.push("", "  self ms   self %  file");
  for (const f of s.files.slice(0, Math.min(top, 15))) {
    lines.push(`${f.selfMs.toFixed(1).padStart(9)}  ${f.pct.toFixed(1).padStart(6)}%  ${f.file}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { top: { type: "string", default: "25" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help || positionals.length === 0) {
    console.log("Usage: deno run --allow-read bench/profile.ts [--top N] FILE.cpuprofile...");
    Deno.exit(values.help ? 0 : 2);
  }
  for (const path of positionals) {
    const p = JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
    console.log(render(path, p, Number(values.top)));
    console.log();
  }
}
