/**
 * Run by fuzz_test.ts as `deno run --v8-flags=--expose-gc`: starts a server in this process,
 * measures the heap after a full collection, puts it through hostile rounds (garbage, a huge
 * Content-length, a sender that never reads, a recipient that never acknowledges big
 * messages, and two users chatting throughout), lets every connection go, and prints
 * `{"baseline": bytes, "after": bytes}` on stdout.
 *
 * @module
 */
import { startServer } from "../src/server/server.ts";

const gc = (globalThis as unknown as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
const heap = () => {
  for (let i = 0; i < 4; i++) gc();
  return Deno.memoryUsage().heapUsed;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const encoder = new TextEncoder();

const server = await startServer({ hostname: "127.0.0.1", port: 0, ackTimeoutMs: 500 });
const addr = { hostname: "127.0.0.1", port: server.port };

async function user(name: string): Promise<[Deno.Conn, Deno.Conn]> {
  const conns: [Deno.Conn, Deno.Conn] = [await Deno.connect(addr), await Deno.connect(addr)];
  await conns[0].write(encoder.encode(`REGISTER TOSEND ${name}\n\n`));
  await conns[1].write(encoder.encode(`REGISTER TORECV ${name}\n\n`));
  const buf = new Uint8Array(64);
  for (const c of conns) await c.read(buf);
  return conns;
}

async function writeAll(c: Deno.Conn, bytes: Uint8Array, times: number): Promise<void> {
  try {
    for (let k = 0; k < times; k++) {
      for (let off = 0; off < bytes.length;) off += await c.write(bytes.subarray(off));
    }
  } catch { /* the server cut it */ }
}

const baseline = heap();
let seed = 1;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
for (let round = 0; round < 3; round++) {
  const [flood, floodRecv] = await user(`flood${round}`);
  const deaf = await user(`deaf${round}`);
  const alice = await user(`alice${round}`);
  const bob = await user(`bob${round}`);
  const conns = [flood, floodRecv, ...deaf, ...alice, ...bob];
  const work = [
    writeAll(flood, encoder.encode("SEND nobody\nContent-length: 1\n\nx".repeat(2000)), 50),
    writeAll(
      alice[0],
      encoder.encode(`SEND deaf${round}\nContent-length: 60000\n\n${"z".repeat(60000)}`),
      20,
    ),
  ];
  for (let k = 0; k < 30; k++) {
    const junk = await Deno.connect(addr);
    conns.push(junk);
    const bytes = new Uint8Array(2000).map(() => Math.floor(rand() * 256));
    work.push(writeAll(junk, bytes, 1));
    work.push(writeAll(junk, encoder.encode("SEND x\nContent-length: 99999999999\n\n"), 1));
  }
  // bob chats with alice meanwhile: one message at a time, each acknowledged.
  const buf = new Uint8Array(64 * 1024);
  for (let i = 0; i < 20; i++) {
    await bob[0].write(encoder.encode(`SEND alice${round}\nContent-length: 2\n\nhi`));
    await alice[1].read(buf);
    await alice[1].write(encoder.encode(`RECEIVED bob${round}\n\n`));
    await bob[0].read(buf);
  }
  await Promise.all(work);
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed already */ }
  }
  for (let i = 0; i < 250 && server.connectionCount() > 0; i++) await sleep(20);
}
await sleep(100);
const after = heap();
const connections = server.connectionCount();
await server.close({ drain: false });
console.log(JSON.stringify({ baseline, after, connections }));
