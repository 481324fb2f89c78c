/**
 * Tests of the client without a terminal or a child process: the pure input parsing,
 * rendering and completion of src/client/, and the protocol engine (ChatSession) against a
 * fake server that sends exactly the bytes each test chooses.
 */
import assert from "node:assert/strict";
import {
  backoffDelay,
  RATE_RETRY_BACKOFF,
  RATE_RETRY_ROUNDS,
  RECONNECT_BACKOFF,
} from "../src/client/backoff.ts";
import type { ClientEvent } from "../src/client/events.ts";
import { classifyConnectError, looksLikeTls } from "../src/client/failures.ts";
import { completeInput, parseInputLine, parseServerAddress } from "../src/client/input.ts";
import {
  describeFailure,
  eventStream,
  messageLine,
  printable,
  queueFullHint,
  renderEvent,
} from "../src/client/render.ts";
import { ChatSession, type ChatSessionOptions } from "../src/client/engine.ts";
import { formatAddress } from "../src/net/address.ts";
import { connect } from "../src/net/transport.ts";
import { hasOpenssl, makeCertificate, needsOpenssl, withTempDir } from "./certs.ts";
import {
  type DecodeEvent,
  Decoder,
  describeDecodeError,
  type Half,
  type Message,
} from "../src/protocol/mod.ts";
import { startServer } from "../src/server/server.ts";

// ---------------------------------------------------------------------------------------------
// parseInputLine

Deno.test("parseInputLine reads @name text as a message to one user", () => {
  assert.deepEqual(parseInputLine("@xyz Hiii"), { kind: "send", to: "xyz", text: "Hiii" });
  assert.deepEqual(parseInputLine("  @xyz   two  words  "), {
    kind: "send",
    to: "xyz",
    text: "two  words",
  });
});

Deno.test("parseInputLine accepts the original's @name:text form", () => {
  assert.deepEqual(parseInputLine("@xyz:Hiii"), { kind: "send", to: "xyz", text: "Hiii" });
  assert.deepEqual(parseInputLine("@xyz: Hiii"), { kind: "send", to: "xyz", text: "Hiii" });
  assert.deepEqual(parseInputLine("@xyz:a:b"), { kind: "send", to: "xyz", text: "a:b" });
});

Deno.test("parseInputLine sends @ALL in any letter case to ALL", () => {
  for (const line of ["@ALL hi", "@all hi", "@All:hi"]) {
    assert.deepEqual(parseInputLine(line), { kind: "send", to: "ALL", text: "hi" });
  }
});

Deno.test("parseInputLine keeps the text after the name as typed, UTF-8 included", () => {
  assert.deepEqual(parseInputLine("@bob héllo 👋 @x /y"), {
    kind: "send",
    to: "bob",
    text: "héllo 👋 @x /y",
  });
});

Deno.test("parseInputLine ignores empty and blank lines", () => {
  assert.deepEqual(parseInputLine(""), { kind: "empty" });
  assert.deepEqual(parseInputLine("   \t "), { kind: "empty" });
});

Deno.test("parseInputLine reads the slash commands and their aliases", () => {
  assert.deepEqual(parseInputLine("/help"), { kind: "command", command: "help" });
  assert.deepEqual(parseInputLine("/?"), { kind: "command", command: "help" });
  assert.deepEqual(parseInputLine("/quit"), { kind: "command", command: "quit" });
  assert.deepEqual(parseInputLine(" /EXIT "), { kind: "command", command: "quit" });
  assert.deepEqual(parseInputLine("/clear"), { kind: "command", command: "clear" });
});

Deno.test("parseInputLine reads /msg and /query, and plain lines in a conversation", () => {
  assert.deepEqual(parseInputLine("/msg xyz"), { kind: "target", to: "xyz" });
  assert.deepEqual(parseInputLine("/query all"), { kind: "target", to: "ALL" });
  assert.deepEqual(parseInputLine("/msg"), { kind: "target", to: null });
  assert.deepEqual(parseInputLine("/msg xyz hi there"), {
    kind: "target",
    to: "xyz",
    text: "hi there",
  });
  assert.deepEqual(parseInputLine("/who"), { kind: "command", command: "who" });
  assert.deepEqual(parseInputLine(" hello ", "xyz"), { kind: "send", to: "xyz", text: "hello" });
  assert.deepEqual(parseInputLine("@bob hi", "xyz"), { kind: "send", to: "bob", text: "hi" });
  assert.deepEqual(parseInputLine("@xyz one\ntwo"), { kind: "send", to: "xyz", text: "one\ntwo" });
});

Deno.test("parseInputLine rejects every other form with a one-line hint", () => {
  const cases: [string, RegExp][] = [
    ["hello", /type "@name message"/],
    ["xyz: hello", /type "@name message"/],
    ["@ hello", /write the name right after "@"/],
    ["@", /write the name right after "@"/],
    ["@xyz", /nothing to send to xyz/],
    ["@xyz:", /nothing to send to xyz/],
    ["@xyz:   ", /nothing to send to xyz/],
    ["@x_y hi", /"x_y" is not a username/],
    ["@x.y:hi", /"x.y" is not a username/],
    [`@${"a".repeat(65)} hi`, /"a{65}" is not a username \(1 to 64 letters and digits\)/],
    ["/nope", /Unknown command "\/nope": type \/help/],
    ["/msg x_y", /"x_y" is not a username/],
  ];
  for (const [line, hint] of cases) {
    const parsed = parseInputLine(line);
    assert.equal(parsed.kind, "invalid", line);
    if (parsed.kind === "invalid") {
      assert.match(parsed.hint, hint, line);
      assert.ok(!parsed.hint.includes("\n"), `hint for ${line} is one line`);
    }
  }
});

Deno.test("parseInputLine makes control characters in a bad name visible in the hint", () => {
  const parsed = parseInputLine("@a\x1b[31mb hi");
  assert.equal(parsed.kind, "invalid");
  assert.ok(parsed.kind === "invalid" && !parsed.hint.includes("\x1b"));
});

// ---------------------------------------------------------------------------------------------
// renderEvent

const plain = { color: false };
const server = "127.0.0.1:5500";

Deno.test("renderEvent shows an incoming message as the original did", () => {
  assert.equal(renderEvent({ type: "message", from: "abc", text: "Hiii" }, plain), "abc: Hiii");
});

Deno.test("renderEvent indents the further lines of a multi-line message", () => {
  assert.equal(
    renderEvent({ type: "message", from: "abc", text: "one\ntwo\r\nthree" }, plain),
    "abc: one\n     two\n     three",
  );
});

Deno.test("renderEvent neutralises terminal escape sequences in messages and names", () => {
  const text = renderEvent({ type: "message", from: "a\x1bb", text: "\x1b[2J\x07x\x9by\t!" }, {
    color: false,
  });
  assert.equal(text, "a^[b: ^[[2J^Gx\uFFFDy !");
});

Deno.test("renderEvent reports delivery as the original did", () => {
  assert.equal(
    renderEvent({ type: "sent", id: 1, to: "xyz" }, plain),
    "Message successfully sent to xyz",
  );
  assert.equal(
    renderEvent({ type: "sent", id: 1, to: "ALL" }, plain),
    "Message successfully sent to ALL (everyone online)",
  );
});

Deno.test("renderEvent says what ERROR 102 means for one user and for ALL", () => {
  assert.equal(
    renderEvent(
      { type: "not-delivered", id: 1, to: "xyz", code: 102, text: "Unable to send" },
      plain,
    ),
    "Message to xyz not delivered: xyz is not online or did not receive it",
  );
  assert.equal(
    renderEvent(
      { type: "not-delivered", id: 1, to: "ALL", code: 102, text: "Unable to send" },
      plain,
    ),
    "Message to ALL not delivered: someone online did not receive it",
  );
});

