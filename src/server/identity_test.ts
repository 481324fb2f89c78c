/**
 * Unit tests of owned names in the routing core (PROTOCOL.md, "Owned names"): challenges,
 * proofs before REGISTER, claims after it, lookalikes, and what a base client sees.
 *
 * @module
 */
import assert from "node:assert/strict";
import { newKey, ownedSetup, settled } from "./owned_testing.ts";
import { isSmallOrderKey, toBase64, verifyProof } from "./identity.ts";
import { MemoryData } from "../store/memory.ts";

const BAD_PROOF = "ERROR 102 Unable to send\nReason: bad-proof\n\n";

Deno.test("Router answers CHALLENGE before REGISTER, and ERROR 101 to every other SEND there", () => {
  const { router, connect, send } = ownedSetup();
  const c = connect();
  send(c, "server", "CHALLENGE");
  const first = c.take();
  assert.match(first, /^SENT server\nChallenge: [A-Za-z0-9+/]{43}=\n\n$/);
  send(c, "Server", "CHALLENGE");
  const second = c.take();
  assert.match(second, /^SENT Server\nChallenge: /);
  assert.notEqual(first.slice(12), second.slice(12), "each challenge is fresh");
  for (const [to, body] of [["bob", "hi"], ["server", "who"], ["server", "EXTENSIONS who"]]) {
    send(c, to!, body!);
    assert.equal(c.take(), "ERROR 101 No user registered\n\n", `${to} ${body}`);
  }
  router.receive(c.link, { type: "RECEIVED", from: "x" });
  assert.equal(c.take(), "ERROR 101 No user registered\n\n");
});

Deno.test("Router claims a name after REGISTER with identity agreed, once the claim is stored", async () => {
  const { claimed, data, log } = ownedSetup();
  const key = await newKey();
  await claimed("alice", key);
  assert.equal(data.owner("alice")?.name, "alice");
  assert.ok(log.some((e) => e.event === "identity" && e.outcome === "claimed"));
});

Deno.test("Router refuses REGISTER of an owned name or a lookalike without a proof, with ERROR 104", async () => {
  const { claimed, connect, router, log } = ownedSetup();
  const alice = await claimed("alice", await newKey());
  alice.leave();
  for (const name of ["alice", "Alice", "AIice", "ai1ce"]) {
    const c = connect();
    router.receive(c.link, { type: "REGISTER", half: "TOSEND", name });
    assert.equal(c.take(), "ERROR 104 Username taken\n\n", name);
  }
  const reasons = log.flatMap((e) => e.event === "rejected" ? [e.reason] : []);
  assert.match(reasons[0]!, /"alice" belongs to a key/);
  assert.match(reasons[1]!, /"Alice" looks like "alice", which belongs to a key/);
  // Names nobody owns stay case-sensitive as in the base protocol.
  const bob = connect();
  const Bob = connect();
  router.receive(bob.link, { type: "REGISTER", half: "TOSEND", name: "bob" });
  router.receive(Bob.link, { type: "REGISTER", half: "TOSEND", name: "Bob" });
  assert.equal(bob.take() + Bob.take(), "REGISTERED TOSEND bob\n\nREGISTERED TOSEND Bob\n\n");
});

Deno.test("Router lets each half of an owned name register only on a connection proven for it", async () => {
  const { claimed, connect, identify, router, user } = ownedSetup();
  const key = await newKey();
  (await claimed("alice", key)).leave();
  const tosend = connect();
  const torecv = connect();
  assert.equal(await identify(tosend, "alice", key), "SENT server\nIdentity: owner\n\n");
  router.receive(tosend.link, { type: "REGISTER", half: "TOSEND", name: "alice" });
  assert.equal(tosend.take(), "REGISTERED TOSEND alice\n\n");
  // The TORECV connection proved nothing: the TOSEND's proof does not hold for it.
  router.receive(torecv.link, { type: "REGISTER", half: "TORECV", name: "alice" });
  assert.equal(torecv.take(), "ERROR 104 Username taken\n\n");
  assert.equal(await identify(torecv, "alice", key), "SENT server\nIdentity: owner\n\n");
  router.receive(torecv.link, { type: "REGISTER", half: "TORECV", name: "alice" });
  assert.equal(torecv.take(), "REGISTERED TORECV alice\n\n");
  assert.deepEqual(router.onlineUsers(), ["alice"]);
  // A proof holds for exactly the name proven: the owner registers the name as it claimed it.
  tosend.close();
  torecv.close();
  const c = connect();
  assert.equal(await identify(c, "Alice", key), "ERROR 102 Unable to send\nReason: not-owner\n\n");
  await assert.rejects(user("Alice", { key }));
});

