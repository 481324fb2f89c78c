/**
 * Server cases about relaying messages: SEND, FORWARD, RECEIVED and SENT; SEND ALL; errors
 * 102 and 103; framing (split and coalesced packets, bodies counted in bytes); the variants a
 * server must accept; and ordering (PROTOCOL.md, "Sending a message", "Broadcast", "Framing",
 * "What we accept and what we write", "Ordering and flow").
 *
 * @module
 */
import { utf8Bytes } from "../protocol/mod.ts";
import { type Case, CaseFailure, CaseSkip } from "./case.ts";
import {
  ackAll,
  check,
  err,
  exchange,
  expect,
  expectType,
  fwd,
  loose,
  names,
  on,
  registered,
  send,
  sent,
  type ServerTarget,
} from "./server_checks.ts";
import { concat, delay, evidenceOf, QUIET_MS, type TestUser } from "./wire.ts";

/** Cases about sending one message, its answers and its errors. */
const SENDING: readonly Case<ServerTarget>[] = [
  {
    id: "exchange-both-ways",
    title: "two users register and exchange messages both ways",
    rule: "Sending a message",
    run: (t, signal) =>
      on(t, signal, async (w) => {
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
    id: "send-unknown-user",
    title: "SEND to an unknown user gets ERROR 102 and the connection stays usable",
    rule: "Sending a message",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, nobody, b] = names("alice", "nobody", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.tosend.send(send(nobody, "hello?"));
        await expect(alice.tosend, err(102));
        await exchange(alice, bob, "hello!");
      }),
  },
  {
    id: "send-half-registered",
    title: "SEND to a half-registered user gets ERROR 102 and nothing is forwarded",
    rule: "Sending a message",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b, c] = names("alice", "bob", "carol");
        const alice = await w.user(a);
        const bobRecv = await w.connect(`${b}/TORECV`);
        await bobRecv.send(`REGISTER TORECV ${b}\n\n`);
        await expect(bobRecv, registered("TORECV", b));
        const carolSend = await w.connect(`${c}/TOSEND`);
        await carolSend.send(`REGISTER TOSEND ${c}\n\n`);
        await expect(carolSend, registered("TOSEND", c));
        await alice.tosend.send(send(b, "to bob"));
        await expect(alice.tosend, err(102));
        await alice.tosend.send(send(c, "to carol"));
        await expect(alice.tosend, err(102));
        await bobRecv.expectNothing();
      }),
  },
  {
    id: "recipient-answers-error",
    title: "a recipient answering ERROR 103 makes the sender's answer ERROR 102",
    rule: "Sending a message",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.tosend.send(send(b, "one"));
        await expect(bob.torecv, fwd(a, "one"));
        await bob.torecv.send("ERROR 103 Header Incomplete\n\n");
        await expect(alice.tosend, err(102));
        await exchange(alice, bob, "two");
      }),
  },
  {
    id: "recipient-acks-wrong-sender",
    title: "a recipient acknowledging the wrong sender makes the sender's answer ERROR 102",
    rule: "Sending a message",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b, m] = names("alice", "bob", "mallory");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.tosend.send(send(b, "one"));
        await expect(bob.torecv, fwd(a, "one"));
        await bob.torecv.send(`RECEIVED ${m}\n\n`);
        await expect(alice.tosend, err(102));
      }),
  },
  {
    id: "unknown-command-103",
    title: "an unknown command after registration gets ERROR 103 and the connection stays open",
    rule: "Sending a message",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.tosend.send(`HELLO ${b}\n\n`);
        await expect(alice.tosend, err(103));
        await exchange(alice, bob, "still here");
      }),
  },
  {
    id: "send-without-length",
    title: "SEND without a valid Content-length gets ERROR 103 and the connection is closed",
    rule: "Sending a message",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const headers = ["", "Content-length: abc\n", "Content-length: -1\n"];
        const senders = names(...headers.map((_, k) => `alice${k}`));
        const [b] = names("bob");
        const bob = await w.user(b);
        for (const [k, header] of headers.entries()) {
          const alice = await w.user(senders[k] ?? `alice${k}`);
          await alice.tosend.send(`SEND ${b}\n${header}\nhello`);
          await expect(alice.tosend, err(103));
          await alice.tosend.expectClosed();
        }
        await bob.torecv.expectNothing();
      }),
  },
];

