/**
 * Mail for offline users over real sockets (PROTOCOL.md, "Mail for offline users"): stored
 * while its owner is away, delivered in order when the owner is back, with receipts; and kept
 * in the SQLite data across a restart of the server on the same directory.
 *
 * @module
 */
import assert from "node:assert/strict";
import { withServer } from "./harness.ts";
import { claim, comeBack, negotiate, newKey, nextText, send, type TestKey } from "./owned_wire.ts";
import { startServer } from "../src/server/server.ts";
import { openServerData } from "../src/store/open.ts";
import { concat, QUIET_MS, textOf, withWires } from "./wire.ts";
import { runChat, startChatServer } from "./spawn.ts";

Deno.test("server: mail to an offline owner is stored, delivered in order, and receipted", async () => {
  await withServer({}, async (_server, w) => {
    const key = await newKey();
    await (await claim(w, "alice", key)).close();
    const bob = await w.user("bob");
    await negotiate(bob, "mail");
    const base = await w.user("base");
    for (const body of ["one", "two", "three"]) await bob.tosend.send(send("alice", body));
    for (const id of [1, 2, 3]) {
      assert.equal(await nextText(bob.tosend), `SENT alice\nMail: ${id}\n\n`);
    }
    // A base sender gets the base answer, and nothing is stored.
    await base.tosend.send(send("alice", "x"));
    assert.equal(await nextText(base.tosend), "ERROR 102 Unable to send\n\n");
    const alice = await comeBack(w, "alice", key);
    for (const [id, body] of [[1, "one"], [2, "two"], [3, "three"]] as const) {
      const text = await nextText(alice.torecv);
      assert.match(
        text,
        new RegExp(
          `^FORWARD bob\\nContent-length: \\d\\nMail: ${id}\\nSent-at: 20\\d\\d-.*Z\\n\\n${body}$`,
        ),
      );
      await alice.torecv.send("RECEIVED bob\n\n");
      assert.match(
        await nextText(bob.torecv),
        new RegExp(`^FORWARD server\\nContent-length: 5\\nEvent: delivered\\nMail: ${id}\\n`),
      );
      await bob.torecv.send("RECEIVED server\n\n");
    }
    assert.equal(base.tosend.canonicalProblem, undefined);
  });
});

/** Bob (who owns his name) stores `bodies` for alice, who is away, on a server using `dir`. */
async function storeFor(dir: string, alice: TestKey, bobKey: TestKey, bodies: string[]) {
  const data = await openServerData({ data: dir, env: () => undefined });
  const server = await startServer({ hostname: "127.0.0.1", port: 0, data });
  try {
    await withWires({ hostname: "127.0.0.1", port: server.port }, async (w) => {
      await (await claim(w, "alice", alice)).close();
      const bob = await claim(w, "bob", bobKey);
      for (const body of bodies) await bob.tosend.send(send("alice", body));
      for (const body of bodies) {
        assert.match(await nextText(bob.tosend), /^SENT alice\nMail: \d+\n\n$/, body);
      }
    });
  } finally {
    await server.close();
    await data.close();
  }
}

