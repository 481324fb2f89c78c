/**
 * The web client's page as a pure model: the engine's events and the user's actions in, what the
 * page shows out (the conversations, Everyone and one per person, with their messages, delivery
 * marks, notices and unread counts; who is online; the connection; the join form's error). No
 * DOM and no I/O: `dom.ts` draws it, `app.ts` feeds it. The sentences are the terminal's
 * (`render.ts`, `chatlines.ts`), reworded only where they name a command-line option.
 *
 * @module
 */
import { BROADCAST } from "../protocol/mod.ts";
import type { ClientEvent } from "../client/events.ts";

export type { ClientEvent, ConnectFailure } from "../client/events.ts";
import { receiptText, when } from "../client/chatlines.ts";
import { usernameProblem } from "../client/input.ts";
import { deliveryProblem, printable, queueFullHint } from "../client/render.ts";
import { eventNotice, joinProblem } from "./sentences.ts";

export type {
  Conversation,
  Delivery,
  Item,
  MessageItem,
  NoticeItem,
  SavedConversation,
  SavedItem,
  SavedPage,
} from "./items.ts";
import type { Conversation, Delivery, Item, MessageItem, NoticeItem, SavedPage } from "./items.ts";

/** Why a message restored after a reload has the "?" mark: it had no answer yet. */
export const RELOAD_UNCONFIRMED: string =
  "Not confirmed: the page was reloaded before the server answered. It was not sent again; " +
  "send it again if it did not arrive.";

/** The page's screens: the join form, waiting for the registration, the chat. */
export type Phase = "join" | "joining" | "chat";

/** The connection, as the status line says it. */
export type Connection = "offline" | "connecting" | "connected" | "reconnecting" | "reconnected";

/** The status line for each connection state but connected (which names the user). */
const STATUS: Readonly<Record<Exclude<Connection, "connected">, string>> = {
  offline: "Offline",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  reconnected: "Reconnected",
};

/** Most items a conversation keeps (older ones are dropped). */
export const MAX_ITEMS = 1000;

/** What sending a typed message came to. */
export type SendOutcome = "sent" | "empty" | "refused";

/** What the page needs of a session to send: `ChatSession` is one. */
export interface Sender {
  /** Queues a message; its id, or null if the session is not open or its queue is full. */
  send(to: string, text: string): number | null;
  /** True when the queue of messages waiting to go out is full. */
  readonly full: boolean;
  /** True while the connection is lost and the client tries to get it back. */
  readonly reconnecting: boolean;
  /** Most messages that may wait to go out. */
  readonly maxQueued: number;
  /** The largest body the server takes, in bytes, when it said. */
  readonly maxBody?: number | undefined;
}

/**
 * The page's state. Every method that changes it bumps {@link revision}, so the drawing knows
 * when to draw again.
 */
export class PageState {
  /** The screen shown. */
  phase: Phase = "join";
  /** The user's name (the last one tried before joining). */
  self = "";
  /** The server as `host:port`. */
  server = "";
  /** The connection. */
  connection: Connection = "offline";
  /** The join form's error sentence, "" for none. */
  alert = "";
  /** Who is online (the user included, sorted ignoring case); null while not known. */
  online: string[] | null = null;
  /** The conversation shown: `ALL` or a name. */
  selected: string = BROADCAST;
  /** Why the name typed to write to cannot be used, "" for none. */
  openProblem = "";
  /** True while the user can see the page (it counts as reading the selected conversation). */
  visible = true;
  /** Changes with every change of the state. */
  revision = 0;
  readonly #conversations = new Map<string, Conversation>();
  /** The user's messages in this session by their id, until their last answer. */
  readonly #mine = new Map<number, MessageItem>();
  /** People the user was told are offline (and that messages wait for them). */
  readonly #toldOffline = new Set<string>();
  /** The user's messages stored for someone offline, by recipient and mail number. */
  readonly #waiting = new Map<string, MessageItem>();
  readonly #now: () => number;
  #key = 0;

  /** A page with no conversation but Everyone; `now` is the clock (default `Date.now`). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#conversation(BROADCAST);
  }

  /** The conversations: Everyone first, then one per person in the order they began. */
  get conversations(): readonly Conversation[] {
    return [...this.#conversations.values()];
  }

  /** The conversation `id`, if there is one. */
  conversation(id: string): Conversation | undefined {
    return this.#conversations.get(id);
  }

  /** Unread messages over all conversations. */
  get unread(): number {
    let n = 0;
    for (const c of this.#conversations.values()) n += c.unread;
    return n;
  }

  /** The text of the status line. */
  get status(): string {
    if (this.connection === "connected") return `Connected as ${printable(this.self)}`;
    return STATUS[this.connection];
  }

  /** True while messages can be typed (they wait while reconnecting). */
  get canSend(): boolean {
    return this.phase === "chat" &&
      (this.connection === "connected" || this.connection === "reconnected" ||
        this.connection === "reconnecting");
  }

  #changed(): void {
    this.revision++;
  }

  #conversation(id: string): Conversation {
    let c = this.#conversations.get(id);
    if (c === undefined) {
      c = { id, items: [], unread: 0 };
      this.#conversations.set(id, c);
    }
    return c;
  }

