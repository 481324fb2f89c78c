/**
 * End-to-end tests of `chat client` as a process with piped stdin and stdout (the script
 * face), against `chat server` as a process. The command under test comes from
 * tests/cli_cmd.ts (set CHAT_CMD to test a compiled binary).
 */
import assert from "node:assert/strict";
import { type ChatProcess, PipedClient as Client, runChat, startChatServer } from "./spawn.ts";
import { withWires } from "./wire.ts";
import { CLIENT_USAGE } from "../src/commands/client.ts";

/** Runs `body` with a server process and disposes of it and of every client afterwards. */
async function withServer(
  body: (ctx: { port: number; client: (name: string, extra?: string[]) => Client }) => Promise<
    void
  >,
): Promise<ChatProcess> {
  const { server, port } = await startChatServer();
  const clients: Client[] = [];
  try {
    await body({
      port,
      client: (name, extra = []) => {
        const c = new Client(name, port, extra);
        clients.push(c);
        return c;
      },
    });
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    server.kill("SIGTERM");
    await server.exit();
  }
  return server;
}

Deno.test("chat client replays the original's sample session between abc and xyz", async () => {
  let abcOut: string[] = [];
  let xyzOut: string[] = [];
  let port = 0;
  const server = await withServer(async (ctx) => {
    const { client } = ctx;
    port = ctx.port;
    const xyz = client("xyz");
    await xyz.registered();
    const abc = client("abc");
    await abc.registered();
    await abc.type("@xyz:Hiii");
    await xyz.process.waitFor(/^abc: Hiii$/);
    await abc.process.waitFor(/^Message successfully sent to xyz$/);
    await xyz.type("@abc: Hello");
    await abc.process.waitFor(/^xyz: Hello$/);
    await xyz.process.waitFor(/^Message successfully sent to abc$/);
    assert.equal(await abc.exit(), 0);
    assert.equal(await xyz.exit(), 0);
    abcOut = abc.stdout;
    xyzOut = xyz.stdout;
    // The first run at our server claims the name for a new key (issue 11) and says so.
    const [registered, claimed, ...rest] = abc.stderr;
    assert.equal(registered, `Registered as abc on 127.0.0.1:${port}.`);
    assert.match(claimed ?? "", /^"abc" now belongs to you on 127\.0\.0\.1:\d+; your key is in /);
    assert.deepEqual(rest, ["Left the chat."]);
  });
  assert.deepEqual(abcOut, ["Message successfully sent to xyz", "xyz: Hello"]);
  assert.deepEqual(xyzOut, ["abc: Hiii", "Message successfully sent to abc"]);
  // The server's log of the session, line for line, as the original server printed it, and
  // the line of each join with the address. The client registers its two halves at once, so
  // the server may log them in either order. Timestamps and the client's negotiation are
  // tested elsewhere.
  const log = server.stdout
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, ""))
    .filter((l) => !/^Stopping|^Server stopped|^\w+ : EXTENSIONS|^Data: |^Identity of /.test(l));
  for (const at of [1, 4]) {
    const [one = "", two = ""] = log.slice(at, at + 2);
    if (/TORECV$/.test(one) && /TOSEND$/.test(two)) log.splice(at, 2, two, one);
  }
  assert.deepEqual(log, [
    `Chat server listening on 127.0.0.1:${port}`,
    "xyz : REGISTERED TOSEND",
    "xyz : REGISTERED TORECV",
    "xyz : JOINED from 127.0.0.1 (1 online)",
    "abc : REGISTERED TOSEND",
    "abc : REGISTERED TORECV",
    "abc : JOINED from 127.0.0.1 (2 online)",
    "Message successfully forwarded from abc to xyz",
    "Message successfully forwarded from xyz to abc",
    "abc : UNREGISTERED",
    "xyz : UNREGISTERED",
  ]);
});

