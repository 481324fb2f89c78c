/**
 * The proof of issue 11: mail for an offline owner survives a SIGKILL of the server. Real
 * processes only: `chat server --data DIR`, and piped `chat client`s for the owner and the
 * senders (tests/spawn.ts). What is checked is what people see: each sender's standard output
 * says which messages were stored ("Message stored for …"), and the owner's standard output
 * shows the messages it got (`s1 (sent 2026-12-02 09:12): s1-17`).
 *
 * Answers come in the order messages were sent (PROTOCOL.md), so the n-th answer line of a
 * sender is the answer to its n-th message: the messages answered "stored" are the first ones.
 */
import assert from "node:assert/strict";
import { type ChatProcess, PipedClient, runChat, startChatServer } from "./spawn.ts";

/**
 * Room for the test's bursts: more than the default 1,000 messages per mailbox, no rate limit
 * in the way of senders that pipe their messages at once; `--quiet`: no line per message.
 */
const SERVER_FLAGS = [
  "--mail-max-messages",
  "100000",
  "--rate-limit",
  "1000000",
  "--rate-burst",
  "1000000",
  "--quiet",
];
const WAIT_MS = 30_000;

/** A message line on the owner's screen: `from: text` or `from (sent …): text`. */
const SHOWN = /^(\S+?)(?: \(sent [^)]*\))?: (\S+)-(\d+)$/;
/** A sender's answer line for one of its messages (a receipt is not one). */
const ANSWER = /^Message (stored for|successfully sent to|to) /;
const STORED = /^Message stored for /;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `body` with a data directory, removed afterwards. */
async function withDataDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-offline-kill-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Starts `chat server --data DIR` (at `port` to restart one), with room for many messages. */
function server(dir: string, port = 0): Promise<{ server: ChatProcess; port: number }> {
  return startChatServer(["--data", dir, ...SERVER_FLAGS], port);
}

/** `name` claims its name with one piped run (nothing typed), then leaves. */
async function claim(name: string, port: number): Promise<void> {
  const run = await runChat(["client", name, "127.0.0.1", "--port", String(port)], {
    stdin: "",
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`"${name}" now belongs to you on 127\\.0\\.0\\.1:${port}`));
}

/** The answer lines of a sender, in order; fails unless the "stored" ones come first. */
function storedCount(sender: PipedClient): number {
  const answers = sender.stdout.filter((l) => ANSWER.test(l));
  const stored = answers.filter((l) => STORED.test(l)).length;
  assert.ok(
    answers.slice(0, stored).every((l) => STORED.test(l)),
    `${sender.name}: a message was stored after one that was not:\n${answers.join("\n")}`,
  );
  return stored;
}

/** The numbers of the messages from `sender` the owner showed, in the order it showed them. */
function shownFrom(owner: PipedClient, sender: string): number[] {
  return owner.stdout.flatMap((line) => {
    const m = SHOWN.exec(line);
    return m !== null && m[1] === sender && m[2] === sender ? [Number(m[3])] : [];
  });
}

/** How many messages the owner has shown. */
function shown(owner: PipedClient): number {
  return owner.stdout.filter((l) => SHOWN.test(l)).length;
}

/** Waits until `test` holds, polling; fails with `what` after {@link WAIT_MS}. */
async function until(test: () => boolean, what: () => string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`Timed out: ${what()}`);
    await sleep(10);
  }
}

/**
 * Checks what the owner showed from `sender`: each message at most once, in the order sent;
 * every one of the first `stored` (answered "stored") among them; none it never sent.
 */
function checkDelivered(owner: PipedClient, sender: string, stored: number, written: number) {
  const numbers = shownFrom(owner, sender);
  for (let i = 1; i < numbers.length; i++) {
    assert.ok(
      numbers[i]! > numbers[i - 1]!,
      `${sender}-${numbers[i]} shown after ${sender}-${numbers[i - 1]} (twice or out of order)`,
    );
  }
  const got = new Set(numbers);
  const missing = Array.from({ length: stored }, (_, i) => i + 1).filter((n) => !got.has(n));
  assert.deepEqual(missing, [], `${sender}: messages answered "stored" but never shown`);
  assert.ok(numbers.every((n) => n <= written), `${sender}: shown a message it never sent`);
}

