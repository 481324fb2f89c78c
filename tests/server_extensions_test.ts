/**
 * The pseudo-user `server` and the negotiated extensions over real sockets: an extended client
 * and a base client side by side, the base client's bytes checked exactly.
 *
 * @module
 */
import assert from "node:assert/strict";
import { encode, utf8Bytes } from "../src/protocol/mod.ts";
import { formatLogEvent } from "../src/server/log.ts";
import { NOTICE_LIMIT } from "../src/server/presence.ts";
import { ARRIVE_MS, type TestUser, textOf, type Wire, type Wires } from "./wire.ts";
import { withServer } from "./harness.ts";

const ALL_EXTENSIONS = "who joins to reason unregister";

function send(to: string, body: string): Uint8Array {
  return encode({ type: "SEND", to, body: utf8Bytes(body) });
}

/** The next message on `w`, as canonical text with its extra headers, for compact assertions. */
async function nextText(w: Wire, timeoutMs = ARRIVE_MS): Promise<string> {
  return textOf(encode(await w.next(timeoutMs)));
}

/** Everything `w` has received so far, as text. */
function receivedText(w: Wire): string {
  return w.received.map((b) => textOf(b)).join("");
}

/** Registers `name` and negotiates `extensions`; checks the answer and the online list. */
async function extendedUser(w: Wires, name: string, extensions: string): Promise<TestUser> {
  const u = await w.user(name);
  await u.tosend.send(send("server", `EXTENSIONS ${extensions}`));
  assert.equal(
    await nextText(u.tosend),
    `SENT server\nExtensions: ${extensions}\nMax-body: 65536\n\n`,
  );
  if (extensions.split(" ").includes("who")) {
    const list = await u.torecv.next();
    assert.ok(list.type === "FORWARD" && list.from === "server", JSON.stringify(list));
    assert.deepEqual(list.headers, [["Event", "online"]]);
    await u.torecv.send("RECEIVED server\n\n");
  }
  return u;
}

Deno.test("server: a base client sees the base protocol byte for byte beside extended users", async () => {
  await withServer({}, async (_server, w) => {
    const base = await w.user("base");
    const ext = await extendedUser(w, "ext", ALL_EXTENSIONS);
    const bob = await w.user("bob");
    assert.equal(
      await nextText(ext.torecv),
      "FORWARD server\nContent-length: 3\nEvent: joined\n\nbob",
    );
    await ext.torecv.send("RECEIVED server\n\n");

    // A broadcast: To: ALL for ext only.
    await bob.tosend.send(send("ALL", "hi"));
    assert.equal(await nextText(base.torecv), "FORWARD bob\nContent-length: 2\n\nhi");
    assert.equal(await nextText(ext.torecv), "FORWARD bob\nContent-length: 2\nTo: ALL\n\nhi");
    await base.torecv.send("RECEIVED bob\n\n");
    await ext.torecv.send("RECEIVED bob\n\n");
    assert.equal(await nextText(bob.tosend), "SENT ALL\n\n");

    // ext's broadcast: the base client gets it plain; ext's answer counts.
    await ext.tosend.send(send("ALL", "yo"));
    assert.equal(await nextText(base.torecv), "FORWARD ext\nContent-length: 2\n\nyo");
    assert.equal(await nextText(bob.torecv), "FORWARD ext\nContent-length: 2\n\nyo");
    await base.torecv.send("RECEIVED ext\n\n");
    await bob.torecv.send("RECEIVED ext\n\n");
    assert.equal(await nextText(ext.tosend), "SENT ALL\nDelivered: 2\nRecipients: 2\n\n");

    // Not delivered: why, for ext only.
    await base.tosend.send(send("nobody", "x"));
    await ext.tosend.send(send("nobody", "x"));
    assert.equal(await nextText(base.tosend), "ERROR 102 Unable to send\n\n");
    assert.equal(await nextText(ext.tosend), "ERROR 102 Unable to send\nReason: offline\n\n");

    // A private message to the base client, then bob leaves: ext hears it, base does not.
    await ext.tosend.send(send("base", "psst"));
    assert.equal(await nextText(base.torecv), "FORWARD ext\nContent-length: 4\n\npsst");
    await base.torecv.send("RECEIVED ext\n\n");
    assert.equal(await nextText(ext.tosend), "SENT base\n\n");
    await bob.close();
    assert.equal(
      await nextText(ext.torecv),
      "FORWARD server\nContent-length: 3\nEvent: left\n\nbob",
    );
    await ext.torecv.send("RECEIVED server\n\n");

    // UNREGISTER still works for the extended user, and base hears nothing of it.
    await ext.tosend.send("UNREGISTER ext\n\n");
    assert.equal(await nextText(ext.tosend), "UNREGISTERED ext\n\n");
    await ext.tosend.expectClosed();
    await base.torecv.expectNothing();

    assert.equal(
      receivedText(base.tosend),
      "REGISTERED TOSEND base\n\nERROR 102 Unable to send\n\n",
    );
    assert.equal(
      receivedText(base.torecv),
      "REGISTERED TORECV base\n\n" +
        "FORWARD bob\nContent-length: 2\n\nhi" +
        "FORWARD ext\nContent-length: 2\n\nyo" +
        "FORWARD ext\nContent-length: 4\n\npsst",
    );
    assert.equal(base.tosend.canonicalProblem, undefined);
    assert.equal(base.torecv.canonicalProblem, undefined);
  });
});

