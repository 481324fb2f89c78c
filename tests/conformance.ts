/**
 * Protocol conformance cases for a chat server, written against an address and nothing else:
 * they open raw TCP connections, send bytes and check the answers, so they can check any server
 * that claims to speak the two-socket chat protocol, not just ours.
 *
 * Cases marked `extension: true` check our documented extensions (ERROR 104, UNREGISTER) or
 * guarantees stronger than the base protocol; skip them for foreign servers.
 *
 * Every case closes every connection it opened, and every wait is bounded. Names are unique per
 * run, so the cases can also run one after the other against a long-lived server.
 *
 * @module
 */
import assert from "node:assert/strict";
import { encode, type Message, utf8Bytes } from "../src/protocol/mod.ts";
import {
  type Addr,
  bytesOf,
  concat,
  delay,
  describe,
  QUIET_MS,
  type TestUser,
  textOf,
  type Wire,
  withWires,
} from "./wire.ts";

/** One conformance case: `run` passes, or throws with a message saying what went wrong. */
export interface ConformanceCase {
  /** What the server must do, as a sentence. */
  name: string;
  /** True for our extensions and stronger guarantees: skip for servers that are not ours. */
  extension?: boolean;
  /** Runs the case against the server at `addr`. */
  run(addr: Addr): Promise<void>;
}

let counter = 0;
const runId = Math.floor(Math.random() * 1e6).toString(36);

/** Unique usernames for one case (letters and digits only), in the order of `bases`. */
function names<const T extends readonly string[]>(...bases: T): { [K in keyof T]: string } {
  counter++;
  return bases.map((b) => `${b}${runId}x${counter}`) as { [K in keyof T]: string };
}

/** A SEND in canonical bytes. */
function send(to: string, body: string | Uint8Array): Uint8Array {
  return encode({ type: "SEND", to, body: bytesOf(body) });
}

/** The loose form of a message the checks compare: error texts vary between servers. */
function loose(m: Message): string {
  switch (m.type) {
    case "ERROR":
      return `ERROR ${m.code}`;
    case "FORWARD":
      return `FORWARD ${m.from} ${JSON.stringify(textOf(m.body))}`;
    default:
      return describe(m);
  }
}

/** Expects the next message on `w` to be `expected` (in {@link loose} form) and returns it. */
async function expect(w: Wire, expected: string): Promise<Message> {
  const m = await w.next();
  assert.equal(loose(m), expected, `${w.label} expected ${expected}, got ${describe(m)}`);
  return m;
}

/** The loose form of a FORWARD, for {@link expect}. */
function fwd(from: string, body: string): string {
  return `FORWARD ${from} ${JSON.stringify(body)}`;
}

/** Expects any ERROR on `w`. */
async function expectAnyError(w: Wire): Promise<void> {
  const m = await w.next();
  assert.equal(m.type, "ERROR", `${w.label} expected an ERROR, got ${describe(m)}`);
}

/** `from` sends `body` to `to`, which acknowledges; `from` gets SENT. */
async function exchange(from: TestUser, to: TestUser, body: string): Promise<void> {
  await from.tosend.send(send(to.name, body));
  await expect(to.torecv, fwd(from.name, body));
  await to.torecv.send(`RECEIVED ${from.name}\n\n`);
  await expect(from.tosend, `SENT ${to.name}`);
}

/**
 * Reads `count` FORWARDs on `user`'s TORECV, acknowledging each, and returns them as
 * `from:body` strings in arrival order.
 */
async function ackAll(user: TestUser, count: number): Promise<string[]> {
  const got: string[] = [];
  for (let k = 0; k < count; k++) {
    const m = await user.torecv.next();
    assert.equal(m.type, "FORWARD", `${user.torecv.label} expected a FORWARD, got ${describe(m)}`);
    if (m.type !== "FORWARD") return got;
    got.push(`${m.from}:${textOf(m.body)}`);
    await user.torecv.send(`RECEIVED ${m.from}\n\n`);
  }
  return got;
}

/** A server under test: where it listens, and how to stop it after a case. */
export interface ServerUnderTest {
  /** Its address. */
  addr: Addr;
  /** Stops it (a no-op for a server the tests did not start). */
  close(): Promise<void>;
}

