/**
 * End-to-end tests of `chat client` against `chat server`, both as processes, for what the
 * network can do to a client: TLS (and every way it can be misconfigured), a server that goes
 * away and comes back (--reconnect), and a server that refuses messages sent too fast
 * (ERROR 106).
 */
import assert from "node:assert/strict";
import { type ChatProcess, PipedClient, runChat, startChatServer } from "./spawn.ts";
import { makeCertificate, needsOpenssl, withTempDir } from "./certs.ts";
import { withWires } from "./wire.ts";
import { connect } from "../src/net/transport.ts";
import { startServer } from "../src/server/server.ts";

/** Arguments of `chat client NAME 127.0.0.1 --port PORT ...extra`. */
function clientArgs(name: string, port: number, ...extra: string[]): string[] {
  return ["client", name, "127.0.0.1", "--port", String(port), ...extra];
}

/** Stops a server process started by the test. */
async function stop(server: ChatProcess | null): Promise<void> {
  if (server === null) return;
  server.kill("SIGKILL");
  await server.exit();
}

// ---------------------------------------------------------------------------------------------
// TLS

Deno.test({
  name: "chat client --tls --ca chats end to end through a TLS server" + needsOpenssl,
  ignore: needsOpenssl !== "",
  fn: async () => {
    await withTempDir(async (dir) => {
      const { cert, key } = await makeCertificate(dir, "server");
      const { server, port } = await startChatServer(["--tls-cert", cert, "--tls-key", key]);
      const bob = new PipedClient("bob", port, ["--tls", "--ca", cert]);
      const alice = new PipedClient("alice", port, ["--tls", "--ca", cert]);
      try {
        await bob.registered();
        await alice.registered();
        assert.equal(alice.stderr[0], `Registered as alice on 127.0.0.1:${port} over TLS.`);
        await alice.type("@bob hello over TLS", "@ALL and to all");
        await bob.process.waitFor(/^alice: and to all$/);
        await bob.type("@alice got it");
        await alice.process.waitFor(/^bob: got it$/);
        assert.equal(await alice.exit(), 0, alice.stderr.join("\n"));
        assert.equal(await bob.exit(), 0, bob.stderr.join("\n"));
        assert.deepEqual(alice.stdout, [
          "Message successfully sent to bob",
          "Message successfully sent to ALL (everyone online)",
          "bob: got it",
        ]);
        assert.deepEqual(bob.stdout.slice(0, 2), ["alice: hello over TLS", "alice: and to all"]);
        // Server log lines may start with a timestamp.
        const logged = server.stdout.map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, ""));
        assert.ok(
          logged.includes("Message successfully forwarded from alice to bob"),
          logged.join("\n"),
        );
      } finally {
        await alice.dispose();
        await bob.dispose();
        await stop(server);
      }
    });
  },
});

Deno.test({
  name: "chat client --tls explains each TLS failure in one sentence and exits 1" + needsOpenssl,
  ignore: needsOpenssl !== "",
  fn: async () => {
    await withTempDir(async (dir) => {
      const { cert, key } = await makeCertificate(dir, "server");
      const other = await makeCertificate(dir, "other");
      const notPem = `${dir}/notes.txt`;
      await Deno.writeTextFile(notPem, "not a certificate\n");
      const { server, port } = await startChatServer(["--tls-cert", cert, "--tls-key", key]);
      const plain = await startChatServer(["--register-timeout", "300ms"]);
      const at = `127.0.0.1:${port}`;
      const untrusted = new RegExp(
        `^Cannot connect to "127\\.0\\.0\\.1:${port}" over TLS: the server's certificate is ` +
          `not trusted \\([^)]+\\)\\. Pass the server's certificate or CA with --ca\\.$`,
      );
      try {
        const cases: [string, string[], string | RegExp][] = [
          ["no --ca: the system store does not know it", ["--tls"], untrusted],
          ["--ca of another certificate", ["--tls", "--ca", other.cert], untrusted],
          [
            "missing CA file",
            ["--tls", "--ca", `${dir}/missing.pem`],
            `Cannot read CA certificate "${dir}/missing.pem": no such file.`,
          ],
          [
            "CA file that is not PEM",
            ["--tls", "--ca", notPem],
            `Cannot use CA certificate "${notPem}": it is not a PEM file (no "-----BEGIN" line).`,
          ],
          [
            "plain client, TLS server",
            [],
            `The server "${at}" answered in TLS: it expects encrypted connections. Add --tls ` +
            "(and --ca FILE if its certificate is self-signed).",
          ],
        ];
        for (const [what, extra, expected] of cases) {
          const result = await runChat(clientArgs("abc", port, ...extra), { stdin: "" });
          assert.equal(result.code, 1, what);
          assert.equal(result.stdout, "", what);
          if (typeof expected === "string") assert.equal(result.stderr, expected, what);
          else assert.match(result.stderr, expected, what);
        }
        // A TLS client and a plain server: the server hangs up on the handshake at once...
        const closed = await runChat(
          clientArgs("abc", plain.port, "--tls", "--ca", cert),
          { stdin: "" },
        );
        assert.equal(closed.code, 1);
        assert.match(
          closed.stderr,
          new RegExp(
            `^Cannot connect to "127\\.0\\.0\\.1:${plain.port}" over TLS: the TLS handshake ` +
              `failed \\([^)]+\\); the server does not seem to use TLS\\. Try without --tls\\.$`,
          ),
        );
        // ...and a peer that never answers runs out the client's --timeout.
        const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const silentPort = (silent.addr as Deno.NetAddr).port;
        try {
          const slow = await runChat(
            clientArgs("abc", silentPort, "--tls", "--ca", cert, "--timeout", "100ms"),
            { stdin: "" },
          );
          assert.equal(slow.code, 1);
          assert.equal(
            slow.stderr,
            `Cannot connect to "127.0.0.1:${silentPort}" over TLS: no answer within 0.1 s. If ` +
              "the server does not use TLS, drop --tls; otherwise check the address and port, " +
              "and that no firewall is in the way.",
          );
        } finally {
          silent.close();
        }
      } finally {
        await stop(server);
        await stop(plain.server);
      }
    });
  },
});