Deno.test("Router answers a proof for a name nobody owns Identity: unclaimed", async () => {
  const { connect, identify, router } = ownedSetup();
  const c = connect();
  assert.equal(await identify(c, "carol", await newKey()), "SENT server\nIdentity: unclaimed\n\n");
  router.receive(c.link, { type: "REGISTER", half: "TOSEND", name: "carol" });
  assert.equal(c.take(), "REGISTERED TOSEND carol\n\n");
});

Deno.test("Router refuses a forged signature, another key, a used challenge and no challenge", async () => {
  const { claimed, connect, identify, send } = ownedSetup();
  const key = await newKey();
  const other = await newKey();
  (await claimed("alice", key)).leave();
  const c = connect();
  // Another key: the signature verifies, but the name is not its.
  assert.equal(
    await identify(c, "alice", other),
    "ERROR 102 Unable to send\nReason: not-owner\n\n",
  );
  // A signature made by another key over the right text, presented with the owner's key.
  send(c, "server", "CHALLENGE");
  const challenge = /Challenge: (\S+)/.exec(c.take())![1]!;
  const forged = await other.sign(challenge, "alice");
  send(c, "server", `IDENTIFY alice ${key.publicKey} ${forged}`);
  assert.equal(await c.next(), BAD_PROOF);
  // The challenge was used by that attempt: a good signature over it is refused now.
  send(c, "server", `IDENTIFY alice ${key.publicKey} ${await key.sign(challenge, "alice")}`);
  assert.equal(await c.next(), BAD_PROOF);
  // A signature for another name.
  send(c, "server", "CHALLENGE");
  const fresh = /Challenge: (\S+)/.exec(c.take())![1]!;
  send(c, "server", `IDENTIFY alice ${key.publicKey} ${await key.sign(fresh, "alicf")}`);
  assert.equal(await c.next(), BAD_PROOF);
  // No challenge asked on this connection.
  const d = connect();
  send(d, "server", `IDENTIFY alice ${key.publicKey} ${await key.sign(fresh, "alice")}`);
  assert.equal(await d.next(), BAD_PROOF);
});

Deno.test("Router answers malformed IDENTIFY bodies bad-proof and never throws", async () => {
  const { connect, send } = ownedSetup();
  const key = await newKey();
  const bodies = [
    "IDENTIFY",
    "IDENTIFY alice",
    `IDENTIFY alice ${key.publicKey}`,
    `IDENTIFY alice ${key.publicKey} ${"A".repeat(86)}== extra`,
    `IDENTIFY alice ${"A".repeat(44)} ${"A".repeat(86)}==`,
    `IDENTIFY alice ${key.publicKey} ${"!".repeat(88)}`,
    `IDENTIFY al!ce ${key.publicKey} ${"A".repeat(86)}==`,
    // Keys of small order, with which WebCrypto verifies signatures made with no private key.
    `IDENTIFY alice ${"A".repeat(43)}= ${"A".repeat(86)}==`,
    `IDENTIFY alice AQ${"A".repeat(41)}= AQ${"A".repeat(84)}==`,
    `IDENTIFY alice ${toBase64(new Uint8Array(32).fill(0xff).fill(0xec, 0, 1).fill(0x7f, 31))} ${
      "A".repeat(86)
    }==`,
  ];
  for (const body of bodies) {
    const c = connect();
    send(c, "server", "CHALLENGE");
    c.take();
    send(c, "server", body);
    assert.equal(await c.next(), BAD_PROOF, body);
  }
});

Deno.test("Router refuses a claim while a lookalike is registered, and one without identity agreed", async () => {
  const { identify, user } = ownedSetup();
  const key = await newKey();
  await user("Alice");
  const alice = await user("alice", { extensions: "identity mail" });
  assert.equal(
    await identify(alice.tosend, "alice", key),
    "ERROR 102 Unable to send\nReason: lookalike\n\n",
  );
  const bob = await user("bob", { extensions: "who" });
  assert.equal(await identify(bob.tosend, "bob", key), BAD_PROOF);
  // On the TORECV connection, or for another name: not a claim.
  const carol = await user("carol", { extensions: "identity" });
  assert.equal(await identify(carol.tosend, "dave", key), BAD_PROOF);
});