Deno.test("renderEvent explains the other errors a message can get", () => {
  assert.equal(
    renderEvent(
      { type: "not-delivered", id: 1, to: "xyz", code: 103, text: "Header Incomplete" },
      plain,
    ),
    "Message to xyz not delivered: the server could not read it (ERROR 103 Header Incomplete)",
  );
  assert.match(
    renderEvent(
      { type: "not-delivered", id: 1, to: "xyz", code: 101, text: "No user registered" },
      plain,
    ),
    /^Message to xyz not delivered: the server says this client is not registered/,
  );
  assert.equal(
    renderEvent(
      { type: "not-delivered", id: 1, to: "xyz", code: 106, text: "Rate limit exceeded" },
      plain,
    ),
    "Message to xyz not delivered: you are sending too fast (ERROR 106 Rate limit exceeded); " +
      "wait a moment",
  );
  assert.equal(
    renderEvent({ type: "not-delivered", id: 1, to: "xyz", code: 999, text: "Odd" }, plain),
    "Message to xyz not delivered: the server answered ERROR 999 Odd",
  );
  assert.equal(
    renderEvent({ type: "unconfirmed", id: 1, to: "xyz", why: "you left" }, plain),
    "Message to xyz not confirmed: no answer from the server before you left",
  );
});

Deno.test("renderEvent words a refused connection as the brief asks", () => {
  assert.equal(
    renderEvent({
      type: "connect-failed",
      server,
      host: "127.0.0.1",
      reason: "refused",
      detail: "",
      timeoutMs: 10_000,
    }, plain),
    'Cannot connect to "127.0.0.1:5500": connection refused. Is the server running? ' +
      "Start one with `chat server`.",
  );
});

Deno.test("renderEvent words unknown hosts, timeouts and other connection failures", () => {
  const base = { type: "connect-failed" as const, server: "nohost:5500", host: "nohost" };
  assert.equal(
    renderEvent({ ...base, reason: "unknown-host", detail: "", timeoutMs: 0 }, plain),
    'Cannot connect to "nohost:5500": unknown host "nohost". Check the server name, or give ' +
      "its IP address.",
  );
  assert.equal(
    renderEvent({ ...base, reason: "timeout", detail: "", timeoutMs: 2500 }, plain),
    'Cannot connect to "nohost:5500": no answer within 2.5 s. Check the address and port, and ' +
      "that no firewall is in the way.",
  );
  assert.match(
    renderEvent({ ...base, reason: "timeout", detail: "", timeoutMs: 5 }, plain),
    /no answer within 5 ms\./,
    "a wait under 0.1 s is not rounded to 0 s",
  );
  assert.equal(
    renderEvent(
      { ...base, reason: "other", detail: "Network is unreachable", timeoutMs: 0 },
      plain,
    ),
    'Cannot connect to "nohost:5500": Network is unreachable.',
  );
});

Deno.test("renderEvent words registration failures in plain sentences", () => {
  const base = { type: "register-failed" as const, server, detail: "", timeoutMs: 10_000 };
  assert.match(
    renderEvent({ ...base, reason: "timeout" }, plain),
    /^The server "127\.0\.0\.1:5500" accepted the connection but did not answer the registration within 10 s\. Is it a chat server\?$/,
  );
  assert.equal(
    renderEvent({ ...base, reason: "closed" }, plain),
    'The server "127.0.0.1:5500" closed the connection during the registration. Try again.',
  );
  assert.equal(
    renderEvent({ ...base, reason: "full", detail: "ERROR 105 Too many connections" }, plain),
    'The server "127.0.0.1:5500" is full (ERROR 105 Too many connections). Try again later.',
  );
  assert.equal(
    renderEvent({ ...base, reason: "unexpected", detail: "ERROR 101 No user registered" }, plain),
    'The server "127.0.0.1:5500" answered the registration with ERROR 101 No user registered. ' +
      "Is it a chat server?",
  );
});

Deno.test("renderEvent says a taken or refused username in plain words", () => {
  assert.equal(
    renderEvent({ type: "name-refused", name: "abc", code: 104, text: "Username taken" }, plain),
    'The username "abc" is taken: someone online uses it, or it (or a lookalike) belongs to ' +
      "someone's key on this server. Choose another.",
  );
  assert.equal(
    renderEvent(
      { type: "name-refused", name: "abc", code: 100, text: "Malformed username" },
      plain,
    ),
    'The server refused the username "abc" (ERROR 100 Malformed username): it may be taken ' +
      "or too long. Choose another.",
  );
});

Deno.test("renderEvent renders the status events", () => {
  assert.equal(
    renderEvent({ type: "registered", name: "abc", server, hint: false }, plain),
    "Registered as abc on 127.0.0.1:5500.",
  );
  assert.match(
    renderEvent({ type: "registered", name: "abc", server, hint: true }, plain),
    /^Registered as abc on 127\.0\.0\.1:5500\. Type "@name message" to send/,
  );
  assert.equal(
    renderEvent({ type: "invalid-input", hint: "Not sent: x.", line: 3 }, plain),
    "Line 3: Not sent: x.",
  );
  assert.equal(renderEvent({ type: "invalid-input", hint: "Not sent: x." }, plain), "Not sent: x.");
  assert.equal(
    renderEvent({ type: "bad-forward", reason: "FORWARD has no Content-length header" }, plain),
    "Received a message that could not be read (FORWARD has no Content-length header); told " +
      "the server with ERROR 103.",
  );
  assert.equal(
    renderEvent({ type: "unexpected", what: '"SENT bob"' }, plain),
    'Ignored an unexpected message from the server: "SENT bob".',
  );
  assert.equal(
    renderEvent({ type: "disconnected", server, detail: "the server closed the connection" }, {
      color: false,
    }),
    'Lost the connection to the server "127.0.0.1:5500": the server closed the connection. ' +
      "Start the client again when the server is back (with --reconnect it retries by itself).",
  );
  assert.equal(renderEvent({ type: "left", confirmed: true }, plain), "Left the chat.");
  assert.match(renderEvent({ type: "left", confirmed: false }, plain), /did not confirm/);
  assert.match(renderEvent({ type: "help" }, plain), /@name message/);
});

const EVERY_EVENT: ClientEvent[] = [
  { type: "message", from: "abc", text: "Hiii" },
  { type: "sent", id: 1, to: "xyz" },
  { type: "not-delivered", id: 1, to: "xyz", code: 102, text: "Unable to send" },
  { type: "unconfirmed", id: 1, to: "xyz", why: "you left" },
  { type: "registered", name: "abc", server, hint: true },
  { type: "name-refused", name: "abc", code: 104, text: "Username taken" },
  {
    type: "connect-failed",
    server,
    host: "127.0.0.1",
    reason: "refused",
    detail: "",
    timeoutMs: 0,
  },
  { type: "register-failed", server, reason: "closed", detail: "", timeoutMs: 0 },
  { type: "invalid-input", hint: "Not sent." },
  { type: "bad-forward", reason: "x" },
  { type: "unexpected", what: "x" },
  { type: "disconnected", server, detail: "x" },
  { type: "left", confirmed: true },
  { type: "help" },
  { type: "not-sent", id: 1, to: "xyz", why: "you left before it was sent" },
  { type: "reconnecting", server, lost: true, detail: "x", delayMs: 500 },
  { type: "reconnected", name: "abc", server },
  {
    type: "reconnect-failed",
    server,
    name: "abc",
    code: 104,
    text: "Username taken",
    tries: 5,
  },
];

Deno.test("renderEvent without colour writes no escape codes for any event", () => {
  for (const event of EVERY_EVENT) {
    assert.ok(!renderEvent(event, plain).includes("\x1b"), event.type);
  }
});

Deno.test("renderEvent with colour colours names and errors and resets after them", () => {
  const message = renderEvent({ type: "message", from: "abc", text: "Hiii" }, { color: true });
  assert.equal(message, "\x1b[1;36mabc\x1b[0m: Hiii");
  const error = renderEvent({ type: "not-delivered", id: 1, to: "x", code: 102, text: "" }, {
    color: true,
  });
  assert.ok(error.startsWith("\x1b[31m") && error.endsWith("\x1b[0m"), JSON.stringify(error));
  for (const event of EVERY_EVENT) {
    const text = renderEvent(event, { color: true });
    const codes = text.split("\x1b[").length - 1;
    const resets = text.split("\x1b[0m").length - 1;
    assert.equal(codes, 2 * resets, `every colour is reset in ${JSON.stringify(text)}`);
  }
});