for (const transport of ["deno", "node"] as const) {
  Deno.test({
    name: `connect (${transport} transport) closes the socket when the certificate is refused` +
      needsOpenssl,
    ignore: needsOpenssl !== "",
    fn: async () => {
      await withTempDir(async (dir) => {
        const files = await makeCertificate(dir, "server");
        const cert = await Deno.readTextFile(files.cert);
        const key = await Deno.readTextFile(files.key);
        const server = await startServer({ hostname: "127.0.0.1", port: 0, tls: { cert, key } });
        try {
          // The resource sanitizer fails this test if the refused connection is left open
          // (a client that reconnects would leak one socket per attempt).
          await assert.rejects(
            connect({ hostname: "127.0.0.1", port: server.port, transport, tls: {} }, {
              data: () => {},
              closed: () => {},
            }),
            /certificate|UnknownIssuer/i,
          );
        } finally {
          await server.close({ drain: false });
        }
      });
    },
  });
}

// ---------------------------------------------------------------------------------------------
// --reconnect

Deno.test("chat client --reconnect gets back a server restarted on the same port and sends again", async () => {
  const first = await startChatServer();
  const port = first.port;
  let second: ChatProcess | null = null;
  const alice = new PipedClient("alice", port, ["--reconnect"]);
  let bob: PipedClient | null = null;
  try {
    await alice.registered();
    await withWires({ hostname: "127.0.0.1", port }, async (w) => {
      // A message awaiting its answer when the server dies: the client cannot know its fate.
      const slow = await w.user("slow");
      await alice.type("@slow are you there");
      assert.equal((await slow.torecv.next()).type, "FORWARD"); // and never acknowledged
      first.server.kill("SIGKILL");
      await first.server.exit();
      await alice.process.waitFor(
        /^Message to slow not confirmed: no answer from the server before the connection was lost$/,
      );
      await alice.process.waitFor(
        /^Connection to the server "127\.0\.0\.1:\d+" lost \([^)]+\); reconnecting in [\d.]+ s…$/,
        { stream: "stderr" },
      );
    });
    // Typed while the server is down: queued, sent once it is back.
    await alice.type("@alice typed while away");
    second = (await startChatServer([], port)).server;
    await alice.process.waitFor(/^Reconnected as alice on 127\.0\.0\.1:\d+\.$/, {
      stream: "stderr",
      timeoutMs: 30_000,
    });
    await alice.process.waitFor(/^alice: typed while away$/);
    bob = new PipedClient("bob", port);
    await bob.registered();
    await alice.type("@bob after the restart");
    await bob.process.waitFor(/^alice: after the restart$/);
    await alice.process.waitFor(/^Message successfully sent to bob$/);
    // Exit 1: one message stayed unconfirmed.
    assert.equal(await alice.exit(), 1);
    assert.equal(await bob.exit(), 0);
    assert.deepEqual(alice.stdout, [
      "Message to slow not confirmed: no answer from the server before the connection was lost",
      "alice: typed while away",
      "Message successfully sent to alice",
      "Message successfully sent to bob",
    ]);
    assert.equal(
      alice.stderr.filter((l) => l.startsWith("Reconnected")).length,
      1,
      alice.stderr.join("\n"),
    );
    // The unconfirmed message was not sent again.
    assert.ok(!second.stdout.some((l) => /from alice to slow/.test(l)), second.stdout.join("\n"));
  } finally {
    await alice.dispose();
    await bob?.dispose();
    await stop(first.server);
    await stop(second);
  }
});

Deno.test("chat client without --reconnect still exits 1 when the server dies", async () => {
  const { server, port } = await startChatServer();
  const alice = new PipedClient("alice", port);
  try {
    await alice.registered();
    server.kill("SIGKILL");
    assert.equal((await alice.process.exit()).code, 1);
    assert.match(alice.stderr.at(-1)!, /^Lost the connection to the server "127\.0\.0\.1:\d+": /);
  } finally {
    await alice.dispose();
    await stop(server);
  }
});

// ---------------------------------------------------------------------------------------------
// ERROR 106

Deno.test("chat client resends what the server refuses with ERROR 106 until all is delivered", async () => {
  const { server, port } = await startChatServer(["--rate-limit", "20", "--rate-burst", "5"]);
  const bob = new PipedClient("bob", port);
  try {
    await bob.registered();
    const count = 60;
    const lines = Array.from({ length: count }, (_, i) => `@bob m${i + 1}\n`).join("");
    const result = await runChat(clientArgs("alice", port), { stdin: lines, timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      result.stdout.split("\n"),
      Array(count).fill("Message successfully sent to bob"),
    );
    for (let i = 1; i <= count; i++) await bob.process.waitFor(new RegExp(`^alice: m${i}$`));
    assert.equal(bob.stdout.length, count, "each message arrived once");
    const refused = server.stdout.filter((l) =>
      /not delivered: sender is over the rate limit/.test(l)
    );
    assert.ok(refused.length > 0, "the server did refuse some (the test exercised ERROR 106)");
    assert.equal(await bob.exit(), 0);
  } finally {
    await bob.dispose();
    await stop(server);
  }
});
