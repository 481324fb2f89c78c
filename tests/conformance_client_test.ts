/**
 * Tests of `chat conformance client` (src/commands/conformance_client.ts): the client cases run
 * against our own client through the command's entry point, against deliberately broken fake
 * clients, and with a "person" (this test) following the --listen instructions.
 */
import assert from "node:assert/strict";
import { conformanceClientMain, type ConformanceIo } from "../src/commands/conformance_client.ts";
import { CLIENT_CASES } from "../src/conformance/client_cases.ts";
import { chatCommand } from "./cli_cmd.ts";
import { PipedClient } from "./spawn.ts";

/** Output captured from one run of the command. */
interface Captured {
  io: ConformanceIo;
  out: string[];
  err: string[];
}

function capture(onErr: (line: string) => void = () => {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      out: (t) => out.push(t),
      err: (t) => {
        err.push(t);
        onErr(t);
      },
    },
  };
}

/** Our client, with the placeholders the command fills in. */
const OUR_CLIENT = [...chatCommand(), "client", "{user}", "{host}", "--port", "{port}"];

/**
 * A tiny client written for these tests, broken on purpose by its last argument:
 * "no-received" never answers a FORWARD, "chars" counts Content-length in UTF-16 characters,
 * "header" adds a header line of its own to each SEND.
 */
const FAKE_CLIENT = `
const [host, port, user, mode] = Deno.args;
const enc = new TextEncoder();
const dec = new TextDecoder();
const open = async (half) => {
  const conn = await Deno.connect({ hostname: host, port: Number(port) });
  await conn.write(enc.encode("REGISTER " + half + " " + user + "\\n\\n"));
  return conn;
};
const tosend = await open("TOSEND");
const torecv = await open("TORECV");
(async () => {
  let bytes = new Uint8Array(0);
  for await (const chunk of torecv.readable) {
    const all = new Uint8Array(bytes.length + chunk.length);
    all.set(bytes);
    all.set(chunk, bytes.length);
    bytes = all;
    for (;;) {
      const end = bytes.findIndex((b, i) => b === 10 && bytes[i + 1] === 10);
      if (end < 0) break;
      const m = /^FORWARD (\\w+)\\nContent-length: (\\d+)$/.exec(dec.decode(bytes.subarray(0, end)));
      if (!m) { // REGISTERED: no body
        bytes = bytes.slice(end + 2);
        continue;
      }
      if (bytes.length < end + 2 + Number(m[2])) break;
      const body = bytes.subarray(end + 2, end + 2 + Number(m[2]));
      bytes = bytes.slice(end + 2 + Number(m[2]));
      console.log(m[1] + ": " + dec.decode(body));
      if (mode !== "no-received") await torecv.write(enc.encode("RECEIVED " + m[1] + "\\n\\n"));
    }
  }
})();
(async () => { for await (const _ of tosend.readable) { /* answers */ } })();
let rest = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  rest += chunk;
  const lines = rest.split("\\n");
  rest = lines.pop();
  for (const line of lines) {
    const m = /^@(\\w+) (.*)$/.exec(line);
    if (!m) continue;
    const length = mode === "chars" ? m[2].length : enc.encode(m[2]).length;
    const extra = mode === "header" ? "X-Client: fake\\n" : "";
    await tosend.write(
      enc.encode("SEND " + m[1] + "\\nContent-length: " + length + "\\n" + extra + "\\n" + m[2]),
    );
  }
}
`;

