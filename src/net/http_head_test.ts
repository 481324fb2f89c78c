import assert from "node:assert/strict";
import { HeadParser, type HeadResult, MAX_HEAD_BYTES } from "./http_head.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function done(r: HeadResult) {
  assert.equal(r.state, "done", JSON.stringify(r));
  return r as Extract<HeadResult, { state: "done" }>;
}

const UPGRADE = "GET /ws HTTP/1.1\r\nHost: localhost:8080\r\nUpgrade: websocket\r\n" +
  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\n\r\n";

Deno.test("HeadParser reads a head in one chunk: method, target, version, headers by lower-case name", () => {
  const r = done(new HeadParser().push(enc.encode(UPGRADE)));
  assert.equal(r.head.method, "GET");
  assert.equal(r.head.target, "/ws");
  assert.equal(r.head.version, "HTTP/1.1");
  assert.equal(r.head.headers.get("host"), "localhost:8080");
  assert.equal(r.head.headers.get("sec-websocket-version"), "13");
  assert.equal(r.rest.length, 0);
});

Deno.test("HeadParser reads a head arriving one byte at a time, and hands on the bytes after it", () => {
  const p = new HeadParser();
  const bytes = enc.encode(UPGRADE + "\x82\x85extra");
  let result: HeadResult = { state: "partial" };
  let at = 0;
  for (; at < bytes.length && result.state === "partial"; at++) {
    result = p.push(bytes.subarray(at, at + 1));
  }
  const r = done(result);
  assert.equal(at, enc.encode(UPGRADE).length, "done on the head's last byte");
  assert.equal(r.head.headers.get("upgrade"), "websocket");
  // The rest of a later chunk belongs to the caller: pushing after done changes nothing.
  assert.equal(p.push(bytes.subarray(at)), result);
});

Deno.test("HeadParser hands on the bytes after the head in the same chunk, copied", () => {
  const chunk = enc.encode(UPGRADE + "FRAMES");
  const r = done(new HeadParser().push(chunk));
  chunk.fill(0);
  assert.equal(dec.decode(r.rest), "FRAMES");
});

Deno.test("HeadParser accepts bare LF line ends, empty lines before the request, repeated fields joined", () => {
  const r = done(
    new HeadParser().push(enc.encode("\r\n\nGET / HTTP/1.0\nA: 1\nHost: h\na:  2 \n\n")),
  );
  assert.equal(r.head.version, "HTTP/1.0");
  assert.equal(r.head.headers.get("a"), "1, 2");
  assert.equal(r.head.counts.get("a"), 2);
});

Deno.test("HeadParser refuses a head over the limit with 431, even one never ending", () => {
  const p = new HeadParser(100);
  assert.equal(p.push(enc.encode("GET / HTTP/1.1\r\n")).state, "partial");
  let r: HeadResult = { state: "partial" };
  for (let i = 0; i < 50 && r.state === "partial"; i++) r = p.push(enc.encode("X-A: bbbbbbbb\r\n"));
  assert.equal(r.state, "error");
  assert.equal(r.state === "error" && r.status, 431);
  assert.match(r.state === "error" ? r.reason : "", /^The request head is larger than 100 bytes/);
  assert.ok(p.heldBytes <= 104, `held ${p.heldBytes}`);
  // One huge chunk: refused without being held.
  const big = new HeadParser();
  const r2 = big.push(new Uint8Array(MAX_HEAD_BYTES * 4).fill(65));
  assert.equal(r2.state === "error" && r2.status, 431);
});

Deno.test("HeadParser accepts a head of exactly the limit", () => {
  const head = "GET / HTTP/1.1\r\nX: ";
  const text = head + "a".repeat(200 - head.length - 2) + "\r\n";
  assert.equal(text.length, 200);
  done(new HeadParser(200).push(enc.encode(text + "\r\n")));
  const r = new HeadParser(199).push(enc.encode(text + "\r\n"));
  assert.equal(r.state === "error" && r.status, 431);
});

