/**
 * Mail for offline users on a real terminal (tmux, 80x24) against a real `chat server`
 * process: one tick when a message is stored for someone offline, the time a message that
 * waited was sent, and two ticks, in place, once it is delivered. Ignored (and reported so)
 * when tmux is not installed. (In a file of its own: tests/client_tty_test.ts is near the
 * 600-line mark.)
 */
import assert from "node:assert/strict";
import { type ChatProcess, startChatServer } from "./spawn.ts";
import { ClientPane, tmuxAvailable, untimed } from "./tmux.ts";

const hasTmux = tmuxAvailable();
const ignoreReason = hasTmux ? "" : " (IGNORED: tmux is not installed)";

/** Runs `body` with `chat server --data DIR` and two terminals, then stops them all. */
async function withServer(
  body: (port: number, alice: ClientPane, bob: ClientPane) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-tty-mail-" });
  let server: ChatProcess | undefined;
  const alice = new ClientPane();
  const bob = new ClientPane();
  try {
    const started = await startChatServer(["--data", dir]);
    server = started.server;
    await body(started.port, alice, bob);
  } finally {
    await alice.close();
    await bob.close();
    server?.kill("SIGTERM");
    await server?.exit();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The untimed screen once `test` holds for it. */
async function until(
  pane: ClientPane,
  test: (lines: string[]) => boolean,
  what: string,
): Promise<string[]> {
  return untimed(await pane.waitUntil((s) => test(untimed(s)), what));
}

Deno.test({
  name: "chat client on a terminal: messages to an owner who is offline get one tick, reach " +
    "her with the time they were sent when she is back, and turn two ticks in place" +
    ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    await withServer(async (port, alice, bob) => {
      const args = (name: string) => [name, "127.0.0.1", "--port", String(port)];
      const server = `127.0.0.1:${port}`;

      // alice claims her name, and leaves.
      await alice.client(args("alice"));
      const claimed = await until(
        alice,
        (s) => s.some((l) => l.startsWith(`"alice" now belongs to you on ${server}; your key`)),
        "alice's claim",
      );
      assert.ok(claimed.join("\n").includes("Keep it safe"), claimed.join("\n"));
      await alice.line("/quit");
      await alice.waitUntil((s) => s.includes("[exit 0]"), "alice to leave");
      await alice.close();

      // bob writes to her twice: stored, one tick each, and told once what it means.
      await bob.client(args("bob"));
      await bob.waitUntil((s) => s.at(-1) === "bob [1 online]>", "bob's prompt");
      await bob.line("@alice first");
      await bob.line("@alice second");
      const stored = await until(
        bob,
        (s) => s.includes("✓  bob → alice: first") && s.includes("✓  bob → alice: second"),
        "one tick on each",
      );
      const offline = "alice is offline: ✓ stored for them on the server, ✓✓ once delivered.";
      assert.equal(stored.filter((l) => l === offline).length, 1, stored.join("\n"));
      const firstRow = stored.indexOf("✓  bob → alice: first");
      const secondRow = stored.indexOf("✓  bob → alice: second");

      // alice comes back: both messages, in order, with the time they were sent.
      const back = new ClientPane();
      try {
        await back.client(args("alice"));
        const got = await until(
          back,
          (s) => s.filter((l) => /^bob \(sent \d\d:\d\d\): (first|second)$/.test(l)).length === 2,
          "the two messages that waited",
        );
        const waited = got.filter((l) => l.startsWith("bob (sent "));
        assert.match(waited[0]!, /: first$/, got.join("\n"));
        assert.match(waited[1]!, /: second$/, got.join("\n"));
        assert.ok(!got.some((l) => l.includes("now belongs to you")), "proven quietly");

        // bob's two lines turn two ticks where they are; no line says it again.
        const delivered = await until(
          bob,
          (s) =>
            s[firstRow] === "✓✓ bob → alice: first" && s[secondRow] === "✓✓ bob → alice: second",
          "two ticks in place",
        );
        assert.ok(!delivered.some((l) => l.includes("got your message")), delivered.join("\n"));
        for (const line of await bob.screen()) {
          assert.ok([...line].length <= 80, `wider than 80 columns: ${line}`);
        }
        await back.line("/quit");
        await back.waitUntil((s) => s.includes("[exit 0]"), "alice to leave again");
      } finally {
        await back.close();
      }
    });
  },
});
