/**
 * Tests of `chat client` on a real terminal: the client runs inside tmux (80x24), keys are
 * typed with `send-keys` and the screen is read with `capture-pane`. Ignored (and reported so)
 * when tmux is not installed. Lines start with the local time, which the tests cannot fix:
 * {@link untimed} checks that each chat line has one and takes it off.
 */
import assert from "node:assert/strict";
import { type TestUser, withWires } from "./wire.ts";
import { startServer } from "../src/server/server.ts";
import { startChatServer } from "./spawn.ts";
import { Decoder } from "../src/protocol/mod.ts";
import { ClientPane, TIME, tmuxAvailable, untimed } from "./tmux.ts";

const WAIT_MS = 10_000;
const hasTmux = tmuxAvailable();
const ignoreReason = hasTmux ? "" : " (IGNORED: tmux is not installed)";

/** A tmux pane running one `chat client`. */
class Terminal extends ClientPane {}

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

/**
 * Fails if a line of a chat screen has no time: all but the prompt, continuation rows
 * (starting with spaces), the echo of a line that goes on (with the prompt's ">") and the
 * exit line.
 */
function timed(lines: string[]): void {
  lines.forEach((line, i) => {
    const exempt = line === "" || line.startsWith(" ") || line.startsWith("[exit") ||
      line.includes(">") || i === lines.length - 1;
    assert.ok(TIME.test(line) || exempt, `line ${i} has no time:\n${lines.join("\n")}`);
  });
}

/** Fails unless every line of the screen fits 80 columns. */
function fits(lines: string[]): void {
  for (const line of lines) {
    assert.ok([...line].length <= 80, `wider than 80 columns: ${JSON.stringify(line)}`);
  }
}

/** Waits until the untimed screen has a line equal to `line`; returns the untimed screen. */
function showing(t: Terminal, line: string): Promise<string[]> {
  return t.waitUntil((s) => untimed(s).includes(line), JSON.stringify(line)).then(untimed);
}

const HALF_LINE =
  "@bob this half-typed line is long enough to wrap past the eighty columns of the pane, yes";

Deno.test({
  name: "chat client on a terminal prints a message above a half-typed wrapped line, and " +
    "marks a message pending until the slow recipient confirms it, in place" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    await withTerminal(async (t, port, log) => {
      await withWires({ hostname: "127.0.0.1", port }, async (w) => {
        await t.client(["alice", "127.0.0.1", "--port", String(port)]);
        await t.waitUntil((s) => s.at(-1) === "alice [1 online]>", "the prompt");
        const bob = await w.user("bob");
        await t.waitUntil((s) => s.at(-1) === "alice [2 online]>", "bob counted");

        // Half a line, longer than the pane is wide, then a message arrives.
        await t.type(HALF_LINE);
        await t.waitUntil((s) => s.at(-1) === `alice [2 online]> ${HALF_LINE}`, "the half line");
        await sendFrom(bob, "alice", "Hello from bob"); // SENT: alice's client acknowledged it
        const screen = untimed(
          await t.waitUntil(
            (s) => untimed(s).includes("bob: Hello from bob"),
            "the incoming message",
          ),
        );
        assert.equal(screen.at(-1), `alice [2 online]> ${HALF_LINE}`, screen.join("\n"));
        assert.equal(screen.at(-2), "bob: Hello from bob", screen.join("\n"));
        assert.equal(
          screen.filter((l) => l.includes("half-typed")).length,
          1,
          `the half line is on screen once:\n${screen.join("\n")}`,
        );

        // Typing goes on where it stopped: the cursor is still at the end of the half line.
        await t.type(" more");
        await t.waitUntil((s) => s.at(-1) === `alice [2 online]> ${HALF_LINE} more`, "typed on");

        // Enter sends it: it shows as alice's own line, pending while bob has not confirmed.
        await t.press("Enter");
        const forward = await bob.torecv.next(WAIT_MS);
        assert.equal(forward.type, "FORWARD");
        const text = HALF_LINE.slice("@bob ".length) + " more";
        assert.equal(forward.type === "FORWARD" && new TextDecoder().decode(forward.body), text);
        const own = "·  alice → bob: this half-typed line is long enough to wrap past the";
        const pending = await showing(t, own);
        assert.equal(pending.at(-1), "alice [2 online]>", pending.join("\n"));
        assert.equal(pending.filter((l) => l.includes("half-typed")).length, 1, "echo erased");
        assert.equal(pending.at(-2), " ".repeat(22) + "eighty columns of the pane, yes more");
        timed(await t.screen());
        // bob confirms: the mark changes in place, no line is added.
        await bob.torecv.send("RECEIVED alice\n\n");
        const done = await showing(t, own.replace("· ", "✓✓"));
        assert.equal(done.length, pending.length, done.join("\n"));
        assert.ok(!done.some((l) => l.includes("successfully")), done.join("\n"));

        // Tab completes a name seen so far; Up recalls the last line.
        await t.type("@b");
        await t.press("Tab");
        await t.waitUntil((s) => s.at(-1) === "alice [2 online]> @bob", "the completed name");
        await t.press("C-u", "Up");
        await t.waitUntil(
          (s) => s.at(-1) === `alice [2 online]> ${HALF_LINE} more`,
          "the recalled line",
        );

        // Ctrl-D on an empty line leaves cleanly.
        await t.press("C-u", "C-d");
        const end = await t.waitUntil((s) => s.includes("[exit 0]"), "the client to exit");
        assert.ok(untimed(end).includes("Left the chat."), end.join("\n"));
        assert.ok(log.some((l) => l.includes('"unregistered"') && l.includes('"alice"')));
      });
    });
  },
});