Deno.test("chat client sends @ALL to everyone online and reports it once", async () => {
  await withServer(async ({ client }) => {
    const [b, c] = [client("bea"), client("cid")];
    await Promise.all([b.registered(), c.registered()]);
    const a = client("ann");
    await a.registered();
    await a.type("@ALL hello all");
    await b.process.waitFor(/^ann: hello all$/);
    await c.process.waitFor(/^ann: hello all$/);
    assert.equal(await a.exit(), 0);
    assert.deepEqual(a.stdout, ["Message successfully sent to ALL (everyone online)"]);
  });
});

Deno.test("chat client reports a message to an unknown user and exits 1", async () => {
  await withServer(async ({ port }) => {
    const result = await runChat(
      ["client", "abc", "127.0.0.1", "--port", String(port)],
      { stdin: "@nobody hi\n" },
    );
    assert.equal(result.code, 1);
    assert.equal(
      result.stdout,
      "Message to nobody not delivered: nobody is not online",
    );
  });
});

Deno.test("chat client reports pipelined messages' answers in the order sent", async () => {
  await withServer(async ({ client }) => {
    const xyz = client("xyz");
    await xyz.registered();
    const abc = client("abc");
    await abc.registered();
    await abc.type("@xyz one", "@nobody two", "@xyz: three", "@ALL four");
    await xyz.process.waitFor(/^abc: four$/);
    assert.equal(await abc.exit(), 1);
    assert.deepEqual(abc.stdout, [
      "Message successfully sent to xyz",
      "Message to nobody not delivered: nobody is not online",
      "Message successfully sent to xyz",
      "Message successfully sent to ALL (everyone online)",
    ]);
    await xyz.process.waitFor(/^abc: three$/);
    assert.deepEqual(xyz.stdout, ["abc: one", "abc: three", "abc: four"]);
  });
});

Deno.test("chat client rejects malformed input lines with a hint and sends nothing for them", async () => {
  const server = await withServer(async ({ client }) => {
    const xyz = client("xyz");
    await xyz.registered();
    const abc = client("abc");
    await abc.registered();
    await abc.type("hello", "", "@", "@xyz", "@x_y hi", "/nope", "@xyz fine");
    await xyz.process.waitFor(/^abc: fine$/);
    assert.equal(await abc.exit(), 1, "a line not sent makes the exit code 1");
    assert.deepEqual(abc.stdout, ["Message successfully sent to xyz"]);
    const hints = abc.stderr.filter((l) => l.startsWith("Line "));
    assert.deepEqual(hints.map((l) => l.split(":")[0]), [
      "Line 1",
      "Line 3",
      "Line 4",
      "Line 5",
      "Line 6",
    ]);
    assert.match(hints[0] ?? "", /type "@name message"/);
    assert.match(hints[4] ?? "", /Unknown command "\/nope"/);
    assert.deepEqual(xyz.stdout, ["abc: fine"]);
  });
  const forwarded = server.stdout.filter((l) => / Message successfully forwarded /.test(l));
  assert.deepEqual(forwarded.map((l) => l.replace(/^[\d-]+ [\d:]+ /, "")), [
    "Message successfully forwarded from abc to xyz",
  ]);
});

Deno.test("chat client keeps receiving while it waits for answers at the end of input", async () => {
  await withServer(async ({ port, client }) => {
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      const xyz = await w.user("xyz");
      const abc = client("abc");
      await abc.registered();
      await abc.type("@xyz Hiii");
      await abc.endInput();
      const forward = await xyz.torecv.next();
      assert.equal(forward.type, "FORWARD");
      // xyz has not acknowledged yet: abc is still waiting, and still receives.
      await xyz.tosend.send("SEND abc\nContent-length: 14\n\nwhile you wait");
      assert.deepEqual(await xyz.tosend.next(), { type: "SENT", to: "abc" });
      await xyz.torecv.send("RECEIVED abc\n\n");
      assert.equal(await abc.exit(), 0);
      assert.deepEqual(abc.stdout, ["xyz: while you wait", "Message successfully sent to xyz"]);
    });
  });
});

