/**
 * A session's ownership of its name (PROTOCOL.md, "Owned names", "How our client uses it"):
 * the key it proves before each REGISTER (or none), what each registration proved, and the
 * claim after negotiating (making and saving a key first when there is none). No runtime API:
 * it runs in a browser too.
 *
 * @module
 */
import { encode, ErrorCode, type Message } from "../protocol/mod.ts";
import type { ClientEvent } from "./events.ts";
import { type ClientKey, generateClientKey } from "./identity.ts";
import type { Link } from "./link.ts";
import type { IdentityStore } from "./options.ts";
import {
  challengeMessage,
  identifyMessage,
  identityFailed,
  type IdentityFailure,
  readChallenge,
  readIdentifyAnswer,
} from "./proof.ts";

/** What an {@link Ownership} needs from its session. */
export interface OwnershipSettings {
  /** The server as `host:port`. */
  server: string;
  /** The user's name. */
  name: string;
  /** Where the key is kept; without one, nothing here does anything. */
  store: IdentityStore | undefined;
  /** Reports an event. */
  emit: (event: ClientEvent) => void;
  /**
   * Says that the state changed (a claim ended: the messages held behind it may go out), for
   * those who wait on it.
   */
  changed: () => void;
  /** Waits before asking again when the server refused the claim with ERROR 106. */
  retryDelaysMs?: readonly number[];
}

/** Waits before asking again after ERROR 106 to CHALLENGE or IDENTIFY, then give up. */
const CLAIM_RETRY_MS: readonly number[] = [250, 500, 1000, 2000, 4000];

/** The key of one session and what it proved, across its connections. */
export class Ownership {
  readonly #s: OwnershipSettings;
  #key: ClientKey | null = null;
  /** The server answered CHALLENGE as a base server: no more proofs in this session. */
  #plain = false;
  /** ERROR 106 answers to the claim under way. */
  #refusals = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;

  /** Ownership for the session `settings` describe; {@link load} reads the key. */
  constructor(settings: OwnershipSettings) {
    this.#s = settings;
  }

  /** Reads the key from the store; rejects with the store's sentence. */
  async load(): Promise<void> {
    this.#key = (await this.#s.store?.load(this.#s.server, this.#s.name)) ?? null;
  }

  /** The key to prove before REGISTER on the next connections, or null to register plainly. */
  get proofKey(): ClientKey | null {
    return this.#plain ? null : this.#key;
  }

  /**
   * The server closed the connection in answer to CHALLENGE: says so, and registers plainly from
   * now on.
   */
  closedOnChallenge(): void {
    this.#noSupport("the server closed the connection in answer to CHALLENGE");
  }

  #noSupport(detail: string): void {
    this.#plain = true;
    this.#fail("no-support", detail);
  }

  #fail(reason: IdentityFailure, detail: string): void {
    this.#s.emit(identityFailed(this.#s.server, this.#s.name, reason, detail));
  }

  #say(status: "created" | "claimed" | "proven" | "unclaimed"): void {
    this.#s.emit({ type: "identity", status, name: this.#s.name, server: this.#s.server });
  }

  /** `link` was registered and taken into use: reports what its connections proved. */
  registered(link: Link): void {
    if (link.proof === "owner") this.#say("proven");
    else if (link.proof === "unclaimed") this.#say("unclaimed");
    else if (link.proof === "no-support") {
      this.#noSupport("the server answered CHALLENGE as a base-protocol server does");
    }
  }

  /**
   * The negotiation on `link` ended with `agreed`: claims the name if the server agreed to
   * `identity` and this session holds no key yet (making and saving one first), or the server
   * did not know the name.
   */
  negotiated(link: Link, agreed: ReadonlySet<string>): void {
    if (this.#s.store === undefined || !agreed.has("identity") || this.#plain) return;
    if (this.#key !== null && link.proof !== "unclaimed") return;
    link.claiming = true;
    this.#claim(link).catch((error) => {
      this.#endClaim(link);
      this.#fail("not-stored", error instanceof Error ? error.message : String(error));
    });
  }

  async #claim(link: Link): Promise<void> {
    if (this.#key === null) {
      const key = await generateClientKey();
      await this.#s.store!.save(this.#s.server, this.#s.name, key);
      this.#key = key;
      this.#say("created");
    }
    this.#refusals = 0;
    this.#ask(link);
  }

  /** Sends the claim's CHALLENGE on `link`. */
  #ask(link: Link): void {
    if (link.dead || link.send === null) return this.#endClaim(link);
    link.fifo.push({ kind: "challenge" });
    link.send.write(encode(challengeMessage()));
  }

  #endClaim(link: Link): void {
    clearTimeout(this.#retry);
    link.claiming = false;
    this.#s.changed();
  }

  /**
   * True if `m` is ERROR 106 (the server's rate limit, reached by the messages sent before the
   * claim): then the claim starts again after a wait, or gives up after a few.
   */
  #rateLimited(link: Link, m: Message): boolean {
    if (m.type !== "ERROR" || m.code !== ErrorCode.RateLimited) return false;
    const delays = this.#s.retryDelaysMs ?? CLAIM_RETRY_MS;
    const delay = delays[this.#refusals++];
    if (delay === undefined) {
      this.#endClaim(link);
      this.#fail(
        "not-stored",
        `The server was too busy to take the claim of "${this.#s.name}" (ERROR ${m.code} ` +
          `${m.text}): the client claims it when it next registers`,
      );
      return true;
    }
    this.#retry = setTimeout(() => this.#ask(link), delay);
    return true;
  }

  /** The answer `m` to the claim's CHALLENGE on `link`: sends IDENTIFY. */
  challenged(link: Link, m: Message): void {
    if (this.#rateLimited(link, m)) return;
    const challenge = readChallenge(m);
    const key = this.#key;
    if (challenge === undefined || key === null) {
      this.#endClaim(link);
      return this.#fail("bad-proof", "the server sent no challenge");
    }
    identifyMessage(key, challenge, this.#s.name).then((message) => {
      if (link.dead || link.send === null) return this.#endClaim(link);
      link.fifo.push({ kind: "identify" });
      link.send.write(encode(message));
    }, (error) => {
      this.#endClaim(link);
      this.#fail("bad-proof", error instanceof Error ? error.message : String(error));
    });
  }

  /** The answer `m` to the claim's IDENTIFY on `link`: the name is claimed, or why not. */
  identified(link: Link, m: Message): void {
    if (this.#rateLimited(link, m)) return;
    this.#endClaim(link);
    const read = readIdentifyAnswer(m);
    if (!read.ok) return this.#fail(read.reason, read.detail);
    if (read.identity === "claimed") this.#say("claimed");
    else if (read.identity === "owner") this.#say("proven");
  }

  /** The session ended: no claim is asked again. */
  stop(): void {
    clearTimeout(this.#retry);
  }

  /** A claim of `link` ended without its answer (the connection was lost). */
  lost(link: Link): void {
    if (link.claiming) this.#endClaim(link);
  }
}
