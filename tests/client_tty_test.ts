/**
 * Tests of `chat client` on a real terminal: the client runs inside tmux, keys are typed with
 * `send-keys` and the screen is read with `capture-pane`. Ignored (and reported so) when tmux
 * is not installed.
 */
import assert from "node:assert/strict";
import { chatCommand } from "./cli_cmd.ts";
import { type TestUser, withWires } from "./wire.ts";
import { startServer } from "../src/server/server.ts";
import { startChatServer } from "./spawn.ts";

const WAIT_MS = 10_000;

function tmuxAvailable(): boolean {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const hasTmux = tmuxAvailable();
const ignoreReason = hasTmux ? "" : " (IGNORED: tmux is not installed)";

/** Quotes a word for the POSIX shell that tmux runs the command with. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** One tmux server on its own socket, running one client in an 80x24 pane. */
class Terminal {
  readonly socket = `chat-client-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

  async tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`tmux ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return text;
  }

  /** Starts `chat client ARGS` in the pane; its exit code is shown after it as `[exit N]`. */
  async start(args: string[], env: Record<string, string> = {}): Promise<void> {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const command = [...chatCommand(), "client", ...args].map(shellQuote);
    const line = `env ${[...vars, ...command].join(" ")}; echo "[exit $?]"; sleep 60`;
    const cwd = Deno.cwd(); // so that a relative CHAT_CMD (./chat) resolves as in the other tests
    await this.tmux("new-session", "-d", "-s", "chat", "-x", "80", "-y", "24", "-c", cwd, line);
  }

  /** Types literal text (no Enter). */
  async type(text: string): Promise<void> {
    await this.tmux("send-keys", "-t", "chat", "-l", text);
  }

  /** Presses keys by tmux name: Enter, Tab, Up, C-c, C-d... */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) await this.tmux("send-keys", "-t", "chat", key);
  }

  /** The screen, wrapped lines joined (`-J`), trailing blank lines dropped. */
  async screen(escapes = false): Promise<string[]> {
    const args = ["capture-pane", "-p", "-J", "-t", "chat"];
    if (escapes) args.push("-e");
    const text = await this.tmux(...args);
    const lines = text.split("\n").map((l) => l.trimEnd());
    while (lines.length > 0 && lines.at(-1) === "") lines.pop();
    return lines;
  }

  /** Waits until the screen satisfies `test`; returns that screen. */
  async waitFor(test: (lines: string[]) => boolean, what: string): Promise<string[]> {
    const deadline = Date.now() + WAIT_MS;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = await this.screen();
      if (test(lines)) return lines;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Timed out waiting for ${what}. Screen:\n${lines.join("\n")}`);
  }

  async close(): Promise<void> {
    try {
      await this.tmux("kill-server");
    } catch { /* already gone */ }
  }
}

/** Runs `body` with a chat server on loopback and a tmux terminal, then stops both. */
async function withTerminal(
  body: (t: Terminal, port: number, log: string[]) => Promise<void>,
): Promise<void> {
  const log: string[] = [];
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    log: (e) => log.push(JSON.stringify(e)),
  });
  const terminal = new Terminal();
  try {
    await body(terminal, server.port, log);
  } finally {
    await terminal.close();
    await server.close();
  }
}

/** Sends `text` from a raw-socket user and waits for the server's SENT. */
async function sendFrom(user: TestUser, to: string, text: string): Promise<void> {
  const body = new TextEncoder().encode(text);
  await user.tosend.send(`SEND ${to}\nContent-length: ${body.length}\n\n${text}`);
  assert.deepEqual(await user.tosend.next(WAIT_MS), { type: "SENT", to });
}

const HALF_LINE =
  "@bob this half-typed line is long enough to wrap past the eighty columns of the pane, yes";

Deno.test({
  name: "chat client on a terminal prints a message above a half-typed wrapped line" +
    ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    await withTerminal(async (t, port, log) => {
      await withWires({ hostname: "127.0.0.1", port }, async (w) => {
        await t.start(["alice", "127.0.0.1", "--port", String(port)]);
        await t.waitFor((s) => s.at(-1) === "alice>", "the prompt");
        const bob = await w.user("bob");

        // Half a line, longer than the pane is wide, then a message arrives.
        await t.type(HALF_LINE);
        await t.waitFor((s) => s.at(-1) === `alice> ${HALF_LINE}`, "the half line");
        await sendFrom(bob, "alice", "Hello from bob"); // SENT: alice's client acknowledged it
        const screen = await t.waitFor(
          (s) => s.includes("bob: Hello from bob"),
          "the incoming message",
        );
        assert.equal(screen.at(-1), `alice> ${HALF_LINE}`, screen.join("\n"));
        assert.equal(screen.at(-2), "bob: Hello from bob", screen.join("\n"));
        assert.equal(
          screen.filter((l) => l.includes("half-typed")).length,
          1,
          `the half line is on screen once:\n${screen.join("\n")}`,
        );

        // Typing goes on where it stopped: the cursor is still at the end of the half line.
        await t.type(" more");
        await t.waitFor((s) => s.at(-1) === `alice> ${HALF_LINE} more`, "the line typed on");

        // Enter sends it; bob receives it and acknowledges.
        await t.press("Enter");
        const forward = await bob.torecv.next(WAIT_MS);
        assert.equal(forward.type, "FORWARD");
        assert.equal(
          forward.type === "FORWARD" && new TextDecoder().decode(forward.body),
          HALF_LINE.slice("@bob ".length) + " more",
        );
        await bob.torecv.send("RECEIVED alice\n\n");
        await t.waitFor(
          (s) => s.at(-2) === "Message successfully sent to bob" && s.at(-1) === "alice>",
          "the delivery report",
        );

        // Tab completes a name seen so far; Up recalls the last line.
        await t.type("@b");
        await t.press("Tab");
        await t.waitFor((s) => s.at(-1) === "alice> @bob", "the completed name");
        await t.press("C-u", "Up");
        await t.waitFor((s) => s.at(-1) === `alice> ${HALF_LINE} more`, "the recalled line");

        // Ctrl-D on an empty line leaves cleanly.
        await t.press("C-u", "C-d");
        const end = await t.waitFor((s) => s.includes("[exit 0]"), "the client to exit");
        assert.ok(end.includes("Left the chat."), end.join("\n"));
        assert.ok(log.some((l) => l.includes('"unregistered"') && l.includes('"alice"')));
      });
    });
  },
});

Deno.test({
  name: "chat client on a terminal asks for username and server, and again for a bad or taken " +
    "name" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    await withTerminal(async (t, port) => {
      await withWires({ hostname: "127.0.0.1", port }, async (w) => {
        await w.user("bob");
        await t.start([]);
        await t.waitFor((s) => s.at(-1) === "Enter username:", "the username question");
        await t.type("a_b");
        await t.press("Enter");
        const bad = await t.waitFor(
          (s) => s.at(-1) === "Enter username:" && s.length > 1,
          "the question after a bad name",
        );
        assert.ok(
          bad.includes('Invalid username "a_b": use 1 to 64 letters and digits (and not "ALL").'),
          bad.join("\n"),
        );
        await t.type("bob");
        await t.press("Enter");
        await t.waitFor((s) => s.at(-1) === "Enter server_IP:", "the server question");
        await t.type(`127.0.0.1:${port}`);
        await t.press("Enter");
        const retry = await t.waitFor(
          (s) => s.at(-1) === "Enter username:" && s.length > 3,
          "the question again",
        );
        assert.ok(
          retry.includes('The username "bob" is taken: someone online uses it. Choose another.'),
          retry.join("\n"),
        );
        await t.type("carol");
        await t.press("Enter");
        await t.waitFor((s) => s.at(-1) === "carol>", "the chat prompt");
        await t.press("C-c");
        const end = await t.waitFor((s) => s.includes("[exit 0]"), "the client to exit");
        assert.ok(end.includes("Left the chat."), end.join("\n"));
      });
    });
  },
});

Deno.test({
  name: "chat client on a terminal colours names unless NO_COLOR is set" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    for (const noColor of ["", "1"]) {
      await withTerminal(async (t, port) => {
        await t.start(["alice", "127.0.0.1", "--port", String(port)], { NO_COLOR: noColor });
        await t.waitFor((s) => s.at(-1) === "alice>", "the prompt");
        const raw = (await t.screen(true)).join("\n");
        assert.equal(raw.includes("\x1b["), noColor === "", JSON.stringify(raw));
        await t.press("C-c");
        await t.waitFor((s) => s.includes("[exit 0]"), "the client to exit");
      });
    }
  },
});

Deno.test({
  name: "chat client on a terminal says the server went away and exits 1" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    const server = await startServer({ hostname: "127.0.0.1", port: 0 });
    const t = new Terminal();
    try {
      await t.start(["alice", "127.0.0.1", "--port", String(server.port)]);
      await t.waitFor((s) => s.at(-1) === "alice>", "the prompt");
      await t.type("half");
      await server.close();
      const end = await t.waitFor((s) => s.includes("[exit 1]"), "the client to exit");
      assert.ok(
        end.some((l) => l.startsWith(`Lost the connection to the server "127.0.0.1:`)),
        end.join("\n"),
      );
    } finally {
      await t.close();
      await server.close();
    }
  },
});

