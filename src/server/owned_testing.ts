/**
 * What the router tests of owned names and stored mail share: in-memory endpoints that keep the
 * exact bytes written, a router on a fake clock and a {@link ServerData}, keys that sign proofs
 * with WebCrypto, and helpers that register, prove, claim and negotiate as our client does.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { LogEvent } from "./log.ts";
import { type Endpoint, type Link, Router, type RouterOptions } from "./router.ts";
import { FakeClock, testRouterOptions } from "./router_testing.ts";
import { proofBytes, toBase64 } from "./identity.ts";
import type { ServerData } from "../store/data.ts";
import { MemoryData } from "../store/memory.ts";

const text = new TextDecoder();
/** UTF-8 bytes of `s`. */
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** An endpoint that keeps what is written to it as text. */
export class RawEndpoint implements Endpoint {
  /** See {@link Endpoint.remoteHost}. */
  readonly remoteHost = "10.0.0.1";
  /** See {@link Endpoint.queuedBytes}. */
  queuedBytes = 0;
  /** See {@link Endpoint.sentBytes}. */
  sentBytes = 0;
  /** See {@link Endpoint.closed}. */
  closed = false;
  /** True once ended. */
  ended = false;
  /** Its routing state. */
  link!: Link;
  #out = "";

  /** An endpoint of `router` at `remote`. */
  constructor(readonly router: Router, readonly remote: string) {}

  /** See {@link Endpoint.write}. */
  write(b: Uint8Array): void {
    if (this.closed || this.ended) return;
    this.sentBytes += b.length;
    this.#out += text.decode(b);
  }

  /** See {@link Endpoint.end}. */
  end(): void {
    this.ended = true;
  }

  /** See {@link Endpoint.close}. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.router.closed(this.link);
  }

  /** What was written since the last call. */
  take(): string {
    const out = this.#out;
    this.#out = "";
    return out;
  }

  /** Waits (on real time, for WebCrypto and the data) until something was written; takes it. */
  async next(): Promise<string> {
    await until(() => this.#out !== "");
    return this.take();
  }
}

/** Waits until `done()` holds, letting promises and timers run; fails after two seconds. */
export async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("The condition did not hold within 2 s.");
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Lets every pending promise and timer of this turn run. */
export async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
}

/** An Ed25519 key pair that signs proofs. */
export interface TestKey {
  /** The public key in base64. */
  readonly publicKey: string;
  /** The base64 signature of the proof for `name` answering `challenge`. */
  sign(challenge: string, name: string): Promise<string>;
}

/** A new key pair. */
export async function newKey(): Promise<TestKey> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return {
    publicKey: toBase64(raw),
    sign: async (challenge, name) =>
      toBase64(
        new Uint8Array(
          await crypto.subtle.sign(
            { name: "Ed25519" },
            pair.privateKey,
            proofBytes(challenge, name) as Uint8Array<ArrayBuffer>,
          ),
        ),
      ),
  };
}

/** A user's two endpoints and what it can do with them. */
export interface TestUser {
  /** The name. */
  readonly name: string;
  /** Its TOSEND endpoint. */
  readonly tosend: RawEndpoint;
  /** Its TORECV endpoint. */
  readonly torecv: RawEndpoint;
  /** SEND on its TOSEND. */
  send(to: string, body: string): void;
  /** RECEIVED on its TORECV. */
  received(from: string): void;
  /** Closes both connections. */
  leave(): void;
}

/** A router on a fake clock and `data` (default in memory), and helpers to use it. */
export function ownedSetup(
  options: Partial<RouterOptions> = {},
  data: ServerData = new MemoryData(),
) {
  const clock = new FakeClock();
  const log: LogEvent[] = [];
  const router = new Router(testRouterOptions(log, options), { clock, data });
  let port = 1;
  const connect = () => {
    const endpoint = new RawEndpoint(router, `10.0.0.1:${port++}`);
    endpoint.link = router.accept(endpoint);
    return endpoint;
  };
  const send = (e: RawEndpoint, to: string, body: string) =>
    router.receive(e.link, { type: "SEND", to, body: bytes(body) });
  /** CHALLENGE, then IDENTIFY signed by `key`, on `e`; resolves to the IDENTIFY's answer. */
  const identify = async (e: RawEndpoint, name: string, key: TestKey): Promise<string> => {
    send(e, "server", "CHALLENGE");
    const answer = e.take();
    const challenge = /^SENT server\nChallenge: (\S+)\n\n$/.exec(answer)?.[1];
    assert.ok(challenge, answer);
    send(e, "server", `IDENTIFY ${name} ${key.publicKey} ${await key.sign(challenge, name)}`);
    return await e.next();
  };
  /** Registers `name` (proving both connections first when `key` is given), then negotiates. */
  const user = async (
    name: string,
    { key, extensions }: { key?: TestKey; extensions?: string } = {},
  ): Promise<TestUser> => {
    const tosend = connect();
    const torecv = connect();
    if (key !== undefined) {
      for (const e of [tosend, torecv]) {
        assert.match(
          await identify(e, name, key),
          /^SENT server\nIdentity: (owner|unclaimed)\n\n$/,
        );
      }
    }
    router.receive(tosend.link, { type: "REGISTER", half: "TOSEND", name });
    router.receive(torecv.link, { type: "REGISTER", half: "TORECV", name });
    assert.equal(tosend.take(), `REGISTERED TOSEND ${name}\n\n`);
    assert.equal(torecv.take(), `REGISTERED TORECV ${name}\n\n`);
    const u: TestUser = {
      name,
      tosend,
      torecv,
      send: (to, body) => send(tosend, to, body),
      received: (from) => router.receive(torecv.link, { type: "RECEIVED", from }),
      leave: () => {
        tosend.close();
        torecv.close();
      },
    };
    if (extensions !== undefined) {
      u.send("server", `EXTENSIONS ${extensions}`);
      assert.match(tosend.take(), /^SENT server\nExtensions: /);
    }
    return u;
  };
  /** Registers `name`, negotiates `identity mail` (and `extra`) and claims it with `key`. */
  const claimed = async (name: string, key: TestKey, extra = ""): Promise<TestUser> => {
    const u = await user(name, { extensions: `identity mail${extra}` });
    assert.equal(await identify(u.tosend, name, key), "SENT server\nIdentity: claimed\n\n");
    return u;
  };
  return { router, clock, log, data, connect, send, identify, user, claimed };
}
