/**
 * The writer that tests/store_crash_test.ts kills: opens the SqliteData in the directory given as
 * the first argument and stores messages for "alice" as fast as it can, in bursts of varying
 * size (one commit each), printing "ID BODY" for each once its promise resolved, that is once it
 * is on disk. Between bursts it also stores and settles messages of another mailbox, so that
 * deletes and receipts are in the same transactions. Runs until killed.
 *
 * @module
 */
import { SqliteData } from "../src/store/sqlite.ts";

const [dir, run] = Deno.args;
const data = new SqliteData(`${dir}/chat.db`);
const encoder = new TextEncoder();
const out = (line: string) => Deno.stdout.writeSync(encoder.encode(line + "\n"));
out("open");
let n = 0;
for (let burst = 0;; burst++) {
  const puts: Promise<void>[] = [];
  const size = 1 + (burst * 7) % 40;
  for (let i = 0; i < size; i++) {
    const body = `${run}-${n++}`;
    puts.push(
      data.put("bob", "alice", encoder.encode(body), Date.now()).then((m) => {
        out(`${m.id} ${body}`);
      }),
    );
  }
  const bin = data.mail("bin", 0, 1)[0];
  if (bin) puts.push(data.settle(bin, "delivered", Date.now(), true).then(() => {}));
  puts.push(data.put("carol", "bin", new Uint8Array(100), Date.now()).then(() => {}));
  await Promise.all(puts);
}
