/**
 * Unit tests of the protocol core: the canonical encoder, the incremental Decoder (framing,
 * chunking, tolerance, limits, garbage) and name validation.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  bodyText,
  type DecodeEvent,
  Decoder,
  type DecoderOptions,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  encode,
  ERROR_TEXT,
  ErrorCode,
  errorMessage,
  isValidName,
  MAX_NAME_LENGTH,
  type Message,
  utf8Bytes,
} from "../src/protocol/mod.ts";
import { concat } from "./wire.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

const te = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** Decodes `stream` fed in the given chunks (whole when none) with a fresh decoder. */
function decode(
  stream: Uint8Array,
  options: DecoderOptions = {},
  cuts: number[] = [],
): DecodeEvent[] {
  const d = new Decoder(options);
  const out: DecodeEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    d.feed(stream.subarray(from, cut), (e) => out.push(e));
    from = cut;
  }
  return out;
}

/** One line per event, bodies in hex: a fast, readable form to compare event lists. */
function show(events: DecodeEvent[]): string {
  return events.map((e) => {
    if (e.kind === "error") return "error " + JSON.stringify(e.error);
    const m = e.message;
    if (m.type === "SEND" || m.type === "FORWARD") {
      const { body, ...rest } = m;
      return JSON.stringify(rest) + " body=" + Array.from(body, (b) => b.toString(16)).join(",");
    }
    return JSON.stringify(m);
  }).join("\n");
}

/** The events of decoding these messages: each as a message event. */
function asEvents(messages: Message[]): DecodeEvent[] {
  return messages.map((message) => ({ kind: "message", message }));
}

/**
 * Asserts that every way of cutting `stream` at one and at two points, and byte by byte, decodes
 * to `expected`. Returns the number of chunkings checked.
 */
