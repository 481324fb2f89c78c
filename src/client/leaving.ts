/**
 * Leaving on purpose: UNREGISTER when the server agreed to it, else waiting for the answers
 * still owed, as a base client leaves. Uses the global `setTimeout` only (through `Watch`).
 *
 * @module
 */
import { encode } from "../protocol/mod.ts";
import type { Link } from "./link.ts";
import type { Watch } from "./watch.ts";

/**
 * How long /quit waits for what it needs before just closing: the answer to the extension probe
 * (and a claim of the name) if they have not come yet, then the server's UNREGISTERED (or, with
 * a server that did not agree to `unregister`, the answers still owed).
 */
export const LEAVE_WAIT_MS = 1000;

/** What leaving reads of its session. */
export interface LeaveHost {
  /** Says when the session's state changed. */
  watch: Watch;
  /** The user's name. */
  name: string;
  /** The extensions agreed now. */
  agreed(): ReadonlySet<string>;
  /** True once the connection closed while leaving. */
  cut(): boolean;
  /** The answer to UNREGISTER: UNREGISTERED (true), an ERROR (false), or none yet. */
  answer(): boolean | null;
}

/**
 * Says UNREGISTER on `link` if the server agreed to it (so first waits for the answer to the
 * probe, and for a claim under way), and waits for its answer; with any other server, waits for
 * the answers still owed. All within {@link LEAVE_WAIT_MS}. True if UNREGISTER was agreed.
 */
export async function unregister(link: Link, host: LeaveHost): Promise<boolean> {
  const deadline = Date.now() + LEAVE_WAIT_MS;
  const until = (done: () => boolean) =>
    host.watch.until(() => done() || host.cut(), deadline - Date.now());
  await until(() => !link.negotiating && !link.claiming);
  if (!host.agreed().has("unregister")) {
    await until(() => link.fifo.length === 0);
    return false;
  }
  if (host.cut() || link.send === null) return true;
  link.fifo.push({ kind: "unregister" });
  link.send.write(encode({ type: "UNREGISTER", name: host.name }));
  await until(() => host.answer() !== null);
  return true;
}