Deno.test({
  name: "chat client on a terminal asks for username and server, and again for a bad or taken " +
    "name or a refused address" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    await withTerminal(async (t, port) => {
      await withWires({ hostname: "127.0.0.1", port }, async (w) => {
        await w.user("bob");
        await t.client([]);
        await t.waitUntil((s) => s.at(-1) === "Enter username:", "the username question");
        await t.line("a_b");
        const bad = await t.waitUntil(
          (s) => s.at(-1) === "Enter username:" && s.length > 1,
          "the question after a bad name",
        );
        assert.ok(
          bad.includes('Invalid username "a_b": use 1 to 64 letters and digits (and not "ALL").'),
          bad.join("\n"),
        );
        await t.line("bob");
        await t.waitUntil((s) => s.at(-1) === "Enter server_IP:", "the server question");
        // A port nobody listens on: refused, and asked again.
        const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const deadPort = closed.addr.port;
        closed.close();
        await t.line(`127.0.0.1:${deadPort}`);
        const refused = await t.waitUntil(
          (s) => s.at(-1) === "Enter server_IP:" && s.length > 3,
          "the server question again",
        );
        assert.ok(
          refused.some((l) => l.startsWith(`Cannot connect to "127.0.0.1:${deadPort}"`)),
          refused.join("\n"),
        );
        fits(refused);
        await t.line(`127.0.0.1:${port}`);
        const retry = await t.waitUntil(
          (s) => s.at(-1) === "Enter username:" && s.length > 5,
          "the question again",
        );
        assert.ok(
          retry.join("\n").replaceAll("\n  ", " ").includes(
            'The username "bob" is taken: someone online uses it, or it (or a lookalike) ' +
              "belongs to someone's key on this server. Choose another.",
          ),
          retry.join("\n"),
        );
        await t.line("carol");
        await t.waitUntil((s) => s.at(-1) === "carol [2 online]>", "the chat prompt");
        await t.press("C-c");
        const end = await t.waitUntil((s) => s.includes("[exit 0]"), "the client to exit");
        assert.ok(end.some((l) => l.endsWith(" Left the chat.")), end.join("\n"));
      });
    });
  },
});

