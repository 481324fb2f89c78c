/**
 * Getting a lost connection back: attempts with backoff until one registers, the session
 * stops, or the username stays refused; one line per new reason for failing. Uses the global
 * `setTimeout` only.
 *
 * @module
 */
import { ErrorCode } from "../protocol/mod.ts";
import { type Backoff, backoffDelay } from "./backoff.ts";
import type { ClientEvent } from "./events.ts";
import { type Link, type OpenResult, registerFailed } from "./link.ts";
import type { IdentityFailed } from "./proof.ts";
import { describeFailure } from "./render.ts";

/** A `name-refused` event. */
export type NameRefused = Extract<ClientEvent, { type: "name-refused" }>;

/** What the reconnect loop asks of its session. */
export interface ReconnectHost {
  /** True while the session still wants its connection back. */
  readonly reconnecting: boolean;
  /** One attempt: a new link, connected and registered, or closed again with the failure. */
  attempt(): Promise<[OpenResult, Link]>;
  /** Takes a registered link into use and sends what waits; false if it broke meanwhile. */
  adopt(link: Link): boolean;
  /**
   * The server refuses the username for good (`tries` refusals), or the name belongs to
   * another key (`identity-failed`): the session ends.
   */
  giveUp(event: NameRefused | IdentityFailed, tries: number): void;
  /** Reports an event. */
  emit(event: ClientEvent): void;
}

/** Settings of a {@link Reconnector}. */
export interface ReconnectSettings {
  /** The server as `host:port`, for the events. */
  server: string;
  /** Waits between attempts. */
  backoff: Backoff;
  /** Random numbers in [0, 1) for the jitter. */
  random: () => number;
  /** Attempts that may find the name taken before giving up. */
  nameTakenTries: number;
}

/** Runs the reconnect attempts of one session; {@link cancel} ends a wait at once. */
export class Reconnector {
  readonly #s: ReconnectSettings;
  #sleep: { timer: ReturnType<typeof setTimeout>; resolve: (slept: boolean) => void } | null = null;

  /** A reconnector with no attempt under way. */
  constructor(settings: ReconnectSettings) {
    this.#s = settings;
  }

  /** Ends the wait under way, if any: the loop then stops. */
  cancel(): void {
    if (this.#sleep === null) return;
    clearTimeout(this.#sleep.timer);
    this.#sleep.resolve(false);
    this.#sleep = null;
  }

  /** Waits `ms`; resolves false at once if the session stops meanwhile. */
  #wait(host: ReconnectHost, ms: number): Promise<boolean> {
    if (!host.reconnecting) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = null;
        resolve(true);
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  /**
   * Tries to get the connection back after `old` was lost (`detail` says how), with backoff,
   * until it is back, the session stops, or the username stays refused.
   */
  async run(host: ReconnectHost, old: Link, detail: string): Promise<void> {
    await old.close();
    if (!host.reconnecting) return;
    const { server, backoff, random } = this.#s;
    let attempt = 0;
    let refusals = 0;
    let delayMs = backoffDelay(attempt, backoff, random());
    let shown = "";
    host.emit({ type: "reconnecting", server, lost: true, detail, delayMs });
    for (;;) {
      if (!(await this.#wait(host, delayMs)) || !host.reconnecting) return;
      const [result, link] = await host.attempt();
      if (!host.reconnecting) {
        await link.close();
        return;
      }
      if (result.ok && host.adopt(link)) return;
      if (result.ok) await link.close();
      const event = result.ok ? registerFailed(server, "closed").event : result.event;
      if (event.type === "identity-failed" && event.reason === "not-owner") {
        host.giveUp(event, refusals);
        return;
      }
      if (event.type === "name-refused") {
        refusals++;
        if (event.code !== ErrorCode.UsernameTaken || refusals >= this.#s.nameTakenTries) {
          host.giveUp(event, refusals);
          return;
        }
      }
      delayMs = backoffDelay(++attempt, backoff, random());
      const why = describeFailure(event);
      if (why !== shown) {
        shown = why;
        host.emit({ type: "reconnecting", server, lost: false, detail: why, delayMs });
      }
    }
  }
}