Deno.test("chat client writes no escape codes when piped, even without NO_COLOR", async () => {
  await withServer(async ({ port }) => {
    const result = await runChat(
      ["client", "abc", "127.0.0.1", "--port", String(port)],
      { stdin: "@abc to myself\nbad line\n", env: { NO_COLOR: "" } },
    );
    assert.equal(result.code, 1);
    assert.ok(!result.stdout.includes("\x1b") && !result.stderr.includes("\x1b"));
    assert.deepEqual(result.stdout.split("\n"), [
      "abc: to myself",
      "Message successfully sent to abc",
    ]);
  });
});

Deno.test("chat client says the server went away and exits 1", async () => {
  const { server, port } = await startChatServer();
  const abc = new Client("abc", port);
  try {
    await abc.registered();
    server.kill("SIGTERM");
    assert.equal((await abc.process.exit()).code, 1);
    assert.equal(
      abc.stderr.at(-1),
      `Lost the connection to the server "127.0.0.1:${port}": the server closed the ` +
        "connection. Start the client again when the server is back (with --reconnect it " +
        "retries by itself).",
    );
  } finally {
    await abc.dispose();
    server.kill("SIGKILL");
    await server.exit();
  }
});

Deno.test("chat client explains a refused connection in one line and exits 1", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const result = await runChat(["client", "abc", "127.0.0.1", "--port", String(port)]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assert.equal(
    result.stderr,
    `Cannot connect to "127.0.0.1:${port}": connection refused. Is the server running? ` +
      "Start one with `chat server`.",
  );
});

Deno.test("chat client gives up on a server that does not answer the registration", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })().catch(() => {});
  try {
    const result = await runChat([
      "client",
      "abc",
      "127.0.0.1",
      "--port",
      String(listener.addr.port),
      "--timeout",
      "500ms",
    ]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `The server "127.0.0.1:${listener.addr.port}" accepted the connection but did not ` +
        "answer the registration within 0.5 s. Is it a chat server?",
    );
  } finally {
    listener.close();
    await accepting;
    for (const c of accepted) c.close();
  }
});

Deno.test("chat client reports a taken username and exits 1 when not interactive", async () => {
  await withServer(async ({ port, client }) => {
    const first = client("abc");
    await first.registered();
    const result = await runChat(["client", "abc", "127.0.0.1", "--port", String(port)]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      'The username "abc" is taken: someone online uses it, or it (or a lookalike) belongs to ' +
        "someone's key on this server. Choose another.",
    );
  });
});

Deno.test("chat client leaves at /quit and ignores the lines after it", async () => {
  await withServer(async ({ port }) => {
    const result = await runChat(
      ["client", "abc", "127.0.0.1", "--port", String(port)],
      { stdin: "@abc first\n/quit\n@abc second\n" },
    );
    assert.equal(result.code, 0);
    assert.deepEqual(result.stdout.split("\n"), [
      "abc: first",
      "Message successfully sent to abc",
    ]);
  });
});

Deno.test("chat client --help prints one screen of help on stdout and exits 0", async () => {
  const result = await runChat(["client", "--help"]);
  assert.equal(result.code, 0);
  assert.ok(result.stdout.startsWith(CLIENT_USAGE), result.stdout);
  assert.match(result.stdout, /Exit codes: 0/);
  assert.equal(result.stderr, "");
  // One 24-row screen with the shell prompt under it, 80 columns, and where the rest is.
  const lines = result.stdout.split("\n");
  assert.ok(lines.length < 24, `${lines.length} lines`);
  assert.deepEqual(lines.filter((l) => [...l].length > 80), []);
  assert.match(result.stdout, /README\.md/);
});