/** Cases about SEND ALL. */
const BROADCAST: readonly Case<ServerTarget>[] = [
  {
    id: "send-all",
    title: "SEND ALL forwards to every other online user and answers SENT ALL",
    rule: "Broadcast",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b, c, d] = names("alice", "bob", "carol", "dave");
        const alice = await w.user(a);
        const others = [await w.user(b), await w.user(c), await w.user(d)] as const;
        await alice.tosend.send(send("ALL", "hello everyone"));
        for (const o of others) await expect(o.torecv, fwd(a, "hello everyone"));
        for (const o of others) await o.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(alice.tosend, sent("ALL"));
        await alice.torecv.expectNothing();
        // Everyone is still usable afterwards.
        await exchange(others[0], alice, "thanks");
      }),
  },
  {
    id: "send-all-alone",
    title: "SEND ALL with nobody else online answers SENT ALL",
    rule: "Broadcast",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a] = names("alice");
        const alice = await w.user(a);
        await alice.tosend.send(send("ALL", "anyone?"));
        await expect(alice.tosend, sent("ALL"));
        await alice.torecv.expectNothing();
      }),
  },
  {
    id: "send-all-recipient-error",
    title: "SEND ALL answers ERROR 102 when one recipient answers ERROR",
    rule: "Broadcast",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b, c] = names("alice", "bob", "carol");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const carol = await w.user(c);
        await alice.tosend.send(send("ALL", "hi"));
        await expect(bob.torecv, fwd(a, "hi"));
        await expect(carol.torecv, fwd(a, "hi"));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await carol.torecv.send("ERROR 103 Header Incomplete\n\n");
        await expect(alice.tosend, err(102));
      }),
  },
];