Deno.test("Router answers a claim the data could not store not-stored, and owner when owned already", async () => {
  const data = new MemoryData();
  let failing = true;
  const claim = data.claim.bind(data);
  data.claim = (name, key, at) =>
    failing ? Promise.reject(new Error("disk I/O error")) : claim(name, key, at);
  const { identify, user } = ownedSetup({}, data);
  const key = await newKey();
  const alice = await user("alice", { extensions: "identity" });
  assert.equal(
    await identify(alice.tosend, "alice", key),
    "ERROR 102 Unable to send\nReason: not-stored\n\n",
  );
  failing = false;
  assert.equal(await identify(alice.tosend, "alice", key), "SENT server\nIdentity: claimed\n\n");
  assert.equal(await identify(alice.tosend, "alice", key), "SENT server\nIdentity: owner\n\n");
  const other = await newKey();
  assert.equal(
    await identify(alice.tosend, "alice", other),
    "ERROR 102 Unable to send\nReason: not-owner\n\n",
  );
});

Deno.test("Router keeps IDENTIFY answers in request order while signatures are checked", async () => {
  const { connect, send, router } = ownedSetup();
  const key = await newKey();
  const c = connect();
  send(c, "server", "CHALLENGE");
  const challenge = /Challenge: (\S+)/.exec(c.take())![1]!;
  const sig = await key.sign(challenge, "erin");
  // The IDENTIFY is checked later; the CHALLENGE behind it is answered after it.
  send(c, "server", `IDENTIFY erin ${key.publicKey} ${sig}`);
  send(c, "server", "CHALLENGE");
  assert.equal(c.take(), "");
  await settled();
  assert.match(c.take(), /^SENT server\nIdentity: unclaimed\n\nSENT server\nChallenge: \S+\n\n$/);
  router.receive(c.link, { type: "REGISTER", half: "TOSEND", name: "erin" });
  assert.equal(c.take(), "REGISTERED TOSEND erin\n\n");
});

Deno.test("isSmallOrderKey refuses the keys of small order that WebCrypto would let anyone use", async () => {
  const zero = new Uint8Array(32);
  // The reason for the check: with the all-zero key, the all-zero signature verifies.
  assert.ok(await verifyProof(zero, new Uint8Array(64), new TextEncoder().encode("x")));
  assert.ok(isSmallOrderKey(zero));
  assert.ok(isSmallOrderKey(zero.slice().fill(0x80, 31)), "with the sign bit set");
  const one = zero.slice();
  one[0] = 1;
  assert.ok(isSmallOrderKey(one));
  const key = await newKey();
  assert.ok(!isSmallOrderKey(Uint8Array.from(atob(key.publicKey), (c) => c.charCodeAt(0))));
});

Deno.test("Router answers CHALLENGE and IDENTIFY of a sender over the rate limit", async () => {
  const { identify, user } = ownedSetup({ rateLimit: 1, rateBurst: 2 });
  const alice = await user("alice", { extensions: "identity" });
  alice.send("bob", "1");
  alice.send("bob", "2");
  alice.tosend.take();
  alice.send("bob", "3");
  assert.equal(alice.tosend.take(), "ERROR 106 Rate limit exceeded\n\n");
  assert.equal(
    await identify(alice.tosend, "alice", await newKey()),
    "SENT server\nIdentity: claimed\n\n",
  );
  alice.send("server", "who");
  assert.equal(alice.tosend.take(), "ERROR 106 Rate limit exceeded\n\n");
});

Deno.test("Router answers no identity request past the registration deadline, and closes the connection", async () => {
  const { router, clock, connect, send } = ownedSetup();
  const c = connect();
  send(c, "server", "CHALLENGE");
  assert.match(c.take(), /^SENT server\nChallenge: /);
  clock.t += 500; // registerTimeoutMs of the test options
  send(c, "server", "CHALLENGE");
  assert.equal(c.take(), "ERROR 101 No user registered\n\n");
  router.sweep(clock.t);
  assert.ok(c.closed);
  await settled();
});