Deno.test({
  name: 'Mail answered "stored" survives a SIGKILL of the server while senders are storing: ' +
    "each shown to its owner exactly once, in order per sender",
  fn: async () => {
    await withDataDir(async (dir) => {
      let { server: first, port } = await server(dir);
      const senders: PipedClient[] = [];
      let owner: PipedClient | undefined;
      let restarted: ChatProcess | undefined;
      try {
        await claim("alice", port);
        for (const name of ["s1", "s2", "s3"]) senders.push(new PipedClient(name, port));
        await Promise.all(senders.map((s) => s.registered()));

        // Senders write numbered messages without pause until the server is killed.
        const written = new Map(senders.map((s) => [s.name, 0]));
        let killed = false;
        const writers = senders.map(async (s) => {
          while (!killed) {
            const from = written.get(s.name)! + 1;
            const lines = Array.from({ length: 10 }, (_, i) => `@alice ${s.name}-${from + i}`);
            written.set(s.name, from + 9);
            try {
              await s.type(...lines);
            } catch {
              return; // the sender ended
            }
            await sleep(2);
          }
        });
        const total = () => senders.reduce((n, s) => n + storedCount(s), 0);
        await until(
          () => total() >= 150 && senders.every((s) => storedCount(s) > 0),
          () => `150 messages stored (${total()})`,
        );
        first.kill("SIGKILL");
        killed = true;
        const status = await first.exit();
        assert.equal(status.signal, "SIGKILL");
        await Promise.all(writers);
        for (const s of senders) await s.exit(); // each ends: its server is gone

        const stored = new Map(senders.map((s) => [s.name, storedCount(s)]));
        // The kill came while messages were in flight: some were written and not answered.
        assert.ok(
          senders.some((s) => written.get(s.name)! > stored.get(s.name)!),
          "every message written was stored before the kill: the test proved nothing",
        );

        ({ server: restarted, port } = await server(dir, port));
        owner = new PipedClient("alice", port);
        await owner.registered();
        const want = [...stored.values()].reduce((a, b) => a + b, 0);
        await until(
          () => senders.every((s) => shownFrom(owner!, s.name).length >= stored.get(s.name)!),
          () => `the owner to show the ${want} stored messages (${shown(owner!)} shown)`,
        );
        await sleep(1000); // a duplicate would show by now
        if (Deno.env.get("CHAT_TEST_VERBOSE")) {
          console.log({
            written,
            stored,
            shown: senders.map((s) => shownFrom(owner!, s.name).length),
          });
        }
        for (const s of senders) {
          checkDelivered(owner, s.name, stored.get(s.name)!, written.get(s.name)!);
        }
        assert.equal(await owner.exit(), 0, owner.stderr.join("\n"));
      } finally {
        for (const s of senders) await s.dispose();
        await owner?.dispose();
        for (const p of [first, restarted]) {
          p?.kill("SIGKILL");
          await p?.exit();
        }
      }
    });
  },
});

Deno.test({
  name: "An owner receiving its mail when the server is SIGKILLed reconnects (--reconnect) and " +
    "sees every message once, in order per sender",
  fn: async () => {
    await withDataDir(async (dir) => {
      let { server: first, port } = await server(dir);
      let restarted: ChatProcess | undefined;
      let owner: PipedClient | undefined;
      const PER_SENDER = 1500;
      const names = ["t1", "t2"];
      try {
        await claim("olive", port);
        // Every message is stored before the owner comes: the senders' exit code says so.
        await Promise.all(names.map(async (name) => {
          const lines = Array.from({ length: PER_SENDER }, (_, i) => `@olive ${name}-${i + 1}`);
          // --wait 3s: the receipts would come only once olive is back; do not wait for them.
          const args = ["client", name, "127.0.0.1", "--port", String(port), "--wait", "3s"];
          const run = await runChat(args, {
            stdin: lines.join("\n") + "\n",
            timeoutMs: WAIT_MS,
          });
          assert.equal(run.code, 0, run.stderr);
          const stored = run.stdout.split("\n").filter((l) => STORED.test(l)).length;
          assert.equal(stored, PER_SENDER, `${name}: every message stored`);
        }));

        owner = new PipedClient("olive", port, ["--reconnect"]);
        await owner.registered();
        await until(() => shown(owner!) >= 200, () => `200 messages shown (${shown(owner!)})`);
        first.kill("SIGKILL");
        const atKill = shown(owner);
        await first.exit();
        assert.ok(
          atKill < names.length * PER_SENDER,
          "the owner had every message before the kill: the test proved nothing",
        );

        ({ server: restarted, port } = await server(dir, port));
        await until(
          () => names.every((n) => shownFrom(owner!, n).length >= PER_SENDER),
          () => `every message shown after the restart (${shown(owner!)} shown)`,
        );
        await sleep(1000); // a duplicate would show by now
        for (const name of names) {
          assert.deepEqual(
            shownFrom(owner, name),
            Array.from({ length: PER_SENDER }, (_, i) => i + 1),
            `${name}: every message once, in order`,
          );
        }
        assert.ok(
          owner.stderr.some((l) => /^Reconnected as olive/.test(l)),
          owner.stderr.join("\n"),
        );
      } finally {
        await owner?.dispose();
        for (const p of [first, restarted]) {
          p?.kill("SIGKILL");
          await p?.exit();
        }
      }
    });
  },
});