Deno.test("eventStream keeps stdout for the conversation and stderr for status", () => {
  const out = EVERY_EVENT.filter((e) => eventStream(e) === "stdout").map((e) => e.type);
  assert.deepEqual(out, ["message", "sent", "not-delivered", "unconfirmed", "help", "not-sent"]);
});

Deno.test("printable leaves ordinary text alone", () => {
  assert.equal(printable("héllo wörld 👋 <>&"), "héllo wörld 👋 <>&");
});

// ---------------------------------------------------------------------------------------------
// completeInput, parseServerAddress, formatAddress

Deno.test("completeInput completes slash commands at the start of the line", () => {
  assert.deepEqual(completeInput("/q", []), [["/query ", "/quit "], "/q"]);
  assert.deepEqual(completeInput("/qui", []), [["/quit "], "/qui"]);
  assert.deepEqual(completeInput("/msg x", ["xyz", "bob"]), [["/msg xyz "], "/msg x"]);
  assert.deepEqual(completeInput("/", []), [
    ["/help ", "/msg ", "/query ", "/who ", "/quit ", "/clear ", "/exit "],
    "/",
  ]);
  assert.deepEqual(completeInput("/quit now", []), [[], "/quit now"]);
});

Deno.test("completeInput completes @names seen so far and @ALL", () => {
  const names = ["bob", "bea", "carol"];
  assert.deepEqual(completeInput("@b", names), [["@bea ", "@bob "], "@b"]);
  assert.deepEqual(completeInput("@C", names), [["@carol "], "@C"]);
  assert.deepEqual(completeInput("@a", names), [["@ALL "], "@a"]);
  assert.deepEqual(completeInput("@bob hi", names), [[], "@bob hi"]);
  assert.deepEqual(completeInput("hi", names), [[], "hi"]);
});

Deno.test("parseServerAddress reads names, IPv4 and IPv6 with or without a port", () => {
  assert.deepEqual(parseServerAddress("127.0.0.1"), { host: "127.0.0.1" });
  assert.deepEqual(parseServerAddress("chat.example.org"), { host: "chat.example.org" });
  assert.deepEqual(parseServerAddress("localhost:6000"), { host: "localhost", port: 6000 });
  assert.deepEqual(parseServerAddress("::1"), { host: "::1" });
  assert.deepEqual(parseServerAddress("fe80::1:2"), { host: "fe80::1:2" });
  assert.deepEqual(parseServerAddress("[::1]"), { host: "::1" });
  assert.deepEqual(parseServerAddress("[::1]:5500"), { host: "::1", port: 5500 });
});

Deno.test("parseServerAddress rejects what is not an address with a sentence", () => {
  for (const bad of ["", "a b", "host:0", "host:99999", "host:x", "[::1]:", "a/b"]) {
    const parsed = parseServerAddress(bad);
    assert.ok("error" in parsed, bad);
    assert.match((parsed as { error: string }).error, /^Invalid (server|port)/);
  }
});

Deno.test("formatAddress brackets IPv6 hosts", () => {
  assert.equal(formatAddress("127.0.0.1", 5500), "127.0.0.1:5500");
  assert.equal(formatAddress("::1", 5500), "[::1]:5500");
});

Deno.test("classifyConnectError tells refused, unknown host, timeout and other apart", () => {
  const classify = (error: unknown) => {
    const event = classifyConnectError(error, "h\x1b", "h:1", 1000);
    return event.type === "connect-failed" ? [event.reason, event.host] : [];
  };
  assert.deepEqual(classify(new Deno.errors.ConnectionRefused("Connection refused")), [
    "refused",
    "h^[",
  ]);
  assert.deepEqual(
    classify(new Error("failed to lookup address information: Name or service not known")),
    ["unknown-host", "h^["],
  );
  assert.deepEqual(classify(new Error("getaddrinfo ENOTFOUND nohost")), ["unknown-host", "h^["]);
  assert.deepEqual(classify(new Deno.errors.TimedOut("timed out")), ["timeout", "h^["]);
  assert.deepEqual(classify(new Error("Network is unreachable (os error 101)")), [
    "other",
    "h^[",
  ]);
  const other = classifyConnectError(
    new Error("Network is unreachable (os error 101)"),
    "h",
    "h:1",
    0,
  );
  assert.equal(other.type === "connect-failed" && other.detail, "Network is unreachable");
});

Deno.test("describeDecodeError says what could not be read", () => {
  assert.equal(
    describeDecodeError({
      code: "malformed",
      reason: "FORWARD has no Content-length header",
      line: "FORWARD abc",
      fatal: true,
    }),
    'FORWARD has no Content-length header in "FORWARD abc"',
  );
  assert.equal(
    describeDecodeError({ code: "unknown-verb", line: "HELLO x", fatal: false }),
    'unknown message "HELLO x"',
  );
  assert.equal(
    describeDecodeError({ code: "header-too-large", limit: 8192, fatal: true }),
    "a header longer than 8192 bytes",
  );
  assert.equal(
    describeDecodeError({
      code: "body-too-large",
      verb: "FORWARD",
      name: "abc",
      length: 9,
      limit: 8,
      fatal: false,
    }),
    "FORWARD abc of 9 bytes, over the 8-byte limit",
  );
});

Deno.test("messageLine gives the first line of a message's wire form", () => {
  assert.equal(messageLine({ type: "SENT", to: "bob" }), "SENT bob");
  assert.equal(
    messageLine({ type: "ERROR", code: 102, text: "Unable to send" }),
    "ERROR 102 Unable to send",
  );
  assert.equal(
    messageLine({ type: "FORWARD", from: "a", body: new TextEncoder().encode("x") }),
    "FORWARD a",
  );
});

// ---------------------------------------------------------------------------------------------
// TLS, reconnecting and ERROR 106: the pure parts

Deno.test("backoffDelay doubles from the base up to the cap", () => {
  const plain = (n: number) => backoffDelay(n, RECONNECT_BACKOFF, 0.5);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map(plain), [
    500,
    1000,
    2000,
    4000,
    8000,
    10_000,
    10_000,
    10_000,
  ]);
  const rate = [0, 1, 2, 3, 4].map((n) => backoffDelay(n, RATE_RETRY_BACKOFF, 0.9));
  assert.deepEqual(rate, [500, 1000, 2000, 4000, 8000]);
  assert.equal(RATE_RETRY_ROUNDS, 5);
});

Deno.test("backoffDelay spreads each wait by the jitter and stays positive", () => {
  assert.equal(backoffDelay(0, RECONNECT_BACKOFF, 0), 400);
  assert.equal(backoffDelay(0, RECONNECT_BACKOFF, 0.999999), 600);
  assert.equal(backoffDelay(9, RECONNECT_BACKOFF, 0), 8000);
  assert.equal(backoffDelay(9, RECONNECT_BACKOFF, 7), 12_000); // clamped to [0, 1]
  assert.equal(backoffDelay(0, { baseMs: 0, capMs: 0, jitter: 0 }), 1);
});

