/**
 * The faces' pure views for owned names and mail for offline users (PROTOCOL.md, "Names that
 * belong to their owners, and mail for offline users"): one tick, two ticks, messages that
 * waited, receipts, and the identity sentences. The clock is fixed: Wednesday 2 December 2026,
 * 12:34 local time.
 */
import assert from "node:assert/strict";
import { type Effect, type Outlet, PipedView, TerminalView } from "./view.ts";
import { CHAT_HELP, renderEvent, stamp } from "./render.ts";
import { type DeliveryMark, MARK_WIDTH, markText, when } from "./chatlines.ts";
import { displayWidth } from "./wrap.ts";
import type { ClientEvent } from "./events.ts";

const NOW = () => new Date(2026, 11, 2, 12, 34, 56);
const at = (day: number, hours: number, minutes: number, month = 11, year = 2026) =>
  new Date(year, month, day, hours, minutes).getTime();
const SERVER = "127.0.0.1:5500";

/** An outlet that numbers the messages it is given from 1. */
function outlet(): Outlet {
  let n = 0;
  return { maxQueued: 7, reconnecting: false, full: false, send: () => ++n };
}

/** A view registered as abc, colourless, 80 columns, at 12:34. */
function view(keyFile?: (server: string, name: string) => string | undefined): TerminalView {
  const v = new TerminalView({
    color: false,
    width: 80,
    now: NOW,
    ...(keyFile ? { keyFile } : {}),
  });
  v.registered("abc", SERVER, false);
  return v;
}

/** The texts of the print effects. */
function printed(effects: Effect[]): string[] {
  return effects.flatMap((e) => e.kind === "print" ? [e.text] : []);
}

/** The mark effects, without their fallback. */
function marks(effects: Effect[]): { id: number; mark: string; keep?: boolean }[] {
  return effects.flatMap((e) =>
    e.kind === "mark" ? [{ id: e.id, mark: e.mark, ...(e.keep ? { keep: e.keep } : {}) }] : []
  );
}

Deno.test("markText gives every state the same width, so a mark is rewritten in place", () => {
  const states: DeliveryMark[] = ["pending", "stored", "delivered", "failed", "unknown"];
  for (const state of states) {
    assert.equal(displayWidth(markText(state, false)), MARK_WIDTH, state);
    assert.equal(displayWidth(markText(state, true)), MARK_WIDTH, `${state} in colour`);
  }
  assert.equal(markText("stored", false), "✓ ");
  assert.equal(markText("delivered", false), "✓✓");
  assert.equal(markText("stored", true, true), "\x1b[32m✓\x1b[0m", "bare, for a legend");
});

Deno.test("when writes the time alone today, the weekday this week, the date before", () => {
  const now = NOW();
  assert.equal(when(at(2, 9, 12), now), "09:12");
  assert.equal(when(at(1, 23, 59), now), "Tue 23:59");
  assert.equal(when(at(26, 8, 0, 10), now), "Thu 08:00", "six days ago");
  assert.equal(when(at(25, 8, 0, 10), now), "25 Nov 08:00", "a week ago");
  assert.equal(when(at(31, 18, 5, 11, 2025), now), "31 Dec 2025 18:05");
});

