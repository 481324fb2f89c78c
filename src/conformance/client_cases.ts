/**
 * The client conformance cases: what a client of the two-socket chat protocol must do, checked
 * by a scripted server ({@link ScriptedServer}) against any client a {@link ClientTarget} runs.
 * Each case has a stable id and names the PROTOCOL.md section of its rule. The project's own
 * tests run these same cases against our client.
 *
 * @module
 */
import {
  BROADCAST,
  describeDecodeError,
  encode,
  type Half,
  type Message,
  utf8Bytes,
} from "../protocol/mod.ts";
import { type Case, CaseFailure } from "./case.ts";
import { type ClientSession, type ClientTarget, needOutput } from "./client.ts";
import type { ScriptedConn } from "./client_server.ts";
import { SCRIPTED_USERS, toBytes, waitFor } from "./client_server.ts";
import { escapeBytes } from "./report.ts";

/** The user the client under test sends to, and who sends to it. */
const PEER = SCRIPTED_USERS[0]!;
/** A second peer, so that answers to several FORWARDs can be told apart. */
const PEER2 = SCRIPTED_USERS[1]!;

/** A client that registered both halves, as a case works with it. */
interface Client {
  session: ClientSession;
  tosend: ScriptedConn;
  torecv: ScriptedConn;
  waitMs: number;
  signal: AbortSignal;
}

/** Opens a session, waits for both halves to be registered, runs `body`, always closes. */
async function withClient(
  target: ClientTarget,
  signal: AbortSignal,
  body: (c: Client) => Promise<void>,
): Promise<void> {
  const session = await target.open(signal);
  try {
    const { server } = session;
    const ready = await waitFor(
      () => server.bothHalves() ?? (session.gone() !== null ? "gone" as const : undefined),
      server.pulse,
      target.waitMs,
      signal,
    );
    if (typeof ready === "string") {
      const wrote = server.conns.map((c) => escapeBytes(c.bytes)).filter((t) => t !== "");
      const printed = session.output()?.trim().split("\n").slice(-3).join(" / ") ?? "";
      throw new CaseFailure(
        `The client did not register both halves${gone(session)}.` +
          (ready === "gone" && printed !== "" ? ` It printed: ${printed}` : ""),
        {
          expected:
            `REGISTER TOSEND ${session.user}\\n\\n and REGISTER TORECV ${session.user}\\n\\n`,
          got: wrote.length > 0 ? wrote.join(" | ") : nothingWithin(target.waitMs),
        },
      );
    }
    await body({ session, ...ready, waitMs: target.waitMs, signal });
  } finally {
    await target.close(session);
  }
}

function gone(session: ClientSession): string {
  const why = session.gone();
  return why === null ? "" : ` (${why.replace(/\.$/, "")})`;
}

function nothingWithin(ms: number): string {
  return `nothing within ${ms} ms`;
}

/** What the client wrote on `conn` since byte `mark`, escaped, or "nothing within...". */
function since(conn: ScriptedConn, mark: number, ms: number): string {
  return conn.bytes.length > mark ? escapeBytes(conn.bytes.subarray(mark)) : nothingWithin(ms);
}

/**
 * Waits for the client's next message on `conn` and checks it with `ok`; fails with what was
 * expected and what came (bytes escaped) otherwise.
 */
async function expectMessage(
  c: Client,
  conn: ScriptedConn,
  expected: string,
  ok: (m: Message) => boolean,
  sent?: string,
): Promise<Message> {
  const mark = conn.bytes.length;
  const started = Date.now();
  const half = conn === c.tosend ? "TOSEND" : "TORECV";
  const e = await waitFor(
    () => conn.take() ?? (conn.closed || c.session.gone() !== null ? "gone" as const : undefined),
    c.session.server.pulse,
    c.waitMs,
    c.signal,
  );
  const evidence = { expected, ...(sent !== undefined ? { sent } : {}) };
  const waited = Math.round(Date.now() - started);
  if (typeof e === "string") {
    const what = e === "gone" ? `the client left instead${gone(c.session)}` : "nothing came";
    throw new CaseFailure(
      `Expected ${shortName(expected)} on the ${half} connection, but ${what}.`,
      { ...evidence, got: since(conn, mark, waited) },
    );
  }
  if (e.kind === "error") {
    throw new CaseFailure(
      `The client wrote ${describeDecodeError(e.error)} on the ${half} connection.`,
      { ...evidence, got: since(conn, mark, waited) },
    );
  }
  if (!ok(e.message)) {
    throw new CaseFailure(
      `Expected ${shortName(expected)} on the ${half} connection, but got something else.`,
      { ...evidence, got: since(conn, mark, waited) },
    );
  }
  return e.message;
}