/** Cases about framing and the variants a server accepts. */
const FRAMING: readonly Case<ServerTarget>[] = [
  {
    id: "split-bytewise",
    title: "a client that sends one byte at a time is understood",
    rule: "Framing",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const bob = await w.user(b);
        const tosend = await w.connect(`${a}/TOSEND`);
        const torecv = await w.connect(`${a}/TORECV`);
        await tosend.sendBytewise(`REGISTER TOSEND ${a}\n\n`);
        await expect(tosend, registered("TOSEND", a));
        await torecv.sendBytewise(`REGISTER TORECV ${a}\n\n`);
        await expect(torecv, registered("TORECV", a));
        await tosend.sendBytewise(send(b, "h\u00e9llo \u{1F600}\nbye"));
        await expect(bob.torecv, fwd(a, "h\u00e9llo \u{1F600}\nbye"));
        await bob.torecv.sendBytewise(`RECEIVED ${a}\n\n`);
        await expect(tosend, sent(b));
        await bob.tosend.send(send(a, "back"));
        await expect(torecv, fwd(b, "back"));
        await torecv.sendBytewise(`RECEIVED ${b}\n\n`);
        await expect(bob.tosend, sent(a));
      }),
  },
  {
    id: "several-in-one-packet",
    title: "a client that sends registration and SENDs in one packet is understood",
    rule: "Framing",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const bob = await w.user(b);
        const torecv = await w.connect(`${a}/TORECV`);
        await torecv.send(`REGISTER TORECV ${a}\n\n`);
        await expect(torecv, registered("TORECV", a));
        const tosend = await w.connect(`${a}/TOSEND`);
        await tosend.send(concat(`REGISTER TOSEND ${a}\n\n`, send(b, "one"), send(b, "two")));
        await expect(tosend, registered("TOSEND", a));
        await expect(bob.torecv, fwd(a, "one"));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(bob.torecv, fwd(a, "two"));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(tosend, sent(b));
        await expect(tosend, sent(b));
      }),
  },
  {
    id: "body-bytes-utf8",
    title: "a body with newlines and multi-byte UTF-8 is forwarded byte for byte",
    rule: "Framing",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const text = "first line\n\nh\u00e9llo w\u00f6rld \u{1F600}\u{1F389}\n" +
          `SEND ${b}\nContent-length: 3\n\nend\n`;
        const body = utf8Bytes(text);
        await alice.tosend.send(send(b, body));
        const m = await expectType(bob.torecv, "FORWARD");
        const same = m.body.length === body.length && m.body.every((x, k) => x === body[k]);
        check(m.from === a && same, `${bob.torecv.label}: the FORWARD is not byte for byte.`, {
          ...bob.torecv.sentEvidence,
          expected: fwd(a, text).shown,
          got: evidenceOf(concat(`FORWARD ${m.from}\n\n`, m.body)),
        });
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(alice.tosend, sent(b));
        await bob.torecv.expectNothing();
      }),
  },
  {
    id: "empty-and-large-body",
    title: "an empty body and a large body are forwarded intact",
    rule: "Framing",
    needs: "bodies of 20 KB",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.tosend.send(`SEND ${b}\nContent-length: 0\n\n`);
        await expect(bob.torecv, fwd(a, ""));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(alice.tosend, sent(b));
        const large = "0123456789abcdef\n".repeat(1200); // 20 400 bytes, many TCP segments
        await alice.tosend.send(send(b, large));
        try {
          // A server with a smaller body limit answers ERROR 102 at once and forwards nothing.
          await alice.tosend.expectNothing(QUIET_MS);
        } catch (e) {
          if (e instanceof CaseFailure && e.evidence.got?.startsWith("ERROR 102")) {
            throw new CaseSkip("the server refuses a 20400-byte body (it needs bodies of 20 KB)");
          }
          throw e;
        }
        const m = await bob.torecv.next(undefined, fwd(a, large).shown);
        check(loose(m) === fwd(a, large).loose, `${bob.torecv.label}: the large body changed.`);
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(alice.tosend, sent(b));
      }),
  },
  {
    id: "accept-crlf",
    title: "a telnet-style client with CRLF line ends is understood",
    rule: "What we accept and what we write",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const tosend = await w.connect(`${a}/TOSEND`);
        const torecv = await w.connect(`${a}/TORECV`);
        await tosend.send(`REGISTER TOSEND ${a}\r\n\r\n`);
        await expect(tosend, registered("TOSEND", a));
        await torecv.send(`REGISTER TORECV ${a}\r\n\r\n`);
        await expect(torecv, registered("TORECV", a));
        const bob = await w.user(b);
        await tosend.send(`SEND ${b}\r\nContent-length: 5\r\n\r\nhello`);
        await expect(bob.torecv, fwd(a, "hello"));
        await bob.torecv.send(`RECEIVED ${a}\r\n\r\n`);
        await expect(tosend, sent(b));
        await bob.tosend.send(send(a, "hi"));
        await expect(torecv, fwd(b, "hi"));
        await torecv.send(`RECEIVED ${b}\r\n\r\n`);
        await expect(bob.tosend, sent(a));
      }),
  },
  {
    id: "accept-header-case",
    title: "Content-length is understood in any letter case",
    rule: "What we accept and what we write",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        for (const header of ["Content-Length", "CONTENT-LENGTH", "content-length"]) {
          await alice.tosend.send(`SEND ${b}\n${header}: 6\n\nhello!`);
          await expect(bob.torecv, fwd(a, "hello!"));
          await bob.torecv.send(`RECEIVED ${a}\n\n`);
          await expect(alice.tosend, sent(b));
        }
      }),
  },
  {
    id: "accept-spaces-and-blank-lines",
    title: 'the typeset " \\n \\n" ending and a stray blank line after a body are understood',
    rule: "What we accept and what we write",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const bob = await w.user(b);
        const tosend = await w.connect(`${a}/TOSEND`);
        const torecv = await w.connect(`${a}/TORECV`);
        await tosend.send(`REGISTER TOSEND ${a} \n \n`);
        await expect(tosend, registered("TOSEND", a));
        await torecv.send(`REGISTER TORECV ${a} \n \n`);
        await expect(torecv, registered("TORECV", a));
        await tosend.send(`SEND ${b} \nContent-length: 2 \n \nhi\n`);
        await expect(bob.torecv, fwd(a, "hi"));
        await bob.torecv.send(`RECEIVED ${a} \n \n`);
        await expect(tosend, sent(b));
        await tosend.send(`\nSEND ${b}\nContent-length: 3\n\nbye\n`);
        await expect(bob.torecv, fwd(a, "bye"));
        await bob.torecv.send(`RECEIVED ${a}\n\n\n`);
        await expect(tosend, sent(b));
      }),
  },
];

