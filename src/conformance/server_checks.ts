/**
 * The vocabulary of the server cases: unique names, canonical SENDs, what a case expects next
 * (in a loose form that lets error texts vary, and a shown form in escaped bytes), and the few
 * exchanges many cases share. Failures are {@link CaseFailure}s carrying the bytes.
 *
 * @module
 */
import { encode, type Message } from "../protocol/mod.ts";
import { CaseFailure, type Evidence } from "./case.ts";
import {
  type Addr,
  bytesOf,
  describe,
  evidenceOf,
  type TestUser,
  textOf,
  type Wire,
  type Wires,
  withWires,
} from "./wire.ts";

/** A server to check: its address, and how long to wait for one message. */
export interface ServerTarget extends Addr {
  /** Longest wait for one message, in milliseconds (the wire's default when not given). */
  waitMs?: number;
}

let counter = 0;
const runId = Math.floor(Math.random() * 1e6).toString(36);

/**
 * Unique usernames for one case (letters and digits only), in the order of `bases`, so that
 * cases can run one after the other against a long-lived server.
 */
export function names<const T extends readonly string[]>(...bases: T): { [K in keyof T]: string } {
  counter++;
  return bases.map((b) => `${b}${runId}x${counter}`) as { [K in keyof T]: string };
}

/** A SEND in canonical bytes. */
export function send(to: string, body: string | Uint8Array): Uint8Array {
  return encode({ type: "SEND", to, body: bytesOf(body) });
}

/** What a case expects next: a loose form to compare and the bytes to show. */
export interface Want {
  /** Compared with {@link loose} of what came. */
  loose: string;
  /** The expected bytes, escaped, for the report. */
  shown: string;
}

const ERROR_TEXT: Readonly<Record<number, string>> = {
  100: "Malformed username",
  101: "No user registered",
  102: "Unable to send",
  103: "Header incomplete",
  104: "Username taken",
};

/** The loose form of a message: error texts vary between servers, so only the code counts. */
export function loose(m: Message): string {
  switch (m.type) {
    case "ERROR":
      return `ERROR ${m.code}`;
    case "FORWARD":
      return `FORWARD ${m.from} ${JSON.stringify(textOf(m.body))}`;
    default:
      return describe(m);
  }
}

/** Expect `SENT to`. */
export function sent(to: string): Want {
  return { loose: `SENT ${to}`, shown: evidenceOf(`SENT ${to}\n\n`) };
}

/** Expect `ERROR code` (any text). */
export function err(code: number): Want {
  return {
    loose: `ERROR ${code}`,
    shown: evidenceOf(`ERROR ${code} ${ERROR_TEXT[code] ?? ""}\n\n`),
  };
}

/** Expect a FORWARD from `from` with `body`. */
export function fwd(from: string, body: string): Want {
  return {
    loose: `FORWARD ${from} ${JSON.stringify(body)}`,
    shown: evidenceOf(encode({ type: "FORWARD", from, body: bytesOf(body) })),
  };
}

/** Expect `REGISTERED half name`. */
export function registered(half: "TOSEND" | "TORECV", name: string): Want {
  return {
    loose: `REGISTERED ${half} ${name}`,
    shown: evidenceOf(`REGISTERED ${half} ${name}\n\n`),
  };
}

/** Expect `UNREGISTERED name`. */
export function unregistered(name: string): Want {
  return { loose: `UNREGISTERED ${name}`, shown: evidenceOf(`UNREGISTERED ${name}\n\n`) };
}

/** Throws a {@link CaseFailure} with `message` and `evidence` unless `condition` holds. */
export function check(condition: boolean, message: string, evidence: Evidence = {}): void {
  if (!condition) throw new CaseFailure(message, evidence);
}

/** Expects the next message on `w` to match `want` and returns it. */
export async function expect(w: Wire, want: Want): Promise<Message> {
  const m = await w.next(undefined, want.shown);
  if (loose(m) !== want.loose) {
    const got = evidenceOf(encode(m));
    throw new CaseFailure(`${w.label}: expected ${want.shown}, got ${got}.`, {
      ...w.sentEvidence,
      expected: want.shown,
      got,
    });
  }
  return m;
}

/** Expects the next message on `w` to be a message of `type`, and returns it. */
export async function expectType<K extends Message["type"]>(
  w: Wire,
  type: K,
): Promise<Extract<Message, { type: K }>> {
  const m = await w.next(undefined, `a ${type}`);
  if (m.type !== type) {
    const got = evidenceOf(encode(m));
    throw new CaseFailure(`${w.label}: expected a ${type}, got ${got}.`, {
      ...w.sentEvidence,
      expected: `a ${type}`,
      got,
    });
  }
  return m as Extract<Message, { type: K }>;
}

/** `from` sends `body` to `to`, which acknowledges; `from` gets SENT. */
export async function exchange(from: TestUser, to: TestUser, body: string): Promise<void> {
  await from.tosend.send(send(to.name, body));
  await expect(to.torecv, fwd(from.name, body));
  await to.torecv.send(`RECEIVED ${from.name}\n\n`);
  await expect(from.tosend, sent(to.name));
}

/**
 * Reads `count` FORWARDs on `user`'s TORECV, acknowledging each, and returns them as
 * `from:body` strings in arrival order.
 */
export async function ackAll(user: TestUser, count: number): Promise<string[]> {
  const got: string[] = [];
  for (let k = 0; k < count; k++) {
    const m = await expectType(user.torecv, "FORWARD");
    got.push(`${m.from}:${textOf(m.body)}`);
    await user.torecv.send(`RECEIVED ${m.from}\n\n`);
  }
  return got;
}

/**
 * Runs a case body with wires to `target` that end on `signal`, closing them all afterwards.
 */
export function on<R>(
  target: ServerTarget,
  signal: AbortSignal,
  body: (w: Wires) => Promise<R>,
): Promise<R> {
  return withWires(target, body, {
    signal,
    ...(target.waitMs !== undefined ? { waitMs: target.waitMs } : {}),
  });
}