/**
 * Registers one `Deno.test` per conformance case, each against a fresh server from `serve`,
 * named `${prefix}: ${case name}`. With `extensions: false`, extension cases are registered as
 * ignored, so a foreign server's report shows what was skipped.
 */
export function registerConformanceTests(
  prefix: string,
  serve: () => Promise<ServerUnderTest>,
  options: { extensions?: boolean } = {},
): void {
  for (const c of conformanceCases) {
    Deno.test({
      name: `${prefix}: ${c.name}`,
      ignore: c.extension === true && options.extensions === false,
      fn: async () => {
        const server = await serve();
        try {
          await c.run(server.addr);
        } finally {
          await server.close();
        }
      },
    });
  }
}

/** The conformance cases, base protocol first. */
export const conformanceCases: ConformanceCase[] = [
  {
    name: "two users register and exchange messages both ways",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await exchange(alice, bob, "hello");
        await exchange(bob, alice, "hi alice");
        await exchange(alice, bob, "how are you?");
        await alice.torecv.expectNothing();
        await bob.tosend.expectNothing(0);
      }),
  },
  {
    name: "many users all message each other with pipelined SENDs",
    run: (addr) =>
      withWires(addr, async (w) => {
        const all = names("u0", "u1", "u2", "u3", "u4", "u5");
        const users: TestUser[] = [];
        for (const n of all) users.push(await w.user(n));
        const receiving = users.map((u) => ackAll(u, users.length - 1));
        const sending = users.map(async (u) => {
          const others = users.filter((o) => o !== u);
          await u.tosend.send(concat(...others.map((o) => send(o.name, `${u.name} to ${o.name}`))));
          for (const o of others) await expect(u.tosend, `SENT ${o.name}`);
        });
        const [got] = await Promise.all([Promise.all(receiving), Promise.all(sending)]);
        for (const [u, received] of users.map((u, k) => [u, got[k]] as const)) {
          const expected = users.filter((o) => o !== u).map((o) =>
            `${o.name}:${o.name} to ${u.name}`
          );
          assert.deepEqual(received?.toSorted(), expected.toSorted(), `what ${u.name} received`);
        }
      }),
  },
  {
    name: "SEND ALL forwards to every other online user and answers SENT ALL",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b, c, d] = names("alice", "bob", "carol", "dave");
        const alice = await w.user(a);
        const others = [await w.user(b), await w.user(c), await w.user(d)] as const;
        await alice.tosend.send(send("ALL", "hello everyone"));
        for (const o of others) await expect(o.torecv, fwd(a, "hello everyone"));
        for (const o of others) await o.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(alice.tosend, "SENT ALL");
        await alice.torecv.expectNothing();
        // Everyone is still usable afterwards.
        await exchange(others[0], alice, "thanks");
      }),
  },
  {
    name: "SEND ALL with nobody else online answers SENT ALL",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a] = names("alice");
        const alice = await w.user(a);
        await alice.tosend.send(send("ALL", "anyone?"));
        await expect(alice.tosend, "SENT ALL");
        await alice.torecv.expectNothing();
      }),
  },
  {
    name: "SEND ALL answers ERROR 102 when one recipient answers ERROR",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b, c] = names("alice", "bob", "carol");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const carol = await w.user(c);
        await alice.tosend.send(send("ALL", "hi"));
        await expect(bob.torecv, fwd(a, "hi"));
        await expect(carol.torecv, fwd(a, "hi"));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await carol.torecv.send("ERROR 103 Header Incomplete\n\n");
        await expect(alice.tosend, "ERROR 102");
      }),
  },
  {
    name: "REGISTER with a malformed username gets ERROR 100 on either half",
    run: (addr) =>
      withWires(addr, async (w) => {
        const bad = ["alice bob", "al!ce", "a.b", "al_ice", "bob:", "jos\u00e9", "ALL", ""];
        for (const half of ["TOSEND", "TORECV"]) {
          for (const name of bad) {
            const wire = await w.connect(`REGISTER ${half} ${JSON.stringify(name)}`);
            await wire.send(`REGISTER ${half} ${name}\n\n`);
            await expect(wire, "ERROR 100");
            await wire.close();
          }
        }
      }),
  },
  {
    name: "a connection refused with ERROR 100 can register with a valid name",
    extension: true,
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a] = names("alice");
        const wire = await w.connect("alice/TOSEND");
        await wire.send("REGISTER TOSEND all\n\n");
        await expect(wire, "ERROR 100");
        await wire.send(`REGISTER TOSEND ${a}!\n\n`);
        await expect(wire, "ERROR 100");
        await wire.send(`REGISTER TOSEND ${a}\n\n`);
        await expect(wire, `REGISTERED TOSEND ${a}`);
      }),
  },
  {
    name:
      "SEND before REGISTER gets ERROR 101, its body is skipped and the connection stays usable",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b, evil] = names("alice", "bob", "evil");
        const bob = await w.user(b);
        const wire = await w.connect("alice/TOSEND");
        // The body looks like a message: a server that does not skip it would answer it.
        await wire.send(send(b, `REGISTER TOSEND ${evil}\n\n`));
        await expect(wire, "ERROR 101");
        await wire.expectNothing();
        await bob.torecv.expectNothing(0);
        await wire.send(`REGISTER TOSEND ${a}\n\n`);
        await expect(wire, `REGISTERED TOSEND ${a}`);
      }),
  },
  {
    name: "RECEIVED and unknown commands before REGISTER get ERROR 101",
    run: (addr) =>
      withWires(addr, async (w) => {
        for (const bytes of ["RECEIVED bob\n\n", "HELLO server\n\n", "SENT bob\n\n"]) {
          const wire = await w.connect(JSON.stringify(bytes));
          await wire.send(bytes);
          await expect(wire, "ERROR 101");
          await wire.close();
        }
      }),
  },
  {
    name: "SEND to an unknown user gets ERROR 102",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, nobody, b] = names("alice", "nobody", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.tosend.send(send(nobody, "hello?"));
        await expect(alice.tosend, "ERROR 102");
        // The connection stays usable.
        await exchange(alice, bob, "hello!");
      }),
  },
  {
    name: "SEND to a half-registered user gets ERROR 102 and nothing is forwarded",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b, c] = names("alice", "bob", "carol");
        const alice = await w.user(a);
        const bobRecv = await w.connect("bob/TORECV");
        await bobRecv.send(`REGISTER TORECV ${b}\n\n`);
        await expect(bobRecv, `REGISTERED TORECV ${b}`);
        const carolSend = await w.connect("carol/TOSEND");
        await carolSend.send(`REGISTER TOSEND ${c}\n\n`);
        await expect(carolSend, `REGISTERED TOSEND ${c}`);
        await alice.tosend.send(send(b, "to bob"));
        await expect(alice.tosend, "ERROR 102");
        await alice.tosend.send(send(c, "to carol"));
        await expect(alice.tosend, "ERROR 102");
        await bobRecv.expectNothing();
      }),
  },
  {
    name: "a recipient answering ERROR makes the sender's answer ERROR 102",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.tosend.send(send(b, "one"));
        await expect(bob.torecv, fwd(a, "one"));
        await bob.torecv.send("ERROR 103 Header Incomplete\n\n");
        await expect(alice.tosend, "ERROR 102");
        await exchange(alice, bob, "two");
      }),
  },
  {
    name: "a recipient acknowledging the wrong sender makes the sender's answer ERROR 102",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b, m] = names("alice", "bob", "mallory");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.tosend.send(send(b, "one"));
        await expect(bob.torecv, fwd(a, "one"));
        await bob.torecv.send(`RECEIVED ${m}\n\n`);
        await expect(alice.tosend, "ERROR 102");
      }),
  },
  {
    name: "SEND without a valid Content-length gets ERROR 103 and the connection is closed",
    run: (addr) =>
      withWires(addr, async (w) => {
        const headers = ["", "Content-length: abc\n", "Content-length: -1\n"];
        const senders = names(...headers.map((_, k) => `alice${k}`));
        const [b] = names("bob");
        const bob = await w.user(b);
        for (const [header, sender] of headers.map((h, k) => [h, senders[k]] as const)) {
          assert.ok(sender);
          const alice = await w.user(sender);
          await alice.tosend.send(`SEND ${b}\n${header}\nhello`);
          await expect(alice.tosend, "ERROR 103");
          await alice.tosend.expectClosed();
        }
        await bob.torecv.expectNothing();
      }),
  },
  {
    name: "pipelined SENDs in one packet are answered in order, failures included",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b, c, nobody] = names("alice", "bob", "carol", "nobody");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const carol = await w.user(c);
        await alice.tosend.send(concat(
          send(b, "b1"),
          send(nobody, "n1"),
          send(c, "c1"),
          send(b, "b2"),
          send(c, "c2"),
          send(nobody, "n2"),
        ));
        // carol answers at once (RECEIVED, then ERROR); bob answers late.
        await expect(carol.torecv, fwd(a, "c1"));
        await carol.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(carol.torecv, fwd(a, "c2"));
        await carol.torecv.send("ERROR 103 Header Incomplete\n\n");
        await expect(bob.torecv, fwd(a, "b1"));
        await delay(50);
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(bob.torecv, fwd(a, "b2"));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        const answers = [
          `SENT ${b}`,
          "ERROR 102",
          `SENT ${c}`,
          `SENT ${b}`,
          "ERROR 102",
          "ERROR 102",
        ];
        for (const answer of answers) await expect(alice.tosend, answer);
        await alice.tosend.expectNothing();
      }),
  },
  {
    name: "a user may register TORECV before TOSEND",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a, "TORECV first");
        const bob = await w.user(b, "TORECV first");
        await exchange(alice, bob, "hello");
        await exchange(bob, alice, "hi");
      }),
  },
  {
    name: "both halves may register at the same time",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const bob = await w.user(b);
        const tosend = await w.connect("alice/TOSEND");
        const torecv = await w.connect("alice/TORECV");
        await Promise.all([
          tosend.send(`REGISTER TOSEND ${a}\n\n`),
          torecv.send(`REGISTER TORECV ${a}\n\n`),
        ]);
        await expect(tosend, `REGISTERED TOSEND ${a}`);
        await expect(torecv, `REGISTERED TORECV ${a}`);
        const alice: TestUser = { name: a, tosend, torecv, close: async () => {} };
        await exchange(bob, alice, "hello");
        await exchange(alice, bob, "hi");
      }),
  },
  {
    name: "a taken name is refused and the user who has it keeps working",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const fakeSend = await w.connect("mallory/TOSEND");
        const fakeRecv = await w.connect("mallory/TORECV");
        await fakeSend.send(`REGISTER TOSEND ${a}\n\n`);
        await expectAnyError(fakeSend);
        await fakeRecv.send(`REGISTER TORECV ${a}\n\n`);
        await expectAnyError(fakeRecv);
        // No hijack: alice still gets her messages, and can still send.
        await exchange(bob, alice, "for alice");
        await exchange(alice, bob, "from alice");
        await fakeRecv.expectNothing(0);
        try {
          await fakeSend.send(send(b, "spoofed")); // the server may have closed it
        } catch { /* closed */ }
        await bob.torecv.expectNothing();
      }),
  },
  {
    name: "a taken name gets ERROR 104",
    extension: true,
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a] = names("alice");
        await w.user(a);
        for (const half of ["TOSEND", "TORECV"]) {
          const fake = await w.connect(`mallory/${half}`);
          await fake.send(`REGISTER ${half} ${a}\n\n`);
          await expect(fake, "ERROR 104");
          // The connection stays open for another try.
          await fake.send(`REGISTER ${half} ${a}2\n\n`);
          await expect(fake, `REGISTERED ${half} ${a}2`);
        }
      }),
  },
  {
    name: "a recipient that disconnects with messages pending makes their senders get ERROR 102",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b, c] = names("alice", "bob", "carol");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const carol = await w.user(c);
        await alice.tosend.send(concat(send(b, "a1"), send(b, "a2")));
        await carol.tosend.send(send(b, "c1"));
        const first = await bob.torecv.next();
        assert.equal(first.type, "FORWARD", `bob got ${describe(first)}`);
        await delay(50); // let every SEND reach the server
        await bob.torecv.close();
        await bob.tosend.close();
        await expect(alice.tosend, "ERROR 102");
        await expect(alice.tosend, "ERROR 102");
        await expect(carol.tosend, "ERROR 102");
      }),
  },
  {
    name: "closing one connection removes the user: SEND to it gets 102 and the name is free",
    extension: true,
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await bob.tosend.close();
        await bob.torecv.expectClosed();
        await alice.tosend.send(send(b, "still there?"));
        await expect(alice.tosend, "ERROR 102");
        const bob2 = await w.user(b);
        await exchange(alice, bob2, "welcome back");
      }),
  },
  {
    name: "UNREGISTER answers UNREGISTERED, closes both halves and frees the name",
    extension: true,
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        // A message waiting for alice's answer fails when she leaves.
        await bob.tosend.send(send(a, "bye?"));
        await expect(alice.torecv, fwd(b, "bye?"));
        await alice.tosend.send(`UNREGISTER ${a}\n\n`);
        await expect(alice.tosend, `UNREGISTERED ${a}`);
        await expect(bob.tosend, "ERROR 102");
        await alice.tosend.expectClosed();
        await alice.torecv.expectClosed();
        await bob.tosend.send(send(a, "gone?"));
        await expect(bob.tosend, "ERROR 102");
        const again = await w.user(a);
        await exchange(bob, again, "welcome back");
      }),
  },
  {
    name: "UNREGISTER on the TORECV connection works too, and a wrong name gets ERROR 101",
    extension: true,
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.torecv.send(`UNREGISTER ${b}\n\n`);
        await expect(alice.torecv, "ERROR 101");
        await exchange(bob, alice, "still here");
        await alice.torecv.send(`UNREGISTER ${a}\n\n`);
        await expect(alice.torecv, `UNREGISTERED ${a}`);
        await alice.torecv.expectClosed();
        await alice.tosend.expectClosed();
        await bob.tosend.send(send(a, "gone?"));
        await expect(bob.tosend, "ERROR 102");
      }),
  },
  {
    name: "a client that sends one byte at a time is understood",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const bob = await w.user(b);
        const tosend = await w.connect("alice/TOSEND");
        const torecv = await w.connect("alice/TORECV");
        await tosend.sendBytewise(`REGISTER TOSEND ${a}\n\n`);
        await expect(tosend, `REGISTERED TOSEND ${a}`);
        await torecv.sendBytewise(`REGISTER TORECV ${a}\n\n`);
        await expect(torecv, `REGISTERED TORECV ${a}`);
        await tosend.sendBytewise(send(b, "h\u00e9llo \u{1F600}\nbye"));
        await expect(bob.torecv, fwd(a, "h\u00e9llo \u{1F600}\nbye"));
        await bob.torecv.sendBytewise(`RECEIVED ${a}\n\n`);
        await expect(tosend, `SENT ${b}`);
        await bob.tosend.send(send(a, "back"));
        await expect(torecv, fwd(b, "back"));
        await torecv.sendBytewise(`RECEIVED ${b}\n\n`);
        await expect(bob.tosend, `SENT ${a}`);
      }),
  },
  {
    name: "a client that sends registration and SENDs in one packet is understood",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const bob = await w.user(b);
        const torecv = await w.connect("alice/TORECV");
        await torecv.send(`REGISTER TORECV ${a}\n\n`);
        await expect(torecv, `REGISTERED TORECV ${a}`);
        const tosend = await w.connect("alice/TOSEND");
        await tosend.send(concat(`REGISTER TOSEND ${a}\n\n`, send(b, "one"), send(b, "two")));
        await expect(tosend, `REGISTERED TOSEND ${a}`);
        await expect(bob.torecv, fwd(a, "one"));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(bob.torecv, fwd(a, "two"));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(tosend, `SENT ${b}`);
        await expect(tosend, `SENT ${b}`);
      }),
  },
  {
    name: "a telnet-style client with CRLF line ends is understood",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const tosend = await w.connect("alice/TOSEND");
        const torecv = await w.connect("alice/TORECV");
        await tosend.send(`REGISTER TOSEND ${a}\r\n\r\n`);
        await expect(tosend, `REGISTERED TOSEND ${a}`);
        await torecv.send(`REGISTER TORECV ${a}\r\n\r\n`);
        await expect(torecv, `REGISTERED TORECV ${a}`);
        const bob = await w.user(b);
        await tosend.send(`SEND ${b}\r\nContent-length: 5\r\n\r\nhello`);
        await expect(bob.torecv, fwd(a, "hello"));
        await bob.torecv.send(`RECEIVED ${a}\r\n\r\n`);
        await expect(tosend, `SENT ${b}`);
        await bob.tosend.send(send(a, "hi"));
        await expect(torecv, fwd(b, "hi"));
        await torecv.send(`RECEIVED ${b}\r\n\r\n`);
        await expect(bob.tosend, `SENT ${a}`);
      }),
  },
  {
    name: "Content-length is understood in any letter case",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        for (const header of ["Content-Length", "CONTENT-LENGTH", "content-length"]) {
          await alice.tosend.send(`SEND ${b}\n${header}: 6\n\nhello!`);
          await expect(bob.torecv, fwd(a, "hello!"));
          await bob.torecv.send(`RECEIVED ${a}\n\n`);
          await expect(alice.tosend, `SENT ${b}`);
        }
      }),
  },
  {
    name: 'the typeset " \\n \\n" ending and a stray blank line after a body are understood',
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const bob = await w.user(b);
        const tosend = await w.connect("alice/TOSEND");
        const torecv = await w.connect("alice/TORECV");
        await tosend.send(`REGISTER TOSEND ${a} \n \n`);
        await expect(tosend, `REGISTERED TOSEND ${a}`);
        await torecv.send(`REGISTER TORECV ${a} \n \n`);
        await expect(torecv, `REGISTERED TORECV ${a}`);
        await tosend.send(`SEND ${b} \nContent-length: 2 \n \nhi\n`);
        await expect(bob.torecv, fwd(a, "hi"));
        await bob.torecv.send(`RECEIVED ${a} \n \n`);
        await expect(tosend, `SENT ${b}`);
        await tosend.send(`\nSEND ${b}\nContent-length: 3\n\nbye\n`);
        await expect(bob.torecv, fwd(a, "bye"));
        await bob.torecv.send(`RECEIVED ${a}\n\n\n`);
        await expect(tosend, `SENT ${b}`);
      }),
  },
  {
    name: "a body with newlines and multi-byte UTF-8 is forwarded byte for byte",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const text = "first line\n\nh\u00e9llo w\u00f6rld \u{1F600}\u{1F389}\n" +
          `SEND ${b}\nContent-length: 3\n\nend\n`;
        const body = utf8Bytes(text);
        assert.ok(body.length > text.length); // bytes, not characters
        await alice.tosend.send(send(b, body));
        const m = await bob.torecv.next();
        assert.equal(m.type, "FORWARD", `bob got ${describe(m)}`);
        if (m.type === "FORWARD") {
          assert.equal(m.from, a);
          assert.deepEqual(m.body, body);
        }
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(alice.tosend, `SENT ${b}`);
        await bob.torecv.expectNothing();
      }),
  },
  {
    name: "an empty body and a large body are forwarded intact",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.tosend.send(`SEND ${b}\nContent-length: 0\n\n`);
        await expect(bob.torecv, fwd(a, ""));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(alice.tosend, `SENT ${b}`);
        const large = "0123456789abcdef\n".repeat(1200); // 20 400 bytes, many TCP segments
        await exchange(alice, bob, large);
      }),
  },
  {
    name: "a recipient gets one FORWARD at a time: the next waits for its answer",
    run: (addr) =>
      withWires(addr, async (w) => {
        const [a, b, c] = names("alice", "bob", "carol");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const carol = await w.user(c);
        await alice.tosend.send(concat(send(b, "first"), send(b, "second")));
        await expect(bob.torecv, fwd(a, "first"));
        await carol.tosend.send(send(b, "from carol"));
        await bob.torecv.expectNothing(QUIET_MS);
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        const second = await bob.torecv.next();
        assert.equal(second.type, "FORWARD", `bob got ${describe(second)}`);
        if (second.type !== "FORWARD") return;
        await bob.torecv.expectNothing(QUIET_MS);
        await bob.torecv.send(`RECEIVED ${second.from}\n\n`);
        const third = await bob.torecv.next();
        assert.equal(third.type, "FORWARD", `bob got ${describe(third)}`);
        if (third.type !== "FORWARD") return;
        await bob.torecv.send(`RECEIVED ${third.from}\n\n`);
        assert.deepEqual(
          [second, third].map(loose).toSorted(),
          [fwd(a, "second"), fwd(c, "from carol")].toSorted(),
        );
        await expect(alice.tosend, `SENT ${b}`);
        await expect(alice.tosend, `SENT ${b}`);
        await expect(carol.tosend, `SENT ${b}`);
      }),
  },
];