Deno.test("TerminalView shows one tick for a message stored for someone offline, then two", () => {
  const v = view();
  const out = outlet();
  assert.deepEqual(printed(v.line("@xyz first", out)), ["12:34 ·  abc → xyz: first"]);
  v.line("@xyz second", out);
  const stored = v.event({ type: "stored", id: 1, to: "xyz", mail: 17 });
  assert.deepEqual(marks(stored), [{ id: 1, mark: "✓ ", keep: true }]);
  assert.deepEqual(printed(stored), [
    "12:34 xyz is offline: ✓ stored for them on the server, ✓✓ once delivered.",
  ]);
  const fallback = stored[0]?.kind === "mark" ? stored[0].fallback : undefined;
  assert.equal(fallback, '12:34 ✓  Stored for xyz ("first"), who is offline.');
  const again = v.event({ type: "stored", id: 2, to: "xyz", mail: 18 });
  assert.deepEqual(marks(again), [{ id: 2, mark: "✓ ", keep: true }]);
  assert.deepEqual(printed(again), [], "told once per recipient");

  const receipt = (id: number, mail: number): ClientEvent => ({
    type: "receipt",
    mail,
    to: "xyz",
    event: "delivered",
    sentAt: at(2, 12, 30),
    id,
  });
  const first = v.event(receipt(1, 17));
  assert.deepEqual(marks(first), [{ id: 1, mark: "✓✓" }], "the same line, no longer tracked");
  assert.deepEqual(printed(first), []);
  assert.equal(
    first[0]?.kind === "mark" ? first[0].fallback : undefined,
    '12:34 ✓✓ xyz got your message ("first") of 12:30.',
  );
  assert.deepEqual(marks(v.event(receipt(2, 18))), [{ id: 2, mark: "✓✓" }]);

  // Once xyz had a message, the next stored one explains itself again.
  v.line("@xyz third", out);
  assert.equal(printed(v.event({ type: "stored", id: 3, to: "xyz", mail: 19 })).length, 1);
});

Deno.test("TerminalView goes straight to two ticks for a live delivery", () => {
  const v = view();
  v.line("@xyz hi", outlet());
  assert.deepEqual(marks(v.event({ type: "sent", id: 1, to: "xyz" })), [{ id: 1, mark: "✓✓" }]);
});

Deno.test("TerminalView says what became of a stored message that was not delivered", () => {
  const v = view();
  const out = outlet();
  for (const text of ["one", "two", "three"]) v.line(`@xyz ${text}`, out);
  for (const id of [1, 2, 3]) v.event({ type: "stored", id, to: "xyz", mail: id });
  const sentAt = at(1, 14, 2);
  const expired = v.event({ type: "receipt", mail: 1, to: "xyz", event: "expired", sentAt, id: 1 });
  assert.deepEqual(marks(expired), [{ id: 1, mark: "✗ " }]);
  assert.deepEqual(printed(expired), [
    '12:34 Your message to xyz ("one") of Tue 14:02 expired unread: it waited longer\n' +
    "      than the server keeps messages. Send it again if it still matters.",
  ]);
  const refused = v.event({ type: "receipt", mail: 2, to: "xyz", event: "refused", sentAt, id: 2 });
  assert.deepEqual(printed(refused), [
    '12:34 xyz\'s client refused your message ("two") of Tue 14:02; the server deleted\n' +
    "      it.",
  ]);
  const released = v.event({
    type: "receipt",
    mail: 3,
    to: "xyz",
    event: "released",
    sentAt,
    id: 3,
  });
  assert.match(printed(released)[0]!.replace(/\n +/g, " "), /operator released the name "xyz"/);
});

Deno.test("TerminalView gives a receipt for a message of an earlier session a line of its own", () => {
  const v = view();
  const sentAt = at(1, 14, 2);
  const receipt = (event: "delivered" | "expired" | "refused" | "released") =>
    printed(v.event({ type: "receipt", mail: 5, to: "xyz", event, sentAt }));
  assert.deepEqual(receipt("delivered"), ["12:34 ✓✓ xyz got your message of Tue 14:02."]);
  assert.deepEqual(receipt("refused"), [
    "12:34 ✗  xyz's client refused your message of Tue 14:02; the server deleted it.",
  ]);
  assert.match(receipt("expired")[0]!, /^12:34 ✗ {2}Your message to xyz of Tue 14:02 expired/);
  assert.match(receipt("released")[0]!, /^12:34 ✗ {2}Your message to xyz of Tue 14:02 was deleted/);
  // An id this view never saw (sent before a restart of the face) reads the same.
  assert.deepEqual(
    printed(v.event({ type: "receipt", mail: 6, to: "xyz", event: "delivered", sentAt, id: 9 })),
    ["12:34 ✓✓ xyz got your message of Tue 14:02."],
  );
});

