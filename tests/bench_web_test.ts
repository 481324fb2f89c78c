/**
 * Smoke tests of the bench over the WebSocket edge: the load generator speaks the protocol in
 * WebSocket frames (against the relay's `--web`, which needs nothing of the server), and
 * `bench/main.ts --quick` measures the closed loop over both edges of the real server. Correctness
 * only (every message answered, none refused, no connection lost), never speed: the machines are
 * shared and noisy.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runBench } from "./bench_run.ts";
import type { ConnectReply, EdgeCounts, GenReport } from "../bench/gen.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const env = { RUST_BACKTRACE: "0", NO_COLOR: "1" };

/** Reads lines from a child's stdout. */
class Lines {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(
      new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>,
    ).getReader();
  }
  async next(): Promise<string> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl !== -1) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error(`output ended; last: ${JSON.stringify(this.#buffer)}`);
      this.#buffer += value;
    }
  }
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

Deno.test("bench generator speaks the protocol over WebSocket, every message crossing the edges", async () => {
  const relay = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "bench/relay.ts", "--transport", "node", "--web", "0"],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const relayOut = new Lines(relay.stdout);
  let gen: Deno.ChildProcess | null = null;
  try {
    const tcpLine = await relayOut.next();
    const webLine = await relayOut.next();
    const port = /listening on .*:(\d+)$/.exec(tcpLine)?.[1];
    const web = /^Web client listening on .*:(\d+) \(open http:/.exec(webLine)?.[1];
    assert.ok(port && web, `relay printed ${tcpLine} / ${webLine}`);
    gen = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "bench/gen.ts",
        "--port",
        port,
        "--web",
        web,
        "--edge",
        "mixed",
        "--deadline",
        "60",
      ],
      cwd: ROOT,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const writer = gen.stdin.getWriter();
    const genOut = new Lines(gen.stdout);
    const ask = async <T>(command: unknown): Promise<T> => {
      await writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
      return JSON.parse(await genOut.next()) as T;
    };
    const connected = await ask<ConnectReply>({
      cmd: "connect",
      first: 0,
      count: 10,
      concurrency: 10,
      timeoutMs: 10_000,
      maxFailures: 3,
    });
    assert.equal(connected.connected, 10);
    await ask({ cmd: "mark" });
    await ask({ cmd: "open", rate: 400, verify: true });
    await new Promise((r) => setTimeout(r, 700));
    const idle = await ask<{ outstanding: number }>({ cmd: "idle", timeoutMs: 10_000 });
    assert.equal(idle.outstanding, 0, "every message answered");
    const report = await ask<GenReport>({ cmd: "report" });
    assert.ok(report.acked > 0);
    assert.equal(report.errors, 0);
    assert.ok(report.verify !== null);
    assert.equal(report.verify.verified, report.acked, "every acknowledged message arrived");
    assert.equal(report.verify.lostAcked, 0);
    assert.equal(report.verify.wrongSender + report.verify.misdelivered, 0);
    assert.equal(report.verify.outOfOrder, 0);
    const byEdge = report.byEdge;
    assert.ok(byEdge !== null);
    for (const edge of ["tcp", "ws"] as const) {
      const counts: EdgeCounts = byEdge[edge];
      assert.equal(counts.users, 5, `${edge} users`);
      assert.ok(counts.acked > 0 && counts.deliveries > 0, `${edge}: ${JSON.stringify(counts)}`);
      assert.equal(counts.lostConns, 0);
    }
    await ask({ cmd: "quit" });
    await writer.close().catch(() => {});
    await genOut.cancel();
    assert.equal((await gen.status).code, 0);
    gen = null;
  } finally {
    if (gen !== null) {
      gen.kill("SIGKILL");
      await gen.status;
      await gen.stdout.cancel().catch(() => {});
      await gen.stdin.close().catch(() => {});
    }
    relay.kill("SIGTERM");
    await relay.status;
    await relayOut.cancel();
  }
});

Deno.test("bench --quick measures the closed loop over the WebSocket edge beside the TCP edge", async () => {
  const { res, stderr } = await runBench([
    "--quick",
    "--scenario",
    "closed",
    "--transport",
    "node",
    "--no-relay",
  ]);
  assert.equal(res.edges?.length, 1, `no WebSocket edge figures:\n${stderr}`);
  const [edges] = res.edges!;
  assert.equal(edges!.transport, "node");
  for (const edge of ["tcp", "websocket"] as const) {
    const run = res.runs.find((r) => r.edge === edge);
    assert.ok(run, `no closed-loop run over ${edge}`);
    assert.equal(run.target, "server");
    assert.equal(run.users, 100, `${edge}: every user connected and registered`);
    assert.equal(run.failedUsers, 0);
    assert.ok(run.acked > 0, `${edge}: messages answered`);
    assert.equal(run.errors, 0, `${edge}: no SEND refused`);
    assert.equal(run.lostConns, 0, `${edge}: no connection closed by the server`);
    assert.ok(run.cpuUsPerMsg > 0, `${edge}: CPU per message measured`);
    assert.ok(run.fairness !== null && run.fairness > 0, `${edge}: every user was served`);
  }
  assert.ok(edges!.cpuRatio !== null && edges!.cpuRatio > 0);
  assert.equal(edges!.rounds.length, 2);
  assert.doesNotMatch(stderr, /still unanswered/);
  assert.match(stderr, /WebSocket edge beside TCP edge/);
});

Deno.test("bench soak --quick keeps every message of TCP and WebSocket users beside WebSocket attackers", async () => {
  const { res } = await runBench(["--quick", "--scenario", "soak", "--soak-seconds", "4"]);
  const [soak] = res.soak ?? [];
  assert.ok(soak, "no soak result");
  assert.equal(soak.web, true, "the soak ran with a web port");
  assert.ok(soak.survived, `the server did not survive: ${soak.exit}`);
  assert.deepEqual(soak.phases.map((p) => p.phase), ["baseline", "hostile", "after"]);
  for (const p of soak.phases) {
    assert.ok(p.verify !== null, `${p.phase}: verified`);
    assert.equal(p.verify.lostAcked, 0, `${p.phase}: no acknowledged message lost`);
    assert.equal(p.verify.wrongSender + p.verify.misdelivered + p.verify.outOfOrder, 0);
    const byEdge = p.byEdge;
    assert.ok(byEdge !== null, `${p.phase}: counts by edge`);
    for (const edge of ["tcp", "ws"] as const) {
      const counts: EdgeCounts = byEdge[edge];
      assert.equal(counts.users, 50, `${p.phase}/${edge} users`);
      assert.ok(counts.acked > 0 && counts.deliveries > 0, `${p.phase}/${edge} delivered`);
      assert.equal(counts.lostAcked, 0, `${p.phase}/${edge} lost`);
      assert.equal(counts.lostConns, 0, `${p.phase}/${edge}: no normal connection closed`);
    }
  }
  assert.equal(soak.unanswered, 0, "every normal message answered once the load stopped");
  const hostile = soak.hostile!;
  for (const kind of ["wsgarbage", "wshuge", "wsflood", "wsnonreader"]) {
    assert.ok((hostile[kind]?.opened ?? 0) > 0, `${kind} connected`);
    assert.equal(hostile[kind]?.takeovers, 0);
  }
  const refused = Object.entries(hostile["wsgarbage"]!.got)
    .filter(([k]) => /^HTTP 4/.test(k) || /^WS close 1002$/.test(k));
  assert.ok(refused.length > 0, "bad upgrades refused and bad frames closed with 1002");
});
