/**
 * The graceful stop as the end-to-end tests see it: a message in flight when the server is told
 * to stop, and what the server does with it and with new messages while it drains. Shared by
 * the server's stop tests (SIGINT, Ctrl-C in a terminal, `ChatServer.close`).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TestUser } from "./wire.ts";

/** Registers abc and xyz and leaves one message from abc in flight: xyz has it, unacknowledged. */
export async function messageInFlight(
  w: { user(name: string): Promise<TestUser> },
): Promise<{ abc: TestUser; xyz: TestUser }> {
  const abc = await w.user("abc");
  const xyz = await w.user("xyz");
  await abc.tosend.send("SEND xyz\nContent-length: 2\n\nhi");
  assert.equal((await xyz.torecv.next()).type, "FORWARD");
  return { abc, xyz };
}

/**
 * While the server drains: a new message from xyz is refused (ERROR 102), and the message in
 * flight still goes through once xyz acknowledges it (abc gets its SENT).
 */
export async function drainRefusesNewFinishesInFlight(abc: TestUser, xyz: TestUser): Promise<void> {
  await xyz.tosend.send("SEND abc\nContent-length: 2\n\nno");
  assert.deepEqual(await xyz.tosend.next(), { type: "ERROR", code: 102, text: "Unable to send" });
  await xyz.torecv.send("RECEIVED abc\n\n");
  assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "xyz" });
}