Deno.test("server: nobody registers server, and a base client asks who with @server who", async () => {
  await withServer({}, async (_server, w) => {
    const wire = await w.connect();
    for (const name of ["server", "SERVER"]) {
      await wire.send(`REGISTER TOSEND ${name}\n\n`);
      assert.equal(await nextText(wire), "ERROR 104 Username taken\n\n");
    }
    await w.user("xyz");
    const abc = await w.user("abc");
    await abc.tosend.send(send("server", "who"));
    assert.equal(await nextText(abc.tosend), "SENT server\n\n");
    assert.equal(
      await nextText(abc.torecv),
      "FORWARD server\nContent-length: 18\n\n2 online: abc, xyz",
    );
    await abc.torecv.send("RECEIVED server\n\n");
    await abc.tosend.send(send("server", "hello"));
    assert.equal(await nextText(abc.tosend), "SENT server\n\n");
    const help = await abc.torecv.next();
    assert.ok(help.type === "FORWARD" && /^Write "who"/.test(textOf(help.body)));
    await abc.torecv.send("RECEIVED server\n\n");
    await abc.torecv.expectNothing();
    assert.equal(abc.torecv.canonicalProblem, undefined);
  });
});

Deno.test("server: too-large says Max-body to a user who negotiated reason", async () => {
  await withServer({ maxBodyBytes: 20 }, async (_server, w) => {
    const u = await w.user("abc");
    await u.tosend.send(send("server", "EXTENSIONS reason"));
    assert.equal(await nextText(u.tosend), "SENT server\nExtensions: reason\nMax-body: 20\n\n");
    await u.tosend.send(send("abc", "x".repeat(30)));
    assert.equal(
      await nextText(u.tosend),
      "ERROR 102 Unable to send\nReason: too-large\nMax-body: 20\n\n",
    );
  });
});

Deno.test("server: a user who reads no notices is bounded, then dropped at the ack timeout", async () => {
  await withServer({ ackTimeoutMs: 400 }, async (server, w, log) => {
    const silent = await extendedUser(w, "silent", "joins");
    const users: TestUser[] = [];
    for (let i = 0; i < NOTICE_LIMIT + 5; i++) users.push(await w.user(`u${i}`));
    // One notice in flight, never answered: the reader is dropped, nobody else is touched.
    assert.equal(
      await nextText(silent.torecv),
      "FORWARD server\nContent-length: 2\nEvent: joined\n\nu0",
    );
    await silent.torecv.expectClosed();
    assert.ok(log.some((e) => e.event === "dropped" && e.name === "silent"));
    assert.equal(server.onlineUsers().length, NOTICE_LIMIT + 5);
    const [a, b] = users;
    await a!.tosend.send(send(b!.name, "still fine"));
    assert.equal(await nextText(b!.torecv), "FORWARD u0\nContent-length: 10\n\nstill fine");
  });
});

Deno.test("server: logs a join with the address it came from, and a negotiation in one line", async () => {
  await withServer({}, async (_server, w, log) => {
    await extendedUser(w, "abc", "who to");
    await w.user("xyz");
    const lines = log
      .filter((e) => e.event === "joined" || e.event === "extensions")
      .map((e) => formatLogEvent(e));
    assert.deepEqual(lines, [
      "abc : JOINED from 127.0.0.1 (1 online)",
      "abc : EXTENSIONS who to",
      "xyz : JOINED from 127.0.0.1 (2 online)",
    ]);
  });
});
