/**
 * Fuzzing: random and mutated input through the decoder, and through a live server while two
 * well-behaved users keep chatting. Deterministic (seeded), bounded in count and time.
 */
import assert from "node:assert/strict";
import { type DecodeEvent, Decoder, encode } from "../src/protocol/mod.ts";
import { startServer } from "../src/server/server.ts";
import { bytesOf, delay, type TestUser, textOf, withWires } from "./wire.ts";

/** A small seeded PRNG (mulberry32), so every failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  "REGISTER TOSEND alice\n\n",
  "REGISTER TORECV bob\n\n",
  "SEND bob\nContent-length: 5\n\nhello",
  "SEND ALL\nContent-length: 3\n\nh\ni",
  "FORWARD alice\nContent-length: 4\n\n\n\n\n\n",
  "RECEIVED alice\n\n",
  "ERROR 103 Header Incomplete\n\n",
  "UNREGISTER alice\n\n",
  "SEND bob\r\nCONTENT-LENGTH: 2 \r\n \r\nok",
  "SEND bob\nContent-length: 999999999999\n\n",
  "SEND bob\nContent-length: -1\n\n",
  "SEND héllo\nContent-length: 6\n\nwörld",
  "FORWARD alice\nContent-length: 2\nX-Id: 7\nX-Sig: a:b\n\nhi",
  "SENT bob\r\nX-Note :  spaced \r\n\r\n",
  "REGISTER TOSEND eve\n\nREGISTER TORECV eve\n\n",
  "SEND server\nContent-length: 41\n\nEXTENSIONS who joins to reason unregister",
  "SEND server\nContent-length: 3\n\nwho",
  "RECEIVED server\n\n",
  "REGISTER TOSEND server\n\n",
];

/** One fuzz input: a seed message mutated, spliced with others, or plain garbage. */
function fuzzInput(rand: () => number): Uint8Array {
  const pick = <T>(xs: readonly T[]): T => {
    const x = xs[Math.floor(rand() * xs.length)];
    if (x === undefined) throw new Error("Cannot pick from an empty list");
    return x;
  };
  const kind = rand();
  if (kind < 0.1) {
    const junk = new Uint8Array(Math.floor(rand() * 300));
    for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rand() * 256);
    return junk;
  }
  let bytes = Array.from(bytesOf(SEEDS.map(() => pick(SEEDS)).slice(0, 1 + rand() * 4).join("")));
  const mutations = Math.floor(rand() * 6);
  for (let m = 0; m < mutations; m++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    const op = rand();
    if (op < 0.25) bytes[at] = Math.floor(rand() * 256); // flip a byte
    else if (op < 0.45) bytes.splice(at, Math.floor(rand() * 8)); // delete
    else if (op < 0.65) bytes.splice(at, 0, ...bytesOf(pick(["\n", "\r\n", " ", ":", "\n\n"])));
    else if (op < 0.8) bytes = bytes.slice(0, at); // truncate
    else if (op < 0.9) bytes.splice(at, 0, ...bytesOf(pick(SEEDS))); // splice a message in
    else bytes.splice(at, 0, ...new Array(Math.floor(rand() * 2000)).fill(65)); // long run
  }
  return new Uint8Array(bytes);
}

function checkEvent(e: DecodeEvent, maxBody: number): void {
  if (e.kind === "error") {
    assert.equal(typeof e.error.fatal, "boolean");
    return;
  }
  const m = e.message;
  if (m.type === "SEND" || m.type === "FORWARD") assert.ok(m.body.length <= maxBody);
  for (const v of Object.values(m)) {
    if (typeof v === "string") assert.ok(!v.includes("\n"), `newline inside ${JSON.stringify(m)}`);
  }
  if (m.headers !== undefined) {
    // Kept headers are never empty, and always encode to bytes that decode to the same message.
    assert.ok(m.headers.length > 0);
    assert.deepEqual(new Decoder({ maxBodyBytes: maxBody }).push(encode(m)), [e]);
  }
}

