/**
 * The faces' pure views, without a terminal or a session: typed lines in, effects out; events
 * in, effects or text out. The clock is fixed, so every line starts with 12:34.
 */
import assert from "node:assert/strict";
import {
  type Effect,
  type Outlet,
  PipedView,
  SERVER_QUESTION,
  type Tally,
  TerminalView,
  USERNAME_QUESTION,
} from "./view.ts";
import { CHAT_HELP, queueFullHint } from "./render.ts";
import { displayWidth } from "./wrap.ts";

const NOW = () => new Date(2026, 11, 2, 12, 34, 56);

/** An outlet that records what is sent and refuses once `room` messages are queued. */
function outlet(room = Infinity, reconnecting = false, maxBody?: number): Outlet & {
  sent: string[];
} {
  const sent: string[] = [];
  return {
    sent,
    maxQueued: 7,
    reconnecting,
    maxBody,
    get full() {
      return sent.length >= room;
    },
    send(to, text) {
      if (sent.length >= room) return null;
      sent.push(`${to}:${text}`);
      return sent.length;
    },
  };
}

/** A view registered as abc, colourless, 80 columns, at 12:34. */
function view(width = 80): TerminalView {
  const v = new TerminalView({ color: false, width, now: NOW });
  v.registered("abc", "127.0.0.1:5500", false);
  return v;
}

/** The texts of the print effects. */
function printed(effects: Effect[]): string[] {
  return effects.flatMap((e) => e.kind === "print" ? [e.text] : []);
}

/** The last prompt among the effects. */
function prompt(effects: Effect[]): string | undefined {
  return effects.flatMap((e) => e.kind === "prompt" ? [e.prompt] : []).at(-1);
}

Deno.test("TerminalView.line sends a chat line and prints it as the user's own, pending", () => {
  const v = view();
  const out = outlet();
  assert.deepEqual(v.line("@xyz Hiii", out), [
    { kind: "print", id: 1, text: "12:34 ·  abc → xyz: Hiii" },
  ]);
  assert.deepEqual(v.line("@all hi", out), [
    { kind: "print", id: 2, text: "12:34 ·  abc → everyone: hi" },
  ]);
  assert.deepEqual(out.sent, ["xyz:Hiii", "ALL:hi"]);
});

Deno.test("TerminalView.event marks the user's line delivered, or not with the reason", () => {
  const v = view();
  v.line("@xyz Hiii", outlet());
  assert.deepEqual(v.event({ type: "sent", id: 1, to: "xyz" }), [{
    kind: "mark",
    id: 1,
    mark: "✓✓",
    column: 6,
    fallback: '12:34 ✓✓ Delivered to xyz ("Hiii").',
  }]);
  const failed = v.event({
    type: "not-delivered",
    id: 2,
    to: "xyz",
    code: 102,
    text: "Unable to send",
    reason: "too-large",
    maxBody: 65536,
  });
  assert.deepEqual(failed[0], { kind: "mark", id: 2, mark: "✗ ", column: 6 });
  assert.deepEqual(printed(failed), [
    "12:34 Not delivered to xyz: it is over the server's limit of 65536 bytes.",
  ]);
});

Deno.test("TerminalView.event words each reason and a base server's error", () => {
  const v = view();
  const out = outlet();
  v.line("@xyz one", out);
  const texts = (reason?: string) =>
    printed(v.event({
      type: "not-delivered",
      id: 1,
      to: "xyz",
      code: 102,
      text: "Unable to send",
      ...(reason ? { reason } : {}),
    }));
  assert.deepEqual(texts("offline"), ['12:34 Not delivered to xyz ("one"): xyz is not online.']);
  assert.match(texts("no-ack")[0]!, /xyz did not confirm it in time\.$/);
  assert.match(texts("queue-full")[0]!, /too many messages wait for xyz already/);
  assert.match(texts("shutdown")[0]!, /the server is shutting down\.$/);
  assert.match(texts("new-token")[0]!, /the server says "new-token" \(ERROR 102\)\.$/);
  assert.match(texts()[0]!, /xyz is not online or did not receive it\.$/);
});

Deno.test("TerminalView.event says when a message to everyone reached no one or only some", () => {
  const v = view();
  v.line("@ALL anyone?", outlet());
  const none = v.event({ type: "sent", id: 1, to: "ALL", delivered: 0, recipients: 0 });
  assert.equal(none[0]?.kind === "mark" && none[0].mark, "✗ ");
  assert.deepEqual(printed(none), [
    '12:34 Your message ("anyone?") reached no one: nobody else is online.',
  ]);
  const some = v.event({
    type: "not-delivered",
    id: 2,
    to: "ALL",
    code: 102,
    text: "Unable to send",
    reason: "partial",
    delivered: 2,
    recipients: 3,
  });
  assert.deepEqual(printed(some), [
    "12:34 Not delivered to everyone: only 2 of the 3 others online got it.",
  ]);
});