Deno.test("classifyConnectError tells TLS failures apart, in Deno's and node's words", () => {
  const reason = (message: string, error?: Error) => {
    const e = classifyConnectError(error ?? new Error(message), "h", "h:1", 1000, true);
    return e.type === "connect-failed" ? [e.reason, e.detail, e.tls] : [];
  };
  assert.deepEqual(
    reason("", new Deno.errors.InvalidData("invalid peer certificate: UnknownIssuer")),
    ["tls-untrusted", "UnknownIssuer", true],
  );
  assert.deepEqual(reason("invalid peer certificate: BadEncoding"), [
    "tls-untrusted",
    "BadEncoding",
    true,
  ]);
  assert.deepEqual(reason("self-signed certificate"), [
    "tls-untrusted",
    "self-signed certificate",
    true,
  ]);
  assert.deepEqual(
    reason(
      'invalid peer certificate: certificate not valid for name "localhost"; certificate is ' +
        'only valid for DnsName("other")',
    ),
    ["tls-name", 'it is only valid for DnsName("other")', true],
  );
  assert.deepEqual(
    reason("Hostname/IP does not match certificate's altnames: Host: h. is not in the cert's"),
    [
      "tls-name",
      "Hostname/IP does not match certificate's altnames: Host: h. is not in the cert's",
      true,
    ],
  );
  assert.deepEqual(reason("", new Deno.errors.UnexpectedEof("unexpected end of file")), [
    "tls-handshake",
    "unexpected end of file",
    true,
  ]);
  assert.deepEqual(reason("received corrupt message of type InvalidContentType"), [
    "tls-handshake",
    "received corrupt message of type InvalidContentType",
    true,
  ]);
  assert.deepEqual(
    reason("Client network socket disconnected before secure TLS connection was established"),
    [
      "tls-handshake",
      "Client network socket disconnected before secure TLS connection was established",
      true,
    ],
  );
  // Refused stays refused with TLS; without TLS a certificate message is just "other".
  assert.deepEqual(reason("", new Deno.errors.ConnectionRefused("Connection refused")), [
    "refused",
    "Connection refused",
    true,
  ]);
  const plain = classifyConnectError(new Error("self-signed certificate"), "h", "h:1", 0);
  assert.equal(plain.type === "connect-failed" && plain.reason, "other");
  assert.equal(plain.type === "connect-failed" && plain.tls, undefined);
});

Deno.test("looksLikeTls recognises a TLS alert or handshake record", () => {
  assert.equal(looksLikeTls(new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32])), true);
  assert.equal(looksLikeTls(new Uint8Array([0x16, 0x03, 0x01])), true);
  assert.equal(looksLikeTls(encoder.encode("REGISTERED TOSEND abc\n\n")), false);
  assert.equal(looksLikeTls(new Uint8Array([0x15])), false);
});

Deno.test("renderEvent words every TLS failure with what to do", () => {
  const base = {
    type: "connect-failed" as const,
    server,
    host: "127.0.0.1",
    timeoutMs: 1000,
    tls: true,
  };
  assert.equal(
    renderEvent({ ...base, reason: "tls-untrusted", detail: "UnknownIssuer" }, plain),
    'Cannot connect to "127.0.0.1:5500" over TLS: the server\'s certificate is not trusted ' +
      "(UnknownIssuer). Pass the server's certificate or CA with --ca.",
  );
  assert.equal(
    renderEvent({ ...base, reason: "tls-name", detail: "it is only valid for x" }, plain),
    'Cannot connect to "127.0.0.1:5500" over TLS: the server\'s certificate is not valid for ' +
      '"127.0.0.1" (it is only valid for x). Connect with a name the certificate lists, or give ' +
      'the server a certificate for "127.0.0.1".',
  );
  assert.equal(
    renderEvent({ ...base, reason: "tls-handshake", detail: "unexpected end of file" }, plain),
    'Cannot connect to "127.0.0.1:5500" over TLS: the TLS handshake failed (unexpected end of ' +
      "file); the server does not seem to use TLS. Try without --tls.",
  );
  assert.equal(
    renderEvent({ ...base, reason: "timeout", detail: "" }, plain),
    'Cannot connect to "127.0.0.1:5500" over TLS: no answer within 1 s. If the server does ' +
      "not use TLS, drop --tls; otherwise check the address and port, and that no firewall " +
      "is in the way.",
  );
  assert.equal(
    renderEvent({ ...base, reason: "refused", detail: "" }, plain),
    'Cannot connect to "127.0.0.1:5500" over TLS: connection refused. Is the server running? ' +
      "Start one with `chat server`.",
  );
  assert.equal(
    renderEvent(
      { type: "register-failed", server, reason: "tls-server", detail: "", timeoutMs: 0 },
      plain,
    ),
    'The server "127.0.0.1:5500" answered in TLS: it expects encrypted connections. Add --tls ' +
      "(and --ca FILE if its certificate is self-signed).",
  );
  assert.equal(
    renderEvent({ type: "registered", name: "abc", server, hint: false, tls: true }, plain),
    "Registered as abc on 127.0.0.1:5500 over TLS.",
  );
});

Deno.test("renderEvent words reconnecting, one line per change", () => {
  assert.equal(
    renderEvent({
      type: "reconnecting",
      server,
      lost: true,
      detail: "the server closed the connection",
      delayMs: 2000,
    }, plain),
    'Connection to the server "127.0.0.1:5500" lost (the server closed the connection); ' +
      "reconnecting in 2 s…",
  );
  assert.equal(
    renderEvent({
      type: "reconnecting",
      server,
      lost: false,
      detail: "connection refused",
      delayMs: 4000,
    }, plain),
    'Cannot reconnect to "127.0.0.1:5500" yet (connection refused); trying again in 4 s…',
  );
  assert.equal(
    renderEvent({ type: "reconnected", name: "abc", server }, plain),
    "Reconnected as abc on 127.0.0.1:5500.",
  );
  assert.equal(
    renderEvent({
      type: "reconnect-failed",
      server,
      name: "abc",
      code: 104,
      text: "Username taken",
      tries: 5,
    }, plain),
    'Cannot reconnect to "127.0.0.1:5500": the username "abc" is still taken (ERROR 104 ' +
      "Username taken) after 5 tries; someone else may be using it. Start the client again, " +
      "with another name if need be.",
  );
  assert.equal(
    renderEvent({
      type: "reconnect-failed",
      server,
      name: "abc",
      code: 100,
      text: "Malformed username",
      tries: 1,
    }, plain),
    'Cannot reconnect to "127.0.0.1:5500": the server now refuses the username "abc" (ERROR ' +
      "100 Malformed username). Start the client again with another name.",
  );
  assert.equal(
    renderEvent({ type: "left", confirmed: false, offline: true }, plain),
    "Left the chat (while disconnected from the server).",
  );
});

Deno.test("renderEvent says when a message was never sent or gave up after ERROR 106", () => {
  assert.equal(
    renderEvent({ type: "not-sent", id: 1, to: "xyz", why: "you left before it was sent" }, plain),
    "Message to xyz not sent: you left before it was sent.",
  );
  assert.equal(
    renderEvent({
      type: "not-delivered",
      id: 1,
      to: "xyz",
      code: 106,
      text: "Rate limit exceeded",
      attempts: 6,
    }, plain),
    "Message to xyz not delivered: the server refused it 6 times because you are sending too " +
      "fast (ERROR 106 Rate limit exceeded); send it again later",
  );
});

Deno.test("describeFailure gives a short reason for each failed reconnect attempt", () => {
  const connect = {
    type: "connect-failed" as const,
    server,
    host: "h",
    detail: "",
    timeoutMs: 2000,
  };
  assert.equal(describeFailure({ ...connect, reason: "refused" }), "connection refused");
  assert.equal(describeFailure({ ...connect, reason: "timeout" }), "no answer within 2 s");
  assert.equal(describeFailure({ ...connect, reason: "unknown-host" }), 'unknown host "h"');
  assert.equal(
    describeFailure({ ...connect, reason: "other", detail: "Network is unreachable." }),
    "Network is unreachable",
  );
  assert.equal(
    describeFailure({
      type: "register-failed",
      server,
      reason: "closed",
      detail: "",
      timeoutMs: 0,
    }),
    "the server closed the connection during the registration",
  );
  assert.equal(
    describeFailure({
      type: "register-failed",
      server,
      reason: "full",
      detail: "ERROR 105 Too many connections",
      timeoutMs: 0,
    }),
    "the server is full (ERROR 105 Too many connections)",
  );
  assert.equal(
    describeFailure({ type: "name-refused", name: "abc", code: 104, text: "Username taken" }),
    'the username "abc" is still in use (ERROR 104 Username taken)',
  );
});