Deno.test("Decoder.feed survives 100,000 random and mutated inputs in random chunks", () => {
  const rand = prng(20261125);
  const maxBody = 128;
  let messages = 0;
  let errors = 0;
  for (let n = 0; n < 100_000; n++) {
    const decoder = new Decoder({ maxHeaderBytes: 256, maxBodyBytes: maxBody });
    const input = fuzzInput(rand);
    let dead = false;
    for (let i = 0; i < input.length;) {
      const size = 1 + Math.floor(rand() * 40);
      decoder.feed(input.subarray(i, i + size), (e) => {
        assert.ok(!dead, "an event after a fatal error");
        checkEvent(e, maxBody);
        if (e.kind === "error") {
          errors++;
          if (e.error.fatal) dead = true;
        } else {
          messages++;
        }
      });
      i += size;
    }
    assert.equal(decoder.dead, dead);
  }
  // The corpus exercises both sides.
  assert.ok(messages > 10_000 && errors > 10_000, `${messages} messages, ${errors} errors`);
});

Deno.test("startServer keeps two users chatting while hostile connections send fuzz", async () => {
  const server = await startServer({ hostname: "127.0.0.1", port: 0, rateLimit: 0 });
  const addr = { hostname: "127.0.0.1", port: server.port };
  try {
    await withWires(addr, async (w) => {
      const alice = await w.user("alice");
      const bob = await w.user("bob");
      // Bob hears of every hostile connection that comes online and leaves; alice asks why.
      await bob.tosend.send("SEND server\nContent-length: 27\n\nEXTENSIONS who joins to reason");
      await alice.tosend.send("SEND server\nContent-length: 17\n\nEXTENSIONS reason");
      assert.equal((await bob.tosend.next()).type, "SENT");
      assert.equal((await alice.tosend.next()).type, "SENT");
      const baseline = server.connectionCount();
      const total = 200;
      let stop = false;

      // Bob acknowledges everything he is sent and keeps what alice sent, in order.
      const fromAlice: string[] = [];
      const acker = async (user: TestUser, keep: string[] | null) => {
        while (!stop) {
          let m;
          try {
            m = await user.torecv.next(100);
          } catch {
            continue;
          }
          if (m.type !== "FORWARD") continue;
          if (keep && m.from === "alice") keep.push(textOf(m.body));
          await user.torecv.send(`RECEIVED ${m.from}\n\n`);
        }
      };
      const ackers = [acker(bob, fromAlice), acker(alice, null)];

      // Hostile connections: fuzz, then hang up abruptly, over and over.
      const rand = prng(7);
      const hostile = async () => {
        for (let round = 0; round < 15 && !stop; round++) {
          const conn = await Deno.connect(addr);
          try {
            for (let k = 0; k < 10; k++) {
              await conn.write(fuzzInput(rand));
              if (rand() < 0.3) await delay(1);
            }
          } catch { /* the server may close a hostile connection at any point */ }
          conn.close();
        }
      };
      const attackers = Array.from({ length: 8 }, hostile);

      // Alice sends numbered messages one at a time; each must be acknowledged as SENT.
      for (let i = 0; i < total; i++) {
        const body = `message ${i} ${"é".repeat(i % 7)}`;
        await alice.tosend.send(
          `SEND bob\nContent-length: ${bytesOf(body).length}\n\n${body}`,
        );
        assert.deepEqual(await alice.tosend.next(), { type: "SENT", to: "bob" }, `message ${i}`);
      }
      await Promise.all(attackers);
      stop = true;
      await Promise.all(ackers);

      assert.deepEqual(
        fromAlice,
        Array.from({ length: total }, (_, i) => `message ${i} ${"é".repeat(i % 7)}`),
      );
      // Every hostile connection is gone, and so is every half-registered user they left.
      for (let i = 0; i < 100 && server.connectionCount() !== baseline; i++) await delay(20);
      assert.equal(server.connectionCount(), baseline);
      assert.deepEqual(server.onlineUsers().sort(), ["alice", "bob"]);
    });
  } finally {
    await server.close({ drain: false });
  }
});

Deno.test("startServer's heap is back to its baseline after hostile traffic", async () => {
  // In a child process, where the heap can be collected on demand (see memory_probe.ts).
  const probe = new URL("./memory_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--expose-gc", "--allow-net", "--allow-read", probe],
    stdout: "piped",
    stderr: "piped",
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  const { baseline, after, connections } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(connections, 0);
  // Three rounds push ~15 MB of answers, bodies and garbage through it; what stays is code
  // and caches (under 1 MiB when measured), not messages.
  assert.ok(after - baseline < 4 * 1024 * 1024, `heap ${baseline} -> ${after} bytes`);
});
