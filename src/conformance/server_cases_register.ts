/**
 * Server cases about registration, the errors before it, and leaving (PROTOCOL.md,
 * "Registration" and "Leaving").
 *
 * @module
 */
import type { Case } from "./case.ts";
import {
  err,
  exchange,
  expect,
  expectType,
  fwd,
  names,
  on,
  registered,
  send,
  type ServerTarget,
  unregistered,
} from "./server_checks.ts";
import { concat, delay, type TestUser } from "./wire.ts";

/** Cases about registering, errors before it, names in use and leaving. */
export const REGISTRATION_CASES: readonly Case<ServerTarget>[] = [
  {
    id: "register-torecv-first",
    title: "a user may register TORECV before TOSEND",
    rule: "Registration",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a, "TORECV first");
        const bob = await w.user(b, "TORECV first");
        await exchange(alice, bob, "hello");
        await exchange(bob, alice, "hi");
      }),
  },
  {
    id: "register-at-once",
    title: "both halves may register at the same time",
    rule: "Registration",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const bob = await w.user(b);
        const tosend = await w.connect(`${a}/TOSEND`);
        const torecv = await w.connect(`${a}/TORECV`);
        await Promise.all([
          tosend.send(`REGISTER TOSEND ${a}\n\n`),
          torecv.send(`REGISTER TORECV ${a}\n\n`),
        ]);
        await expect(tosend, registered("TOSEND", a));
        await expect(torecv, registered("TORECV", a));
        const alice: TestUser = { name: a, tosend, torecv, close: async () => {} };
        await exchange(bob, alice, "hello");
        await exchange(alice, bob, "hi");
      }),
  },
  {
    id: "register-malformed-name",
    title: "REGISTER with a malformed username gets ERROR 100 on either half",
    rule: "Registration",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const bad = ["alice bob", "al!ce", "a.b", "al_ice", "bob:", "jos\u00e9", "ALL", ""];
        for (const half of ["TOSEND", "TORECV"]) {
          for (const name of bad) {
            const wire = await w.connect(`REGISTER ${half} ${JSON.stringify(name)}`);
            await wire.send(`REGISTER ${half} ${name}\n\n`);
            await expect(wire, err(100));
            await wire.close();
          }
        }
      }),
  },
  {
    id: "register-retry-after-100",
    title: "a connection refused with ERROR 100 can register with a valid name",
    rule: "Registration",
    extension: true,
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a] = names("alice");
        const wire = await w.connect(`${a}/TOSEND`);
        await wire.send("REGISTER TOSEND all\n\n");
        await expect(wire, err(100));
        await wire.send(`REGISTER TOSEND ${a}!\n\n`);
        await expect(wire, err(100));
        await wire.send(`REGISTER TOSEND ${a}\n\n`);
        await expect(wire, registered("TOSEND", a));
      }),
  },
  {
    id: "send-before-register",
    title:
      "SEND before REGISTER gets ERROR 101, its body is skipped and the connection stays usable",
    rule: "Registration",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b, evil] = names("alice", "bob", "evil");
        const bob = await w.user(b);
        const wire = await w.connect(`${a}/TOSEND`);
        // The body looks like a message: a server that does not skip it would answer it.
        await wire.send(send(b, `REGISTER TOSEND ${evil}\n\n`));
        await expect(wire, err(101));
        await wire.expectNothing();
        await bob.torecv.expectNothing(0);
        await wire.send(`REGISTER TOSEND ${a}\n\n`);
        await expect(wire, registered("TOSEND", a));
      }),
  },
  {
    id: "other-before-register",
    title: "RECEIVED and unknown commands before REGISTER get ERROR 101",
    rule: "Registration",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        for (const bytes of ["RECEIVED bob\n\n", "HELLO server\n\n", "SENT bob\n\n"]) {
          const wire = await w.connect(JSON.stringify(bytes));
          await wire.send(bytes);
          await expect(wire, err(101));
          await wire.close();
        }
      }),
  },
  {
    id: "name-taken-no-hijack",
    title: "a taken name is refused and the user who has it keeps working",
    rule: "Registration",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const fakeSend = await w.connect("mallory/TOSEND");
        const fakeRecv = await w.connect("mallory/TORECV");
        await fakeSend.send(`REGISTER TOSEND ${a}\n\n`);
        await expectType(fakeSend, "ERROR");
        await fakeRecv.send(`REGISTER TORECV ${a}\n\n`);
        await expectType(fakeRecv, "ERROR");
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
    id: "name-taken-104",
    title: "a taken name gets ERROR 104 and the connection may try another",
    rule: "Registration",
    extension: true,
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a] = names("alice");
        await w.user(a);
        for (const half of ["TOSEND", "TORECV"] as const) {
          const fake = await w.connect(`mallory/${half}`);
          await fake.send(`REGISTER ${half} ${a}\n\n`);
          await expect(fake, err(104));
          // The connection stays open for another try.
          await fake.send(`REGISTER ${half} ${a}2\n\n`);
          await expect(fake, registered(half, `${a}2`));
        }
      }),
  },
  {
    id: "disconnect-purges-user",
    title: "a user who disconnects is purged: SEND to it gets ERROR 102 and the name is free",
    rule: "Leaving",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await exchange(alice, bob, "hello");
        await bob.close();
        await delay(100, signal); // let the server see both closes
        await alice.tosend.send(send(b, "still there?"));
        await expect(alice.tosend, err(102));
        const bob2 = await w.user(b);
        await exchange(alice, bob2, "welcome back");
      }),
  },
  {
    id: "recipient-disconnects-pending",
    title: "a recipient that disconnects with messages pending makes their senders get ERROR 102",
    rule: "Leaving",
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b, c] = names("alice", "bob", "carol");
        const alice = await w.user(a);
        const bob = await w.user(b);
        const carol = await w.user(c);
        await alice.tosend.send(concat(send(b, "a1"), send(b, "a2")));
        await carol.tosend.send(send(b, "c1"));
        await expectType(bob.torecv, "FORWARD");
        await delay(50, signal); // let every SEND reach the server
        await bob.torecv.close();
        await bob.tosend.close();
        await expect(alice.tosend, err(102));
        await expect(alice.tosend, err(102));
        await expect(carol.tosend, err(102));
      }),
  },
  {
    id: "close-one-half",
    title: "closing one connection closes the other and removes the user",
    rule: "Leaving",
    extension: true,
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await bob.tosend.close();
        await bob.torecv.expectClosed();
        await alice.tosend.send(send(b, "still there?"));
        await expect(alice.tosend, err(102));
        const bob2 = await w.user(b);
        await exchange(alice, bob2, "welcome back");
      }),
  },
  {
    id: "unregister",
    title: "UNREGISTER answers UNREGISTERED, closes both halves and frees the name",
    rule: "Leaving",
    extension: true,
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        // A message waiting for alice's answer fails when she leaves.
        await bob.tosend.send(send(a, "bye?"));
        await expect(alice.torecv, fwd(b, "bye?"));
        await alice.tosend.send(`UNREGISTER ${a}\n\n`);
        await expect(alice.tosend, unregistered(a));
        await expect(bob.tosend, err(102));
        await alice.tosend.expectClosed();
        await alice.torecv.expectClosed();
        await bob.tosend.send(send(a, "gone?"));
        await expect(bob.tosend, err(102));
        const again = await w.user(a);
        await exchange(bob, again, "welcome back");
      }),
  },
  {
    id: "unregister-torecv",
    title: "UNREGISTER on the TORECV connection works too, and a wrong name gets ERROR 101",
    rule: "Leaving",
    extension: true,
    run: (t, signal) =>
      on(t, signal, async (w) => {
        const [a, b] = names("alice", "bob");
        const alice = await w.user(a);
        const bob = await w.user(b);
        await alice.torecv.send(`UNREGISTER ${b}\n\n`);
        await expect(alice.torecv, err(101));
        await exchange(bob, alice, "still here");
        await alice.torecv.send(`UNREGISTER ${a}\n\n`);
        await expect(alice.torecv, unregistered(a));
        await alice.torecv.expectClosed();
        await alice.tosend.expectClosed();
        await bob.tosend.send(send(a, "gone?"));
        await expect(bob.tosend, err(102));
      }),
  },
];