Deno.test("queueFullHint says why the line was not sent and what to do", () => {
  assert.equal(
    queueFullHint(100, true),
    "Not sent: 100 messages already wait for the client to reconnect; send this one once it is " +
      "back.",
  );
  assert.match(queueFullHint(100, false), /^Not sent: 100 messages already wait to be sent/);
});

// ---------------------------------------------------------------------------------------------
// ChatSession against a fake server

const encoder = new TextEncoder();
const WAIT_MS = 10_000;

/** Polls `ready` until it is true, failing after `ms` with `what`. */
async function until(ready: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One connection accepted by the fake server. */
class FakePeer {
  half: Half | null = null;
  /** Everything the client sent on this connection, as text. */
  text = "";
  readonly events: DecodeEvent[] = [];
  readonly conn: Deno.TcpConn;
  readonly loop: Promise<void>;
  closed = false;

  constructor(conn: Deno.TcpConn, onEvent: (peer: FakePeer, e: DecodeEvent) => void) {
    this.conn = conn;
    this.loop = (async () => {
      const decoder = new Decoder();
      const text = new TextDecoder();
      const buf = new Uint8Array(4096);
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          this.text += text.decode(buf.subarray(0, n), { stream: true });
          for (const e of decoder.push(buf.subarray(0, n))) {
            this.events.push(e);
            onEvent(this, e);
          }
        }
      } catch { /* closed */ }
      this.closed = true;
    })();
  }

  async write(data: string): Promise<void> {
    const bytes = encoder.encode(data);
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

/**
 * A server that accepts connections and, by default, answers each REGISTER with REGISTERED;
 * everything else is up to the test.
 */
class FakeServer {
  readonly listener: Deno.TcpListener;
  readonly peers: FakePeer[] = [];
  readonly #accepting: Promise<void>;

  constructor(
    onRegister: (peer: FakePeer, half: Half, name: string) => string | null = (_p, half, name) =>
      `REGISTERED ${half} ${name}\n\n`,
    /** Answers every other message, when given: the text returned is written back. */
    onMessage?: (peer: FakePeer, message: Message) => string | null,
  ) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.listener = listener;
    this.#accepting = (async () => {
      for await (const conn of listener) {
        this.peers.push(
          new FakePeer(conn, (peer, e) => {
            if (e.kind !== "message") return;
            let answer: string | null = null;
            if (e.message.type === "REGISTER" && peer.half === null) {
              peer.half = e.message.half;
              answer = onRegister(peer, e.message.half, e.message.name);
            } else if (onMessage) {
              answer = onMessage(peer, e.message);
            }
            if (answer !== null) peer.write(answer).catch(() => {});
          }),
        );
      }
    })().catch(() => {});
  }

  /** The peers of `half` accepted so far, oldest first. */
  halves(half: Half): FakePeer[] {
    return this.peers.filter((p) => p.half === half);
  }

  get port(): number {
    return this.listener.addr.port;
  }

  async peer(half: Half): Promise<FakePeer> {
    await until(() => this.peers.some((p) => p.half === half), `the ${half} connection`);
    return this.peers.find((p) => p.half === half)!;
  }

  async close(): Promise<void> {
    try {
      this.listener.close();
    } catch { /* already closed */ }
    await this.#accepting;
    for (const p of this.peers) p.close();
    await Promise.all(this.peers.map((p) => p.loop));
  }
}

/**
 * Runs `body` with a fake server (default: one that answers only registrations) and a session
 * of user "abc" on it, then closes both. The session asks for no extension (base protocol)
 * unless `options.extensions` says; then the fake server agrees to those. `negotiated`
 * events are not in `events` (the negotiation has its own tests in src/client/).
 */
async function withSession(
  body: (s: {
    session: ChatSession;
    events: ClientEvent[];
    server: FakeServer;
    tosend: FakePeer;
    torecv: FakePeer;
  }) => Promise<void>,
  options: Partial<ChatSessionOptions> = {},
  server = new FakeServer(),
): Promise<void> {
  const events: ClientEvent[] = [];
  let negotiated = false;
  const session = new ChatSession({
    connect,
    host: "127.0.0.1",
    port: server.port,
    name: "abc",
    timeoutMs: WAIT_MS,
    onEvent: (e) => e.type === "negotiated" ? negotiated = true : events.push(e),
    extensions: [],
    ...options,
  });
  try {
    const opened = await session.open();
    assert.deepEqual(opened, { ok: true });
    const tosend = await server.peer("TOSEND");
    const torecv = await server.peer("TORECV");
    const wanted = options.extensions ?? [];
    if (wanted.length > 0) {
      await until(() => tosend.text.includes("EXTENSIONS"), "the extensions probe");
      await tosend.write(`SENT server\nExtensions: ${wanted.join(" ")}\nMax-body: 65536\n\n`);
    }
    await until(() => negotiated, "the end of the negotiation");
    await body({ session, events, server, tosend, torecv });
  } finally {
    await session.close();
    await server.close();
  }
}

const types = (events: ClientEvent[]) => events.map((e) => e.type);

Deno.test("ChatSession registers both halves with the canonical bytes", async () => {
  await withSession(({ events, tosend, torecv }) => {
    assert.equal(tosend.text, "REGISTER TOSEND abc\n\n");
    assert.equal(torecv.text, "REGISTER TORECV abc\n\n");
    assert.deepEqual(events, [{
      type: "registered",
      name: "abc",
      server: `127.0.0.1:${tosend.conn.localAddr.port}`,
      hint: false,
    }]);
    return Promise.resolve();
  });
});

Deno.test("ChatSession sends exactly the canonical SEND bytes, counting UTF-8 bytes", async () => {
  await withSession(async ({ session, tosend }) => {
    assert.ok(session.send("xyz", "Hiii"));
    assert.ok(session.send("ALL", "héllo"));
    const expected = "REGISTER TOSEND abc\n\nSEND xyz\nContent-length: 4\n\nHiii" +
      "SEND ALL\nContent-length: 6\n\nhéllo";
    await until(() => tosend.text === expected, "the two SENDs");
  });
});

Deno.test("ChatSession reports each answer against its message, in order (FIFO)", async () => {
  await withSession(async ({ session, events, tosend }) => {
    session.send("xyz", "1");
    session.send("nobody", "2");
    session.send("ALL", "3");
    session.send("xyz", "4");
    assert.equal(session.pending, 4);
    await until(() => tosend.events.length === 5, "four SENDs");
    // One write holding all four answers, the SEND typo among them.
    await tosend.write(
      "SENT xyz\n\nERROR 102 Unable to send\n\nSENT ALL\n\nSEND xyz\n\n",
    );
    await until(() => events.length === 5, "four answers");
    assert.deepEqual(events.slice(1), [
      { type: "sent", id: 1, to: "xyz" },
      { type: "not-delivered", id: 2, to: "nobody", code: 102, text: "Unable to send" },
      { type: "sent", id: 3, to: "ALL" },
      { type: "sent", id: 4, to: "xyz" },
    ]);
    assert.equal(session.pending, 0);
    assert.equal(session.delivered, 3);
    assert.equal(session.notDelivered, 1);
  });
});

Deno.test("ChatSession reads answers split into single bytes", async () => {
  await withSession(async ({ session, events, tosend }) => {
    session.send("xyz", "1");
    session.send("xyz", "2");
    await until(() => tosend.events.length === 3, "two SENDs");
    for (const byte of "SENT xyz\n\nERROR 103 Header Incomplete\n\n") await tosend.write(byte);
    await until(() => events.length === 3, "two answers");
    assert.deepEqual(events.slice(1), [
      { type: "sent", id: 1, to: "xyz" },
      { type: "not-delivered", id: 2, to: "xyz", code: 103, text: "Header Incomplete" },
    ]);
  });
});

Deno.test("ChatSession reports an answer that matches no message as unexpected", async () => {
  await withSession(async ({ events, tosend }) => {
    await tosend.write("SENT xyz\n\n");
    await until(() => events.length === 2, "the report");
    assert.deepEqual(events[1], { type: "unexpected", what: '"SENT xyz"' });
  });
});

