/**
 * The server cases of `chat conformance server`: one list, in product code, that checks any
 * server of the two-socket chat protocol over raw TCP. The project's own tests run the same
 * list against our server, so the kit and the tests cannot drift apart.
 *
 * Every case opens fresh connections with unique names, closes all of them, bounds every wait
 * by its AbortSignal, and never floods. Cases marked `extension` check our documented extensions
 * (PROTOCOL.md, "Extension registry") or guarantees stronger than the base protocol.
 *
 * @module
 */
import type { Case } from "./case.ts";
import { REGISTRATION_CASES } from "./server_cases_register.ts";
import { RELAY_CASES } from "./server_cases_relay.ts";
import {
  check,
  err,
  exchange,
  expect,
  names,
  on,
  registered,
  send,
  type ServerTarget,
} from "./server_checks.ts";

export type { ServerTarget } from "./server_checks.ts";

/** Checks that everything the server wrote on the case's wires was canonical. */
const CANONICAL: Case<ServerTarget> = {
  id: "canonical-output",
  title: "what the server writes is canonical: LF line ends, exact headers, no extra spaces",
  rule: "What we accept and what we write",
  run: (t, signal) =>
    on(t, signal, async (w) => {
      const [a, b, nobody] = names("alice", "bob", "nobody");
      const alice = await w.user(a);
      const bob = await w.user(b);
      await exchange(alice, bob, "hello\nworld");
      await alice.tosend.send(send(nobody, "x"));
      await expect(alice.tosend, err(102));
      await alice.tosend.send(send("ALL", "hi all"));
      await bob.torecv.next();
      await bob.torecv.send(`RECEIVED ${a}\n\n`);
      await alice.tosend.next();
      const stranger = await w.connect("stranger");
      await stranger.send("RECEIVED x\n\n");
      await expect(stranger, err(101));
      await stranger.send("REGISTER TORECV a b\n\n");
      await expect(stranger, err(100));
      await stranger.send(`REGISTER TORECV ${a}x\n\n`);
      await expect(stranger, registered("TORECV", `${a}x`));
      for (const wire of w.open) {
        const problem = wire.canonicalProblem;
        check(
          problem === undefined,
          `${wire.label}: the server's bytes are not in the canonical form.`,
          problem ?? {},
        );
      }
    }),
};

/** Every server case, base protocol and extensions, in the order they run. */
export const SERVER_CASES: readonly Case<ServerTarget>[] = [
  ...REGISTRATION_CASES,
  ...RELAY_CASES,
  CANONICAL,
];
