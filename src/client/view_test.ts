/**
 * The faces' pure views, without a terminal or a session: typed lines in, effects out; events
 * in, text out.
 */
import assert from "node:assert/strict";
import {
  type Outlet,
  PipedView,
  SERVER_QUESTION,
  type Tally,
  TerminalView,
  USERNAME_QUESTION,
} from "./view.ts";
import { CHAT_HELP, queueFullHint } from "./render.ts";

/** An outlet that records what is sent and refuses once `room` messages are queued. */
function outlet(room = Infinity, reconnecting = false): Outlet & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    maxQueued: 7,
    reconnecting,
    get full() {
      return sent.length >= room;
    },
    send(to, text) {
      if (sent.length >= room) return false;
      sent.push(`${to}:${text}`);
      return true;
    },
  };
}

Deno.test("TerminalView.line sends a chat line and prints nothing", () => {
  const view = new TerminalView(false);
  const out = outlet();
  assert.deepEqual(view.line("@xyz Hiii", out), []);
  assert.deepEqual(view.line("@all hi", out), []);
  assert.deepEqual(out.sent, ["xyz:Hiii", "ALL:hi"]);
});

Deno.test("TerminalView.line prints the hint for a line it cannot send", () => {
  const view = new TerminalView(false);
  const out = outlet();
  assert.deepEqual(view.line("hello", out), [{
    kind: "print",
    text: 'Not sent: type "@name message", or "@ALL message" for everyone.',
  }]);
  assert.deepEqual(view.line("   ", out), []);
  assert.deepEqual(out.sent, []);
});

Deno.test("TerminalView.line shows the queue-full hint only when the queue is full", () => {
  const view = new TerminalView(false);
  const out = outlet(1, true);
  assert.deepEqual(view.line("@a 1", out), []);
  assert.deepEqual(view.line("@a 2", out), [{ kind: "print", text: queueFullHint(7, true) }]);
  const closed: Outlet = { send: () => false, full: false, reconnecting: false, maxQueued: 7 };
  assert.deepEqual(view.line("@a 3", closed), [], "a session that is not open says so itself");
});

Deno.test("TerminalView.line turns the slash commands into effects", () => {
  const view = new TerminalView(false);
  const out = outlet();
  assert.deepEqual(view.line("/quit", out), [{ kind: "quit" }]);
  assert.deepEqual(view.line("/exit", out), [{ kind: "quit" }]);
  assert.deepEqual(view.line("/clear", out), [{ kind: "clear" }]);
  assert.deepEqual(view.line("/help", out), [{ kind: "print", text: CHAT_HELP }]);
});

Deno.test("TerminalView.complete offers the names seen, not the user's own", () => {
  const view = new TerminalView(false);
  view.event({ type: "message", from: "bob", text: "hi" });
  view.event({ type: "sent", to: "carol" });
  view.event({ type: "sent", to: "ALL" });
  view.event({ type: "message", from: "abc", text: "me" });
  view.registered("abc", "127.0.0.1:5500", false);
  assert.deepEqual(view.complete("@"), [["@ALL ", "@bob ", "@carol "], "@"]);
  assert.deepEqual(view.complete("/q"), [["/quit "], "/q"]);
});

Deno.test("TerminalView.username accepts 1 to 64 letters and digits and asks again otherwise", () => {
  const view = new TerminalView(false);
  assert.equal(USERNAME_QUESTION, "Enter username: ");
  assert.deepEqual(view.username("  abc "), { value: "abc" });
  assert.deepEqual(view.username("b".repeat(64)), { value: "b".repeat(64) });
  assert.deepEqual(view.username("   "), { again: true });
  const long = "a".repeat(65);
  assert.deepEqual(view.username(long), {
    text: `Invalid username "${long}": use 1 to 64 letters and digits (and not "ALL").`,
  });
  assert.deepEqual(view.username("a_b"), {
    text: 'Invalid username "a_b": use 1 to 64 letters and digits (and not "ALL").',
  });
});

Deno.test("TerminalView.server reads an address and keeps the port when none is given", () => {
  const view = new TerminalView(false);
  assert.equal(SERVER_QUESTION, "Enter server_IP: ");
  assert.deepEqual(view.server("10.0.0.1", 5500), { value: { host: "10.0.0.1", port: 5500 } });
  assert.deepEqual(view.server("[::1]:6000", 5500), { value: { host: "::1", port: 6000 } });
  assert.deepEqual(view.server("", 5500), { again: true });
  assert.deepEqual(view.server("bad host", 5500), {
    text: 'Invalid server "bad host": give a host name or an IP address.',
  });
});

Deno.test("TerminalView.registered says how to type and sets the prompt, coloured or not", () => {
  const plain = new TerminalView(false).registered("abc", "127.0.0.1:5500", true);
  assert.equal(plain.prompt, "abc> ");
  assert.match(plain.text, /^Registered as abc on 127\.0\.0\.1:5500 over TLS\. Type "@name/);
  const color = new TerminalView(true).registered("abc", "127.0.0.1:5500", false);
  assert.equal(color.prompt, "\x1b[1;36mabc\x1b[0m> ");
});

Deno.test("TerminalView.sessionEvent leaves the registration to the face", () => {
  const view = new TerminalView(false);
  assert.equal(
    view.sessionEvent({ type: "registered", name: "a", server: "h:1", hint: false }),
    null,
  );
  assert.equal(view.sessionEvent({ type: "message", from: "b", text: "hi" }), "b: hi");
});

Deno.test("PipedView.line numbers the lines it cannot send", () => {
  const view = new PipedView();
  assert.deepEqual(view.line("@xyz hi"), { kind: "send", to: "xyz", text: "hi" });
  assert.deepEqual(view.line(""), { kind: "none" });
  assert.deepEqual(view.line("oops"), {
    kind: "print",
    output: {
      stream: "stderr",
      text: 'Line 3: Not sent: type "@name message", or "@ALL message" for everyone.',
    },
  });
  assert.deepEqual(view.line("/help"), {
    kind: "print",
    output: { stream: "stdout", text: CHAT_HELP },
  });
  assert.deepEqual(view.line("/clear"), { kind: "none" });
  assert.deepEqual(view.line("/quit"), { kind: "quit" });
});

Deno.test("PipedView.event sends the conversation to stdout and status to stderr", () => {
  const view = new PipedView();
  assert.deepEqual(view.event({ type: "message", from: "abc", text: "Hiii" }), {
    stream: "stdout",
    text: "abc: Hiii",
  });
  assert.deepEqual(view.event({ type: "left", confirmed: true }), {
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