Deno.test("server: stored mail and receipts survive a restart on the same data directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-mail-restart-" });
  try {
    const aliceKey = await newKey();
    const bobKey = await newKey();
    await storeFor(dir, aliceKey, bobKey, ["first", "second"]);
    // A new server, a new process's worth of state: only the directory is the same.
    const data = await openServerData({ data: dir, env: () => undefined });
    assert.deepEqual(data.summary(), { owners: 2, mail: 2, receipts: 0 });
    const server = await startServer({ hostname: "127.0.0.1", port: 0, data });
    try {
      await withWires({ hostname: "127.0.0.1", port: server.port }, async (w) => {
        const alice = await comeBack(w, "alice", aliceKey);
        for (const body of ["first", "second"]) {
          assert.match(
            await nextText(alice.torecv),
            new RegExp(`\\nMail: \\d+\\n.*\\n\\n${body}$`, "s"),
          );
          await alice.torecv.send("RECEIVED bob\n\n");
        }
        await alice.torecv.expectNothing();
        // Bob was away: his receipts waited, and come once he is back and has negotiated.
        const bob = await comeBack(w, "bob", bobKey);
        for (let i = 0; i < 2; i++) {
          assert.match(await nextText(bob.torecv), /^FORWARD server\n.*Event: delivered\n/s);
          await bob.torecv.send("RECEIVED server\n\n");
        }
        await bob.torecv.expectNothing();
      });
    } finally {
      await server.close();
      await data.close();
    }
    const after = await openServerData({ data: dir, env: () => undefined });
    assert.deepEqual(after.summary(), { owners: 2, mail: 0, receipts: 0 });
    await after.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("chat server says where its data is, and stops with one sentence when it cannot open it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-data-" });
  try {
    for (
      const [args, line] of [
        [["--data", dir], `Data: ${dir}/chat.db (0 names owned, 0 messages waiting)`],
        [["--memory"], "Data: in memory (--memory): names and waiting mail are forgotten when"],
      ] as const
    ) {
      const { server } = await startChatServer([...args]);
      try {
        const seen = await server.waitFor(/Data: /);
        assert.ok(seen.includes(line), seen);
      } finally {
        server.kill("SIGTERM");
        assert.equal((await server.exit()).code, 0);
      }
    }
    // A file where the directory should be: one sentence, exit 1, never started.
    await Deno.writeTextFile(`${dir}/file`, "");
    const r = await runChat(["server", "--port", "0", "--data", `${dir}/file`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    const usage = await runChat(["server", "--memory", "--data", dir]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^Give --data DIR or --memory, not both/);
    const age = await runChat(["server", "--mail-max-age", "400d"]);
    assert.equal(age.code, 2);
    assert.match(
      age.stderr,
      /^Invalid --mail-max-age "400d": use a duration from 1 ms to 365 days/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("chat server killed with SIGKILL while storing: every message answered stored is delivered once, in order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-mail-kill-" });
  const aliceKey = await newKey();
  // Fewer than the 256 messages a connection may have awaiting answers (maxPendingSends): all
  // sent at once, those past it were refused with ERROR 102 whenever the disk was slow to store.
  const bodies = Array.from({ length: 250 }, (_, i) => `m${i}`);
  const answered = new Map<number, string>(); // mail id → body
  try {
    const first = await startChatServer(["--data", dir, "--rate-limit", "0"]);
    try {
      await withWires({ hostname: "127.0.0.1", port: first.port }, async (w) => {
        await (await claim(w, "alice", aliceKey)).close();
        const bob = await w.user("bob");
        await negotiate(bob, "mail");
        await bob.tosend.send(concat(...bodies.map((b) => send("alice", b))));
        for (let i = 0; i < bodies.length; i++) {
          let answer: string;
          try {
            answer = await nextText(bob.tosend);
          } catch {
            break; // the server is gone
          }
          const id = /^SENT alice\nMail: (\d+)\n\n$/.exec(answer)?.[1];
          assert.ok(id, answer);
          answered.set(Number(id), bodies[i]!);
          if (answered.size === 50) first.server.kill("SIGKILL");
        }
      });
    } finally {
      first.server.kill("SIGKILL");
      await first.server.exit();
    }
    assert.ok(answered.size >= 50, `${answered.size} answered`);
    const second = await startChatServer(["--data", dir]);
    try {
      await withWires({ hostname: "127.0.0.1", port: second.port }, async (w) => {
        const alice = await comeBack(w, "alice", aliceKey);
        const seen = new Map<number, string>();
        let last = -1;
        for (;;) {
          let m;
          try {
            m = await alice.torecv.next(QUIET_MS * 4);
          } catch {
            break; // nothing more
          }
          assert.ok(m.type === "FORWARD", JSON.stringify(m));
          const id = Number(m.headers?.find(([k]) => k === "Mail")?.[1]);
          const body = textOf(m.body);
          const index = Number(body.slice(1));
          if (seen.has(id)) {
            assert.equal(seen.get(id), body, "a duplicate has the same id and body");
          } else {
            assert.ok(index > last, `${body} after m${last}: in order`);
            last = index;
            seen.set(id, body);
          }
          await alice.torecv.send("RECEIVED bob\n\n");
        }
        for (const [id, body] of answered) assert.equal(seen.get(id), body, `mail ${id}`);
        assert.equal(new Set(seen.values()).size, seen.size, "each message once");
      });
    } finally {
      second.server.kill("SIGTERM");
      await second.server.exit();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server: a base client sees the base protocol byte for byte beside owned names and stored mail", async () => {
  await withServer({}, async (_server, w) => {
    const key = await newKey();
    await (await claim(w, "alice", key)).close();
    const base = await w.user("base");
    const bob = await w.user("bob");
    await negotiate(bob, "mail reason");
    await bob.tosend.send(send("alice", "stored"));
    assert.equal(await nextText(bob.tosend), "SENT alice\nMail: 1\n\n");
    await base.tosend.send(send("alice", "x"));
    assert.equal(await nextText(base.tosend), "ERROR 102 Unable to send\n\n");
    const alice = await comeBack(w, "alice", key);
    assert.match(await nextText(alice.torecv), /\n\nstored$/);
    await alice.torecv.send("RECEIVED bob\n\n");
    await base.tosend.send(send("alice", "now"));
    assert.equal(await nextText(alice.torecv), "FORWARD base\nContent-length: 3\n\nnow");
    await alice.torecv.send("RECEIVED base\n\n");
    assert.equal(await nextText(base.tosend), "SENT alice\n\n");
    await alice.tosend.send(send("base", "hi base"));
    assert.equal(await nextText(base.torecv), "FORWARD alice\nContent-length: 7\n\nhi base");
    await base.torecv.send("RECEIVED alice\n\n");
    assert.equal(await nextText(alice.tosend), "SENT base\n\n");
    const other = await w.connect();
    await other.send("REGISTER TORECV Alice\n\n");
    assert.equal(await nextText(other), "ERROR 104 Username taken\n\n");
    await base.torecv.expectNothing();
    assert.equal(
      base.tosend.received.map((b) => textOf(b)).join(""),
      "REGISTERED TOSEND base\n\nERROR 102 Unable to send\n\nSENT alice\n\n",
    );
    assert.equal(
      base.torecv.received.map((b) => textOf(b)).join(""),
      "REGISTERED TORECV base\n\nFORWARD alice\nContent-length: 7\n\nhi base",
    );
    assert.equal(base.tosend.canonicalProblem, undefined);
    assert.equal(base.torecv.canonicalProblem, undefined);
  });
});