Deno.test({
  name:
    "chat client on a terminal with --reconnect shows the loss and the return above the prompt" +
    ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    let server = await startServer({ hostname: "127.0.0.1", port: 0 });
    const port = server.port;
    const t = new Terminal();
    try {
      await t.start(["alice", "127.0.0.1", "--port", String(port), "--reconnect"]);
      await t.waitFor((s) => s.at(-1) === "alice>", "the prompt");
      await server.close();
      await t.waitFor(
        (s) => s.some((l) => l.startsWith(`Connection to the server "127.0.0.1:${port}" lost`)),
        "the line saying the connection was lost",
      );
      await t.type("@alice back again");
      await t.press("Enter");
      await t.type("half");
      server = await startServer({ hostname: "127.0.0.1", port });
      const screen = await t.waitFor(
        (s) => s.includes("alice: back again") && s.at(-1) === "alice> half",
        "the queued message after reconnecting",
      );
      assert.ok(
        screen.includes(`Reconnected as alice on 127.0.0.1:${port}.`),
        screen.join("\n"),
      );
      await t.press("C-u", "C-c");
      const end = await t.waitFor((s) => s.includes("[exit 0]"), "the client to exit");
      assert.ok(end.includes("Left the chat."), end.join("\n"));
    } finally {
      await t.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "chat client on two terminals replays the original's sample session" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    const { server, port } = await startChatServer();
    const [abc, xyz] = [new Terminal(), new Terminal()];
    try {
      const registered = (name: string) =>
        `Registered as ${name} on 127.0.0.1:${port}. Type "@name message" to send, ` +
        '"@ALL message" for everyone, /help for help.';
      await abc.start(["abc", "127.0.0.1", "--port", String(port)]);
      await abc.waitFor((s) => s.at(-1) === "abc>", "abc's prompt");
      await xyz.start(["xyz", "127.0.0.1", "--port", String(port)]);
      await xyz.waitFor((s) => s.at(-1) === "xyz>", "xyz's prompt");

      await abc.type("@xyz:Hiii");
      await abc.press("Enter");
      await abc.waitFor((s) => s.at(-2) === "Message successfully sent to xyz", "abc's report");
      await xyz.waitFor((s) => s.at(-2) === "abc: Hiii", "the message on xyz's screen");
      await xyz.type("@abc:Hello, how are you?");
      await xyz.press("Enter");
      await xyz.waitFor((s) => s.at(-2) === "Message successfully sent to abc", "xyz's report");

      assert.deepEqual(
        await abc.waitFor((s) => s.at(-2) === "xyz: Hello, how are you?", "the reply"),
        [
          registered("abc"),
          "abc> @xyz:Hiii",
          "Message successfully sent to xyz",
          "xyz: Hello, how are you?",
          "abc>",
        ],
      );
      assert.deepEqual(await xyz.screen(), [
        registered("xyz"),
        "abc: Hiii",
        "xyz> @abc:Hello, how are you?",
        "Message successfully sent to abc",
        "xyz>",
      ]);

      // abc leaves with Ctrl-C, xyz with Ctrl-D: both exit 0 and the server logs both.
      await abc.press("C-c");
      await abc.waitFor((s) => s.at(-1) === "[exit 0]" && s.at(-2) === "Left the chat.", "exit");
      await xyz.press("C-d");
      await xyz.waitFor((s) => s.at(-1) === "[exit 0]" && s.at(-2) === "Left the chat.", "exit");
      await server.waitFor(/^xyz : UNREGISTERED$/);
      const log = [...server.stdout];
      for (const at of [1, 3]) { // each client registers its two halves at once: either order
        const [one = "", two = ""] = log.slice(at, at + 2);
        if (/TORECV$/.test(one) && /TOSEND$/.test(two)) log.splice(at, 2, two, one);
      }
      assert.deepEqual(log, [
        `Chat server listening on 127.0.0.1:${port}`,
        "abc : REGISTERED TOSEND",
        "abc : REGISTERED TORECV",
        "xyz : REGISTERED TOSEND",
        "xyz : REGISTERED TORECV",
        "Message successfully forwarded from abc to xyz",
        "Message successfully forwarded from xyz to abc",
        "abc : UNREGISTERED",
        "xyz : UNREGISTERED",
      ]);
    } finally {
      await abc.close();
      await xyz.close();
      server.kill("SIGTERM");
      await server.exit();
    }
  },
});