Deno.test("ChatSession shows FORWARDs and answers RECEIVED for each, however they arrive", async () => {
  await withSession(async ({ events, torecv }) => {
    // Two in one write, then one a byte at a time (its body is one 4-byte UTF-8 character).
    await torecv.write(
      "FORWARD xyz\nContent-length: 5\n\nHello" + "FORWARD bob\nContent-length: 7\n\nline1\nx",
    );
    for (const byte of encoder.encode("FORWARD xyz\nContent-length: 4\n\n👋")) {
      await torecv.conn.write(new Uint8Array([byte]));
    }
    await until(() => events.length === 4, "three messages");
    assert.deepEqual(events.slice(1), [
      { type: "message", from: "xyz", text: "Hello" },
      { type: "message", from: "bob", text: "line1\nx" },
      { type: "message", from: "xyz", text: "👋" },
    ]);
    await until(
      () =>
        torecv.text ===
          "REGISTER TORECV abc\n\nRECEIVED xyz\n\nRECEIVED bob\n\nRECEIVED xyz\n\n",
      "three RECEIVED",
    );
  });
});

Deno.test("ChatSession answers ERROR 103 to a malformed FORWARD and keeps receiving", async () => {
  await withSession(async ({ events, torecv }) => {
    // No Content-length: the stream cannot be followed past it.
    await torecv.write("FORWARD xyz\n\nHiii");
    await until(() => events.length === 2, "the report");
    assert.equal(events[1]?.type, "bad-forward");
    await until(
      () => torecv.text === "REGISTER TORECV abc\n\nERROR 103 Header incomplete\n\n",
      "ERROR 103",
    );
    // A bad header line with a usable Content-length: skipped, and the next one still read.
    await torecv.write(
      "FORWARD xyz\nnonsense\nContent-length: 2\n\nhi" + "FORWARD xyz\nContent-length: 2\n\nok",
    );
    await until(() => events.length === 4, "the second report and the message");
    assert.equal(events[2]?.type, "bad-forward");
    assert.deepEqual(events[3], { type: "message", from: "xyz", text: "ok" });
    await until(
      () =>
        torecv.text ===
          "REGISTER TORECV abc\n\nERROR 103 Header incomplete\n\nERROR 103 Header incomplete\n\n" +
            "RECEIVED xyz\n\n",
      "ERROR 103 then RECEIVED",
    );
  });
});

/** The options of a session whose server agreed to `unregister` (so it sends UNREGISTER). */
const UNREGISTER: Partial<ChatSessionOptions> = { extensions: ["unregister"] };

Deno.test("ChatSession.leave sends UNREGISTER and ends on UNREGISTERED", async () => {
  await withSession(async ({ session, events, tosend }) => {
    const leaving = session.leave();
    await until(() => tosend.text.endsWith("UNREGISTER abc\n\n"), "UNREGISTER");
    await tosend.write("UNREGISTERED abc\n\n");
    await leaving;
    assert.deepEqual(events.at(-1), { type: "left", confirmed: true });
    assert.equal(await session.ended, "left");
  }, UNREGISTER);
});

Deno.test("ChatSession.leave closes anyway when the server answers ERROR or nothing", async () => {
  await withSession(async ({ session, events, tosend }) => {
    const leaving = session.leave();
    await until(() => tosend.text.endsWith("UNREGISTER abc\n\n"), "UNREGISTER");
    await tosend.write("ERROR 101 No user registered\n\n");
    await leaving;
    assert.deepEqual(events.at(-1), { type: "left", confirmed: false });
  }, UNREGISTER);
  await withSession(async ({ session, events }) => {
    session.send("xyz", "never answered");
    await session.leave(); // about a second
    assert.deepEqual(events.slice(1), [
      { type: "unconfirmed", id: 1, to: "xyz", why: "you left" },
      { type: "left", confirmed: false },
    ]);
    assert.equal(session.unconfirmed, 1);
  }, UNREGISTER);
});

Deno.test("ChatSession.leave still reports answers to earlier messages", async () => {
  await withSession(async ({ session, events, tosend }) => {
    session.send("xyz", "1");
    const leaving = session.leave();
    await until(() => tosend.text.endsWith("UNREGISTER abc\n\n"), "UNREGISTER");
    await tosend.write("SENT xyz\n\nUNREGISTERED abc\n\n");
    await leaving;
    assert.deepEqual(types(events), ["registered", "sent", "left"]);
  }, UNREGISTER);
});

Deno.test("ChatSession reports the server going away and what was left unanswered", async () => {
  await withSession(async ({ session, events, tosend, torecv }) => {
    session.send("xyz", "1");
    await until(() => tosend.events.length === 2, "the SEND");
    tosend.close();
    torecv.close();
    assert.equal(await session.ended, "disconnected");
    assert.deepEqual(events.slice(1), [
      { type: "unconfirmed", id: 1, to: "xyz", why: "the connection was lost" },
      {
        type: "disconnected",
        server: session.server,
        detail: "the server closed the connection",
      },
    ]);
    assert.equal(session.ready, false);
    assert.equal(session.send("xyz", "2"), null);
  });
});

Deno.test("ChatSession.settle waits for the answers still owed", async () => {
  await withSession(async ({ session, tosend }) => {
    session.send("xyz", "1");
    const settled = session.settle(WAIT_MS);
    await until(() => tosend.events.length === 2, "the SEND");
    await tosend.write("SENT xyz\n\n");
    assert.equal(await settled, true);
    session.send("xyz", "2");
    assert.equal(await session.settle(50), false);
  });
});

async function openAgainst(
  server: FakeServer,
  timeoutMs = WAIT_MS,
): Promise<[Awaited<ReturnType<ChatSession["open"]>>, ClientEvent[]]> {
  const events: ClientEvent[] = [];
  const session = new ChatSession({
    connect,
    host: "127.0.0.1",
    port: server.port,
    name: "abc",
    timeoutMs,
    onEvent: (e) => events.push(e),
  });
  const result = await session.open();
  await session.ended;
  return [result, events];
}

Deno.test("ChatSession.open reports a taken username (ERROR 104) as a name problem", async () => {
  const server = new FakeServer((_p, half, name) =>
    half === "TORECV" ? "ERROR 104 Username taken\n\n" : `REGISTERED ${half} ${name}\n\n`
  );
  try {
    const [result] = await openAgainst(server);
    assert.deepEqual(result, {
      ok: false,
      nameRefused: true,
      event: { type: "name-refused", name: "abc", code: 104, text: "Username taken" },
    });
  } finally {
    await server.close();
  }
});

Deno.test("ChatSession.open reports a full server (ERROR 105) as such", async () => {
  const server = new FakeServer(() => "ERROR 105 Too many connections\n\n");
  try {
    const [result] = await openAgainst(server);
    assert.ok(!result.ok && !result.nameRefused);
    assert.ok(
      !result.ok && result.event.type === "register-failed" && result.event.reason === "full",
    );
  } finally {
    await server.close();
  }
});

Deno.test("ChatSession.open reports ERROR 100 as a name problem too", async () => {
  const server = new FakeServer(() => "ERROR 100 Malformed username\n\n");
  try {
    const [result] = await openAgainst(server);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.nameRefused);
  } finally {
    await server.close();
  }
});

Deno.test("ChatSession.open gives up on a server that never answers the registration", async () => {
  const server = new FakeServer(() => null);
  try {
    const [result] = await openAgainst(server, 300);
    assert.ok(!result.ok);
    assert.deepEqual(!result.ok && result.event, {
      type: "register-failed",
      server: `127.0.0.1:${server.port}`,
      reason: "timeout",
      detail: "",
      timeoutMs: 300,
    });
  } finally {
    await server.close();
  }
});

Deno.test("ChatSession.open reports a server that closes during the registration", async () => {
  const server = new FakeServer((peer) => {
    peer.close();
    return null;
  });
  try {
    const [result] = await openAgainst(server);
    assert.ok(!result.ok && result.event.type === "register-failed");
    assert.ok(
      !result.ok && result.event.type === "register-failed" &&
        result.event.reason === "closed",
    );
  } finally {
    await server.close();
  }
});