/** Runs `body` with the fake client written to a temporary file. */
async function withFakeClient(body: (script: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/fake_client.js`;
    await Deno.writeTextFile(script, FAKE_CLIENT);
    await body(script);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function fakeCommand(script: string, mode: string): string[] {
  return [Deno.execPath(), "run", "--allow-net", script, "{host}", "{port}", "{user}", mode];
}

Deno.test("conformanceClientMain passes our client on every case", async () => {
  const c = capture();
  const code = await conformanceClientMain(["--json", "--", ...OUR_CLIENT], c.io);
  const report = JSON.parse(c.out.join("\n"));
  assert.deepEqual(
    report.cases.map((r: { id: string; result: string }) => `${r.id} ${r.result}`),
    CLIENT_CASES.map((k) => `${k.id} pass`),
  );
  assert.deepEqual([report.passed, report.failed, report.skipped], [CLIENT_CASES.length, 0, 0]);
  assert.equal(code, 0);
});

Deno.test("conformanceClientMain fails a client that never answers RECEIVED, with evidence", async () => {
  await withFakeClient(async (script) => {
    const c = capture();
    const code = await conformanceClientMain(
      ["--timeout", "3s", "--", ...fakeCommand(script, "no-received")],
      c.io,
    );
    const text = c.out.join("\n");
    assert.equal(code, 1, text);
    for (
      const id of ["register-both-halves", "send-framing", "send-utf8-length", "send-canonical"]
    ) {
      assert.match(text, new RegExp(`\\d+\\. pass  ${id}:`), id);
    }
    for (const id of ["forward-received", "forward-split", "forward-coalesced", "forward-shown"]) {
      assert.match(text, new RegExp(`\\d+\\. FAIL  ${id}:`), id);
    }
    assert.match(
      text,
      /problem: {2}Expected RECEIVED xyz on the TORECV connection, but nothing came/,
    );
    assert.match(text, /sent: {5}FORWARD xyz\\nContent-length: 4\\n\\nHiii/);
    assert.match(text, /expected: RECEIVED xyz\\n\\n/);
    assert.match(text, /got: {6}nothing within \d+ ms/);
    assert.match(text, /rule: {5}PROTOCOL\.md, section "Sending a message"/);
    assert.match(text, /4\/13 passed, 0 skipped$/);
  });
});

Deno.test("conformanceClientMain fails a client that sends a base server an extra header line", async () => {
  await withFakeClient(async (script) => {
    const c = capture();
    const code = await conformanceClientMain(
      ["--json", "--timeout", "5s", "--", ...fakeCommand(script, "header")],
      c.io,
    );
    assert.equal(code, 1);
    const report = JSON.parse(c.out.join("\n"));
    const failed = report.cases.filter((r: { result: string }) => r.result === "fail");
    assert.deepEqual(failed.map((r: { id: string }) => r.id), [
      "send-canonical",
      "base-protocol-only",
    ]);
    assert.equal(failed[1].rule, "Extension registry");
    assert.equal(
      failed[1].detail,
      'The client sent the header line "X-Client: fake" to a base-protocol server.',
    );
  });
});

Deno.test("conformanceClientMain fails a client that counts Content-length in characters", async () => {
  await withFakeClient(async (script) => {
    const c = capture();
    const dir = await Deno.makeTempDir();
    try {
      const junit = `${dir}/report.xml`;
      const code = await conformanceClientMain(
        ["--json", "--junit", junit, "--timeout", "5s", "--", ...fakeCommand(script, "chars")],
        c.io,
      );
      assert.equal(code, 1);
      const report = JSON.parse(c.out.join("\n"));
      const failed = report.cases.filter((r: { result: string }) => r.result === "fail");
      assert.deepEqual(failed.map((r: { id: string }) => r.id), ["send-utf8-length"]);
      assert.equal(failed[0].rule, "Framing");
      assert.match(failed[0].detail, /Content-length is 14, but the text is 18 bytes in UTF-8/);
      assert.equal(failed[0].expected, "SEND xyz\\nContent-length: 18\\n\\nhéllo wörld 👋");
      assert.equal(failed[0].got, "SEND xyz\\nContent-length: 14\\n\\nhéllo wörld 👋");
      const xml = await Deno.readTextFile(junit);
      assert.match(
        xml,
        /<testcase classname="Framing" name="send-utf8-length: [^"]*"[^>]*>\n\s*<failure/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("conformanceClientMain --junit - prints the JUnit report, the case lines on stderr", async () => {
  const c = capture();
  const code = await conformanceClientMain(["--junit", "-", "--", ...OUR_CLIENT], c.io);
  assert.equal(code, 0);
  const xml = c.out.join("\n");
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>/);
  assert.match(xml, /<testsuite name="[^"]*client \{user\}[^"]*" tests="13" failures="0"/);
  assert.match(c.err.join("\n"), /1\. pass {2}register-both-halves:/);
  assert.match(c.err.join("\n"), /13\/13 passed, 0 skipped/);
});

Deno.test("conformanceClientMain reports a command that cannot start as failed cases", async () => {
  const c = capture();
  const code = await conformanceClientMain(
    ["--timeout", "2s", "--", "/nonexistent/chat-client", "{user}"],
    c.io,
  );
  assert.equal(code, 1);
  assert.match(c.out.join("\n"), /Could not start the client "\/nonexistent\/chat-client"/);
  assert.match(c.out.join("\n"), /0\/13 passed/);
});

Deno.test("conformanceClientMain says what a client that exits at once printed", async () => {
  const c = capture();
  const code = await conformanceClientMain(
    ["--timeout", "5s", "--", ...chatCommand(), "client", "{user}", "{host}", "--port", "x"],
    c.io,
  );
  assert.equal(code, 1);
  const text = c.out.join("\n");
  assert.match(
    text,
    /problem: {2}The client did not register both halves \(The client exited with code 2\)\. It printed: Invalid port "x"/,
  );
  assert.match(text, /0\/13 passed/);
});

Deno.test("conformanceClientMain without permission to run programs says so", async () => {
  const main = new URL("../src/commands/conformance_client.ts", import.meta.url).href;
  const script = `import { conformanceClientMain } from ${JSON.stringify(main)};\n` +
    `Deno.exit(await conformanceClientMain(["--", "chat", "client"]));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-check", "--no-prompt", "--allow-net", "--allow-read", "-"],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stderr } = await child.output();
  assert.equal(code, 1);
  assert.match(new TextDecoder().decode(stderr), /needs permission to start programs/);
});

