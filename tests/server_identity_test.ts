/**
 * Owned names over real sockets (PROTOCOL.md, "Owned names"): raw clients that sign with
 * WebCrypto claim a name, prove it on each new connection, and a base client finds the name
 * taken.
 *
 * @module
 */
import assert from "node:assert/strict";
import { withServer } from "./harness.ts";
import { claim, comeBack, newKey, nextText, prove, send } from "./owned_wire.ts";

Deno.test("server: a claimed name is ERROR 104 for a base client and registers with a proof", async () => {
  await withServer({}, async (_server, w, log) => {
    const key = await newKey();
    const alice = await claim(w, "alice", key);
    await alice.close();
    for (const name of ["alice", "Alice", "a1ice"]) {
      const base = await w.connect();
      await base.send(`REGISTER TOSEND ${name}\n\n`);
      assert.equal(await nextText(base), "ERROR 104 Username taken\n\n");
      await base.send(`REGISTER TORECV ${name}\n\n`);
      assert.equal(await nextText(base), "ERROR 104 Username taken\n\n");
      assert.equal(base.canonicalProblem, undefined);
    }
    assert.ok(log.some((e) => e.event === "rejected" && /belongs to a key/.test(e.reason)));
    const back = await comeBack(w, "alice", key, "who");
    assert.match(await nextText(back.torecv), /^FORWARD server\n.*Event: online\n\nalice$/s);
  });
});

Deno.test("server: before REGISTER only CHALLENGE and IDENTIFY to server are answered", async () => {
  await withServer({}, async (_server, w) => {
    const c = await w.connect();
    await c.send(send("bob", "hi"));
    assert.equal(await nextText(c), "ERROR 101 No user registered\n\n");
    await c.send(send("server", "who"));
    assert.equal(await nextText(c), "ERROR 101 No user registered\n\n");
    const key = await newKey();
    assert.equal(await prove(c, "carol", key), "SENT server\nIdentity: unclaimed\n\n");
    // A used challenge, then a key that is not the owner's.
    await c.send(send("server", `IDENTIFY carol ${key.publicKey} ${"A".repeat(86)}==`));
    assert.equal(await nextText(c), "ERROR 102 Unable to send\nReason: bad-proof\n\n");
    const owner = await newKey();
    await (await claim(w, "dave", owner)).close();
    assert.equal(await prove(c, "dave", key), "ERROR 102 Unable to send\nReason: not-owner\n\n");
    await c.send("REGISTER TOSEND dave\n\n");
    assert.equal(await nextText(c), "ERROR 104 Username taken\n\n");
  });
});