Deno.test("TerminalView.line refuses a body over the server's limit before sending it", () => {
  const v = view();
  const out = outlet(Infinity, false, 4);
  assert.deepEqual(printed(v.line("@xyz hello", out)), [
    "12:34 Not sent: the message is 5 bytes; the server takes at most 4.",
  ]);
  assert.deepEqual(out.sent, []);
});

Deno.test("TerminalView.line prints the hint for a line it cannot send", () => {
  const v = view();
  const out = outlet();
  assert.deepEqual(printed(v.line("hello", out)), [
    '12:34 Not sent: type "@name message", or "@ALL message" for everyone.',
  ]);
  assert.deepEqual(v.line("   ", out), []);
  assert.deepEqual(out.sent, []);
});

Deno.test("TerminalView.line shows the queue-full hint only when the queue is full", () => {
  const v = view();
  const out = outlet(1, true);
  v.line("@a 1", out);
  const full = printed(v.line("@a 2", out));
  assert.deepEqual(full.map((t) => t.replace(/\n +/g, " ")), [`12:34 ${queueFullHint(7, true)}`]);
  const closed: Outlet = { send: () => null, full: false, reconnecting: false, maxQueued: 7 };
  assert.deepEqual(v.line("@a 3", closed), [], "a session that is not open says so itself");
});

Deno.test("TerminalView.line turns the slash commands into effects", () => {
  const v = view();
  const out = outlet();
  assert.deepEqual(v.line("/quit", out), [{ kind: "quit" }]);
  assert.deepEqual(v.line("/exit", out), [{ kind: "quit" }]);
  assert.deepEqual(v.line("/clear", out), [{ kind: "clear" }]);
  assert.deepEqual(v.line("/help", out), [{ kind: "print", text: CHAT_HELP }]);
});

Deno.test("TerminalView /msg makes plain lines go to one user, shown in the prompt", () => {
  const v = view();
  const out = outlet();
  const opened = v.line("/msg xyz", out);
  assert.equal(prompt(opened), "abc → xyz> ");
  assert.deepEqual(printed(v.line("hello there", out)), ["12:34 ·  abc → xyz: hello there"]);
  assert.deepEqual(printed(v.line("@bob still works", out)), ["12:34 ·  abc → bob: still works"]);
  assert.equal(prompt(v.line("/query ALL", out)), "abc → everyone> ");
  v.line("to all", out);
  assert.equal(prompt(v.line("/msg", out)), "abc> ");
  assert.match(printed(v.line("nowhere", out))[0]!, /Not sent: type "@name message"/);
  v.line("/msg carol first words", out);
  assert.deepEqual(out.sent, [
    "xyz:hello there",
    "bob:still works",
    "ALL:to all",
    "carol:first words",
  ]);
});

Deno.test("TerminalView.input sends lines pasted together as one message", () => {
  const v = view();
  const out = outlet();
  assert.deepEqual(printed(v.input(["@xyz one", "  two", "three"], out)), [
    "12:34 ·  abc → xyz: one\n                      two\n                    three",
  ]);
  assert.deepEqual(out.sent, ["xyz:one\n  two\nthree"]);
});

Deno.test("TerminalView.input goes on after a line ending in a backslash", () => {
  const v = view();
  const out = outlet();
  const held = v.input(["@xyz first \\"], out);
  assert.deepEqual(held, [{ kind: "prompt", prompt: "abc …> " }]);
  assert.equal(v.continuing, true);
  v.input(["second"], out);
  assert.deepEqual(out.sent, ["xyz:first \nsecond"]);
  assert.equal(v.continuing, false);
  v.input(["@xyz again \\"], out);
  assert.deepEqual(v.cancelContinuation(), [{ kind: "prompt", prompt: "abc> " }]);
  v.input(["plain"], out);
  assert.equal(out.sent.length, 1, "Ctrl-C dropped the held line");
});

