/**
 * What the terminal face knows about the chat around it: the user's name, the conversation
 * target (`/msg xyz`), who is online (from the `who` and `joins` extensions), the connection
 * state, the names seen (for completion), and lines typed that continue on the next one.
 * Pure; no I/O.
 *
 * @module
 */
import { BROADCAST } from "../protocol/mod.ts";
import type { ClientEvent } from "./events.ts";

/** The connection as the prompt shows it. */
export type Connection = "online" | "reconnecting" | "offline";

/** The state of one user's chat, updated from the engine's events and the commands typed. */
export class Conversation {
  /** The user's own name ("" before registration). */
  self = "";
  /** Where plain lines go (`/msg name`), or null: nowhere. */
  target: string | null = null;
  /** The connection state. */
  connection: Connection = "online";
  #online: Set<string> | null = null;
  #extensions: readonly string[] | null = null;
  readonly #seen = new Set<string>();

  /**
   * Who is online, the user included, sorted by letter ignoring case (as the server sorts);
   * null when the server does not say.
   */
  get online(): string[] | null {
    if (this.#online === null) return null;
    const key = (n: string) => n.toLowerCase();
    return [...this.#online].sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  }

  /** The extensions the server agreed to; null until the negotiation ended. */
  get extensions(): readonly string[] | null {
    return this.#extensions;
  }

  /** Remembers `name` for tab completion. */
  see(name: string): void {
    if (name !== BROADCAST) this.#seen.add(name);
  }

  /** The names to complete: those seen and those online, without the user's own. */
  names(): string[] {
    const all = new Set([...this.#seen, ...(this.#online ?? [])]);
    all.delete(this.self);
    return [...all];
  }

  /**
   * Takes in what `event` says about the chat. Returns true when the prompt may have changed
   * (who is online, the connection state).
   */
  apply(event: ClientEvent): boolean {
    switch (event.type) {
      case "message":
        this.see(event.from);
        return false;
      case "negotiated":
        this.#extensions = event.extensions;
        if (!event.extensions.includes("who")) this.#online = null;
        return true;
      case "online":
        this.#online = new Set(event.names);
        for (const n of event.names) this.see(n);
        return true;
      case "user-joined":
        this.#online?.add(event.name);
        this.see(event.name);
        return true;
      case "user-left":
        this.#online?.delete(event.name);
        return true;
      case "reconnecting":
        this.connection = "reconnecting";
        this.#online = null;
        return true;
      case "reconnected":
      case "registered":
        this.connection = "online";
        return true;
      case "disconnected":
      case "reconnect-failed":
      case "left":
        this.connection = "offline";
        this.#online = null;
        return true;
      default:
        return false;
    }
  }

  /** What the prompt says after the names: the connection state, or how many are online. */
  status(): string | null {
    if (this.connection !== "online") return this.connection;
    const online = this.#online;
    return online === null ? null : `${online.size} online`;
  }
}

/**
 * Groups typed lines into messages: a line ending in a backslash goes on on the next line, and
 * lines that arrive together (pasted) are one message.
 */
export class Composer {
  #held: string[] = [];

  /** True while a line ending in a backslash waits for the next one. */
  get continuing(): boolean {
    return this.#held.length > 0;
  }

  /** Forgets a message being continued (Ctrl-C). */
  clear(): void {
    this.#held = [];
  }

  /**
   * Takes lines that arrived together; returns the message they complete (its lines), or
   * null while the last line ends in a backslash.
   */
  take(lines: readonly string[]): string[] | null {
    if (lines.length === 0) return null;
    const all = [...this.#held, ...lines];
    const last = all.at(-1)!;
    if (/(?<!\\)\\$/.test(last)) {
      all[all.length - 1] = last.slice(0, -1);
      this.#held = all;
      return null;
    }
    this.#held = [];
    return all;
  }
}
