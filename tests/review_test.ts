/**
 * Regression tests for bugs found in review of the server: each test failed before its fix.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatLogEvent } from "../src/server/log.ts";
import { delay } from "./wire.ts";
import { withServer } from "./harness.ts";

Deno.test("startServer counts answers held behind an unfinished one toward maxWriteQueueBytes", async () => {
  // Answers wait, in order, behind a SEND whose recipient has not acknowledged yet. Without a
  // bound, a client could pile up answers to junk (here ERROR 103 to unknown verbs) in memory
  // for as long as the acknowledgement timeout.
  await withServer({ maxWriteQueueBytes: 2048, ackTimeoutMs: 60_000 }, async (_s, w, log) => {
    const abc = await w.user("abc");
    const xyz = await w.user("xyz");
    await abc.tosend.send("SEND xyz\nContent-length: 1\n\nx");
    assert.equal((await xyz.torecv.next()).type, "FORWARD"); // and xyz never answers
    await abc.tosend.send("X\n\n".repeat(200)); // 200 answers of 29 bytes each, all held
    await abc.tosend.expectClosed();
    assert.ok(log.some((e) => e.event === "dropped" && e.name === "abc"));
    // The recipient is not affected.
    assert.equal(xyz.torecv.ended, false);
  });
});

Deno.test("startServer keeps a connection that sent UNREGISTER open until its owed answers are written", async () => {
  // PROTOCOL.md: UNREGISTER "answers after any answers it still owes on that connection". The
  // registration deadline must not cut such a connection once its user is gone.
  await withServer({ registerTimeoutMs: 100 }, async (_s, w) => {
    const abc = await w.user("abc");
    const xyz = await w.user("xyz");
    await delay(150); // past abc's registration deadline
    await abc.tosend.send("SEND xyz\nContent-length: 2\n\nhi");
    assert.equal((await xyz.torecv.next()).type, "FORWARD");
    await abc.tosend.send("UNREGISTER abc\n\n");
    await delay(300); // several sweeps (every 25 ms here)
    await xyz.torecv.send("RECEIVED abc\n\n");
    assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "xyz" });
    assert.deepEqual(await abc.tosend.next(), { type: "UNREGISTERED", name: "abc" });
    await abc.tosend.expectClosed();
  });
});

Deno.test("startServer restarts the stall deadline at each message, so a steady stream is not cut", async () => {
  // PROTOCOL.md: the stall timeout is the "time for a started message to finish arriving". A
  // client whose every write finishes one message and starts the next never leaves the decoder
  // idle at the end of a read, yet each message arrives well within the deadline.
  await withServer({ stallTimeoutMs: 500 }, async (_s, w) => {
    const abc = await w.user("abc");
    const head = "SEND nobody\nContent-length: 1\n\n";
    await abc.tosend.send(head);
    const n = 15;
    for (let i = 0; i < n; i++) {
      await delay(100);
      await abc.tosend.send("x" + head); // finishes one message, starts the next
    }
    for (let i = 0; i < n; i++) {
      assert.deepEqual(await abc.tosend.next(), {
        type: "ERROR",
        code: 102,
        text: "Unable to send",
      });
    }
    assert.equal(abc.tosend.ended, false);
  });
});

Deno.test("formatLogEvent escapes control characters that clients put in names and texts", () => {
  // A SEND's recipient, a RECEIVED's or UNREGISTER's name and an ERROR's text come from the
  // client unchecked; in the text log they must not move the cursor, clear the operator's
  // terminal or forge a line.
  const evil = "\x1b[2J\rabc : REGISTERED TOSEND\x07";
  const lines = [
    formatLogEvent({
      event: "not-delivered",
      from: "abc",
      to: evil,
      reason: `"${evil}" is not online`,
    }),
    formatLogEvent({
      event: "protocol-error",
      remote: "1.2.3.4:5",
      name: "abc",
      reason: evil,
      closed: false,
    }),
  ];
  for (const line of lines) {
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f]/, JSON.stringify(line));
    assert.match(line, /\\x1b\[2J\\x0dabc : REGISTERED TOSEND\\x07/);
  }
  // Ordinary lines are unchanged.
  assert.equal(
    formatLogEvent({ event: "forwarded", from: "abc", to: "xyz", bytes: 2 }),
    "Message successfully forwarded from abc to xyz",
  );
});