Deno.test("TerminalView shows who is online, joins and leaves, and the count in the prompt", () => {
  const v = view();
  v.event({ type: "negotiated", extensions: ["who", "joins", "to"], maxBody: 65536 });
  const online = v.event({ type: "online", names: ["xyz", "abc"] });
  assert.deepEqual(printed(online), ["12:34 2 online: abc, xyz"]);
  assert.equal(prompt(online), "abc [2 online]> ");
  const joined = v.event({ type: "user-joined", name: "bob" });
  assert.deepEqual(printed(joined), ["12:34 bob joined"]);
  assert.equal(prompt(joined), "abc [3 online]> ");
  const left = v.event({ type: "user-left", name: "xyz" });
  assert.deepEqual(printed(left), ["12:34 xyz left"]);
  assert.deepEqual(printed(v.line("/who", outlet())), ["12:34 2 online: abc, bob"]);
  assert.deepEqual(v.complete("@"), [["@ALL ", "@bob ", "@xyz "], "@"]);
  assert.deepEqual(v.complete("/msg b"), [["/msg bob "], "/msg b"]);
});

Deno.test("TerminalView /who against a base server says it cannot tell", () => {
  const v = view();
  v.event({ type: "negotiated", extensions: [] });
  assert.deepEqual(printed(v.line("/who", outlet())), [
    '12:34 This server does not tell who is online; "@server who" may work.',
  ]);
});

Deno.test("TerminalView marks a message to everyone where it arrives", () => {
  const v = view();
  assert.deepEqual(printed(v.event({ type: "message", from: "xyz", text: "hi", toAll: true })), [
    "12:34 xyz to everyone: hi",
  ]);
  assert.deepEqual(printed(v.event({ type: "message", from: "xyz", text: "psst" })), [
    "12:34 xyz: psst",
  ]);
});

Deno.test("TerminalView shows the connection state in the prompt when not online", () => {
  const v = view();
  const lost = v.event({
    type: "reconnecting",
    server: "h:1",
    lost: true,
    detail: "the server closed the connection",
    delayMs: 500,
  });
  assert.equal(prompt(lost), "abc [reconnecting]> ");
  assert.equal(prompt(v.event({ type: "reconnected", name: "abc", server: "h:1" })), "abc> ");
  const gone = v.event({ type: "disconnected", server: "h:1", detail: "x" });
  assert.equal(prompt(gone), "abc [offline]> ");
});

Deno.test("TerminalView wraps every line to the width with a hanging indent", () => {
  const v = view(40);
  const long = "word ".repeat(30).trim();
  const [text] = printed(v.event({ type: "message", from: "xyz", text: long }));
  const rows = text!.split("\n");
  assert.ok(rows.length > 3, text);
  for (const row of rows) assert.ok(displayWidth(row) <= 40, row);
  for (const row of rows.slice(1)) assert.match(row, /^ {11}word/);
  const status = printed(v.event({ type: "disconnected", server: "h:1", detail: "gone" }));
  for (const row of status[0]!.split("\n")) assert.ok(displayWidth(row) <= 40, row);
  const help = printed(view().line("/help", outlet()));
  for (const row of help[0]!.split("\n")) assert.ok(displayWidth(row) <= 80, row);
});

