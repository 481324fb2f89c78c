/**
 * Raw protocol clients that own names, for the socket tests of `identity` and `mail`: they ask
 * for a challenge, sign it with WebCrypto Ed25519, prove, claim and negotiate with bytes on the
 * wire, as PROTOCOL.md writes them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { encode, utf8Bytes } from "../src/protocol/mod.ts";
import type { TestKey } from "../src/server/owned_testing.ts";
import { type TestUser, textOf, type Wire, type Wires } from "./wire.ts";

export { newKey, type TestKey } from "../src/server/owned_testing.ts";

/** The bytes of `SEND to` with `body`. */
export function send(to: string, body: string): Uint8Array {
  return encode({ type: "SEND", to, body: utf8Bytes(body) });
}

/** The next message on `w` as canonical text, with its extra headers. */
export async function nextText(w: Wire): Promise<string> {
  return textOf(encode(await w.next()));
}

/** CHALLENGE, then IDENTIFY signed with `key`, on `w`; resolves to the answer as text. */
export async function prove(w: Wire, name: string, key: TestKey): Promise<string> {
  await w.send(send("server", "CHALLENGE"));
  const answer = await nextText(w);
  const challenge = /^SENT server\nChallenge: (\S+)\n\n$/.exec(answer)?.[1];
  assert.ok(challenge, answer);
  await w.send(
    send("server", `IDENTIFY ${name} ${key.publicKey} ${await key.sign(challenge, name)}`),
  );
  return await nextText(w);
}

/** Negotiates `extensions` on `u` and checks the answer. */
export async function negotiate(u: TestUser, extensions: string): Promise<void> {
  await u.tosend.send(send("server", `EXTENSIONS ${extensions}`));
  assert.match(await nextText(u.tosend), new RegExp(`^SENT server\\nExtensions: ${extensions}\\n`));
}

/** Registers `name` as the base protocol does, negotiates `identity mail` and claims it. */
export async function claim(w: Wires, name: string, key: TestKey): Promise<TestUser> {
  const u = await w.user(name);
  await negotiate(u, "identity mail");
  assert.equal(await prove(u.tosend, name, key), "SENT server\nIdentity: claimed\n\n");
  return u;
}

/** The owner of `name` comes back: both connections prove, register, and negotiate. */
export async function comeBack(
  w: Wires,
  name: string,
  key: TestKey,
  extensions = "identity mail",
): Promise<TestUser> {
  const tosend = await w.connect(`${name}/TOSEND`);
  const torecv = await w.connect(`${name}/TORECV`);
  for (const [wire, half] of [[tosend, "TOSEND"], [torecv, "TORECV"]] as const) {
    assert.equal(await prove(wire, name, key), "SENT server\nIdentity: owner\n\n");
    await wire.send(`REGISTER ${half} ${name}\n\n`);
    assert.equal(await nextText(wire), `REGISTERED ${half} ${name}\n\n`);
  }
  const u: TestUser = {
    name,
    tosend,
    torecv,
    close: async () => {
      await Promise.all([tosend.close(), torecv.close()]);
    },
  };
  await negotiate(u, extensions);
  return u;
}