/** The first line of an escaped message, for sentences. */
function shortName(expected: string): string {
  return expected.split("\\n")[0] ?? expected;
}

/** Types a message into the client and waits for its SEND; returns the SEND. */
async function expectSend(c: Client, to: string, text: string): Promise<Message> {
  await c.session.type(to, text);
  const body = utf8Bytes(text);
  const expected = escapeBytes(encode({ type: "SEND", to, body }));
  const sent = `(typed) ${JSON.stringify(text)} to ${to}`;
  const mark = c.tosend.bytes.length;
  const m = await expectMessage(c, c.tosend, expected, (m) => m.type === "SEND", sent);
  if (m.type !== "SEND") return m; // expectMessage checked it
  const evidence = { sent, expected, got: escapeBytes(c.tosend.bytes.subarray(mark)) };
  if (m.to !== to) {
    throw new CaseFailure(`The client's SEND names "${m.to}", not "${to}".`, evidence);
  }
  if (m.body.length !== body.length) {
    throw new CaseFailure(
      `The SEND's Content-length is ${m.body.length}, but the text is ${body.length} bytes ` +
        "in UTF-8 (Content-length counts bytes, not characters).",
      evidence,
    );
  }
  if (!sameBytes(m.body, body)) {
    throw new CaseFailure("The SEND's body is not the text typed, in UTF-8.", evidence);
  }
  return m;
}

/** Writes a FORWARD (however `how` says) and waits for its RECEIVED. */
async function forwardAndExpectReceived(
  c: Client,
  from: string,
  text: string,
): Promise<void> {
  const forward = toBytes([{ type: "FORWARD", from, body: utf8Bytes(text) }]);
  await c.torecv.write(forward);
  await expectReceived(c, from, escapeBytes(forward));
}

async function expectReceived(c: Client, from: string, sent: string): Promise<void> {
  await expectMessage(
    c,
    c.torecv,
    `RECEIVED ${from}\\n\\n`,
    (m) => m.type === "RECEIVED" && m.from === from,
    sent,
  );
}