Deno.test("conformanceClientMain exits 2 on usage errors, with the usage line", async () => {
  const cases: [string[], RegExp][] = [
    [[], /Missing client: give its command after "--"/],
    [["chat", "client"], /Unexpected argument "chat": put the client's command after "--"/],
    [["--listen", "0", "--", "chat"], /either a command after "--" or --listen, not both/],
    [["--timeout", "soon", "--", "chat"], /Invalid --timeout "soon"/],
    [["--listen", "70000"], /Invalid port "70000"/],
    [["--bogus", "--", "chat"], /Unknown option "--bogus"/],
    [["--json", "--junit", "-", "--", "chat"], /Use --json or "--junit -", not both/],
    [["--junit", "", "--", "chat"], /Invalid --junit ""/],
  ];
  for (const [args, message] of cases) {
    const c = capture();
    assert.equal(await conformanceClientMain(args, c.io), 2, args.join(" "));
    assert.match(c.err.join("\n"), message, args.join(" "));
    assert.match(c.err.join("\n"), /Usage: chat conformance client/, args.join(" "));
    assert.deepEqual(c.out, []);
  }
});

Deno.test("conformanceClientMain --help shows both modes and an example with our client", async () => {
  const c = capture();
  assert.equal(await conformanceClientMain(["--help"], c.io), 0);
  const help = c.out.join("\n");
  assert.match(help, /-- COMMAND ARGS\.\.\./);
  assert.match(help, /--listen PORT/);
  assert.match(help, /\{host\}, \{port\} and \{user\}/);
  assert.match(help, /chat conformance client -- chat client \{user\} \{host\} --port \{port\}/);
});

Deno.test("conformanceClientMain --listen tells a person what to do and times out cleanly", async () => {
  const c = capture();
  const code = await conformanceClientMain(["--listen", "0", "--timeout", "200ms"], c.io);
  assert.equal(code, 1);
  const err = c.err.join("\n");
  assert.match(err, /^Listening on 127\.0\.0\.1:\d+\./);
  assert.match(err, /Start your client now as user "abc", server 127\.0\.0\.1, port \d+/);
  assert.match(err, /Done: you can close your client\./);
  assert.match(c.out.join("\n"), /No client connected to port \d+ within 200 ms/);
});

Deno.test("conformanceClientMain --listen passes our client driven by its instructions", async () => {
  let client: PipedClient | null = null;
  const typing: Promise<void>[] = [];
  const c = capture((line) => {
    const start = /Start your client now as user "(\w+)", server [\d.]+, port (\d+)/.exec(line);
    if (start) client = new PipedClient(start[1]!, Number(start[2]));
    const type = /type {2}(.*)$/.exec(line);
    if (type && client) typing.push(client.type(type[1]!));
  });
  try {
    const code = await conformanceClientMain(["--listen", "0", "--timeout", "10s"], c.io);
    const text = c.out.join("\n");
    assert.match(text, /forward-shown: .*\(the client's output cannot be observed/);
    assert.match(text, /12\/13 passed, 1 skipped$/);
    assert.equal(code, 0, text);
    await Promise.all(typing);
  } finally {
    await (client as PipedClient | null)?.dispose();
  }
});
