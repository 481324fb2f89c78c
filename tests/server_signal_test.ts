/**
 * How `chat server` stops: one Ctrl-C drains and exits 0 even when it arrives more than once
 * (the terminal signals the whole process group and `deno task` and npm forward it again), and a
 * deliberate second Ctrl-C later exits at once with 130. The terminal tests run the real
 * `deno task server` (and `npx deno task server`) in tmux and press Ctrl-C once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { classifySignal, drainHint, REPEAT_WINDOW_MS } from "../src/commands/server.ts";
import { startChatServer, testEnv } from "./spawn.ts";
import { withWires } from "./wire.ts";
import { drainRefusesNewFinishesInFlight, messageInFlight } from "./drain.ts";
import { shellQuote, tmuxAvailable, TmuxPane } from "./tmux.ts";

const root = decodeURIComponent(new URL("..", import.meta.url).pathname);

Deno.test("classifySignal: the first signal stops, the same one within the window repeats", () => {
  assert.equal(classifySignal(null, "SIGINT", 10), "stop");
  const first = { name: "SIGINT", at: 10 };
  assert.equal(classifySignal(first, "SIGINT", 10), "repeat");
  assert.equal(classifySignal(first, "SIGINT", 10 + REPEAT_WINDOW_MS - 1), "repeat");
});

Deno.test("drainHint says how long the drain may last and how to stop at once", () => {
  assert.equal(
    drainHint("SIGINT", 5000),
    "Waiting up to 5s for messages in flight; press Ctrl-C again to stop at once.",
  );
  assert.match(drainHint("SIGTERM", 1500), /^Waiting up to 1500ms .*; send SIGTERM again to stop/);
});

Deno.test("classifySignal: the same signal after the window, or another signal, forces", () => {
  const first = { name: "SIGINT", at: 10 };
  assert.equal(classifySignal(first, "SIGINT", 10 + REPEAT_WINDOW_MS), "force");
  assert.equal(classifySignal(first, "SIGTERM", 11), "force");
});

/** Registers abc and xyz and leaves a message from abc to xyz unacknowledged. */
Deno.test("chat server treats SIGINT delivered three times at once as one Ctrl-C: drains, exits 0", async () => {
  const { server, port } = await startChatServer(["--drain-timeout", "60s"]);
  try {
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      const { abc, xyz } = await messageInFlight(w);
      // What a terminal, deno task and npm do with one key press.
      server.kill("SIGINT");
      server.kill("SIGINT");
      server.kill("SIGINT");
      await server.waitFor(/Stopping \(SIGINT\)$/);
      await xyz.torecv.send("RECEIVED abc\n\n");
      assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "xyz" });
    });
    assert.equal((await server.exit()).code, 0);
    assert.match(server.stdout.at(-1) ?? "", /Server stopped$/);
  } finally {
    server.kill("SIGKILL");
    await server.exit();
  }
});

Deno.test("chat server exits at once with 130 on a second SIGINT after the repeat window", async () => {
  const { server, port } = await startChatServer(["--drain-timeout", "60s"]);
  try {
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      await messageInFlight(w); // never acknowledged: the drain would last a minute
      server.kill("SIGINT");
      await server.waitFor(/Stopping \(SIGINT\)$/);
      // Said once the drain has lasted the repeat window: a Ctrl-C now is a second one.
      const hint = await server.waitFor(/press Ctrl-C again/, { stream: "stderr" });
      assert.equal(hint, drainHint("SIGINT", 60_000));
      server.kill("SIGINT");
      assert.equal((await server.exit()).code, 130);
    });
    assert.ok(!server.stdout.some((l) => /Server stopped/.test(l)), server.stdout.join("\n"));
  } finally {
    server.kill("SIGKILL");
    await server.exit();
  }
});

const hasTmux = tmuxAvailable();

function hasNpx(): boolean {
  try {
    return new Deno.Command("npx", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Starts `launch` (a shell command that runs `chat server` through deno task) in a tmux pane
 * with a message in flight, presses Ctrl-C once, checks that the server drains (it is still
 * there and finishes the message), and returns the screen once it has stopped.
 */
async function oneCtrlC(launch: string): Promise<string[]> {
  const pane = new TmuxPane();
  try {
    // The trap keeps the shell alive to print the exit code (its children still get SIGINT).
    // The server's data goes to this test's own directory, never the user's.
    const env = Object.entries(testEnv()).map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ");
    await pane.start(
      `trap true INT; env ${env} ${launch} --host 127.0.0.1 --port 0 --no-web --drain-timeout 60s; ` +
        `echo "[exit $?]"`,
      root,
    );
    const listening = await pane.waitFor(/listening on 127\.0\.0\.1:\d+/, "the server");
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(listening)![1]);
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      const { abc, xyz } = await messageInFlight(w);
      await pane.press("C-c");
      await pane.waitFor(/Stopping \(SIGINT\)$/, "the drain to start");
      // Still draining: new messages are refused, the one in flight goes through.
      await drainRefusesNewFinishesInFlight(abc, xyz);
    });
    await pane.waitFor(/Server stopped$/, "the server to stop");
    // The server closes its data after that line; the shell prints the exit code once it exits.
    await pane.waitFor(/^\[exit \d+\]$/, "the exit code");
    return await pane.history();
  } finally {
    await pane.close();
  }
}

Deno.test({
  name: "deno task server: one Ctrl-C in a terminal drains and exits 0" +
    (hasTmux ? "" : " (IGNORED: tmux is not installed)"),
  ignore: !hasTmux,
  fn: async () => {
    const screen = await oneCtrlC(`${shellQuote(Deno.execPath())} task server`);
    const stopped = screen.findIndex((l) => /Server stopped$/.test(l));
    assert.ok(screen.slice(stopped).includes("[exit 0]"), screen.join("\n"));
    assert.ok(!screen.includes("[exit 130]"), screen.join("\n"));
  },
});

const npx = hasTmux && hasNpx();
Deno.test({
  name: "npx deno task server: one Ctrl-C in a terminal drains and the server stops cleanly" +
    (npx ? "" : " (IGNORED: tmux or npx is not installed)"),
  ignore: !npx,
  fn: async () => {
    // npm itself exits at once on Ctrl-C (130), before the server has drained; the server
    // carries on, drains and stops. oneCtrlC checks all of that but npm's own exit code.
    const screen = await oneCtrlC("npx deno task server");
    assert.ok(screen.some((l) => /Server stopped$/.test(l)), screen.join("\n"));
  },
});