Deno.test("ChatSession.open reports a refused connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const session = new ChatSession({
    connect,
    host: "127.0.0.1",
    port,
    name: "abc",
    timeoutMs: WAIT_MS,
    onEvent: () => {},
  });
  const result = await session.open();
  assert.ok(!result.ok);
  assert.equal(!result.ok && result.event.type, "connect-failed");
  assert.equal(
    !result.ok && result.event.type === "connect-failed" && result.event.reason,
    "refused",
  );
});

Deno.test("ChatSession talks to the real server: message, answer, leave", async () => {
  const log: string[] = [];
  const real = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    log: (e) => log.push(e.event),
  });
  const a: ClientEvent[] = [];
  const b: ClientEvent[] = [];
  const abc = new ChatSession({
    connect,
    host: "127.0.0.1",
    port: real.port,
    name: "abc",
    timeoutMs: WAIT_MS,
    onEvent: (e) => a.push(e),
    extensions: ["unregister"],
  });
  const xyz = new ChatSession({
    connect,
    host: "127.0.0.1",
    port: real.port,
    name: "xyz",
    timeoutMs: WAIT_MS,
    onEvent: (e) => b.push(e),
    extensions: ["unregister"],
  });
  try {
    assert.ok((await abc.open()).ok);
    assert.ok((await xyz.open()).ok);
    abc.send("xyz", "Hiii");
    assert.equal(await abc.settle(WAIT_MS), true);
    const own = (events: ClientEvent[]) => events.filter((e) => e.type !== "negotiated");
    assert.deepEqual(own(a).slice(1), [{ type: "sent", id: 1, to: "xyz" }]);
    assert.deepEqual(own(b).slice(1), [{ type: "message", from: "abc", text: "Hiii" }]);
    await abc.leave();
    assert.deepEqual(a.at(-1), { type: "left", confirmed: true });
    await until(() => log.includes("unregistered"), "the server's log");
  } finally {
    await abc.close();
    await xyz.close();
    await real.close();
  }
});