Deno.test("HeadParser gives a head of exactly the limit the same answer wherever TCP splits it", () => {
  const head = "GET / HTTP/1.1\r\nX: ";
  for (const eol of ["\r\n", "\n"]) {
    const text = head + "a".repeat(200 - head.length - eol.length) + eol;
    const bytes = enc.encode(text + eol);
    for (const max of [200, 199]) {
      for (let a = 1; a < bytes.length; a++) {
        for (let b = a; b < bytes.length; b++) {
          const p = new HeadParser(max);
          let r = p.push(bytes.subarray(0, a));
          if (r.state === "partial") r = p.push(bytes.subarray(a, b));
          if (r.state === "partial") r = p.push(bytes.subarray(b));
          const where = `max ${max}, eol ${JSON.stringify(eol)}, split at ${a} and ${b}`;
          if (max === 200) assert.equal(r.state, "done", where);
          else assert.equal(r.state === "error" && r.status, 431, where);
        }
      }
    }
  }
});

Deno.test("HeadParser says what is wrong with a malformed head, in one sentence, status 400 or 505", () => {
  const cases: [string, number, RegExp][] = [
    ["GET /\r\n\r\n", 400, /^The request line "GET \/" is not "METHOD TARGET HTTP\/1\.1"\.$/],
    ["G(T / HTTP/1.1\r\n\r\n", 400, /^The method "G\(T" is not a valid token\.$/],
    ["GET / HTTP/2.0\r\n\r\n", 505, /^The HTTP version "HTTP\/2\.0" is not supported/],
    ["GET / FTP/1.0\r\n\r\n", 400, /is not "METHOD TARGET HTTP\/1\.1"/],
    [
      "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
      400,
      /^The header line "No colon" is not "Name: value"\.$/,
    ],
    ["GET / HTTP/1.1\r\nA : b\r\n\r\n", 400, /^The header line "A : b" is not/],
    ["GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, /obsolete line folding/],
    ["GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n", 400, /^The header "A" holds a control character\.$/],
    ["GET /\x7f HTTP/1.1\r\n\r\n", 400, /^The request target "\/\?" holds characters/],
  ];
  for (const [text, status, reason] of cases) {
    const r = new HeadParser().push(enc.encode(text));
    assert.equal(r.state, "error", JSON.stringify(text));
    if (r.state !== "error") continue;
    assert.equal(r.status, status, JSON.stringify(text));
    assert.match(r.reason, reason);
  }
});

Deno.test("HeadParser refuses a never-ending head sent byte by byte once it passes the limit", () => {
  const p = new HeadParser();
  const bytes = enc.encode("GET / HTTP/1.1\r\n" + "X: y\r\n".repeat(2000));
  for (let i = 0; i < bytes.length; i++) {
    const r = p.push(bytes.subarray(i, i + 1));
    if (r.state !== "partial") {
      assert.equal(r.state === "error" && r.status, 431);
      return;
    }
  }
  assert.fail("a head of 12 KB must not stay partial");
});

Deno.test("HeadParser refuses at once bytes that cannot begin a request, and waits for a request line that can", () => {
  const refused = [
    Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01), // a TLS ClientHello's start
    new Uint8Array(300).fill(0x01),
    enc.encode(" GET / HTTP/1.1\r\n"),
    enc.encode("GET /\x00"),
    enc.encode("G(T"),
  ];
  for (const bytes of refused) {
    const r = new HeadParser().push(bytes);
    assert.equal(r.state, "error", JSON.stringify([...bytes.subarray(0, 8)]));
    assert.equal(r.state === "error" && r.status, 400);
    assert.match(
      r.state === "error" ? r.reason : "",
      /^The bytes sent do not begin an HTTP request/,
    );
  }
  // Byte by byte, the same: refused at its first bad byte.
  const p = new HeadParser();
  assert.equal(p.push(enc.encode("GE")).state, "partial");
  assert.equal(p.push(Uint8Array.of(0x16)).state, "error");
  for (const start of ["\r\n", "GET", "GET / HT", "\r\nGET /x?a=b HTTP/1.1\r\nHost: x\r\n"]) {
    const q = new HeadParser();
    for (const b of enc.encode(start)) {
      assert.equal(q.push(Uint8Array.of(b)).state, "partial", start);
    }
  }
});
