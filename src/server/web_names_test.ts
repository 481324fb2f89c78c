import assert from "node:assert/strict";
import {
  checkHost,
  hostName,
  isIpLiteral,
  machineNames,
  RefusedNames,
  webNames,
} from "./web_names.ts";

const NONE = webNames([]);

Deno.test("hostName lowercases, drops the port and one trailing dot, and reads IPs as browsers do", () => {
  const cases: [string, string][] = [
    ["Chat.Example.COM", "chat.example.com"],
    ["chat.example.com.:8080", "chat.example.com"],
    ["localhost.", "localhost"],
    ["LOCALHOST:80", "localhost"],
    ["127.0.0.1:8080", "127.0.0.1"],
    ["127.0.0.1.", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["[::1]", "[::1]"],
    ["[::1]:8080", "[::1]"],
    ["[::FFFF:127.0.0.1]", "[::ffff:7f00:1]"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["chat.lan:", "chat.lan"],
    [`${"a".repeat(249)}.com.:80`, `${"a".repeat(249)}.com`],
  ];
  for (const [host, name] of cases) assert.equal(hostName(host), name, host);
});

Deno.test("hostName is null for what is not a host with an optional port", () => {
  const garbage = [
    "",
    " ",
    ":8080",
    "a b",
    "user@chat.lan",
    "chat.lan/x",
    "chat.lan?x",
    "chat.lan#x",
    "chat.lan\\x",
    "%63hat.lan",
    "chat.lan:99999",
    "chat.lan:port",
    "::1",
    "[::1",
    "[fe80::1%25eth0]",
    "1.2.3.4.5",
    "evil.123",
    "bücher.example",
    "a\tb",
    `${"a".repeat(250)}.com`,
  ];
  for (const host of garbage) assert.equal(hostName(host), null, JSON.stringify(host));
});

Deno.test("isIpLiteral is true for IPv4 and bracketed IPv6 names only", () => {
  assert.ok(isIpLiteral("127.0.0.1"));
  assert.ok(isIpLiteral("[::1]"));
  assert.ok(!isIpLiteral("chat.lan"));
  assert.ok(!isIpLiteral("1.2.3.example"));
});

Deno.test("checkHost accepts every IP literal, localhost and *.localhost, in any of their forms", () => {
  const accepted = [
    "127.0.0.1",
    "127.0.0.1:8080",
    "10.0.0.7:80",
    "192.168.1.10.",
    "127.1",
    "0x7f.1",
    "[::1]",
    "[::1]:8080",
    "[::ffff:127.0.0.1]:8080",
    "[fe80::1]",
    "localhost",
    "LocalHost:8080",
    "localhost.",
    "localhost.:8080",
    "foo.localhost",
    "a.b.LOCALHOST.:1",
  ];
  for (const host of accepted) assert.deepEqual(checkHost(NONE, host), { kind: "accepted" }, host);
});

Deno.test("checkHost refuses another name as unknown, with the name it asked for", () => {
  const unknown: [string, string][] = [
    ["evil.example", "evil.example"],
    ["EVIL.example.:8080", "evil.example"],
    ["localhost.evil.example", "localhost.evil.example"],
    ["notlocalhost", "notlocalhost"],
    ["127.0.0.1.evil.example", "127.0.0.1.evil.example"],
    ["chat", "chat"],
  ];
  for (const [host, name] of unknown) {
    assert.deepEqual(checkHost(NONE, host), { kind: "unknown", name }, host);
  }
});

Deno.test("checkHost says invalid for a Host that is not one, empty included", () => {
  for (const host of ["", "a b", "u@h", "h:x", "::1"]) {
    assert.deepEqual(checkHost(NONE, host), { kind: "invalid" }, JSON.stringify(host));
  }
});

Deno.test("webNames answers its names in any case, with or without a trailing dot or port", () => {
  const names = webNames(["Chat.Example.com", "box.local."]);
  for (const host of ["chat.example.com", "CHAT.EXAMPLE.COM.:443", "box.local", "Box.Local."]) {
    assert.deepEqual(checkHost(names, host), { kind: "accepted" }, host);
  }
  assert.deepEqual(checkHost(names, "example.com"), { kind: "unknown", name: "example.com" });
  assert.deepEqual(checkHost(names, "x.chat.example.com").kind, "unknown", "no subdomains");
});

Deno.test('webNames with "*" accepts any Host, even one that is not a host name', () => {
  const any = webNames(["*"]);
  assert.ok(any.any);
  for (const host of ["evil.example", "a b", ""]) {
    assert.deepEqual(checkHost(any, host), { kind: "accepted" }, host);
  }
});

Deno.test("webNames refuses an entry that is not a host name, saying what to give", () => {
  assert.throws(
    () => webNames(["ok.example", "a b"]),
    (e) =>
      e instanceof RangeError &&
      e.message === '"a b" is not a host name: give a name such as "chat.example.com", or "*" ' +
          "for any.",
  );
});

Deno.test("machineNames is the machine's name and its .local name", () => {
  assert.deepEqual(machineNames("Box"), ["box", "box.local"]);
  assert.deepEqual(machineNames("box.local"), ["box", "box.local"]);
  assert.deepEqual(machineNames("box.corp.example"), [
    "box.corp.example",
    "box.corp.example.local",
  ]);
  assert.deepEqual(machineNames(null), []);
  assert.deepEqual(machineNames(""), []);
  assert.deepEqual(machineNames("10.0.0.1"), []);
});

Deno.test("RefusedNames logs each name once and at most `limit` names per window", () => {
  const log = new RefusedNames(3, 1000);
  assert.equal(log.note("a", 0), "log");
  assert.equal(log.note("a", 1), null, "a name again: not logged");
  assert.equal(log.note("b", 2), "log");
  assert.equal(log.note("c", 3), "last", "the third name fills the window");
  assert.equal(log.note("d", 4), null, "a fourth name in the window: not logged");
  assert.equal(log.note("a", 999), null);
  assert.equal(log.note("d", 1000), "log", "a new window");
  assert.equal(log.note("a", 1001), "log");
  assert.equal(log.note("d", 1002), null);
});
