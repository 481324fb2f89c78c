/**
 * Mail is shown once across runs of `chat client`, though the server delivers it at least once:
 * a server that crashed after delivering mail but before its deletion reached the disk delivers
 * it again, with the same mail id, to the owner's next run. The test makes that happen without
 * racing a SIGKILL: it copies the stopped server's database while the mail waits, lets the owner
 * read it, and puts the copy back, as the crash would leave it.
 */
import assert from "node:assert/strict";
import { runChat, startChatServer } from "./spawn.ts";

/** Runs `chat client NAME` piped to the server at `port` with `input`, waiting 1 s at the end. */
function client(name: string, port: number, input: string) {
  return runChat(["client", name, "127.0.0.1", "--port", String(port), "--wait", "1s"], {
    stdin: input,
  });
}

Deno.test("chat client shows mail delivered again after a server crash once, in its next run too", async () => {
  const dir = await Deno.makeTempDir();
  let { server, port } = await startChatServer(["--data", dir]);
  const stop = async () => {
    server.kill("SIGTERM");
    assert.equal((await server.exit()).code, 0);
  };
  try {
    assert.equal((await client("bob", port, "")).code, 0, "bob claims his name");
    const sent = await client("amy", port, "@bob one\n@bob two\n");
    assert.equal(sent.code, 0, sent.stderr);
    await stop();
    await Deno.copyFile(`${dir}/chat.db`, `${dir}/waiting.db`); // the mail, not yet delivered

    ({ server, port } = await startChatServer(["--data", dir], port));
    const first = await client("bob", port, "");
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.split("\n").map((l) => l.replace(/ \(sent [^)]*\)/, "")), [
      "amy: one",
      "amy: two",
    ]);
    await stop();
    await Deno.rename(`${dir}/waiting.db`, `${dir}/chat.db`); // as if the deletions were lost

    ({ server, port } = await startChatServer(["--data", dir], port));
    const again = await client("bob", port, "");
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "", "the two are not shown again");
    // They were acknowledged all the same: the server deleted them, a third run gets nothing.
    const third = await client("bob", port, "");
    assert.equal(third.stdout, "");
  } finally {
    server.kill("SIGTERM");
    await server.exit();
    await Deno.remove(dir, { recursive: true });
  }
});