  #add(id: string, item: Item): void {
    const c = this.#conversation(id);
    c.items.push(item);
    if (c.items.length > MAX_ITEMS) c.items.splice(0, c.items.length - MAX_ITEMS);
  }

  #notice(id: string, text: string, tone: NoticeItem["tone"] = "info"): void {
    this.#add(id, { kind: "notice", key: ++this.#key, version: 0, at: this.#now(), text, tone });
  }

  /**
   * The user asks to join as `name` on `server`: true if the session should open; false (with
   * the sentence in {@link alert}) for a name the server would refuse anyway.
   */
  join(name: string, server: string): boolean {
    this.#changed();
    const problem = name === "" ? "Enter a username." : usernameProblem(name);
    if (problem !== null) {
      this.alert = problem;
      return false;
    }
    if (name !== this.self) this.#reset();
    this.self = name;
    this.server = server;
    this.alert = "";
    this.phase = "joining";
    this.connection = "connecting";
    // Ids start again in a new session.
    this.#mine.clear();
    return true;
  }

  /** Forgets the conversations of another name. */
  #reset(): void {
    this.#conversations.clear();
    this.#conversation(BROADCAST);
    this.selected = BROADCAST;
    this.#toldOffline.clear();
    this.#waiting.clear();
    this.online = null;
  }

  /**
   * What is kept across a reload ({@link SavedPage}): plain data, shared with nothing the page
   * still changes.
   */
  saved(): SavedPage {
    const conversations = this.conversations.map((c) => ({
      id: c.id,
      unread: c.unread,
      items: c.items.map(({ key: _key, version: _version, ...rest }) => ({ ...rest })),
    }));
    return {
      self: this.self,
      server: this.server,
      selected: this.selected,
      toldOffline: [...this.#toldOffline],
      conversations,
    };
  }

  /**
   * Brings back a page kept across a reload (before joining again): its conversations, marks,
   * unread counts and selection replace the page's. The user's messages that had no answer yet
   * (`pending`) get the "?" mark with {@link RELOAD_UNCONFIRMED}: the page cannot know whether
   * the server had them, and never sends them again by itself. Messages stored for someone
   * offline keep their mark, and turn ✓✓ when their receipt comes. Items get new keys, after
   * every key handed out so far.
   */
  restore(page: SavedPage): void {
    this.#changed();
    this.#reset();
    this.#mine.clear();
    this.self = page.self;
    this.server = page.server;
    for (const saved of page.conversations) {
      const c = this.#conversation(saved.id);
      c.items.length = 0;
      for (const item of saved.items.slice(-MAX_ITEMS)) {
        if (item.kind === "notice") {
          c.items.push({ ...item, key: ++this.#key, version: 0 });
          continue;
        }
        const restored: MessageItem = { ...item, key: ++this.#key, version: 0 };
        if (restored.own && restored.state === "pending") {
          restored.state = "unconfirmed";
          restored.why = RELOAD_UNCONFIRMED;
        }
        if (restored.own && restored.state === "stored" && restored.mail !== undefined) {
          this.#waiting.set(storedKey(restored.to, restored.mail), restored);
        }
        c.items.push(restored);
      }
      c.unread = saved.unread;
    }
    for (const name of page.toldOffline) this.#toldOffline.add(name);
    this.selected = this.#conversations.has(page.selected) ? page.selected : BROADCAST;
    if (this.visible) this.#conversation(this.selected).unread = 0;
  }

  /** The session opened: the chat is shown. */
  opened(): void {
    this.#changed();
    this.phase = "chat";
    this.connection = "connected";
  }

  /** A notice of the page itself in Everyone (such as why the name stays unowned here). */
  inform(text: string, tone: NoticeItem["tone"] = "info"): void {
    this.#changed();
    this.#notice(BROADCAST, text, tone);
  }

  /** The session did not open: `event` says why, in the join form's alert. */
  joinFailed(event: ClientEvent): void {
    this.#changed();
    this.phase = "join";
    this.connection = "offline";
    this.alert = joinProblem(event);
  }

  /**
   * The session ended (`left`: the user left; otherwise it could not go on, and the last
   * problem is the join form's alert).
   */
  ended(left: boolean): void {
    this.#changed();
    this.phase = "join";
    this.connection = "offline";
    this.online = null;
    if (!left && this.alert === "") {
      this.alert = "The chat ended. Join again to go on.";
    }
  }

  /** The user opens conversation `id` (`ALL` or a name): it is read. */
  select(id: string): void {
    this.#changed();
    this.selected = id;
    this.openProblem = "";
    const c = this.#conversation(id);
    if (this.visible) c.unread = 0;
  }

  /**
   * The user asks to write to `name` (someone not in the Online list: offline mail): opens the
   * conversation, or says in {@link openProblem} why not.
   */
  openConversation(name: string): boolean {
    this.#changed();
    const problem = name === "" ? "Enter a name." : usernameProblem(name);
    this.openProblem = problem ?? "";
    if (problem !== null) return false;
    this.select(name);
    return true;
  }

  /** The next (`step` 1) or previous (-1) conversation, for the keyboard. */
  neighbour(step: 1 | -1): string {
    const ids = [...this.#conversations.keys()];
    const at = ids.indexOf(this.selected);
    return ids[(at + step + ids.length) % ids.length] ?? BROADCAST;
  }

  /** The page became visible or hidden; once visible, the selected conversation is read. */
  setVisible(visible: boolean): void {
    this.#changed();
    this.visible = visible;
    if (visible) this.#conversation(this.selected).unread = 0;
  }

  /** Whether `name` is online; null while not known. */
  isOnline(name: string): boolean | null {
    return this.online === null ? null : this.online.includes(name);
  }

  /**
   * The user sends `text` to the selected conversation through `sender`: shown at once as
   * pending, or a notice says why it was not sent.
   */
  send(text: string, sender: Sender): SendOutcome {
    if (text.trim() === "") return "empty";
    this.#changed();
    const to = this.selected;
    const bytes = new TextEncoder().encode(text).length;
    if (sender.maxBody !== undefined && bytes > sender.maxBody) {
      this.#notice(
        to,
        `Not sent: the message is ${bytes} bytes; the server takes at most ${sender.maxBody}.`,
        "problem",
      );
      return "refused";
    }
    const id = sender.send(to, text);
    if (id === null) {
      this.#notice(
        to,
        sender.full
          ? queueFullHint(sender.maxQueued, sender.reconnecting)
          : "Not sent: you are not connected. Join again to send.",
        "problem",
      );
      return "refused";
    }
    const item: MessageItem = {
      kind: "message",
      key: ++this.#key,
      version: 0,
      at: this.#now(),
      from: this.self,
      to,
      text: shown(text),
      own: true,
      state: "pending",
    };
    this.#mine.set(id, item);
    this.#add(to, item);
    return "sent";
  }

  /** Takes in an event of the session. */
  apply(event: ClientEvent): void {
    this.#changed();
    switch (event.type) {
      case "message":
        return this.#message(event);
      case "sent":
      case "not-delivered":
      case "not-sent":
      case "unconfirmed":
        return this.#answer(event);
      case "stored":
        return this.#stored(event);
      case "receipt":
        return this.#receipt(event);
      case "online":
        this.online = sortNames(event.names);
        return;
      case "negotiated":
        if (!event.extensions.includes("who")) this.online = null;
        return;
      case "user-joined":
        this.online = this.online && sortNames([...this.online, event.name]);
        this.#toldOffline.delete(event.name);
        return this.#presence(event.name, `${printable(event.name)} joined`);
      case "user-left":
        this.online = this.online && this.online.filter((n) => n !== event.name);
        return this.#presence(event.name, `${printable(event.name)} left`);
      case "registered":
        this.connection = "connected";
        break;
      case "reconnecting":
        this.connection = "reconnecting";
        this.online = null;
        break;
      case "reconnected":
        this.connection = "reconnected";
        break;
      case "reconnect-failed":
      case "disconnected":
        this.connection = "offline";
        this.online = null;
        break;
      case "identity-failed":
        if (event.reason === "not-owner") this.alert = joinProblem(event);
        break;
      default:
        break;
    }
    const notice = eventNotice(event);
    if (notice === null) return;
    this.#notice(BROADCAST, notice.text, notice.tone);
    if (event.type === "reconnect-failed" || event.type === "disconnected") {
      this.alert = notice.text;
    }
  }

  /** A join or leave: a notice in Everyone, and in the person's conversation if there is one. */
  #presence(name: string, text: string): void {
    this.#notice(BROADCAST, text);
    if (name !== BROADCAST && this.#conversations.has(name)) this.#notice(name, text);
  }

  #message(event: Extract<ClientEvent, { type: "message" }>): void {
    const id = event.toAll === true ? BROADCAST : event.from;
    this.#add(id, {
      kind: "message",
      key: ++this.#key,
      version: 0,
      at: this.#now(),
      from: event.from,
      to: event.toAll === true ? BROADCAST : this.self,
      text: shown(event.text),
      own: false,
      state: "received",
      ...(event.sentAt === undefined ? {} : { sentAt: event.sentAt }),
    });
    const c = this.#conversation(id);
    if (id !== this.selected || !this.visible) c.unread++;
  }

  /** The item of message `id` with its new state (and sentence), or the fallback notice. */
  #mark(id: number, to: string, state: Delivery, why?: string, keep = false): void {
    const item = this.#mine.get(id);
    if (!keep) this.#mine.delete(id);
    if (item === undefined) {
      if (why !== undefined) this.#notice(to, why, state === "failed" ? "problem" : "info");
      return;
    }
    settle(item, state, why);
  }

  #answer(
    event: Extract<ClientEvent, { type: "sent" | "not-delivered" | "not-sent" | "unconfirmed" }>,
  ): void {
    const to = event.to === BROADCAST ? "everyone" : printable(event.to);
    switch (event.type) {
      case "sent":
        if (event.to === BROADCAST && event.recipients === 0) {
          return this.#mark(
            event.id,
            event.to,
            "failed",
            "Your message reached no one: nobody else is online.",
          );
        }
        return this.#mark(event.id, event.to, "delivered");
      case "not-delivered":
        return this.#mark(
          event.id,
          event.to,
          "failed",
          `Not delivered to ${to}: ${deliveryProblem(event)}.`,
        );
      case "not-sent":
        return this.#mark(event.id, event.to, "failed", `Not sent to ${to}: ${event.why}.`);
      case "unconfirmed":
        return this.#mark(
          event.id,
          event.to,
          "unconfirmed",
          `Not confirmed to ${to}: no answer from the server before ${event.why}.`,
        );
    }
  }

  /** A message stored for someone offline: one tick, and the first time what it means. */
  #stored(event: Extract<ClientEvent, { type: "stored" }>): void {
    const to = printable(event.to);
    const item = this.#mine.get(event.id);
    if (item !== undefined) {
      item.mail = event.mail;
      this.#waiting.set(storedKey(event.to, event.mail), item);
    }
    this.#mark(event.id, event.to, "stored", `Stored for ${to}, who is offline.`, true);
    if (!this.#toldOffline.has(event.to)) {
      this.#toldOffline.add(event.to);
      this.#notice(
        event.to,
        `${to} is offline: ✓ stored for them on the server, ✓✓ once delivered.`,
      );
    }
  }

  /**
   * What became of a stored message: the message of this session changes its mark; one sent
   * earlier gets a notice in the person's conversation.
   */
  #receipt(event: Extract<ClientEvent, { type: "receipt" }>): void {
    const stored = storedKey(event.to, event.mail);
    const item = (event.id === undefined ? undefined : this.#mine.get(event.id)) ??
      this.#waiting.get(stored);
    const delivered = event.event === "delivered";
    if (delivered) this.#toldOffline.delete(event.to);
    const at = when(event.sentAt, new Date(this.#now()));
    const to = printable(event.to);
    if (item === undefined) {
      const text = receiptText(event.event, to, at);
      this.#notice(event.to, `${delivered ? "✓✓" : "✗"} ${text}`, delivered ? "good" : "problem");
      return;
    }
    this.#waiting.delete(stored);
    if (event.id !== undefined) this.#mine.delete(event.id);
    const text = receiptText(event.event, to, at, item.text);
    settle(item, delivered ? "delivered" : "failed", delivered ? undefined : text);
  }
}

/** Gives `item` its delivery `state` (and sentence, if any): its row is drawn again. */
function settle(item: MessageItem, state: Delivery, why?: string): void {
  item.state = state;
  if (why === undefined) delete item.why;
  else item.why = why;
  item.version++;
}

/** The key of a stored message: its recipient and mail number. */
function storedKey(to: string, mail: number): string {
  return `${to} ${mail}`;
}

/** Names sorted by letter ignoring case, as the server sorts them. */
function sortNames(names: readonly string[]): string[] {
  const key = (n: string) => n.toLowerCase();
  return [...new Set(names)].sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** Message text as shown: control characters visible, lines kept. */
function shown(text: string): string {
  return text.split(/\r?\n/).map(printable).join("\n");
}
