/** The client's reading of the negotiated extensions: the probe, the answer, the headers. */
import assert from "node:assert/strict";
import { encode, type Header, type Message, utf8Bytes } from "../protocol/mod.ts";
import {
  answerDetails,
  DEFAULT_EXTENSIONS,
  header,
  probeMessage,
  readAgreement,
  readForward,
  sendsProbe,
  wantedExtensions,
} from "./extensions.ts";

const ALL = new Set(DEFAULT_EXTENSIONS);
const NONE = new Set<string>();
const ALL_BUT_MAIL = new Set(DEFAULT_EXTENSIONS.filter((e) => e !== "mail"));

function forward(from: string, text: string, headers?: Header[]): Message & { type: "FORWARD" } {
  return { type: "FORWARD", from, body: utf8Bytes(text), ...(headers ? { headers } : {}) };
}

Deno.test("probeMessage is a plain one-line SEND to server", () => {
  assert.equal(
    new TextDecoder().decode(encode(probeMessage(DEFAULT_EXTENSIONS))),
    "SEND server\nContent-length: 55\n\nEXTENSIONS who joins to reason unregister identity mail",
  );
  assert.equal(new TextDecoder().decode(probeMessage(["who"]).body), "EXTENSIONS who");
});

Deno.test("sendsProbe skips a user called server and an empty wish list", () => {
  assert.equal(sendsProbe("abc", DEFAULT_EXTENSIONS), true);
  assert.equal(sendsProbe("SeRvEr", DEFAULT_EXTENSIONS), false);
  assert.equal(sendsProbe("abc", []), false);
});

Deno.test("wantedExtensions drops repeats and refuses what would break the line", () => {
  assert.deepEqual(wantedExtensions(["who", "to", "who"]), ["who", "to"]);
  for (const bad of ["", "who joins", "a\nb", "-x"]) {
    assert.throws(() => wantedExtensions([bad]), /is not one word/, JSON.stringify(bad));
  }
});

Deno.test("readAgreement takes the asked extensions listed on SENT server, in the order asked", () => {
  const sent = (headers?: Header[]): Message => ({
    type: "SENT",
    to: "server",
    ...(headers ? { headers } : {}),
  });
  assert.deepEqual(
    readAgreement(
      sent([["Extensions", "unregister who  shiny"], ["Max-body", "65536"]]),
      DEFAULT_EXTENSIONS,
    ),
    { extensions: ["who", "unregister"], maxBody: 65536 },
  );
  assert.deepEqual(readAgreement(sent([["extensions", ""]]), DEFAULT_EXTENSIONS), {
    extensions: [],
  });
  assert.deepEqual(
    readAgreement(sent([["Extensions", "who"], ["Max-body", "-1"]]), ["who"]),
    { extensions: ["who"] },
    "a bad Max-body is ignored",
  );
  // A base server: ERROR 102, or SENT server with no header (a user called server got it).
  assert.deepEqual(
    readAgreement({ type: "ERROR", code: 102, text: "Unable to send" }, DEFAULT_EXTENSIONS),
    { extensions: [] },
  );
  assert.deepEqual(readAgreement(sent(), DEFAULT_EXTENSIONS), { extensions: [] });
  assert.deepEqual(
    readAgreement({ type: "SENT", to: "xyz", headers: [["Extensions", "who"]] }, ["who"]),
    { extensions: [] },
  );
});

Deno.test("header finds a header line in any letter case, the first one", () => {
  const m: Message = { type: "SENT", to: "ALL", headers: [["delivered", "2"], ["Delivered", "3"]] };
  assert.equal(header(m, "Delivered"), "2");
  assert.equal(header(m, "Recipients"), undefined);
  assert.equal(header({ type: "SENT", to: "ALL" }, "Delivered"), undefined);
});