Deno.test("TerminalView shows when a message that waited was sent", () => {
  const v = view();
  const message = (sentAt?: number): string[] =>
    printed(v.event({
      type: "message",
      from: "bob",
      text: "are you there?",
      ...(sentAt === undefined ? {} : { mail: 3, sentAt }),
    }));
  assert.deepEqual(message(), ["12:34 bob: are you there?"]);
  assert.deepEqual(message(at(2, 9, 12)), ["12:34 bob (sent 09:12): are you there?"]);
  assert.deepEqual(message(at(30, 9, 12, 10)), ["12:34 bob (sent Mon 09:12): are you there?"]);
  const long = printed(v.event({
    type: "message",
    from: "bob",
    text: "line one\nline two",
    mail: 4,
    sentAt: at(2, 9, 12),
  }));
  assert.deepEqual(long, ["12:34 bob (sent 09:12): line one\n                        line two"]);
});

Deno.test("TerminalView words the identity events for people, and keeps proofs quiet", () => {
  const v = view((server, name) => `~/.config/chat/identities/${server}/${name}.json`);
  const identity = (status: "created" | "claimed" | "proven" | "unclaimed") =>
    printed(v.event({ type: "identity", status, name: "abc", server: SERVER }));
  assert.deepEqual(identity("created"), []);
  assert.deepEqual(identity("proven"), []);
  assert.deepEqual(identity("claimed"), [
    '12:34 "abc" now belongs to you on 127.0.0.1:5500; your key is in\n' +
    "      ~/.config/chat/identities/127.0.0.1:5500/abc.json. Keep it safe: only it\n" +
    "      can use the name there.",
  ]);
  assert.match(
    identity("unclaimed")[0]!,
    /does not know "abc" as yours \(an earlier claim\s+did not finish.*claiming it again/s,
  );
  const failed = printed(v.event({
    type: "identity-failed",
    reason: "not-owner",
    name: "abc",
    server: SERVER,
    detail: "",
  }));
  assert.equal(failed.length, 1);
  const flat = failed[0]!.replace(/\n +/g, " ");
  assert.match(flat, /"abc" belongs to another key on 127\.0\.0\.1:5500/);
  assert.match(flat, /chat identity export/);
  assert.match(flat, /--identity FILE/);
  assert.match(flat, /chat server release abc/);
});

Deno.test("renderEvent words every identity failure with what to do", () => {
  const failure = (
    reason: Extract<ClientEvent, { type: "identity-failed" }>["reason"],
    detail = "bad signature.",
  ) =>
    renderEvent(
      { type: "identity-failed", reason, name: "abc", server: SERVER, detail },
      { color: false },
    );
  assert.match(failure("lookalike"), /^Could not claim "abc" on 127\.0\.0\.1:5500: .*next time/);
  assert.match(failure("bad-proof"), /\(bad signature\)\. Try again/);
  assert.match(
    failure("not-stored", "ERROR 102 Unable to send (not-stored)"),
    /could not store the claim of "abc" .* next time\.$/,
  );
  assert.equal(
    failure("not-stored", 'Could not save your key in "/x/k.json": read-only'),
    'Could not save your key in "/x/k.json": read-only.',
    "the client's own sentence when its key file could not be written",
  );
  assert.match(failure("no-support"), /registered without proof, and anyone may use it there/);
  const claimed = renderEvent(
    { type: "identity", status: "claimed", name: "abc", server: SERVER },
    { color: false },
  );
  assert.match(claimed, /^"abc" now belongs to you on 127\.0\.0\.1:5500; .*chat identity export/);
  const taken = renderEvent(
    { type: "name-refused", name: "abc", code: 104, text: "Username taken" },
    { color: false },
  );
  assert.match(taken, /someone online uses it, or it .* belongs to someone's key/);
});

Deno.test("PipedView writes stored mail, receipts and waited messages in one greppable form", () => {
  const v = new PipedView();
  const sentAt = at(2, 9, 12);
  assert.deepEqual(v.event({ type: "message", from: "bob", text: "hi" }), {
    stream: "stdout",
    text: "bob: hi",
  });
  assert.deepEqual(v.event({ type: "message", from: "bob", text: "hi", mail: 1, sentAt }), {
    stream: "stdout",
    text: `bob (sent ${stamp(sentAt)}): hi`,
  });
  assert.equal(stamp(sentAt), "2026-12-02 09:12");
  assert.deepEqual(v.event({ type: "stored", id: 1, to: "xyz", mail: 1 }), {
    stream: "stdout",
    text: "Message stored for xyz, who is offline: it will be delivered when they come back",
  });
  assert.deepEqual(
    v.event({ type: "receipt", mail: 1, to: "xyz", event: "delivered", sentAt, id: 1 }),
    { stream: "stdout", text: "Message delivered to xyz (stored at 2026-12-02 09:12)" },
  );
  const expired = v.event({ type: "receipt", mail: 2, to: "xyz", event: "expired", sentAt });
  assert.equal(expired?.stream, "stdout");
  assert.match(expired!.text, /^Message to xyz \(stored at 2026-12-02 09:12\) expired unread/);
  assert.equal(
    v.event({ type: "identity", status: "proven", name: "abc", server: SERVER }),
    null,
  );
  assert.equal(
    v.event({ type: "identity", status: "created", name: "abc", server: SERVER }),
    null,
  );
  const claimed = v.event({ type: "identity", status: "claimed", name: "abc", server: SERVER });
  assert.equal(claimed?.stream, "stderr");
  const keyed = new PipedView({ keyFile: () => "/tmp/k.json" });
  assert.match(
    keyed.event({ type: "identity", status: "claimed", name: "abc", server: SERVER })!.text,
    /your key is in \/tmp\/k\.json\./,
  );
});

Deno.test("CHAT_HELP explains the ticks within 80 columns", () => {
  assert.match(CHAT_HELP, /✓ stored on the server for someone offline/);
  assert.match(CHAT_HELP, /✓✓ delivered/);
  for (const line of CHAT_HELP.split("\n")) assert.ok(displayWidth(line) <= 80, line);
});

Deno.test("TerminalView.event says which mailbox limit refused a message", () => {
  const v = view();
  v.line("@xyz hi", outlet());
  const refused = (reason: string) =>
    printed(v.event({
      type: "not-delivered",
      id: 1,
      to: "xyz",
      code: 102,
      text: "Unable to send",
      reason,
    }))[0]!.replace(/\n +/g, " ");
  assert.match(refused("mailbox-full"), /xyz is offline and as many messages as the server keeps/);
  assert.match(refused("mailbox-bytes"), /xyz is offline and as many bytes as the server keeps/);
  assert.match(refused("not-stored"), /could not store it on its disk; try again later\.$/);
  const limited = printed(v.event({
    type: "not-delivered",
    id: 1,
    to: "xyz",
    code: 102,
    text: "Unable to send",
    reason: "mailbox-full",
    limit: 1000,
  }))[0]!.replace(/\n +/g, " ");
  assert.match(limited, /as many messages as the server keeps \(1000\) wait for them already/);
  const bytes = (limit: number) =>
    printed(v.event({
      type: "not-delivered",
      id: 1,
      to: "xyz",
      code: 102,
      text: "Unable to send",
      reason: "mailbox-bytes",
      limit,
    }))[0]!.replace(/\n +/g, " ");
  assert.match(bytes(16 << 20), /as many bytes as the server keeps \(16 MiB\) wait/);
  assert.match(bytes(1536), /as many bytes as the server keeps \(1\.5 KiB\) wait/);
  assert.match(bytes(500), /as many bytes as the server keeps \(500 bytes\) wait/);
});

Deno.test("TerminalView writes the tick legend the same in colour", () => {
  const v = new TerminalView({ color: true, width: 80, now: NOW });
  v.registered("abc", SERVER, false);
  v.line("@xyz hi", outlet());
  const stored = printed(v.event({ type: "stored", id: 1, to: "xyz", mail: 1 }));
  // deno-lint-ignore no-control-regex
  const plain = stored.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));
  assert.deepEqual(plain, [
    "12:34 xyz is offline: ✓ stored for them on the server, ✓✓ once delivered.",
  ]);
});