/** True if `part` occurs in `all`. */
function contains(all: Uint8Array, part: Uint8Array): boolean {
  for (let i = 0; i + part.length <= all.length; i++) {
    if (sameBytes(all.subarray(i, i + part.length), part)) return true;
  }
  return false;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Answers the client's SEND with `answer`, then checks that it keeps working: a later message
 * still goes out (and is answered SENT), and a FORWARD after it still gets its RECEIVED.
 */
async function answerThenKeepsWorking(c: Client, answer: string): Promise<void> {
  await expectSend(c, PEER, "first message");
  await c.tosend.write(answer);
  await expectSend(c, PEER, "second message");
  await c.tosend.write([{ type: "SENT", to: PEER }]);
  await forwardAndExpectReceived(c, PEER, "still there?");
}

/** A case over a registered client: `body` is the whole script. */
function clientCase(
  id: string,
  title: string,
  rule: string,
  body: (c: Client) => Promise<void>,
): Case<ClientTarget> {
  return {
    id,
    title,
    rule,
    run: (target, signal) => withClient(target, signal, body),
  };
}

/** Checks the REGISTERs: one per half, the same well-formed name, each half on its connection. */
async function checkRegistration(c: Client): Promise<void> {
  const { registrations } = c.session.server;
  const user = c.session.user;
  const expected = `REGISTER TOSEND ${user}\\n\\n and REGISTER TORECV ${user}\\n\\n`;
  const got = registrations.map((r) => `REGISTER ${r.half} ${r.name}\\n\\n`).join(" and ");
  for (const half of ["TOSEND", "TORECV"] as Half[]) {
    const mine = registrations.filter((r) => r.half === half);
    if (mine.length !== 1) {
      throw new CaseFailure(`The client registered ${half} ${mine.length} times.`, {
        expected,
        got,
      });
    }
    if (mine[0]!.name !== user) {
      throw new CaseFailure(`The client registered ${half} as "${mine[0]!.name}", not "${user}".`, {
        expected,
        got,
      });
    }
  }
  await Promise.resolve();
}

/** Checks that a SEND's bytes are exactly canonical. */
async function checkCanonicalSend(c: Client): Promise<void> {
  const text = "canonical check";
  const expected = encode({ type: "SEND", to: PEER, body: utf8Bytes(text) });
  const mark = c.tosend.bytes.length;
  await expectSend(c, PEER, text);
  // The SEND's exact bytes, wherever they start (a probe to a name nobody has may come first).
  if (!contains(c.tosend.bytes.subarray(mark), expected)) {
    throw new CaseFailure("The client's SEND is readable but not in the canonical form.", {
      sent: `(typed) ${JSON.stringify(text)} to ${PEER}`,
      expected: escapeBytes(expected),
      got: escapeBytes(c.tosend.bytes.subarray(mark)),
    });
  }
  await c.tosend.write([{ type: "SENT", to: PEER }]);
}

/** Writes a FORWARD and waits for the client to show its text. */
async function checkShown(c: Client): Promise<void> {
  needOutput(c.session);
  const text = "conformance says hello";
  await forwardAndExpectReceived(c, PEER, text);
  const shown = await waitFor(
    () => needOutput(c.session).includes(text) ? true : undefined,
    c.session.server.pulse,
    c.waitMs,
    c.signal,
  );
  if (shown !== true) {
    throw new CaseFailure(`The client did not show the message "${text}" from ${PEER}.`, {
      sent: escapeBytes(toBytes([{ type: "FORWARD", from: PEER, body: utf8Bytes(text) }])),
      expected: `output containing "${text}"`,
      got: escapeBytes(needOutput(c.session).slice(-300)) || "no output",
    });
  }
}

/** What a client may send a base-protocol server: these verbs, with no header line but Content-length. */
const BASE_VERBS: ReadonlySet<string> = new Set(["REGISTER", "SEND", "RECEIVED"]);

/**
 * Sends, broadcasts and receives, then checks that everything the client wrote on any connection
 * is base protocol (PROTOCOL.md, "Extension registry"): REGISTER, SEND and RECEIVED only, with
 * no other header line, and a SEND to a name nobody has (an extension probe) one line long.
 */
async function checkBaseOnly(c: Client): Promise<void> {
  await expectSend(c, PEER, "plain");
  await c.tosend.write([{ type: "SENT", to: PEER }]);
  await forwardAndExpectReceived(c, PEER, "plain too");
  await expectSend(c, BROADCAST, "to everyone");
  await c.tosend.write([{ type: "SENT", to: BROADCAST }]);
  await forwardAndExpectReceived(c, PEER2, "the last one");
  for (const conn of c.session.server.conns) {
    for (const e of conn.events) {
      const got = escapeBytes(conn.bytes);
      if (e.kind === "error") {
        throw new CaseFailure(`The client wrote ${describeDecodeError(e.error)}.`, {
          expected: "REGISTER, SEND and RECEIVED only",
          got,
        });
      }
      const m = e.message;
      const line = escapeBytes(encode({ ...m, headers: [] })).split("\n")[0];
      if (!BASE_VERBS.has(m.type)) {
        throw new CaseFailure(`The client sent ${line} to a base-protocol server.`, {
          expected: "REGISTER, SEND and RECEIVED only",
          got,
        });
      }
      if (m.headers !== undefined) {
        const [name, value] = m.headers[0]!;
        throw new CaseFailure(
          `The client sent the header line "${name}: ${value}" to a base-protocol server.`,
          { expected: "no header line but Content-length", got },
        );
      }
    }
  }
  for (const m of c.session.server.unknownSends) {
    if (m.body.includes(0x0a)) {
      throw new CaseFailure(
        `The client sent a message of several lines to "${m.to}", a name nobody has.`,
        { expected: "a one-line body (base servers answer ERROR 102)", got: escapeBytes(m.body) },
      );
    }
  }
}

/** Every client case, in the order they run. */
export const CLIENT_CASES: readonly Case<ClientTarget>[] = [
  clientCase(
    "register-both-halves",
    "Registers both halves with a well-formed REGISTER each (either order)",
    "Registration",
    checkRegistration,
  ),
  clientCase(
    "send-framing",
    "Frames a SEND with its Content-length and body",
    "Framing",
    async (c) => {
      await expectSend(c, PEER, "hello");
      await c.tosend.write([{ type: "SENT", to: PEER }]);
    },
  ),
  clientCase(
    "send-utf8-length",
    "Counts Content-length in bytes for a multi-byte UTF-8 body",
    "Framing",
    async (c) => {
      await expectSend(c, PEER, "héllo wörld 👋");
      await c.tosend.write([{ type: "SENT", to: PEER }]);
    },
  ),
  clientCase(
    "send-canonical",
    "Writes a SEND in the canonical form, byte for byte",
    "What we accept and what we write",
    checkCanonicalSend,
  ),
  clientCase(
    "forward-received",
    "Answers a FORWARD with RECEIVED and the sender's name",
    "Sending a message",
    (c) => forwardAndExpectReceived(c, PEER, "Hiii"),
  ),
  clientCase(
    "forward-split",
    "Answers a FORWARD that arrives one byte at a time",
    "Framing",
    async (c) => {
      const forward = toBytes([{ type: "FORWARD", from: PEER, body: utf8Bytes("split 👋 up") }]);
      await c.torecv.write(forward, "bytes");
      await expectReceived(c, PEER, `${escapeBytes(forward)} (one byte per write)`);
    },
  ),
  clientCase(
    "forward-coalesced",
    "Answers each of several FORWARDs that arrive in one packet",
    "Framing",
    async (c) => {
      const messages: Message[] = [
        { type: "FORWARD", from: PEER, body: utf8Bytes("one") },
        { type: "FORWARD", from: PEER2, body: utf8Bytes("two\nlines") },
        { type: "FORWARD", from: PEER, body: utf8Bytes("three") },
      ];
      const sent = `${escapeBytes(toBytes(messages))} (one write)`;
      await c.torecv.write(messages);
      for (const m of messages) await expectReceived(c, m.type === "FORWARD" ? m.from : "", sent);
    },
  ),
  clientCase(
    "forward-shown",
    "Shows a message it receives",
    "Sending a message",
    checkShown,
  ),
  clientCase(
    "sent-keeps-working",
    "Takes SENT as the answer and goes on sending and receiving",
    "Sending a message",
    (c) => answerThenKeepsWorking(c, `SENT ${PEER}\n\n`),
  ),
  clientCase(
    "send-typo-as-sent",
    'Reads the "SEND name" typo as SENT and goes on',
    "What we accept and what we write",
    (c) => answerThenKeepsWorking(c, `SEND ${PEER}\n\n`),
  ),
  clientCase(
    "error-102-keeps-working",
    "Takes ERROR 102 as a failed message and goes on",
    "Sending a message",
    (c) => answerThenKeepsWorking(c, "ERROR 102 Unable to send\n\n"),
  ),
  clientCase(
    "error-103-keeps-working",
    "Takes ERROR 103 as a failed message and goes on",
    "Sending a message",
    (c) => answerThenKeepsWorking(c, "ERROR 103 Header incomplete\n\n"),
  ),
  clientCase(
    "base-protocol-only",
    "Sends a base server nothing but base protocol",
    "Extension registry",
    checkBaseOnly,
  ),
];
