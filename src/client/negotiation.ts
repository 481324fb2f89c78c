/**
 * The state of a session's negotiated extensions across its connections: the probe sent after
 * each registration, what the server agreed to, and the FORWARDs held until the answer is known.
 * The reading of each message is in `extensions.ts`. No runtime API: it runs in a browser too.
 *
 * @module
 */
import { encode, HEADERS, isReservedName, type Message } from "../protocol/mod.ts";
import type { ClientEvent } from "./events.ts";
import {
  type AnswerDetails,
  answerDetails,
  DEFAULT_EXTENSIONS,
  header,
  probeMessage,
  readAgreement,
  readForward,
  sendsProbe,
  wantedExtensions,
} from "./extensions.ts";
import type { Link } from "./link.ts";

/** One session's extensions: asked for after each registration, agreed per pair of connections. */
export class Negotiation {
  readonly #wanted: readonly string[];
  readonly #name: string;
  readonly #emit: (event: ClientEvent) => void;
  #agreed: ReadonlySet<string> = new Set<string>();
  #maxBody: number | undefined;

  /**
   * For user `name`, asking for `wanted` (default {@link DEFAULT_EXTENSIONS}), reporting through
   * `emit`. Throws if a name in `wanted` is not one word (see `wantedExtensions`).
   */
  constructor(
    name: string,
    wanted: readonly string[] | undefined,
    emit: (event: ClientEvent) => void,
  ) {
    this.#name = name;
    this.#wanted = wantedExtensions(wanted ?? DEFAULT_EXTENSIONS);
    this.#emit = emit;
  }

  /** The extensions in use on the current connections (empty until agreed, and after a loss). */
  get agreed(): ReadonlySet<string> {
    return this.#agreed;
  }

  /** The server's body limit, when it said. */
  get maxBody(): number | undefined {
    return this.#maxBody;
  }

  /** Forgets what was agreed: the connections it was agreed on are gone. */
  reset(): void {
    this.#agreed = new Set<string>();
    this.#maxBody = undefined;
  }

  /**
   * Right after `link` registered, before any message: asks the server for the extensions with
   * a plain `SEND server` (its answer is awaited in `link.fifo`), or, when there is nothing to
   * ask, reports that none are in use.
   */
  start(link: Link): void {
    this.reset();
    if (!sendsProbe(this.#name, this.#wanted) || link.send === null) {
      this.#emit({ type: "negotiated", extensions: [] });
      return;
    }
    link.negotiating = true;
    link.fifo.push({ kind: "probe" });
    link.send.write(encode(probeMessage(this.#wanted)));
  }

  /** The answer to the probe on `link` came: these extensions are on (none, from a base server). */
  answered(link: Link, answer: Message): void {
    const agreement = readAgreement(answer, this.#wanted);
    this.#agreed = new Set(agreement.extensions);
    this.#maxBody = agreement.maxBody;
    this.#emit({ type: "negotiated", ...agreement });
    this.release(link);
  }

  /**
   * A FORWARD arrived on `link` (and was acknowledged): reports it, or holds it while the probe
   * is unanswered if it has header lines (or something is held before it), since the answer
   * comes on the other connection and may be read later.
   */
  forward(link: Link, m: Message & { type: "FORWARD" }): void {
    if (link.held.length > 0 || (link.negotiating && m.headers !== undefined)) {
      link.held.push(m);
    } else {
      this.#emit(readForward(m, this.#agreed));
    }
  }

  /**
   * Ends the wait for the answer on `link`: reports the FORWARDs held, read with the extensions
   * agreed now (none if the answer never came).
   */
  release(link: Link): void {
    link.negotiating = false;
    const held = link.held;
    link.held = [];
    for (const m of held) this.#emit(readForward(m, this.#agreed));
  }

  /**
   * The answer `m` to a message the user wrote to `to`: when the user wrote `EXTENSIONS ...` to
   * `server` itself, the server's answer replaces what is agreed (PROTOCOL.md: asking again
   * replaces the set), and the client follows it so as never to use what the server dropped.
   */
  userAnswer(to: string, m: Message): void {
    if (m.type !== "SENT" || !isReservedName(to)) return;
    if (header(m, HEADERS.Extensions.name) === undefined) return;
    const known = [...new Set([...this.#wanted, ...DEFAULT_EXTENSIONS])];
    const agreement = readAgreement(m, known);
    this.#agreed = new Set(agreement.extensions);
    this.#maxBody = agreement.maxBody ?? this.#maxBody;
    this.#emit({ type: "negotiated", ...agreement });
  }

  /** What the answer `m` says about a message beyond SENT or ERROR (with `reason` agreed). */
  details(m: Message): AnswerDetails {
    return answerDetails(m, this.#agreed);
  }
}