/** Cases about ordering and flow. */
const ORDERING: readonly Case<ServerTarget>[] = [
  {
    id: "pipelined-many-users",
    title: "many users all message each other with pipelined SENDs",
    rule: "Ordering and flow",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const all = names("u0", "u1", "u2", "u3", "u4", "u5");
        const users: TestUser[] = [];
        for (const n of all) users.push(await w.user(n));
        const receiving = users.map((u) => ackAll(u, users.length - 1));
        const sending = users.map(async (u) => {
          const others = users.filter((o) => o !== u);
          await u.tosend.send(concat(...others.map((o) => send(o.name, `${u.name} to ${o.name}`))));
          for (const o of others) await expect(u.tosend, sent(o.name));
        });
        const [got] = await Promise.all([Promise.all(receiving), Promise.all(sending)]);
        for (const [k, u] of users.entries()) {
          const expected = users.filter((o) => o !== u).map((o) =>
            `${o.name}:${o.name} to ${u.name}`
          ).toSorted();
          const received = (got[k] ?? []).toSorted();
          check(
            JSON.stringify(received) === JSON.stringify(expected),
            `${u.name} did not receive exactly one message from each other user.`,
            { expected: expected.join(", "), got: received.join(", ") },
          );
        }
      }),
  },
  {
    id: "pipelined-one-packet",
    title: "pipelined SENDs in one packet are answered in order, failures included",
    rule: "Ordering and flow",
    run: (t, signal) =>
      on(t, signal, async (w) => {
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
        await delay(50, signal);
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        await expect(bob.torecv, fwd(a, "b2"));
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        const answers = [sent(b), err(102), sent(c), sent(b), err(102), err(102)];
        for (const answer of answers) await expect(alice.tosend, answer);
        await alice.tosend.expectNothing();
      }),
  },
  {
    id: "one-forward-at-a-time",
    title: "a recipient gets one FORWARD at a time: the next waits for its answer",
    rule: "Ordering and flow",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b, c] = names("alice", "bob", "carol");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const carol = await w.user(c);
        await alice.tosend.send(concat(send(b, "first"), send(b, "second")));
        await expect(bob.torecv, fwd(a, "first"));
        await carol.tosend.send(send(b, "from carol"));
        await bob.torecv.expectNothing(QUIET_MS);
        await bob.torecv.send(`RECEIVED ${a}\n\n`);
        const second = await expectType(bob.torecv, "FORWARD");
        await bob.torecv.expectNothing(QUIET_MS);
        await bob.torecv.send(`RECEIVED ${second.from}\n\n`);
        const third = await expectType(bob.torecv, "FORWARD");
        await bob.torecv.send(`RECEIVED ${third.from}\n\n`);
        const got = [second, third].map(loose).toSorted();
        const want = [fwd(a, "second").loose, fwd(c, "from carol").loose].toSorted();
        check(
          JSON.stringify(got) === JSON.stringify(want),
          `${bob.torecv.label}: the second and third FORWARDs are not the two messages waiting.`,
          { expected: want.join(", "), got: got.join(", ") },
        );
        await expect(alice.tosend, sent(b));
        await expect(alice.tosend, sent(b));
        await expect(carol.tosend, sent(b));
      }),
  },
];

/** The relaying cases, in the order they run. */
export const RELAY_CASES: readonly Case<ServerTarget>[] = [
  ...SENDING,
  ...BROADCAST,
  ...FRAMING,
  ...ORDERING,
];
