/**
 * Where `chat server` listens by default: `::`, which serves IPv4 and IPv6 alike, so that a
 * client reaches a default server at 127.0.0.1 and at ::1 (item 13 of issue 10: `chat client x
 * ::1` against a default server said "connection refused").
 *
 * @module
 */
import assert from "node:assert/strict";
import { hasIPv6 } from "./harness.ts";
import { ChatProcess, runChat } from "./spawn.ts";
import { withWires } from "./wire.ts";

const ipv6 = hasIPv6();

/** Starts `chat server` with no --host (port 0) and returns it with its port. */
async function defaultServer(extra: string[]): Promise<{ server: ChatProcess; port: number }> {
  const server = new ChatProcess(["server", "--port", "0", ...extra]);
  const line = await server.waitFor(/listening on/).catch(async (error) => {
    server.kill("SIGKILL");
    await server.exit();
    throw error;
  });
  return { server, port: Number(/:(\d+)\s*$/.exec(line)?.[1]) };
}

for (const transport of ["node", "deno"]) {
  const name = `chat server with no --host (${transport} transport) relays between a client ` +
    `on 127.0.0.1 and one on ` + (ipv6 ? "::1" : "127.0.0.1 (::1 IGNORED: no IPv6 here)");
  Deno.test(name, async () => {
    const { server, port } = await defaultServer(["--transport", transport]);
    try {
      assert.match(server.stdout[0] ?? "", /listening on \[::\]:\d+$/);
      assert.equal(server.stderr.join("\n"), "", "no IPv4-only note on a machine with IPv6");
      const v6 = ipv6 ? "::1" : "127.0.0.1";
      await withWires({ hostname: "127.0.0.1", port }, async (w4) => {
        await withWires({ hostname: v6, port }, async (w6) => {
          const abc = await w4.user("abc");
          const xyz = await w6.user("xyz");
          await abc.tosend.send("SEND xyz\nContent-length: 2\n\nhi");
          assert.equal((await xyz.torecv.next()).type, "FORWARD");
          await xyz.torecv.send("RECEIVED abc\n\n");
          assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "xyz" });
        });
      });
      if (ipv6) {
        // The command of the issue: chat client at ::1, its input ended at once.
        const client = await runChat(["client", "abc", "::1", "--port", String(port)], {
          stdin: "",
        });
        assert.equal(client.code, 0, client.stderr);
        assert.doesNotMatch(client.stderr, /refused/);
      }
    } finally {
      server.kill("SIGTERM");
      await server.exit();
    }
  });
}
