/**
 * Tests of the server's log output: lines are batched, never block the caller, and a reader
 * that does not keep up loses counted lines rather than stalling the server.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatLogLine, LineSink, type LineWriter } from "../src/server/log.ts";

/** A writer that records what it was given, taking at most `chunk` bytes per call. */
function recorder(chunk = Infinity): LineWriter & { text(): string; calls: number } {
  const parts: Uint8Array[] = [];
  const out = {
    calls: 0,
    write(bytes: Uint8Array): Promise<number> {
      out.calls++;
      const n = Math.min(bytes.length, chunk);
      parts.push(bytes.slice(0, n));
      return Promise.resolve(n);
    },
    text: () => parts.map((p) => new TextDecoder().decode(p)).join(""),
  };
  return out;
}

Deno.test("LineSink writes the lines of one turn in one write, in order", async () => {
  const out = recorder();
  const sink = new LineSink(out);
  for (let i = 0; i < 100; i++) sink.line(`line ${i}`);
  await sink.drain();
  assert.equal(out.calls, 1);
  assert.equal(out.text(), Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(""));
});

Deno.test("LineSink finishes partial writes", async () => {
  const out = recorder(3);
  const sink = new LineSink(out);
  sink.line("abc : REGISTERED TOSEND");
  sink.line("Message successfully forwarded from abc to xyz");
  await sink.drain();
  assert.equal(
    out.text(),
    "abc : REGISTERED TOSEND\nMessage successfully forwarded from abc to xyz\n",
  );
});

Deno.test("LineSink never waits for a stuck reader and drops counted lines past its limit", async () => {
  let release!: () => void;
  const stuck = new Promise<void>((r) => release = r);
  const written: string[] = [];
  const out: LineWriter = {
    async write(bytes) {
      await stuck;
      written.push(new TextDecoder().decode(bytes));
      return bytes.length;
    },
  };
  const sink = new LineSink(out, 100);
  sink.line("first"); // taken by the first write, which hangs
  await Promise.resolve();
  await Promise.resolve();
  for (let i = 0; i < 50; i++) sink.line(`queued ${i}`); // returns at once every time
  assert.ok(sink.dropped > 0, "lines past the limit are dropped");
  const dropped = sink.dropped;
  release();
  await sink.drain();
  const text = written.join("");
  assert.match(text, /^first\n/);
  assert.ok(text.includes(`(${dropped} log lines dropped: the output did not keep up)\n`));
  assert.ok(text.includes("queued 0\n"));
  assert.ok(!text.includes("queued 49\n"));
});

Deno.test("LineSink stops writing once its output fails, without throwing", async () => {
  let calls = 0;
  const sink = new LineSink({
    write() {
      calls++;
      return Promise.reject(new Error("Broken pipe"));
    },
  });
  sink.line("one");
  await sink.drain();
  sink.line("two");
  await sink.drain();
  assert.equal(calls, 1);
});

Deno.test("formatLogLine starts a text line with the local date and time", () => {
  const at = new Date(2026, 11, 2, 9, 4, 7); // local time
  assert.equal(
    formatLogLine(
      { event: "registered", name: "abc", half: "TOSEND", remote: "1.2.3.4:5" },
      "text",
      at,
    ),
    "2026-12-02 09:04:07 abc : REGISTERED TOSEND",
  );
  assert.equal(
    formatLogLine({ event: "joined", name: "abc", remote: "::1", online: 3 }, "text", at),
    "2026-12-02 09:04:07 abc : JOINED from ::1 (3 online)",
  );
  assert.equal(
    formatLogLine({ event: "extensions", name: "abc", extensions: ["who", "to"] }, "text", at),
    "2026-12-02 09:04:07 abc : EXTENSIONS who to",
  );
  assert.equal(
    formatLogLine({ event: "extensions", name: "abc", extensions: [] }, "text", at),
    "2026-12-02 09:04:07 abc : EXTENSIONS (none)",
  );
});

Deno.test("formatLogLine writes JSON with the time first, in ISO 8601", () => {
  const at = new Date(Date.UTC(2026, 11, 2, 20, 41, 7));
  assert.equal(
    formatLogLine({ event: "joined", name: "abc", remote: "10.0.0.2", online: 1 }, "json", at),
    '{"time":"2026-12-02T20:41:07.000Z","event":"joined","name":"abc","remote":"10.0.0.2","online":1}',
  );
});
