/**
 * The client's side of owned names (PROTOCOL.md, "Owned names"): proving a connection before
 * REGISTER (CHALLENGE, then IDENTIFY), and reading the server's answers to both, before
 * REGISTER and in a claim after it. No runtime API: it runs in a browser too.
 *
 * @module
 */
import { type Half, HEADERS, isReservedName, type Message, SERVER_NAME } from "../protocol/mod.ts";
import { utf8Bytes } from "../protocol/mod.ts";
import type { ClientEvent } from "./events.ts";
import { header } from "./extensions.ts";
import { type ClientKey, identifyBody } from "./identity.ts";
import type { Link, OpenResult } from "./link.ts";

/** An `identity-failed` event. */
export type IdentityFailed = Extract<ClientEvent, { type: "identity-failed" }>;

/** The reasons of an `identity-failed` event. */
export type IdentityFailure = IdentityFailed["reason"];

/** The `SEND server` that asks for a challenge. */
export function challengeMessage(): Message & { type: "SEND" } {
  return { type: "SEND", to: SERVER_NAME, body: utf8Bytes("CHALLENGE") };
}

/** The challenge in the answer `m`, or undefined when `m` is not `SENT server` with one. */
export function readChallenge(m: Message): string | undefined {
  if (m.type !== "SENT" || !isReservedName(m.to)) return undefined;
  const challenge = header(m, HEADERS.Challenge.name);
  return challenge !== undefined && /^\S+$/.test(challenge) ? challenge : undefined;
}

/** The `SEND server` `IDENTIFY <name> <key> <signature>` that answers `challenge`. */
export async function identifyMessage(
  key: ClientKey,
  challenge: string,
  name: string,
): Promise<Message & { type: "SEND" }> {
  return {
    type: "SEND",
    to: SERVER_NAME,
    body: utf8Bytes(await identifyBody(key, challenge, name)),
  };
}

/** What an answer to IDENTIFY says. */
export type IdentifyAnswer =
  | { ok: true; identity: "owner" | "unclaimed" | "claimed" }
  | { ok: false; reason: IdentityFailure; detail: string };

const REFUSALS: ReadonlySet<string> = new Set([
  "not-owner",
  "bad-proof",
  "lookalike",
  "not-stored",
]);

/** Reads the server's answer `m` to IDENTIFY. */
export function readIdentifyAnswer(m: Message): IdentifyAnswer {
  if (m.type === "SENT" && isReservedName(m.to)) {
    const identity = header(m, HEADERS.Identity.name)?.toLowerCase();
    if (identity === "owner" || identity === "unclaimed" || identity === "claimed") {
      return { ok: true, identity };
    }
    return { ok: false, reason: "bad-proof", detail: "the server's answer said nothing of it" };
  }
  if (m.type === "ERROR") {
    const reason = header(m, HEADERS.Reason.name)?.toLowerCase() ?? "";
    const text = `ERROR ${m.code} ${m.text}${reason ? ` (${reason})` : ""}`;
    return REFUSALS.has(reason)
      ? { ok: false, reason: reason as IdentityFailure, detail: text }
      : { ok: false, reason: "bad-proof", detail: text };
  }
  return { ok: false, reason: "bad-proof", detail: `the server answered ${m.type}` };
}

/** The `identity-failed` event for `name` on `server`. */
export function identityFailed(
  server: string,
  name: string,
  reason: IdentityFailure,
  detail: string,
): IdentityFailed {
  return { type: "identity-failed", reason, name, server, detail };
}

/**
 * A failed {@link OpenResult} whose event is `event`: a name problem when the name is another
 * key's (a face that asked for the name asks for another, as after ERROR 104).
 */
function refused(event: IdentityFailed): OpenResult {
  return { ok: false, nameRefused: event.reason === "not-owner", event };
}

/**
 * Proves `half` of `link` for `name` with `key`, before its REGISTER: `owner` or `unclaimed`
 * (register it now), `no-support` (the server answered CHALLENGE as a base server does: register
 * it plainly), or the failed {@link OpenResult} that ends the attempt (the name is another
 * key's, the proof was refused, or the connection closed; closed in answer to CHALLENGE, the
 * result asks for a plain retry).
 */
export async function proveHalf(
  link: Link,
  half: Half,
  key: ClientKey,
  name: string,
): Promise<"owner" | "unclaimed" | "no-support" | OpenResult> {
  const first = await link.ask(half, challengeMessage());
  if (isResult(first)) {
    return closedByCloses(first) ? { ...first, ok: false, retryPlain: true } : first;
  }
  const challenge = readChallenge(first);
  if (challenge === undefined) return "no-support";
  const answer = await link.ask(half, await identifyMessage(key, challenge, name));
  if (isResult(answer)) return answer;
  const read = readIdentifyAnswer(answer);
  if (read.ok && read.identity !== "claimed") return read.identity;
  if (read.ok) return "owner";
  return refused(identityFailed(link.server, name, read.reason, read.detail));
}

function isResult(x: Message | OpenResult): x is OpenResult {
  return "ok" in x;
}

/** True when `result` is a registration that failed because a connection closed. */
function closedByCloses(result: OpenResult): result is OpenResult & { ok: false } {
  return !result.ok && result.event.type === "register-failed" && result.event.reason === "closed";
}