Deno.test("ChatSession.open reports a registration answer that is not a message", async () => {
  const server = new FakeServer(() => "HELLO there\n\n");
  try {
    const [result] = await openAgainst(server);
    assert.ok(!result.ok);
    assert.deepEqual(!result.ok && result.event, {
      type: "register-failed",
      server: `127.0.0.1:${server.port}`,
      reason: "unexpected",
      detail: 'unknown message "HELLO there"',
      timeoutMs: 0,
    });
  } finally {
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// ChatSession: ERROR 106, the window, reconnecting, TLS

const FAST_RETRY = { baseMs: 20, capMs: 40, jitter: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sendOf = (e: DecodeEvent) =>
  e.kind === "message" && e.message.type === "SEND"
    ? `${e.message.to}:${new TextDecoder().decode(e.message.body)}`
    : "";

Deno.test("ChatSession resends a message refused with ERROR 106, each answer on its message", async () => {
  await withSession(async ({ session, events, tosend }) => {
    session.send("a", "1");
    session.send("b", "2");
    session.send("c", "3");
    await until(() => tosend.events.length === 4, "three SENDs");
    await tosend.write("SENT a\n\nERROR 106 Rate limit exceeded\n\nSENT c\n\n");
    await until(() => tosend.events.length === 5, "the resend");
    assert.equal(sendOf(tosend.events[4]!), "b:2");
    assert.deepEqual(events.slice(1), [
      { type: "sent", id: 1, to: "a" },
      { type: "sent", id: 3, to: "c" },
    ]);
    assert.equal(session.pending, 1);
    await tosend.write("SENT b\n\n");
    await until(() => events.length === 4, "the answer to the resend");
    assert.deepEqual(events.at(-1), { type: "sent", id: 2, to: "b" });
    assert.deepEqual([session.delivered, session.notDelivered, session.pending], [3, 0, 0]);
  }, { rateRetryBackoff: FAST_RETRY });
});

Deno.test("ChatSession sends one at a time after ERROR 106 so that nothing overtakes a resend", async () => {
  await withSession(async ({ session, tosend }) => {
    session.send("x", "1");
    await until(() => tosend.events.length === 2, "the SEND");
    await tosend.write("ERROR 106 Rate limit exceeded\n\n");
    await until(() => tosend.events.length === 3, "the resend");
    // Typed while the resent one awaits its answer: they wait behind it.
    session.send("x", "2");
    session.send("x", "3");
    await sleep(100);
    assert.deepEqual(tosend.events.slice(1).map(sendOf), ["x:1", "x:1"], "2 waits behind 1");
    await tosend.write("SENT x\n\n");
    await until(() => tosend.events.length === 4, "the second");
    await sleep(100);
    assert.equal(tosend.events.length, 4, "3 waits behind 2");
    await tosend.write("SENT x\n\n");
    await until(() => tosend.events.length === 5, "the third");
    await tosend.write("SENT x\n\n");
    await until(() => session.pending === 0, "every answer");
    // Caught up: pipelining again.
    session.send("x", "4");
    session.send("x", "5");
    await until(() => tosend.events.length === 7, "two SENDs at once");
    assert.deepEqual(tosend.events.slice(1).map(sendOf), [
      "x:1",
      "x:1",
      "x:2",
      "x:3",
      "x:4",
      "x:5",
    ]);
  }, { rateRetryBackoff: FAST_RETRY });
});

Deno.test("ChatSession gives up on ERROR 106 after rounds in which nothing got through", async () => {
  const refusing = new FakeServer(
    undefined,
    (_peer, m) => m.type === "SEND" ? "ERROR 106 Rate limit exceeded\n\n" : null,
  );
  await withSession(
    async ({ session, events, tosend }) => {
      session.send("xyz", "1");
      assert.ok(await session.settle(WAIT_MS));
      // Sent, then resent after each of the two waits: refused three times.
      assert.equal(tosend.events.length, 4);
      assert.deepEqual(events.slice(1), [{
        type: "not-delivered",
        id: 1,
        to: "xyz",
        code: 106,
        text: "Rate limit exceeded",
        attempts: 3,
      }]);
      assert.equal(session.notDelivered, 1);
      // The next message gets its own chances.
      session.send("xyz", "2");
      assert.ok(await session.settle(WAIT_MS));
      assert.equal(tosend.events.length, 7);
    },
    { rateRetryBackoff: FAST_RETRY, rateRetryRounds: 2 },
    refusing,
  );
});

Deno.test("ChatSession keeps at most its window of messages awaiting answers", async () => {
  await withSession(async ({ session, tosend }) => {
    for (const n of [1, 2, 3]) session.send("x", String(n));
    await until(() => tosend.events.length === 3, "two SENDs");
    await sleep(100);
    assert.equal(tosend.events.length, 3, "the third waits");
    assert.equal(session.pending, 3);
    await tosend.write("SENT x\n\n");
    await until(() => tosend.events.length === 4, "the third SEND");
  }, { window: 2 });
});

Deno.test("ChatSession with reconnect comes back, reports what awaited an answer, sends what was typed", async () => {
  await withSession(async ({ session, events, server, tosend, torecv }) => {
    session.send("xyz", "1");
    await until(() => tosend.events.length === 2, "the SEND");
    tosend.close();
    torecv.close();
    await until(() => events.some((e) => e.type === "reconnecting"), "the reconnecting line");
    assert.deepEqual(events.slice(1), [
      { type: "unconfirmed", id: 1, to: "xyz", why: "the connection was lost" },
      {
        type: "reconnecting",
        server: session.server,
        lost: true,
        detail: "the server closed the connection",
        delayMs: 200,
      },
    ]);
    assert.equal(session.reconnecting, true);
    assert.equal(session.send("xyz", "2"), 2, "queued while reconnecting");
    await until(() => server.halves("TOSEND").length === 2, "the new TOSEND");
    const again = server.halves("TOSEND")[1]!;
    await until(() => again.events.length === 2, "the queued SEND");
    assert.equal(again.text, "REGISTER TOSEND abc\n\nSEND xyz\nContent-length: 1\n\n2");
    assert.deepEqual(events[3], { type: "reconnected", name: "abc", server: session.server });
    assert.equal(session.ready, true);
    await again.write("SENT xyz\n\n");
    const recv = server.halves("TORECV")[1]!;
    await recv.write("FORWARD xyz\nContent-length: 4\n\nback");
    await until(() => events.length === 6, "the answer and the message");
    assert.deepEqual(events.slice(4), [
      { type: "sent", id: 2, to: "xyz" },
      { type: "message", from: "xyz", text: "back" },
    ]);
    assert.deepEqual([session.unconfirmed, session.delivered], [1, 1]);
  }, { reconnect: true, reconnectBackoff: { baseMs: 200, capMs: 400, jitter: 0 } });
});

Deno.test("ChatSession with reconnect says why attempts fail once, not at every attempt", async () => {
  let tosends = 0;
  const flaky = new FakeServer((peer, half, name) => {
    if (half === "TOSEND" && ++tosends >= 2 && tosends <= 4) {
      peer.close(); // attempts 1 to 3 fail alike
      return null;
    }
    return `REGISTERED ${half} ${name}\n\n`;
  });
  await withSession(
    async ({ events, tosend, torecv }) => {
      tosend.close();
      torecv.close();
      await until(() => events.some((e) => e.type === "reconnected"), "the reconnection");
      assert.deepEqual(events.slice(1).map((e) => e.type === "reconnecting" ? e.detail : e.type), [
        "the server closed the connection",
        "the server closed the connection during the registration",
        "reconnected",
      ]);
      assert.equal(tosends, 5);
    },
    { reconnect: true, reconnectBackoff: FAST_RETRY },
    flaky,
  );
});

Deno.test("ChatSession with reconnect gives up when the username stays taken", async () => {
  let tosends = 0;
  const taken = new FakeServer((_peer, half, name) =>
    half === "TOSEND" && ++tosends > 1
      ? "ERROR 104 Username taken\n\n"
      : `REGISTERED ${half} ${name}\n\n`
  );
  await withSession(
    async ({ session, events, tosend, torecv }) => {
      tosend.close();
      torecv.close();
      await until(() => events.some((e) => e.type === "reconnecting"), "the reconnecting line");
      session.send("xyz", "queued");
      assert.equal(await session.ended, "disconnected");
      assert.deepEqual(events.slice(2), [
        {
          type: "reconnecting",
          server: session.server,
          lost: false,
          detail: 'the username "abc" is still in use (ERROR 104 Username taken)',
          delayMs: 40,
        },
        { type: "not-sent", id: 1, to: "xyz", why: "the client could not reconnect" },
        {
          type: "reconnect-failed",
          server: session.server,
          name: "abc",
          code: 104,
          text: "Username taken",
          tries: 3,
        },
      ]);
      assert.equal(session.notSent, 1);
    },
    { reconnect: true, reconnectBackoff: FAST_RETRY, nameTakenTries: 3 },
    taken,
  );
});

Deno.test("ChatSession.leave while reconnecting stops at once and reports what was queued", async () => {
  await withSession(async ({ session, events, tosend, torecv }) => {
    tosend.close();
    torecv.close();
    await until(() => session.reconnecting, "the reconnecting state");
    assert.ok(session.send("xyz", "one"));
    assert.ok(session.send("xyz", "two"));
    assert.equal(session.send("xyz", "three"), null, "the queue holds two");
    assert.equal(session.full, true);
    await session.leave();
    assert.equal(await session.ended, "left");
    assert.deepEqual(events.slice(2), [
      { type: "not-sent", id: 1, to: "xyz", why: "you left before the client could reconnect" },
      { type: "not-sent", id: 2, to: "xyz", why: "you left before the client could reconnect" },
      { type: "left", confirmed: false, offline: true },
    ]);
    assert.equal(session.notSent, 2);
  }, {
    reconnect: true,
    reconnectBackoff: { baseMs: 60_000, capMs: 60_000, jitter: 0 },
    maxQueued: 2,
  });
});

Deno.test("ChatSession.open without TLS recognises a TLS server's answer", async () => {
  // What a TLS server answers to plain text: a TLS alert record.
  const server = new FakeServer(() => "\x15\x03\x03\x00\x02\x02\x32");
  try {
    const [result] = await openAgainst(server);
    assert.deepEqual(!result.ok && result.event, {
      type: "register-failed",
      server: `127.0.0.1:${server.port}`,
      reason: "tls-server",
      detail: "",
      timeoutMs: 0,
    });
  } finally {
    await server.close();
  }
});

Deno.test({
  name: "ChatSession over TLS registers with a trusted certificate and names an untrusted one" +
    needsOpenssl,
  ignore: !hasOpenssl,
  fn: async () => {
    await withTempDir(async (dir) => {
      const files = await makeCertificate(dir, "server");
      const cert = await Deno.readTextFile(files.cert);
      const key = await Deno.readTextFile(files.key);
      const real = await startServer({ hostname: "127.0.0.1", port: 0, tls: { cert, key } });
      const events: ClientEvent[] = [];
      const open = (tls: ChatSessionOptions["tls"]) =>
        new ChatSession({
          connect,
          host: "127.0.0.1",
          port: real.port,
          name: "abc",
          timeoutMs: WAIT_MS,
          onEvent: (e) => events.push(e),
          tls,
        });
      try {
        const trusted = open({ caCerts: [cert] });
        assert.deepEqual(await trusted.open(), { ok: true });
        assert.deepEqual(events, [{
          type: "registered",
          name: "abc",
          server: `127.0.0.1:${real.port}`,
          hint: false,
          tls: true,
        }]);
        await trusted.leave();
        const result = await open({}).open();
        assert.ok(!result.ok && result.event.type === "connect-failed");
        assert.equal(
          !result.ok && result.event.type === "connect-failed" && result.event.reason,
          "tls-untrusted",
        );
      } finally {
        await real.close();
      }
    });
  },
});

Deno.test("ChatSession turns whatever bytes a server sends into events, never an exception", async () => {
  // A seeded generator, so that a failure can be replayed.
  let seed = 20261125;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pieces = [
    "SENT xyz\n\n",
    "ERROR 102 Unable to send\n\n",
    "ERROR 106 Rate limit exceeded\n\n",
    "ERROR 999 ?\n\n",
    "UNREGISTERED abc\n\n",
    "FORWARD xyz\nContent-length: 3\n\nabc",
    "FORWARD xyz\nContent-length: 5\n\nab",
    "FORWARD bob\ncontent-LENGTH: 2\r\n\r\nhi",
    "FORWARD \nContent-length: x\n\n",
    "REGISTERED TOSEND abc\n\n",
    "\x15\x03\x03\x00\x02",
    "\r\n",
    "\n\n",
    "\x00\xff\x1b[2J",
  ];
  const garbage = () => {
    let text = "";
    for (let i = rand(4); i >= 0; i--) {
      const piece = pieces[rand(pieces.length)]!;
      text += rand(3) === 0 ? piece.slice(0, rand(piece.length + 1)) : piece;
    }
    return text;
  };
  await withSession(async ({ session, events, tosend, torecv }) => {
    for (let round = 0; round < 300; round++) {
      if (rand(2) === 0) session.send("xyz", `m${round}`);
      const peer = rand(3) === 0 ? tosend : torecv;
      if (peer.closed || session.done) break;
      await peer.write(garbage()).catch(() => {});
    }
    await sleep(100);
    for (const e of events) {
      const text = renderEvent(e, { color: false });
      assert.equal(typeof text, "string");
      // A handler that threw would surface as a connection error from the transport.
      assert.ok(
        !(e.type === "disconnected" && /connection error/.test(e.detail)),
        `an exception became a connection error: ${text}`,
      );
    }
  }, { rateRetryBackoff: FAST_RETRY });
});
