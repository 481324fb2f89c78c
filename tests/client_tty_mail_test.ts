/**
 * Mail for offline users on a real terminal (tmux, 80x24) against a real `chat server`
 * process: one tick when a message is stored for someone offline, the time a message that
 * waited was sent, and two ticks, in place, once it is delivered. Ignored (and reported so)
 * when tmux is not installed. (In a file of its own: tests/client_tty_test.ts is near the
 * 600-line mark.)
 */
import assert from "node:assert/strict";
import { type ChatProcess, runChat, startChatServer } from "./spawn.ts";
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
      // Typed apart (lines that come together are one pasted message).
      await until(bob, (s) => s.some((l) => l.endsWith(" bob → alice: first")), "the first line");
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

Deno.test({
  name: "chat client on a terminal whose key is not the owner's explains the lost key and " +
    "asks for another name" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "chat-tty-other-config-" });
    const other = { XDG_CONFIG_HOME: home };
    let server: ChatProcess | undefined;
    const t = new ClientPane();
    try {
      // This user's key claims "alice" on a server that then goes away...
      const first = await startChatServer(["--memory"]);
      const port = first.port;
      const args = ["alice", "127.0.0.1", "--port", String(port)];
      const claim = await runChat(["client", ...args], { stdin: "", env: other });
      assert.equal(claim.code, 0, claim.stderr);
      first.server.kill("SIGTERM");
      await first.server.exit();
      // ...and a new server at the same address, where someone else's key claimed it.
      server = (await startChatServer(["--memory"], port)).server;
      const theirs = await runChat(["client", ...args], { stdin: "" });
      assert.equal(theirs.code, 0, theirs.stderr);

      await t.client(args, other);
      const asked = await t.waitUntil(
        (s) => s.at(-1) === "Enter username:" && s.length > 1,
        "the username question after the refusal",
      );
      const text = asked.join(" ").replace(/\s+/g, " ");
      assert.match(text, /"alice" belongs to another key on 127\.0\.0\.1:\d+/, text);
      assert.match(text, /chat identity export/, text);
      assert.match(text, /--identity FILE/, text);
      assert.match(text, /chat server release alice/, text);
      for (const line of asked) assert.ok([...line].length <= 80, line);
      await t.line("alicia");
      await t.waitUntil((s) => s.at(-1) === "alicia [1 online]>", "the chat as alicia");
      await t.press("C-c");
      await t.waitUntil((s) => s.includes("[exit 0]"), "the client to exit");
    } finally {
      await t.close();
      server?.kill("SIGTERM");
      await server?.exit();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