Deno.test("TerminalView colours each name its own way, the user's own distinctly", () => {
  const v = new TerminalView({ color: true, now: NOW });
  v.registered("abc", "h:1", false);
  const from = (name: string) =>
    printed(v.event({ type: "message", from: name, text: "x" }))[0]!.match(
      // deno-lint-ignore no-control-regex
      /\x1b\[([0-9;]+)m[a-z]+\x1b\[0m:/,
    )?.[1];
  assert.equal(from("xyz"), from("xyz"), "stable");
  assert.notEqual(from("xyz"), from("abc"));
  assert.equal(from("abc"), "1", "the user's own name is bold");
  const plain = view();
  assert.ok(
    !printed(plain.event({ type: "message", from: "xyz", text: "x" }))[0]!.includes("\x1b"),
  );
});

Deno.test("TerminalView.username accepts 1 to 64 letters and digits and asks again otherwise", () => {
  const v = new TerminalView({ color: false });
  assert.equal(USERNAME_QUESTION, "Enter username: ");
  assert.deepEqual(v.username("  abc "), { value: "abc" });
  assert.deepEqual(v.username("b".repeat(64)), { value: "b".repeat(64) });
  assert.deepEqual(v.username("   "), { again: true });
  assert.deepEqual(v.username("a_b"), {
    text: 'Invalid username "a_b": use 1 to 64 letters and digits (and not "ALL").',
  });
  const long = v.username("a".repeat(65));
  assert.ok("text" in long && long.text.split("\n").every((r) => r.length <= 80));
});

Deno.test("TerminalView.server reads an address and keeps the port when none is given", () => {
  const v = new TerminalView({ color: false });
  assert.equal(SERVER_QUESTION, "Enter server_IP: ");
  assert.deepEqual(v.server("10.0.0.1", 5500), { value: { host: "10.0.0.1", port: 5500 } });
  assert.deepEqual(v.server("[::1]:6000", 5500), { value: { host: "::1", port: 6000 } });
  assert.deepEqual(v.server("", 5500), { again: true });
  assert.deepEqual(v.server("bad host", 5500), {
    text: 'Invalid server "bad host": give a host name or an IP address.',
  });
});

Deno.test("TerminalView.registered says how to type and sets the prompt, coloured or not", () => {
  const plain = new TerminalView({ color: false, now: NOW }).registered("abc", "h:1", true);
  assert.equal(prompt(plain), "abc> ");
  assert.match(printed(plain)[0]!, /^12:34 Registered as abc on h:1 over TLS\. Type "@name/);
  const color = new TerminalView({ color: true, now: NOW }).registered("abc", "h:1", false);
  assert.equal(prompt(color), "\x1b[1mabc\x1b[0m> ");
});

Deno.test("TerminalView.event leaves the registration to registered()", () => {
  const v = new TerminalView({ color: false, now: NOW });
  assert.deepEqual(v.event({ type: "registered", name: "a", server: "h:1", hint: false }), []);
});

Deno.test("PipedView.line numbers the lines it cannot send", () => {
  const v = new PipedView();
  assert.deepEqual(v.line("@xyz hi"), { kind: "send", to: "xyz", text: "hi" });
  assert.deepEqual(v.line(""), { kind: "none" });
  assert.deepEqual(v.line("oops"), {
    kind: "print",
    output: {
      stream: "stderr",
      text: 'Line 3: Not sent: type "@name message", or "@ALL message" for everyone.',
    },
  });
  assert.deepEqual(v.line("/help"), {
    kind: "print",
    output: { stream: "stdout", text: CHAT_HELP },
  });
  assert.deepEqual(v.line("/clear"), { kind: "none" });
  assert.deepEqual(v.line("/msg xyz"), { kind: "none" });
  assert.deepEqual(v.line("plain"), { kind: "send", to: "xyz", text: "plain" });
  assert.deepEqual(v.line("/quit"), { kind: "quit" });
});

Deno.test("PipedView.event keeps the original's lines, with the reason when known", () => {
  const v = new PipedView();
  assert.deepEqual(v.event({ type: "message", from: "abc", text: "Hiii" }), {
    stream: "stdout",
    text: "abc: Hiii",
  });
  assert.deepEqual(v.event({ type: "sent", id: 1, to: "xyz" }), {
    stream: "stdout",
    text: "Message successfully sent to xyz",
  });
  assert.deepEqual(
    v.event({
      type: "not-delivered",
      id: 2,
      to: "xyz",
      code: 102,
      text: "Unable to send",
      reason: "offline",
    }),
    { stream: "stdout", text: "Message to xyz not delivered: xyz is not online" },
  );
  assert.equal(v.event({ type: "negotiated", extensions: ["reason"] }), null);
  assert.deepEqual(v.event({ type: "left", confirmed: true }), {
    stream: "stderr",
    text: "Left the chat.",
  });
});

Deno.test("PipedView.exitCode is 0 only when it left and everything was sent and delivered", () => {
  const clean: Tally = { notDelivered: 0, unconfirmed: 0, notSent: 0 };
  assert.equal(new PipedView().exitCode(true, clean), 0);
  assert.equal(new PipedView().exitCode(false, clean), 1);
  assert.equal(new PipedView().exitCode(true, { ...clean, notDelivered: 1 }), 1);
  assert.equal(new PipedView().exitCode(true, { ...clean, unconfirmed: 1 }), 1);
  assert.equal(new PipedView().exitCode(true, { ...clean, notSent: 1 }), 1);
  const invalid = new PipedView();
  invalid.line("not a message");
  assert.equal(invalid.exitCode(true, clean), 1);
});

Deno.test("TerminalView.input runs commands pasted together one by one", () => {
  const v = view();
  const out = outlet();
  const effects = v.input(["/msg xyz", "hello", "/who"], out);
  assert.equal(prompt(effects), "abc → xyz> ");
  assert.deepEqual(out.sent, ["xyz:hello"]);
  assert.match(printed(effects).at(-1)!, /does not tell who is online/);
});

Deno.test("TerminalView shows the online list again when the user asks @server who", () => {
  const v = view();
  v.event({ type: "negotiated", extensions: ["who"] });
  assert.equal(printed(v.event({ type: "online", names: ["abc"] })).length, 1);
  assert.deepEqual(printed(v.event({ type: "online", names: ["abc"] })), [], "not unasked");
  v.line("@server who", outlet());
  assert.deepEqual(printed(v.event({ type: "online", names: ["abc", "xyz"] })), [
    "12:34 2 online: abc, xyz",
  ]);
});