Deno.test("answerDetails reads Reason, Max-body, Delivered and Recipients only with reason agreed", () => {
  const tooLarge: Message = {
    type: "ERROR",
    code: 102,
    text: "Unable to send",
    headers: [["Reason", "too-large"], ["Max-body", "100"]],
  };
  assert.deepEqual(answerDetails(tooLarge, ALL), { reason: "too-large", maxBody: 100 });
  assert.deepEqual(answerDetails(tooLarge, new Set(["who", "to"])), {});
  const partial: Message = {
    type: "ERROR",
    code: 102,
    text: "Unable to send",
    headers: [["Reason", "partial"], ["Delivered", "2"], ["Recipients", "3"]],
  };
  assert.deepEqual(answerDetails(partial, ALL), {
    reason: "partial",
    delivered: 2,
    recipients: 3,
  });
  const nobody: Message = {
    type: "SENT",
    to: "ALL",
    headers: [["Delivered", "0"], ["Recipients", "0"]],
  };
  assert.deepEqual(answerDetails(nobody, ALL), { delivered: 0, recipients: 0 });
  // Nonsense is read as nothing: a reason that is no token, counts that do not add up.
  const odd: Message = {
    type: "ERROR",
    code: 102,
    text: "Unable to send",
    headers: [["Reason", "\x1b[2J"], ["Delivered", "4"], ["Recipients", "3"]],
  };
  assert.deepEqual(answerDetails(odd, ALL), {});
  assert.deepEqual(
    answerDetails({ type: "SENT", to: "ALL", headers: [["Delivered", "1"]] }, ALL),
    {},
    "Delivered alone",
  );
});

Deno.test("readForward reads the notices from server under who and joins", () => {
  const online = forward("server", "abc def", [["Event", "online"]]);
  assert.deepEqual(readForward(online, ALL), { type: "online", names: ["abc", "def"] });
  assert.deepEqual(readForward(forward("server", "bob", [["event", "JOINED"]]), ALL), {
    type: "user-joined",
    name: "bob",
  });
  assert.deepEqual(readForward(forward("server", "bob", [["Event", "left"]]), ALL), {
    type: "user-left",
    name: "bob",
  });
  // Not agreed, unknown, or not a name: an ordinary message from server.
  // An online list may also replace the presence notices a joins user missed.
  assert.deepEqual(readForward(online, new Set(["joins"])), {
    type: "online",
    names: ["abc", "def"],
  });
  for (
    const [m, agreed] of [
      [online, new Set(["to", "reason"])],
      [forward("server", "bob", [["Event", "joined"]]), new Set(["who"])],
      [forward("server", "bob", [["Event", "renamed"]]), ALL],
      [forward("server", "bob smith", [["Event", "joined"]]), ALL],
      [forward("server", "a,b", [["Event", "online"]]), ALL],
    ] as const
  ) {
    assert.deepEqual(readForward(m, agreed), {
      type: "message",
      from: "server",
      text: new TextDecoder().decode(m.body),
    });
  }
  // A user of a base server may be called anything but server: its Event header means nothing.
  assert.deepEqual(readForward(forward("Server", "bob", [["Event", "joined"]]), ALL), {
    type: "message",
    from: "Server",
    text: "bob",
  });
});

Deno.test("readForward marks a message to everyone only with to agreed", () => {
  const hi = forward("bob", "hi", [["To", "ALL"]]);
  assert.deepEqual(readForward(hi, ALL), { type: "message", from: "bob", text: "hi", toAll: true });
  assert.deepEqual(readForward(hi, NONE), { type: "message", from: "bob", text: "hi" });
  assert.deepEqual(readForward(forward("bob", "hi", [["To", "abc"]]), ALL), {
    type: "message",
    from: "bob",
    text: "hi",
  });
  assert.deepEqual(readForward(forward("bob", "hi"), ALL), {
    type: "message",
    from: "bob",
    text: "hi",
  });
});

Deno.test("answerDetails reads Mail: on SENT and Limit: on ERROR only with mail agreed", () => {
  const sent: Message = { type: "SENT", to: "bob", headers: [["Mail", "17"]] };
  const full: Message = {
    type: "ERROR",
    code: 102,
    text: "Unable to send",
    headers: [["Reason", "mailbox-full"], ["Limit", "1000"]],
  };
  const withMail = new Set([...ALL, "mail"]);
  assert.deepEqual(answerDetails(sent, withMail), { mail: 17 });
  assert.deepEqual(answerDetails(sent, ALL_BUT_MAIL), {});
  assert.deepEqual(answerDetails(full, withMail), { reason: "mailbox-full", limit: 1000 });
  assert.deepEqual(answerDetails(full, ALL_BUT_MAIL), { reason: "mailbox-full" });
});
