/**
 * What the server stores survives SIGKILL: a writer process (store_crash_writer.ts) prints each
 * message's id once its promise resolved; it is killed mid-run several times, and after each
 * kill every printed id is found in the database with its body, in order, and SQLite's integrity
 * check is ok.
 */
import assert from "node:assert/strict";
import { SqliteData } from "../src/store/sqlite.ts";

const WRITER = new URL("./store_crash_writer.ts", import.meta.url).pathname;

/** Starts the writer on `dir`, waits until it printed `lines` ids, SIGKILLs it; returns them. */
async function runAndKill(dir: string, run: number, lines: number): Promise<Map<number, string>> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", `--allow-read=${dir}`, `--allow-write=${dir}`, WRITER, dir, String(run)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const printed = new Map<number, string>();
  let rest = "";
  let killed = false;
  const stderr = new Response(child.stderr).text();
  const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        const [id, body] = line.split(" ");
        if (body !== undefined) printed.set(Number(id), body);
      }
      if (!killed && printed.size >= lines) {
        child.kill("SIGKILL");
        killed = true;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", `the writer ended on its own: ${await stderr}`);
  await stderr;
  return printed;
}

Deno.test("SqliteData: every message acknowledged before a SIGKILL is there after it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-crash-test-" });
  try {
    const acknowledged = new Map<number, string>();
    let lastMax = 0;
    for (let run = 0; run < 4; run++) {
      const printed = await runAndKill(dir, run, 300 + run * 700);
      const ids = [...printed.keys()];
      assert.ok(ids.length >= 300, `run ${run}: ${ids.length} ids printed`);
      assert.ok(Math.min(...ids) > lastMax, `run ${run}: an id of an earlier run was reused`);
      lastMax = Math.max(...ids);
      for (const [id, body] of printed) acknowledged.set(id, body);

      const data = new SqliteData(`${dir}/chat.db`);
      try {
        assert.deepEqual(data.check(true), ["ok"]);
        const stored = data.mail("alice", 0, 1_000_000);
        const byId = new Map(stored.map((m) => [m.id, new TextDecoder().decode(m.body)]));
        for (const [id, body] of acknowledged) {
          assert.equal(byId.get(id), body, `run ${run}: acknowledged message ${id} lost`);
        }
        // In order: ids grow, and within a run so do the sequence numbers of the bodies.
        const seqs = stored.map((m) => new TextDecoder().decode(m.body).split("-").map(Number));
        for (let i = 1; i < stored.length; i++) {
          assert.ok(stored[i]!.id > stored[i - 1]!.id);
          const [a, b] = [seqs[i - 1]!, seqs[i]!];
          assert.ok(
            b[0]! > a[0]! || (b[0] === a[0] && b[1]! > a[1]!),
            `out of order: ${stored[i - 1]!.id} then ${stored[i]!.id}`,
          );
        }
        assert.deepEqual(data.size("alice").count, stored.length);
      } finally {
        await data.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