Deno.test({
  name: "chat client on a terminal gives each name its own colour, none with NO_COLOR" +
    ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    for (const noColor of ["", "1"]) {
      await withTerminal(async (t, port) => {
        await withWires({ hostname: "127.0.0.1", port }, async (w) => {
          await t.client(["alice", "127.0.0.1", "--port", String(port)], { NO_COLOR: noColor });
          await t.waitUntil((s) => s.at(-1) === "alice [1 online]>", "the prompt");
          const users = [await w.user("bob"), await w.user("carol")];
          await sendFrom(users[0]!, "alice", "from bob");
          await sendFrom(users[1]!, "alice", "from carol");
          await showing(t, "carol: from carol");
          const raw = (await t.screen(true)).join("\n");
          assert.equal(raw.includes("\x1b["), noColor === "", JSON.stringify(raw));
          if (noColor === "") {
            // The colour just before each name, as tmux reports it.
            const colour = (name: string) =>
              new RegExp(`(\\x1b\\[[0-9;]*m)${name}(?:\\x1b\\[[0-9;]*m)?:`).exec(raw)?.[1];
            assert.ok(colour("bob") && colour("carol"), JSON.stringify(raw));
            assert.notEqual(colour("bob"), colour("carol"), JSON.stringify(raw));
          }
          await t.press("C-c");
          await t.waitUntil((s) => s.includes("[exit 0]"), "the client to exit");
        });
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
      await t.client(["alice", "127.0.0.1", "--port", String(server.port)]);
      await t.waitUntil((s) => s.at(-1) === "alice [1 online]>", "the prompt");
      await t.type("half");
      await server.close();
      const end = untimed(await t.waitUntil((s) => s.includes("[exit 1]"), "the client to exit"));
      assert.ok(
        end.some((l) => l.startsWith(`Lost the connection to the server "127.0.0.1:`)),
        end.join("\n"),
      );
      fits(end);
    } finally {
      await t.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "chat client on a terminal with --reconnect shows the loss in the prompt and the " +
    "return above it" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    let server = await startServer({ hostname: "127.0.0.1", port: 0 });
    const port = server.port;
    const t = new Terminal();
    try {
      await t.client(["alice", "127.0.0.1", "--port", String(port), "--reconnect"]);
      await t.waitUntil((s) => s.at(-1) === "alice [1 online]>", "the prompt");
      await server.close();
      await t.waitUntil(
        (s) =>
          untimed(s).some((l) => l.startsWith(`Connection to the server "127.0.0.1:${port}" lost`)),
        "the line saying the connection was lost",
      );
      await t.waitUntil((s) => s.at(-1) === "alice [reconnecting]>", "the prompt while lost");
      await t.line("@alice back again");
      await t.type("half");
      server = await startServer({ hostname: "127.0.0.1", port });
      const screen = untimed(
        await t.waitUntil(
          // The SENT may come after the FORWARD to oneself: wait for the mark too.
          (s) =>
            untimed(s).includes("alice: back again") &&
            untimed(s).includes("✓✓ alice → alice: back again") &&
            s.at(-1) === "alice [1 online]> half",
          "the queued message after reconnecting",
        ),
      );
      assert.ok(screen.includes(`Reconnected as alice on 127.0.0.1:${port}.`), screen.join("\n"));
      assert.ok(screen.includes("✓✓ alice → alice: back again"), screen.join("\n"));
      await t.press("C-u", "C-c");
      const end = await t.waitUntil((s) => s.includes("[exit 0]"), "the client to exit");
      assert.ok(untimed(end).includes("Left the chat."), end.join("\n"));
    } finally {
      await t.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "chat client on three terminals: who is online, joins and leaves, messages to everyone " +
    "marked, conversations, pasted and continued lines, Ctrl-C, wrapped lines" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    const { server, port } = await startChatServer();
    const [abc, xyz, bob] = [new Terminal(), new Terminal(), new Terminal()];
    const args = (name: string) => [name, "127.0.0.1", "--port", String(port)];
    try {
      await abc.client(args("abc"));
      const first = await abc.waitUntil((s) => s.at(-1) === "abc [1 online]>", "abc's prompt");
      assert.match(untimed(first)[0]!, /^Registered as abc on 127\.0\.0\.1:\d+\. Type "@name/);
      assert.ok(untimed(first).includes("1 online: abc"), first.join("\n"));
      await xyz.client(args("xyz"));
      await xyz.waitUntil((s) => s.at(-1) === "xyz [2 online]>", "xyz's prompt");
      await showing(abc, "xyz joined");
      await abc.waitUntil((s) => s.at(-1) === "abc [2 online]>", "abc counts xyz");
      await bob.client(args("bob"));
      await bob.waitUntil((s) => s.at(-1) === "bob [3 online]>", "bob's prompt");
      await abc.line("/who");
      await showing(abc, "3 online: abc, bob, xyz");

      // A private message, and one to everyone: each marked where it arrives.
      await abc.line("@xyz:Hiii");
      await showing(abc, "✓✓ abc → xyz: Hiii");
      await showing(xyz, "abc: Hiii");
      await xyz.line("@ALL hello all");
      await showing(abc, "xyz to everyone: hello all");
      await showing(bob, "xyz to everyone: hello all");
      await showing(xyz, "✓✓ xyz → everyone: hello all");

      // A conversation: plain lines go to xyz, shown in the prompt; @name still works.
      await abc.line("/msg xyz");
      await abc.waitUntil((s) => s.at(-1) === "abc → xyz [3 online]>", "the conversation prompt");
      await abc.line("how are you?");
      await showing(xyz, "abc: how are you?");
      await abc.line("@bob psst");
      await showing(bob, "abc: psst");

      // Lines pasted together are one message; a line ending in \ goes on on the next.
      await abc.type("pasted one\rpasted two\r");
      const pasted = await showing(xyz, "abc: pasted one");
      assert.equal(pasted[pasted.indexOf("abc: pasted one") + 1], "           pasted two");
      await abc.line("first part \\");
      await abc.waitUntil((s) => s.at(-1) === "abc → xyz [3 online] …>", "the continuation");
      await abc.line("second part");
      const continued = await showing(xyz, "abc: first part");
      assert.equal(continued[continued.indexOf("abc: first part") + 1], "           second part");

      // A long message wraps with a hanging indent; every line fits 80 columns.
      const long = "This message is long enough to need more than one row of an eighty " +
        "column terminal, so it wraps under its first word.";
      await abc.line(long);
      const wrapped = await showing(
        xyz,
        "abc: This message is long enough to need more than one row of an eighty",
      );
      assert.equal(
        wrapped[
          wrapped.indexOf(
            "abc: This message is long enough to need more than one row of an eighty",
          ) + 1
        ],
        "           column terminal, so it wraps under its first word.",
      );
      await abc.line("/help");
      const help = await showing(abc, "  Ctrl-C clears the line being typed.");
      assert.ok(help.includes(" ".repeat(21) + "at once are sent as one message"), help.join("\n"));
      for (const t of [abc, xyz, bob]) fits(await t.screen());
      timed(await xyz.screen());

      // Ctrl-C clears the line being typed; on an empty line it leaves.
      await bob.type("half typed");
      await bob.waitUntil((s) => s.at(-1) === "bob [3 online]> half typed", "bob's half line");
      await bob.press("C-c");
      await bob.waitUntil((s) => s.at(-1) === "bob [3 online]>", "the line cleared");
      await bob.press("C-c");
      await bob.waitUntil((s) => s.includes("[exit 0]"), "bob to exit");
      await showing(abc, "bob left");
      await abc.waitUntil((s) => s.at(-1) === "abc → xyz [2 online]>", "abc counts bob gone");

      // A message to everyone with nobody else online says so.
      await xyz.press("C-d");
      await xyz.waitUntil((s) => s.includes("[exit 0]"), "xyz to exit");
      await abc.line("/msg");
      await abc.line("@ALL anyone?");
      await showing(abc, "✗  abc → everyone: anyone?");
      await showing(abc, 'Your message ("anyone?") reached no one: nobody else is online.');
      await abc.press("C-d");
      const end = await abc.waitUntil((s) => s.at(-1) === "[exit 0]", "abc to exit");
      assert.equal(untimed(end).at(-2), "Left the chat.");
      fits(end);
    } finally {
      for (const t of [abc, xyz, bob]) await t.close();
      server.kill("SIGTERM");
      await server.exit();
    }
  },
});

Deno.test({
  name: "chat client on a terminal says a late confirmation on a line of its own once the " +
    "message scrolled away, and wraps to the pane's new width" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    await withTerminal(async (t, port) => {
      await withWires({ hostname: "127.0.0.1", port }, async (w) => {
        await t.client(["alice", "127.0.0.1", "--port", String(port)]);
        await t.waitUntil((s) => s.at(-1) === "alice [1 online]>", "the prompt");
        const bob = await w.user("bob");
        await t.waitUntil((s) => s.at(-1) === "alice [2 online]>", "bob counted");
        await t.line("@bob hold on");
        assert.equal((await bob.torecv.next(WAIT_MS)).type, "FORWARD");
        await showing(t, "·  alice → bob: hold on");
        // 25 lines push it off the 24-row pane before bob confirms it.
        for (let i = 1; i <= 25; i++) await sendFrom(bob, "alice", `line ${i}`);
        const scrolled = await showing(t, "bob: line 25");
        assert.ok(!scrolled.some((l) => l.includes("hold on")), scrolled.join("\n"));
        await bob.torecv.send("RECEIVED alice\n\n");
        const late = await showing(t, '✓✓ Delivered to bob ("hold on").');
        assert.equal(late.at(-1), "alice [2 online]>");

        await t.tmux("resize-window", "-t", "t", "-x", "60", "-y", "24");
        // The client reads the width before showing each message, so once the pane is 60 wide
        // the next message wraps to it, whenever the "resize" event arrives.
        for (
          let i = 0;
          (await t.tmux("display", "-p", "-t", "t", "#{pane_width}")).trim() !== "60";
          i++
        ) {
          assert.ok(i < 50, "the pane never became 60 columns wide");
          await new Promise((r) => setTimeout(r, 100));
        }
        const long = "a message long enough to wrap round in a pane of sixty columns, " +
          "under its first word each time";
        await sendFrom(bob, "alice", long);
        const narrow = await showing(t, "bob: a message long enough to wrap round in a pane of");
        const at = narrow.indexOf("bob: a message long enough to wrap round in a pane of");
        assert.deepEqual(narrow.slice(at + 1, at + 3), [
          "           sixty columns, under its first word each time",
          "alice [2 online]>",
        ]);
        for (const line of await t.screen()) assert.ok([...line].length <= 60, line);
        await t.press("C-c");
        await t.waitUntil((s) => s.includes("[exit 0]"), "the client to exit");
      });
    });
  },
});

/**
 * A server that knows only the base protocol: it registers, answers a SEND to `server` (a name
 * nobody has) with ERROR 102 and any other SEND with SENT, and records the first line and the
 * header names of every message a client sends.
 */
async function withBaseServer(body: (port: number, seen: string[]) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: string[] = [];
  const conns: Deno.TcpConn[] = [];
  const serve = async (conn: Deno.TcpConn) => {
    const decoder = new Decoder();
    const buf = new Uint8Array(4096);
    const write = (text: string) => conn.write(new TextEncoder().encode(text)).catch(() => 0);
    try {
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
        for (const e of decoder.push(buf.subarray(0, n))) {
          if (e.kind !== "message") continue;
          const m = e.message;
          const extra = (m.headers ?? []).map(([name]) => name).join(",");
          seen.push(`${m.type}${extra === "" ? "" : ` +${extra}`}`);
          if (m.type === "REGISTER") await write(`REGISTERED ${m.half} ${m.name}\n\n`);
          if (m.type === "SEND") {
            await write(m.to === "server" ? "ERROR 102 Unable to send\n\n" : `SENT ${m.to}\n\n`);
          }
        }
      }
    } catch { /* closed */ }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      serve(conn);
    }
  })().catch(() => {});
  try {
    await body(listener.addr.port, seen);
  } finally {
    listener.close();
    await accepting;
    for (const c of conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  }
}

Deno.test({
  name: "chat client on a terminal with a base-protocol server: no count in the prompt, /who " +
    "says why, own messages still marked" + ignoreReason,
  ignore: !hasTmux,
  fn: async () => {
    await withBaseServer(async (port, seen) => {
      const t = new Terminal();
      try {
        await t.client(["alice", "127.0.0.1", "--port", String(port)]);
        await t.waitUntil((s) => s.at(-1) === "alice>", "the plain prompt");
        await t.line("/who");
        await showing(t, 'This server does not tell who is online; "@server who" may work.');
        await t.line("@bob hi");
        await showing(t, "✓✓ alice → bob: hi");
        await t.press("C-c");
        const end = untimed(await t.waitUntil((s) => s.includes("[exit 0]"), "the client to exit"));
        assert.ok(end.includes("Left the chat."), end.join("\n"));
        // Only base protocol reached it: no header beyond Content-length, no UNREGISTER.
        assert.deepEqual(seen.filter((m) => m !== "REGISTER"), ["SEND", "SEND"]);
      } finally {
        await t.close();
      }
    });
  },
});