function assertEverySplit(
  stream: Uint8Array,
  expected: DecodeEvent[],
  options: DecoderOptions = {},
): number {
  const want = show(expected);
  assert.equal(show(decode(stream, options)), want, "whole stream");
  const n = stream.length;
  let checked = 1;
  for (let i = 0; i <= n; i++) {
    assert.equal(show(decode(stream, options, [i])), want, `cut at ${i}`);
    checked++;
    for (let j = i; j <= n; j++) {
      const got = show(decode(stream, options, [i, j]));
      if (got !== want) assert.equal(got, want, `cuts at ${i} and ${j}`);
      checked++;
    }
  }
  const each = Array.from({ length: n }, (_, k) => k + 1);
  assert.equal(show(decode(stream, options, each)), want, "one byte at a time");
  return checked + 1;
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in [lo, hi]. */
function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** A pseudo-random element of `xs`, which must not be empty. */
function pickFrom<T>(rand: () => number, xs: readonly T[]): T {
  const x = xs[int(rand, 0, xs.length - 1)];
  if (x === undefined) throw new Error("Cannot pick from an empty list");
  return x;
}

// ---------------------------------------------------------------------------------------------
// Canonical bytes

/** Every message type with its canonical bytes. */
const CANONICAL: [Message, string][] = [
  [{ type: "REGISTER", half: "TOSEND", name: "alice" }, "REGISTER TOSEND alice\n\n"],
  [{ type: "REGISTER", half: "TORECV", name: "alice" }, "REGISTER TORECV alice\n\n"],
  [{ type: "REGISTERED", half: "TOSEND", name: "bob" }, "REGISTERED TOSEND bob\n\n"],
  [{ type: "REGISTERED", half: "TORECV", name: "bob" }, "REGISTERED TORECV bob\n\n"],
  [{ type: "SEND", to: "bob", body: utf8Bytes("hello") }, "SEND bob\nContent-length: 5\n\nhello"],
  [{ type: "SEND", to: "ALL", body: utf8Bytes("hi all") }, "SEND ALL\nContent-length: 6\n\nhi all"],
  [{ type: "SEND", to: "bob", body: new Uint8Array(0) }, "SEND bob\nContent-length: 0\n\n"],
  [{ type: "SENT", to: "bob" }, "SENT bob\n\n"],
  [{ type: "SENT", to: "ALL" }, "SENT ALL\n\n"],
  [
    { type: "FORWARD", from: "alice", body: utf8Bytes("a\n\nb") },
    "FORWARD alice\nContent-length: 4\n\na\n\nb",
  ],
  [{ type: "RECEIVED", from: "alice" }, "RECEIVED alice\n\n"],
  [errorMessage(100), "ERROR 100 Malformed username\n\n"],
  [errorMessage(101), "ERROR 101 No user registered\n\n"],
  [errorMessage(102), "ERROR 102 Unable to send\n\n"],
  [errorMessage(103), "ERROR 103 Header incomplete\n\n"],
  [errorMessage(104), "ERROR 104 Username taken\n\n"],
  [errorMessage(105), "ERROR 105 Too many connections\n\n"],
  [errorMessage(106), "ERROR 106 Rate limit exceeded\n\n"],
  [{ type: "UNREGISTER", name: "alice" }, "UNREGISTER alice\n\n"],
  [{ type: "UNREGISTERED", name: "alice" }, "UNREGISTERED alice\n\n"],
];

Deno.test("encode writes exactly the canonical bytes of every message type", () => {
  for (const [message, text] of CANONICAL) {
    assert.deepEqual(encode(message), te.encode(text), JSON.stringify(text));
  }
});

Deno.test("Decoder decodes the canonical bytes of every message type", () => {
  for (const [message, text] of CANONICAL) {
    assert.deepEqual(new Decoder().push(te.encode(text)), asEvents([message]), text);
  }
});

Deno.test("encode and Decoder round-trip every message type, bodies of any bytes", () => {
  const everyByte = Uint8Array.from({ length: 256 }, (_, k) => k);
  const messages: Message[] = [
    ...CANONICAL.map(([m]) => m),
    { type: "SEND", to: "x", body: everyByte },
    { type: "FORWARD", from: "y", body: everyByte },
    { type: "FORWARD", from: "y", body: utf8Bytes("\n\n\r\n SEND z\nContent-length: 1\n\nq") },
    { type: "ERROR", code: 999, text: "Something else entirely" },
  ];
  for (const m of messages) {
    assert.deepEqual(new Decoder().push(encode(m)), asEvents([m]), JSON.stringify(m));
  }
  // And all of them in one stream.
  assert.deepEqual(new Decoder().push(concat(...messages.map(encode))), asEvents(messages));
});

Deno.test("errorMessage gives each code its canonical text", () => {
  for (const code of Object.values(ErrorCode)) {
    assert.deepEqual(errorMessage(code), { type: "ERROR", code, text: ERROR_TEXT[code] });
  }
  assert.deepEqual(errorMessage(999), { type: "ERROR", code: 999, text: "Error" });
});

// ---------------------------------------------------------------------------------------------
// Chunking

Deno.test("Decoder.feed yields the same messages for every split of the stream", () => {
  const messages: Message[] = [
    { type: "REGISTER", half: "TOSEND", name: "abc" },
    { type: "SEND", to: "xyz", body: utf8Bytes("h\u00e9\u{1F600}\n\nx") },
    { type: "ERROR", code: 102, text: "Unable to send" },
    { type: "FORWARD", from: "q", body: new Uint8Array(0) },
    { type: "SENT", to: "xyz" },
  ];
  const stream = concat(...messages.map(encode));
  const checked = assertEverySplit(stream, asEvents(messages));
  assert.ok(checked > stream.length * stream.length / 2);
});

Deno.test("Decoder.feed yields the same events for every split of a tolerant, erroneous stream", () => {
  // CRLF, stray blank lines, odd header case, a skipped oversized body, an unknown verb.
  const stream = concat(
    "\r\nREGISTER TORECV abc \r\n \r\n",
    "SEND xyz\r\ncontent-LENGTH: 3\t\r\n\r\n\u00e9!",
    "\n",
    "SEND big\nContent-length: 12\n\nSENT fake\n\n!",
    "HELLO there\n\n",
    "RECEIVED xyz\n\n",
  );
  const expected: DecodeEvent[] = [
    { kind: "message", message: { type: "REGISTER", half: "TORECV", name: "abc" } },
    { kind: "message", message: { type: "SEND", to: "xyz", body: utf8Bytes("\u00e9!") } },
    {
      kind: "error",
      error: {
        code: "body-too-large",
        verb: "SEND",
        name: "big",
        length: 12,
        limit: 8,
        fatal: false,
      },
    },
    { kind: "error", error: { code: "unknown-verb", line: "HELLO there", fatal: false } },
    { kind: "message", message: { type: "RECEIVED", from: "xyz" } },
  ];
  assertEverySplit(stream, expected, { maxBodyBytes: 8 });
});

/** Random messages whose bodies hold newlines, blank lines, fake headers and split UTF-8. */
function randomMessages(rand: () => number, count: number): Message[] {
  const pieces = [
    "a",
    "hello ",
    "\n",
    "\n\n",
    "\r\n",
    " \n \n",
    "\u00e9",
    "\u{1F600}",
    "\u65e5\u672c",
    "SEND x\nContent-length: 3\n\n",
    "\u0000",
  ];
  const name = () =>
    Array.from(
      { length: int(rand, 1, 12) },
      () => "abcXYZ0123456789"[int(rand, 0, 15)],
    ).join("");
  const body = (): Uint8Array => {
    if (rand() < 0.1) {
      return Uint8Array.from({ length: int(rand, 0, 300) }, () => int(rand, 0, 255));
    }
    const parts: string[] = [];
    const n = rand() < 0.1 ? 0 : int(rand, 1, 30);
    for (let k = 0; k < n; k++) parts.push(pickFrom(rand, pieces));
    return utf8Bytes(parts.join(""));
  };
  const out: Message[] = [];
  for (let k = 0; k < count; k++) {
    const half = rand() < 0.5 ? "TOSEND" : "TORECV";
    out.push(
      pickFrom(rand, [
        () => ({ type: "SEND", to: name(), body: body() }) as Message,
        () => ({ type: "FORWARD", from: name(), body: body() }) as Message,
        () => ({ type: "SEND", to: "ALL", body: body() }) as Message,
        () => ({ type: "REGISTER", half, name: name() }) as Message,
        () => ({ type: "REGISTERED", half, name: name() }) as Message,
        () => ({ type: "SENT", to: name() }) as Message,
        () => ({ type: "RECEIVED", from: name() }) as Message,
        () => errorMessage(100 + int(rand, 0, 6)),
        () => ({ type: "UNREGISTER", name: name() }) as Message,
        () => ({ type: "UNREGISTERED", name: name() }) as Message,
      ])(),
    );
  }
  return out;
}

Deno.test("Decoder.feed yields the same messages for random chunkings of a large stream", () => {
  const rand = prng(20240611);
  const messages = randomMessages(rand, 600);
  const stream = concat(...messages.map(encode));
  const want = show(asEvents(messages));
  assert.equal(show(decode(stream)), want, "whole stream");
  // Chunk sizes from tiny (splitting every UTF-8 sequence somewhere) to large.
  const scratch = new Uint8Array(8192);
  for (const maxChunk of [1, 2, 3, 7, 16, 64, 333, 1500, 8192]) {
    for (let round = 0; round < 3; round++) {
      const d = new Decoder();
      const got: DecodeEvent[] = [];
      let off = 0;
      while (off < stream.length) {
        const size = Math.min(int(rand, 1, maxChunk), stream.length - off);
        // The caller may reuse its buffer after feed returns: bodies must have been copied.
        scratch.set(stream.subarray(off, off + size));
        d.feed(scratch.subarray(0, size), (e) => got.push(e));
        scratch.fill(0xAA);
        off += size;
      }
      assert.equal(show(got), want, `chunks of 1..${maxChunk}, round ${round}`);
      assert.ok(d.idle);
    }
  }
});

Deno.test("Decoder.idle is false only while a message is partly received", () => {
  const d = new Decoder();
  assert.ok(d.idle);
  d.push(te.encode("SEND bob\nContent"));
  assert.ok(!d.idle);
  d.push(te.encode("-length: 3\n\nab"));
  assert.ok(!d.idle);
  assert.equal(d.push(te.encode("c")).length, 1);
  assert.ok(d.idle);
  assert.ok(!d.dead);
});

// ---------------------------------------------------------------------------------------------
// Content-length and bodies

Deno.test("encode counts Content-length in bytes, not characters", () => {
  const text = "h\u00e9llo \u{1F600}"; // 7 characters, 11 bytes
  assert.equal(text.length, 8); // UTF-16 units: another wrong count
  const out = encode({ type: "SEND", to: "bob", body: utf8Bytes(text) });
  assert.deepEqual(out, te.encode(`SEND bob\nContent-length: 11\n\n${text}`));
  const [e] = new Decoder().push(out);
  assert.ok(e?.kind === "message" && e.message.type === "SEND");
  assert.equal(bodyText(e.message.body), text);
});

Deno.test("Decoder takes exactly Content-length bytes even when a client counted characters", () => {
  // A client that counts characters says 7 for "h\u00e9llo \u{1F600}" (11 bytes): the body
  // is cut after 7 bytes and the rest is read as the start of the next message.
  const d = new Decoder();
  const events = d.push(te.encode("SEND bob\nContent-length: 7\n\nh\u00e9llo \u{1F600}"));
  assert.equal(events.length, 1);
  const e = events[0];
  assert.ok(e?.kind === "message" && e.message.type === "SEND");
  assert.deepEqual(e.message.body, te.encode("h\u00e9llo ").subarray(0, 7));
  assert.ok(!d.idle); // the emoji's bytes wait for a line end
  const next = d.push(te.encode("\n\n"));
  assert.equal(next.length, 1);
  assert.equal(next[0]?.kind, "error");
});

Deno.test("Decoder reads bodies holding newlines, blank lines and message-like text", () => {
  const body = "line 1\n\nline 3\r\n\r\nSEND x\nContent-length: 2\n\nhi\n";
  const events = new Decoder().push(
    concat(`FORWARD abc\nContent-length: ${te.encode(body).length}\n\n${body}`, "SENT y\n\n"),
  );
  assert.deepEqual(
    events,
    asEvents([
      { type: "FORWARD", from: "abc", body: te.encode(body) },
      { type: "SENT", to: "y" },
    ]),
  );
});

Deno.test("Decoder reads an empty body (Content-length: 0) and the message after it", () => {
  assert.deepEqual(
    new Decoder().push(
      te.encode("SEND bob\nContent-length: 0\n\nSEND bob\nContent-length: 1\n\nx"),
    ),
    asEvents([
      { type: "SEND", to: "bob", body: new Uint8Array(0) },
      { type: "SEND", to: "bob", body: te.encode("x") },
    ]),
  );
});

// ---------------------------------------------------------------------------------------------
// Tolerance

Deno.test("Decoder accepts CRLF line ends", () => {
  assert.deepEqual(
    new Decoder().push(te.encode(
      "REGISTER TOSEND alice\r\n\r\nSEND bob\r\nContent-length: 5\r\n\r\nhelloRECEIVED bob\r\n\r\n",
    )),
    asEvents([
      { type: "REGISTER", half: "TOSEND", name: "alice" },
      { type: "SEND", to: "bob", body: te.encode("hello") },
      { type: "RECEIVED", from: "bob" },
    ]),
  );
});

Deno.test("Decoder accepts Content-length in any letter case and keeps other headers", () => {
  for (const header of ["Content-length", "Content-Length", "content-LENGTH", "CONTENT-LENGTH"]) {
    assert.deepEqual(
      new Decoder().push(te.encode(`SEND bob\nX-Client: mine\n${header}: 2\n\nhi`)),
      asEvents([{
        type: "SEND",
        to: "bob",
        body: te.encode("hi"),
        headers: [["X-Client", "mine"]],
      }]),
      header,
    );
  }
  // No space after the colon, spaces around it.
  for (const line of ["Content-length:2", "Content-length :  2 "]) {
    assert.deepEqual(
      new Decoder().push(te.encode(`SEND bob\n${line}\n\nhi`)),
      asEvents([{ type: "SEND", to: "bob", body: te.encode("hi") }]),
      line,
    );
  }
});

Deno.test('Decoder accepts trailing spaces and tabs on lines and the typeset " \\n \\n" form', () => {
  assert.deepEqual(
    new Decoder().push(te.encode(
      "REGISTER TOSEND alice \n \n" +
        "SEND bob\t \nContent-length: 2 \t\n\t\nhi" +
        "RECEIVED bob \r\n \r\n",
    )),
    asEvents([
      { type: "REGISTER", half: "TOSEND", name: "alice" },
      { type: "SEND", to: "bob", body: te.encode("hi") },
      { type: "RECEIVED", from: "bob" },
    ]),
  );
});

Deno.test("Decoder skips stray blank lines between messages, however many", () => {
  const d = new Decoder({ maxHeaderBytes: 64 });
  assert.deepEqual(
    d.push(te.encode("\n\n\r\n \n\tSENT a\n\n\n")),
    asEvents([{ type: "SENT", to: "a" }]),
  );
  // Far more blank lines than the header limit: they are not a header.
  assert.deepEqual(
    d.push(te.encode("\n".repeat(10_000) + "SENT b\n\n")),
    asEvents([{ type: "SENT", to: "b" }]),
  );
  assert.ok(d.idle && !d.dead);
});

Deno.test("Decoder with from server reads a bare SEND without body as SENT", () => {
  const fromServer = new Decoder({ from: "server" });
  assert.deepEqual(
    fromServer.push(te.encode("SEND bob\n\nSEND bob\nContent-length: 1\n\nx")),
    asEvents([
      { type: "SENT", to: "bob" },
      { type: "SEND", to: "bob", body: te.encode("x") },
    ]),
  );
  // From a client the same bytes are a SEND without Content-length: fatal.
  const fromClient = new Decoder();
  const [e] = fromClient.push(te.encode("SEND bob\n\n"));
  assert.ok(e?.kind === "error" && e.error.code === "malformed" && e.error.fatal);
  assert.ok(fromClient.dead);
});

// ---------------------------------------------------------------------------------------------
// Limits and errors

Deno.test("Decoder reports header-too-large, fatally, at the first byte over the limit without a newline", () => {
  const limit = 100;
  const d = new Decoder({ maxHeaderBytes: limit });
  // Exactly the limit buffers; one byte more is refused, so buffering never exceeds the limit.
  for (let k = 0; k < limit; k++) assert.deepEqual(d.push(te.encode("A")), []);
  assert.deepEqual(d.push(te.encode("A")), [
    { kind: "error", error: { code: "header-too-large", limit, fatal: true } },
  ]);
  assert.ok(d.dead);
  // Dead: everything after is ignored, whatever its size.
  assert.deepEqual(d.push(new Uint8Array(1 << 20).fill(65)), []);
  assert.deepEqual(d.push(te.encode("\n\nSENT a\n\n")), []);
});

Deno.test("Decoder reports header-too-large for many short header lines", () => {
  const limit = 64;
  const header = "SEND bob\n" + "X-Pad: 0123456789\n".repeat(10);
  const d = new Decoder({ maxHeaderBytes: limit });
  assert.deepEqual(d.push(te.encode(header.slice(0, limit))), []);
  assert.deepEqual(d.push(te.encode(header.slice(limit, limit + 1))), [
    { kind: "error", error: { code: "header-too-large", limit, fatal: true } },
  ]);
  // A single chunk far over the limit gives the error once.
  assert.deepEqual(new Decoder({ maxHeaderBytes: limit }).push(te.encode(header)), [
    { kind: "error", error: { code: "header-too-large", limit, fatal: true } },
  ]);
  // The default limit is 8 KiB: a header just under it is fine.
  const value = "y".repeat(DEFAULT_MAX_HEADER_BYTES - 20);
  const big = "SENT a\nX: " + value + "\n\n";
  assert.deepEqual(
    new Decoder().push(te.encode(big)),
    asEvents([{ type: "SENT", to: "a", headers: [["X", value]] }]),
  );
});

Deno.test("Decoder skips a body over maxBodyBytes, reports it, and decodes the next message", () => {
  const d = new Decoder({ maxBodyBytes: 10 });
  const body = "SENT fake\n\n"; // 11 bytes that look like a message
  assert.deepEqual(
    d.push(
      te.encode(
        `SEND bob\nContent-length: 11\n\n${body}SEND bob\nContent-length: 10\n\n0123456789`,
      ),
    ),
    [
      {
        kind: "error",
        error: {
          code: "body-too-large",
          verb: "SEND",
          name: "bob",
          length: 11,
          limit: 10,
          fatal: false,
        },
      },
      { kind: "message", message: { type: "SEND", to: "bob", body: te.encode("0123456789") } },
    ],
  );
  assert.ok(!d.dead && d.idle);
  assert.equal(DEFAULT_MAX_BODY_BYTES, 64 * 1024);
});

Deno.test("Decoder reports a huge Content-length as body-too-large without buffering it", () => {
  const d = new Decoder();
  const events = d.push(te.encode("SEND bob\nContent-length: 999999999999999\n\nabc"));
  assert.deepEqual(events, [{
    kind: "error",
    error: {
      code: "body-too-large",
      verb: "SEND",
      name: "bob",
      length: 999999999999999,
      limit: DEFAULT_MAX_BODY_BYTES,
      fatal: false,
    },
  }]);
  assert.ok(!d.dead && !d.idle); // still skipping the announced body
  // Longer than any plausible count: not a byte count at all, so fatal.
  const [e] = new Decoder().push(te.encode("SEND bob\nContent-length: 99999999999999999999\n\n"));
  assert.ok(e?.kind === "error" && e.error.code === "malformed" && e.error.fatal);
});

Deno.test("Decoder treats a SEND or FORWARD with a bad or missing Content-length as fatal", () => {
  const headers = [
    "Content-length: abc\n",
    "Content-length: -1\n",
    "Content-length: 5 5\n",
    "Content-length: \n",
    "Content-length: 1e3\n",
    "Content-length: 0x10\n",
    "Content-length: +5\n",
    "Content-length: 2.5\n",
    "Contentlength: 5\n",
    "Content-length: 5\nContent-length: 6\n",
    "",
  ];
  for (const verb of ["SEND", "FORWARD"]) {
    for (const header of headers) {
      const d = new Decoder();
      const events = d.push(te.encode(`${verb} bob\n${header}\nhelloSENT bob\n\n`));
      assert.equal(events.length, 1, `${verb} ${JSON.stringify(header)}`);
      const [e] = events;
      assert.ok(e?.kind === "error" && e.error.code === "malformed" && e.error.fatal, show(events));
      assert.ok(d.dead);
      assert.deepEqual(d.push(te.encode("SENT bob\n\n")), []);
    }
  }
});

Deno.test("Decoder reports an unknown verb without losing step, even with a body", () => {
  const d = new Decoder();
  assert.deepEqual(
    d.push(te.encode("HELLO there\n\nBLOB x\nContent-length: 9\n\nSENT y\n\nxSENT z\n\n")),
    [
      { kind: "error", error: { code: "unknown-verb", line: "HELLO there", fatal: false } },
      { kind: "error", error: { code: "unknown-verb", line: "BLOB x", fatal: false } },
      { kind: "message", message: { type: "SENT", to: "z" } },
    ],
  );
  assert.ok(!d.dead);
});

Deno.test("Decoder reports malformed REGISTER and ERROR lines without losing step", () => {
  const events = new Decoder().push(te.encode(
    "REGISTER BOTH alice\n\nREGISTER\n\nERROR abc oops\n\nSENT a\nno colon here\n\nSENT b\n\n",
  ));
  assert.deepEqual(
    events.map((e) => e.kind === "error" ? `${e.error.code} ${e.error.fatal}` : e.message.type),
    ["malformed false", "malformed false", "malformed false", "malformed false", "SENT"],
  );
});

Deno.test("Decoder never throws on random binary input and ignores input once dead", () => {
  const rand = prng(7);
  for (let round = 0; round < 40; round++) {
    const d = new Decoder({ maxHeaderBytes: 256, maxBodyBytes: 512 });
    // Mostly random bytes, salted with protocol fragments so some headers complete.
    const salt = ["\n", "\n\n", "SEND a\nContent-length: 3\n\n", "Content-length: ", "\r\n", ":"];
    let total = 0;
    while (total < 20_000) {
      const chunk = rand() < 0.3
        ? te.encode(salt[int(rand, 0, salt.length - 1)])
        : Uint8Array.from({ length: int(rand, 1, 200) }, () => int(rand, 0, 255));
      total += chunk.length;
      for (const e of d.push(chunk)) {
        assert.ok(e?.kind === "message" || e.kind === "error");
      }
      if (d.dead) assert.deepEqual(d.push(chunk), []);
    }
  }
});

Deno.test("Decoder.feed gives the same events, errors included, for any chunking of noisy input", () => {
  const rand = prng(99);
  const salt = [
    "SENT a\n\n",
    "SEND b\nContent-length: 3\n\n",
    "SEND b\nContent-length: 90\n\n",
    "FORWARD c\ncontent-LENGTH: 1\r\n\r\n",
    "REGISTER TOSEND d\n \n",
    "HELLO\n\n",
    "ERROR x\n\n",
    "X: y\n",
    "\n",
    "\r\n",
    " ",
    "\u00e9",
    "SEND e\n\n", // fatal: no Content-length
  ];
  const options = { maxHeaderBytes: 128, maxBodyBytes: 64 };
  let fatal = 0;
  for (let round = 0; round < 60; round++) {
    const parts: (string | Uint8Array)[] = [];
    for (let k = int(rand, 1, 60); k > 0; k--) {
      parts.push(
        rand() < 0.85
          ? pickFrom(rand, rand() < 0.2 ? salt : salt.slice(0, -1))
          : Uint8Array.from({ length: int(rand, 1, 50) }, () => int(rand, 0, 255)),
      );
    }
    const stream = concat(...parts);
    const whole = decode(stream, options);
    if (whole.some((e) => e.kind === "error" && e.error.fatal)) fatal++;
    for (let c = 0; c < 10; c++) {
      const cuts: number[] = [];
      for (let at = int(rand, 0, 8); at < stream.length; at += int(rand, 1, 12)) cuts.push(at);
      assert.equal(show(decode(stream, options, cuts)), show(whole), `round ${round}, ${cuts}`);
    }
  }
  assert.ok(fatal > 0 && fatal < 60, `${fatal} of 60 streams hit a fatal error`);
});

// ---------------------------------------------------------------------------------------------
// Headers

Deno.test("Decoder keeps unknown header lines on the message, in order, trimmed", () => {
  const stream = te.encode(
    "SEND bob\r\nX-First:  one \r\ncontent-LENGTH: 2\r\nX-Second:two:2\r\nx-first: again\r\n\r\nhi" +
      "RECEIVED alice\nX-Ack: 7\n\n",
  );
  assertEverySplit(
    stream,
    asEvents([
      {
        type: "SEND",
        to: "bob",
        body: te.encode("hi"),
        headers: [["X-First", "one"], ["X-Second", "two:2"], ["x-first", "again"]],
      },
      { type: "RECEIVED", from: "alice", headers: [["X-Ack", "7"]] },
    ]),
  );
  // An empty value is a value; a name of only spaces was ignored before headers were kept.
  assert.deepEqual(
    new Decoder().push(te.encode("SENT bob\nX-Empty:\n  : ignored\n\n")),
    asEvents([{ type: "SENT", to: "bob", headers: [["X-Empty", ""]] }]),
  );
});

Deno.test("Decoder leaves headers absent on messages without other header lines", () => {
  const stream = concat(
    ...randomMessages(prng(7), 200).map(encode),
    te.encode("SEND bob\r\nContent-Length: 1 \r\n\r\nx"),
  );
  const events = new Decoder().push(stream);
  assert.equal(events.length, 201);
  for (const e of events) {
    assert.ok(e.kind === "message", show([e]));
    assert.ok(!("headers" in e.message), show([e]));
  }
});

Deno.test("Decoder counts kept header lines toward maxHeaderBytes", () => {
  const head = "SENT bob\n";
  const limit = 64;
  const value = "v".repeat(limit - head.length - "X: \n\n".length);
  const exact = `${head}X: ${value}\n\n`;
  assert.equal(te.encode(exact).length, limit);
  assert.deepEqual(
    new Decoder({ maxHeaderBytes: limit }).push(te.encode(exact)),
    asEvents([{ type: "SENT", to: "bob", headers: [["X", value]] }]),
  );
  const d = new Decoder({ maxHeaderBytes: limit });
  assert.deepEqual(d.push(te.encode(`${head}X: ${value}v\n\n`)), [
    { kind: "error", error: { code: "header-too-large", limit, fatal: true } },
  ]);
  assert.ok(d.dead);
});

Deno.test("Decoder reports a header line without a colon as before, whatever else it keeps", () => {
  const d = new Decoder();
  assert.deepEqual(
    d.push(te.encode(
      "SENT bob\nX-Ok: 1\nnot a header\n\n" +
        "SEND bob\nX-Ok: 1\nContent-length: 3\n: no name\n\nabc" +
        "SENT carol\nX-Ok: 2\n\n",
    )),
    [
      {
        kind: "error",
        error: {
          code: "malformed",
          reason: 'header line "not a header" is not "Name: value"',
          line: "SENT bob",
          fatal: false,
        },
      },
      {
        kind: "error",
        error: {
          code: "malformed",
          reason: 'header line ": no name" is not "Name: value"',
          line: "SEND bob",
          fatal: false,
        },
      },
      ...asEvents([{ type: "SENT", to: "carol", headers: [["X-Ok", "2"]] }]),
    ],
  );
  assert.ok(!d.dead && d.idle);
});

Deno.test("encode writes headers after Content-length, or after the first line", () => {
  const headers = [["X-A", "1"], ["X-B", "two words"]] as const;
  const text = (m: Message) => new TextDecoder().decode(encode(m));
  assert.equal(
    text({ type: "FORWARD", from: "alice", body: te.encode("hi"), headers }),
    "FORWARD alice\nContent-length: 2\nX-A: 1\nX-B: two words\n\nhi",
  );
  assert.equal(text({ type: "SENT", to: "bob", headers }), "SENT bob\nX-A: 1\nX-B: two words\n\n");
  assert.equal(
    text({ type: "ERROR", code: 102, text: "Unable to send", headers: [["X-\u00e9", "\u00fc"]] }),
    "ERROR 102 Unable to send\nX-\u00e9: \u00fc\n\n",
  );
  // An empty list writes nothing more.
  assert.equal(text({ type: "SENT", to: "bob", headers: [] }), "SENT bob\n\n");
});

Deno.test("encode then Decoder gives back messages with headers, and the same bytes again", () => {
  const rand = prng(99);
  const names = ["X-Id", "x-trace", "Sig", "A", "X-\u00e9t\u00e9"];
  const values = ["", "1", "two words", "a:b", "\u00fc\u00f1\u00ee", "x".repeat(200)];
  const messages = randomMessages(rand, 300).map((m): Message => {
    if (rand() < 0.4) return m;
    const headers = Array.from(
      { length: int(rand, 1, 4) },
      () => [pickFrom(rand, names), pickFrom(rand, values)] as const,
    );
    return { ...m, headers };
  });
  const stream = concat(...messages.map(encode));
  const events = new Decoder().push(stream);
  assert.equal(show(events), show(asEvents(messages)));
  assert.deepEqual(events, asEvents(messages));
  const again = concat(...events.map((e) => e.kind === "message" ? encode(e.message) : EMPTY));
  assert.deepEqual(again, stream);
});

Deno.test("encode refuses a header that would not read back as itself", () => {
  const bad: [string, string][] = [
    ["", "v"],
    [" X", "v"],
    ["X ", "v"],
    ["X:Y", "v"],
    ["X\nY", "v"],
    ["Content-length", "5"],
    ["CONTENT-LENGTH", "5"],
    ["X", " v"],
    ["X", "v\t"],
    ["X", "v\nSEND bob"],
    ["X", "v\r"],
  ];
  for (const header of bad) {
    assert.throws(
      () => encode({ type: "SEND", to: "bob", body: EMPTY, headers: [header] }),
      RangeError,
      JSON.stringify(header),
    );
  }
});

Deno.test("Decoder's headers from any header lines encode and decode to themselves", () => {
  const rand = prng(4242);
  const alphabet = ["a", "Z", "-", ":", " ", "\t", "\r", "\u00e9", "\u00a0", "0"];
  let kept = 0;
  for (let round = 0; round < 1000; round++) {
    const lines = Array.from(
      { length: int(rand, 1, 4) },
      () => Array.from({ length: int(rand, 1, 12) }, () => pickFrom(rand, alphabet)).join(""),
    );
    const stream = te.encode(`SENT bob\n${lines.join("\n")}\n\n`);
    for (const e of new Decoder().push(stream)) {
      if (e.kind !== "message") continue;
      kept += e.message.headers?.length ?? 0;
      assert.deepEqual(new Decoder().push(encode(e.message)), [e], JSON.stringify(lines));
    }
  }
  assert.ok(kept > 100, `${kept} headers kept`);
});

// ---------------------------------------------------------------------------------------------
// Names and text

Deno.test("isValidName accepts ASCII letters and digits only, not ALL, up to the length limit", () => {
  for (const name of ["alice", "Bob", "abc123", "7", "ALLx", "xALL", "a".repeat(MAX_NAME_LENGTH)]) {
    assert.ok(isValidName(name), name);
  }
  const bad = [
    "",
    "ALL",
    "all",
    "All",
    "a b",
    " alice",
    "alice ",
    "a-b",
    "a_b",
    "a.b",
    "bob:",
    "@bob",
    "jos\u00e9",
    "\u0430lice", // Cyrillic a
    "a\nb",
    "a\tb",
    "\u{1F600}",
    "a".repeat(MAX_NAME_LENGTH + 1),
  ];
  for (const name of bad) assert.ok(!isValidName(name), JSON.stringify(name));
  assert.equal(MAX_NAME_LENGTH, 64);
});

Deno.test("bodyText decodes UTF-8 and replaces invalid sequences", () => {
  assert.equal(bodyText(utf8Bytes("h\u00e9\u{1F600}")), "h\u00e9\u{1F600}");
  assert.equal(bodyText(new Uint8Array([0x61, 0xff, 0x62])), "a\uFFFDb");
});

// ---------------------------------------------------------------------------------------------
// The module

Deno.test("src/protocol imports nothing but its own files and uses no Deno API", async () => {
  const dir = new URL("../src/protocol/", import.meta.url);
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".ts")) files.push(entry.name);
  }
  assert.ok(files.includes("mod.ts") && files.length > 1, files.join(", "));
  for (const name of files) {
    const source = await Deno.readTextFile(new URL(name, dir));
    // Imports in @example blocks (lines starting with " * ") are the examples', not the module's.
    const code = source.split("\n").filter((line) => !line.startsWith(" *")).join("\n");
    for (const [, specifier] of code.matchAll(/\bfrom\s+"([^"]+)"/g)) {
      assert.match(specifier ?? "", /^\.\/[a-z_]+\.ts$/, `${name} imports ${specifier}`);
    }
    assert.ok(!/\bDeno\./.test(code), `${name} uses the Deno namespace`);
  }
});
