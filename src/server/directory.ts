/**
 * Who is online: the user namespace, mapping each username to where its two halves (TOSEND
 * and TORECV) are held. The router asks it and never keeps a list of users of its own.
 *
 * @module
 */
import type { Half } from "../protocol/mod.ts";

export type { Half } from "../protocol/mod.ts";

/**
 * One username's entry: where each half is held, or null while it is not. `H` is opaque to the
 * directory: today a reference to a local connection's routing state.
 */
export interface UserHalves<H> {
  /** The username. */
  readonly name: string;
  /** Who holds the TOSEND half, or null. */
  readonly send: H | null;
  /** Who holds the TORECV half, or null. */
  readonly recv: H | null;
}

/** The outcome of {@link Directory.claim}. */
export type ClaimResult =
  /** The half is now held by the claimant. */
  | "claimed"
  /** The claimant already held it. */
  | "already"
  /** Someone else holds it. */
  | "taken";

/**
 * The user namespace. Synchronous and small on purpose: the in-process {@link LocalDirectory}
 * answers at once. A directory shared by several servers (through NATS, say) would keep this
 * shape with a local cache: `claim` must then be decided by one owner of the name (or a
 * compare-and-set on a shared key-value store) before the REGISTERED answer goes out, `H`
 * would name the process holding a half as well as the local reference, and `users` would
 * list the users of every process (for SEND ALL).
 */
export interface Directory<H> {
  /**
   * Claims one half of `name` for `holder`. Entries are created on the first claim; the
   * returned entry is the same object for as long as the user stays registered.
   */
  claim(name: string, half: Half, holder: H): ClaimResult;
  /** The entry of `name`, registered or half-registered, or undefined. */
  find(name: string): UserHalves<H> | undefined;
  /** The entry of `name` if both halves are held, else undefined. */
  online(name: string): UserHalves<H> | undefined;
  /** Removes `user` from the namespace and frees both its halves (nothing if already gone). */
  release(user: UserHalves<H>): void;
  /** Every entry, registered or half-registered, in registration order. */
  users(): IterableIterator<UserHalves<H>>;
}

/** A writable {@link UserHalves}, inside this module only. */
interface Entry<H> {
  readonly name: string;
  send: H | null;
  recv: H | null;
}

/** The in-process {@link Directory}: one map of names. */
export class LocalDirectory<H> implements Directory<H> {
  readonly #users = new Map<string, Entry<H>>();

  /** See {@link Directory.claim}. */
  claim(name: string, half: Half, holder: H): ClaimResult {
    let user = this.#users.get(name);
    if (user === undefined) {
      user = { name, send: null, recv: null };
      this.#users.set(name, user);
    }
    const held = half === "TOSEND" ? user.send : user.recv;
    if (held === holder) return "already";
    if (held !== null) return "taken";
    if (half === "TOSEND") user.send = holder;
    else user.recv = holder;
    return "claimed";
  }

  /** See {@link Directory.find}. */
  find(name: string): UserHalves<H> | undefined {
    return this.#users.get(name);
  }

  /** See {@link Directory.online}. */
  online(name: string): UserHalves<H> | undefined {
    const user = this.#users.get(name);
    return user !== undefined && user.send !== null && user.recv !== null ? user : undefined;
  }

  /** See {@link Directory.release}. */
  release(user: UserHalves<H>): void {
    const entry = this.#users.get(user.name);
    if (entry === user) this.#users.delete(user.name);
    const mutable = user as Entry<H>;
    mutable.send = null;
    mutable.recv = null;
  }

  /** See {@link Directory.users}. */
  users(): IterableIterator<UserHalves<H>> {
    return this.#users.values();
  }
}
