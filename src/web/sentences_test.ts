import assert from "node:assert/strict";
import { eventNotice, joinProblem } from "./sentences.ts";

const server = "127.0.0.1:8080";

Deno.test("eventNotice words what names a command-line option the page's way", () => {
  const refused = eventNotice({
    type: "reconnect-failed",
    server,
    name: "alice",
    code: 100,
    text: "Malformed username",
    tries: 1,
  });
  assert.equal(
    refused?.text,
    'Cannot reconnect to "127.0.0.1:8080": the server now refuses the username "alice" ' +
      "(ERROR 100 Malformed username). Join again with another name.",
  );
  assert.equal(
    eventNotice({ type: "disconnected", server, detail: "the server closed the connection" })
      ?.text,
    'Lost the connection to the server "127.0.0.1:8080": the server closed the connection. ' +
      "Join again when the server is back.",
  );
  for (const event of [refused]) assert.doesNotMatch(event!.text, /--|Start the client/);
});

Deno.test("eventNotice keeps the terminal's sentences elsewhere and skips what the page shows", () => {
  assert.deepEqual(eventNotice({ type: "reconnected", name: "alice", server }), {
    text: "Reconnected as alice on 127.0.0.1:8080.",
    tone: "good",
  });
  assert.deepEqual(eventNotice({ type: "left", confirmed: true }), {
    text: "Left the chat.",
    tone: "info",
  });
  assert.equal(eventNotice({ type: "identity", status: "created", name: "a", server }), null);
  assert.equal(eventNotice({ type: "identity", status: "proven", name: "a", server }), null);
  assert.equal(eventNotice({ type: "online", names: ["a"] }), null);
  assert.equal(eventNotice({ type: "negotiated", extensions: ["who", "joins"] }), null);
  assert.deepEqual(eventNotice({ type: "negotiated", extensions: [] }), {
    text: "This server does not tell who is online.",
    tone: "info",
  });
});

Deno.test("joinProblem says why a join failed, with what to do in a browser", () => {
  assert.equal(
    joinProblem({
      type: "connect-failed",
      server,
      host: "127.0.0.1",
      reason: "timeout",
      detail: "",
      timeoutMs: 10_000,
    }),
    'Cannot connect to "127.0.0.1:8080": no answer in time. Check that the chat server is ' +
      "running, then join again.",
  );
  assert.equal(
    joinProblem({
      type: "register-failed",
      server,
      reason: "tls-server",
      detail: "",
      timeoutMs: 0,
    }),
    'The server "127.0.0.1:8080" answered in TLS: it expects encrypted connections. Open the ' +
      "page with https.",
  );
  assert.equal(
    joinProblem({
      type: "register-failed",
      server,
      reason: "full",
      detail: "ERROR 105 Too many",
      timeoutMs: 0,
    }),
    'The server "127.0.0.1:8080" is full (ERROR 105 Too many). Try again later.',
  );
  assert.match(
    joinProblem({
      type: "identity-failed",
      reason: "not-owner",
      name: "alice",
      server,
      detail: "",
    }),
    /^"alice" belongs to another key on 127\.0\.0\.1:8080, not to the one this browser holds/,
  );
});