Deno.test("chat client rejects bad arguments with exit code 2 and the usage line", async () => {
  const cases: [string[], RegExp][] = [
    [["abc", "127.0.0.1", "--port", "x"], /^Invalid port "x": use a number from 1 to 65535\.$/],
    [["abc", "127.0.0.1", "--port", "0"], /^Invalid port "0"/],
    [["abc", "127.0.0.1", "--bogus"], /^Unknown option "--bogus"\.$/],
    [["abc", "127.0.0.1", "extra"], /^Unexpected argument "extra"\.$/],
    [
      ["a_b", "127.0.0.1"],
      /^Invalid username "a_b": use 1 to 64 letters and digits \(and not "ALL"\)\.$/,
    ],
    [["ALL", "127.0.0.1"], /^Invalid username "ALL"/],
    [["abc", "bad host"], /^Invalid server "bad host"/],
    [["abc", "127.0.0.1:6000", "--port", "7000"], /^Two different ports/],
    [["abc", "127.0.0.1", "--timeout", "soon"], /^Invalid --timeout "soon"/],
    [["abc", "127.0.0.1", "--ca", "ca.pem"], /^Option "--ca" needs --tls: add --tls/],
    [["abc", "127.0.0.1", "--tls", "--ca"], /^Option "--ca" needs a value\.$/],
    [["abc", "127.0.0.1", "--reconnect=yes"], /^Option "--reconnect" does not take a value\.$/],
    [["abc"], /^Missing server: /],
    [[], /^Missing username: /],
  ];
  for (const [args, message] of cases) {
    const result = await runChat(["client", ...args]);
    assert.equal(result.code, 2, args.join(" "));
    const [first, second] = result.stderr.split("\n");
    assert.match(first ?? "", message, args.join(" "));
    assert.equal(second, CLIENT_USAGE);
    assert.equal(result.stdout, "");
  }
});

Deno.test("chat client with a 65-letter username is a usage error and never connects", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept().then((conn) => {
    conn.close();
    return true;
  }, () => false);
  const name = "a".repeat(65);
  try {
    const result = await runChat(["client", name, `127.0.0.1:${listener.addr.port}`], {
      stdin: "",
    });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `Invalid username "${name}": use 1 to 64 letters and digits (and not "ALL").\n` +
        CLIENT_USAGE,
    );
    assert.equal(result.stdout, "");
  } finally {
    listener.close();
  }
  assert.equal(await accepted, false, "the client connected");
});

Deno.test("chat client accepts a 64-letter username", async () => {
  const name = "b".repeat(64);
  await withServer(async ({ port }) => {
    const result = await runChat(["client", name, `127.0.0.1:${port}`], { stdin: "" });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stderr.split("\n");
    assert.equal(lines[0], `Registered as ${name} on 127.0.0.1:${port}.`);
    assert.match(lines[1] ?? "", new RegExp(`^"${name}" now belongs to you on `));
    assert.equal(lines.at(-1), "Left the chat.");
    assert.equal(lines.length, 3, result.stderr);
  });
});

Deno.test("chat client connects to a server given as host:port and as [IPv6]:port", async () => {
  await withServer(async ({ port }) => {
    const result = await runChat(["client", "abc", `127.0.0.1:${port}`], {
      stdin: "@abc v4\n",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^abc: v4$/m);
  });
  // IPv6 only where the machine has a loopback for it.
  let v6: Deno.TcpListener | null = null;
  try {
    v6 = Deno.listen({ hostname: "::1", port: 0 });
  } catch { /* no IPv6 here */ }
  if (v6 === null) return;
  const port = v6.addr.port;
  v6.close();
  const result = await runChat(["client", "abc", `[::1]:${port}`]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `Cannot connect to "[::1]:${port}": connection refused. Is the server running? ` +
      "Start one with `chat server`.",
  );
});

Deno.test("chat client piped says why a message was not delivered: over the limit, nobody online", async () => {
  // 64 bytes: room for the client's request for extensions, not for the first message.
  const { server, port } = await startChatServer(["--max-body-bytes", "64"]);
  try {
    const result = await runChat(
      ["client", "abc", "127.0.0.1", "--port", String(port)],
      { stdin: `@abc ${"x".repeat(65)}\n@ALL short\n` },
    );
    assert.equal(result.code, 1);
    assert.deepEqual(result.stdout.trimEnd().split("\n"), [
      "Message to abc not delivered: it is over the server's limit of 64 bytes",
      "Message to ALL reached no one: nobody else is online",
    ]);
  } finally {
    server.kill("SIGTERM");
    await server.exit();
  }
});
