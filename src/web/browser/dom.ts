/**
 * Draws the page's state ({@link PageState}) into the page's elements (`page.ts`) and passes
 * the user's actions on. Text from the network is only ever set as text (`textContent`), never
 * as HTML. The DOM contract the browser tests rely on (roles, names, `data-*` attributes) is
 * kept here.
 *
 * @module
 */
import { BROADCAST } from "../../protocol/mod.ts";
import { clock, when } from "../../client/chatlines.ts";
import { printable } from "../../client/render.ts";
import type { Delivery, Item, MessageItem, PageState } from "../state.ts";

export type {
  ClientEvent,
  ConnectFailure,
  Connection,
  Conversation,
  Delivery,
  Item,
  MessageItem,
  NoticeItem,
  PageState,
  Phase,
  Sender,
  SendOutcome,
} from "../state.ts";

/** What the user does on the page. */
export interface PageActions {
  /** Join as the name typed. */
  join(name: string): void;
  /** Send the text typed to the selected conversation; true when it was taken. */
  send(text: string): boolean;
  /** Open conversation `id` (`ALL` or a name). */
  select(id: string): void;
  /** Open a conversation with the name typed (someone offline, too); true if it opened. */
  open(name: string): boolean;
  /** Leave the chat. */
  leave(): void;
}

/** The mark of each delivery state and what it says to a screen reader. */
const MARKS: Readonly<Record<Delivery, [string, string]>> = {
  pending: ["·", "sending"],
  stored: ["✓", "stored for them, not yet delivered"],
  delivered: ["✓✓", "delivered"],
  failed: ["✗", "not delivered"],
  unconfirmed: ["?", "not confirmed"],
};

/** The label of conversation `id`. */
function label(id: string): string {
  return id === BROADCAST ? "Everyone" : printable(id);
}

/** An element with a class and text. */
function el<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  className = "",
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  if (className !== "") node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function byId<T extends HTMLElement>(doc: Document, id: string): T {
  const node = doc.getElementById(id);
  if (node === null) throw new Error(`The page has no element "#${id}"; reload the page.`);
  return node as T;
}

/** Makes `parent`'s children `children`, in order, moving only those out of place. */
function syncChildren(parent: HTMLElement, children: readonly HTMLElement[]): void {
  children.forEach((child, i) => {
    if (parent.children[i] !== child) parent.insertBefore(child, parent.children[i] ?? null);
  });
  while (parent.children.length > children.length) parent.lastElementChild!.remove();
}

/** The page's elements, drawn from the state. */
export class PageView {
  readonly #doc: Document;
  readonly #status: HTMLElement;
  readonly #leave: HTMLButtonElement;
  readonly #joinView: HTMLElement;
  readonly #chatView: HTMLElement;
  readonly #joinForm: HTMLFormElement;
  readonly #username: HTMLInputElement;
  readonly #joinButton: HTMLButtonElement;
  readonly #alert: HTMLElement;
  readonly #note: HTMLElement;
  readonly #nav: HTMLElement;
  readonly #online: HTMLElement;
  readonly #title: HTMLElement;
  readonly #log: HTMLOListElement;
  readonly #composer: HTMLFormElement;
  readonly #message: HTMLTextAreaElement;
  readonly #send: HTMLButtonElement;
  readonly #openForm: HTMLFormElement;
  readonly #openName: HTMLInputElement;
  readonly #openProblem: HTMLElement;
  /** The conversation the log shows, and its rows by item key. */
  #shown: string | null = null;
  #rows = new Map<number, { li: HTMLLIElement; version: number }>();
  #drawn = -1;
  #phase = "";
  /** The conversation buttons and the Online list's items, kept across draws. */
  readonly #buttons = new Map<string, HTMLButtonElement>();
  readonly #people = new Map<string, HTMLLIElement>();
  readonly #unknown: HTMLLIElement;

  /** Finds the page's elements in `doc` and wires them to `actions`. */
  constructor(doc: Document, actions: PageActions) {
    this.#doc = doc;
    const id = <T extends HTMLElement>(name: string) => byId<T>(doc, name);
    this.#status = id("status");
    this.#leave = id("leave");
    this.#joinView = id("join-view");
    this.#chatView = id("chat-view");
    this.#joinForm = id("join");
    this.#username = id("username");
    this.#joinButton = id("join-button");
    this.#alert = id("alert");
    this.#note = id("identity-note");
    this.#nav = id("conversations");
    this.#online = id("online");
    this.#title = id("talk-title");
    this.#log = id("messages");
    this.#composer = id("composer");
    this.#message = id("message");
    this.#send = id("send");
    this.#openForm = id("open");
    this.#openName = id("open-name");
    this.#openProblem = id("open-problem");
    this.#unknown = el(doc, "li", "me");
    this.#wire(actions);
  }

  #wire(actions: PageActions): void {
    this.#joinForm.addEventListener("submit", (e) => {
      e.preventDefault();
      actions.join(this.#username.value.trim());
    });
    this.#composer.addEventListener("submit", (e) => {
      e.preventDefault();
      this.#submit(actions);
    });
    this.#message.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.altKey) {
        e.preventDefault();
        this.#submit(actions);
      }
    });
    this.#leave.addEventListener("click", () => actions.leave());
    this.#openForm.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!actions.open(this.#openName.value.trim())) return;
      this.#openName.value = "";
      this.#message.focus();
    });
    this.#nav.addEventListener("click", (e) => {
      const button = (e.target as Element).closest<HTMLElement>("[data-conversation]");
      if (button?.dataset.conversation !== undefined) actions.select(button.dataset.conversation);
    });
    this.#online.addEventListener("click", (e) => {
      const item = (e.target as Element).closest<HTMLElement>("[data-user]");
      const name = item?.dataset.user;
      if (name === undefined || item?.querySelector("button") === null) return;
      actions.select(name);
      this.#message.focus();
    });
  }

  #submit(actions: PageActions): void {
    if (this.#message.disabled) return;
    if (actions.send(this.#message.value)) this.#message.value = "";
    this.#message.focus();
  }

  /** The name field's text (the remembered name, on load). */
  set username(name: string) {
    this.#username.value = name;
  }

  /** The sentence under the join form about owning the name in this browser ("" for none). */
  set identityNote(text: string) {
    this.#note.textContent = text;
  }

  /**
   * Puts the keyboard focus where the current screen starts: the message box; or, on the join
   * form, Join for a remembered name and the name itself after a problem (to type another).
   */
  focusStart(): void {
    if (!this.#chatView.hidden) {
      this.#message.focus();
    } else if (this.#username.value === "" || this.#alert.textContent !== "") {
      this.#username.focus();
      this.#username.select();
    } else {
      this.#joinButton.focus();
    }
  }

  /** Moves the focus to the button of conversation `id` if a conversation button had it. */
  followSelection(id: string): void {
    const active = this.#doc.activeElement;
    if (!(active instanceof HTMLElement) || active.dataset.conversation === undefined) return;
    this.#nav.querySelector<HTMLElement>(`[data-conversation="${CSS.escape(id)}"]`)?.focus();
  }

  /** Draws `state` (nothing when it has not changed since the last draw). */
  draw(state: PageState): void {
    if (state.revision === this.#drawn) return;
    this.#drawn = state.revision;
    const chat = state.phase === "chat";
    this.#status.textContent = state.status;
    this.#alert.textContent = state.alert;
    this.#openProblem.textContent = state.openProblem;
    this.#joinView.hidden = chat;
    this.#chatView.hidden = !chat;
    this.#leave.hidden = !chat;
    const joining = state.phase === "joining";
    this.#joinButton.disabled = joining;
    this.#username.readOnly = joining;
    this.#message.disabled = !state.canSend;
    this.#send.disabled = !state.canSend;
    const unread = state.unread;
    this.#doc.title = unread > 0 ? `(${unread}) chat` : "chat";
    if (chat) {
      this.#drawConversations(state);
      this.#drawOnline(state);
      this.#drawLog(state);
    }
    if (this.#phase !== state.phase) {
      const was = this.#phase;
      this.#phase = state.phase;
      if (state.phase === "chat" || (state.phase === "join" && was !== "")) this.focusStart();
    }
  }

  #drawConversations(state: PageState): void {
    // Buttons are kept and changed in place (a button being clicked is never swapped away).
    const wanted = state.conversations.map((c) => {
      const button = this.#buttons.get(c.id) ?? this.#conversationButton(c.id);
      this.#buttons.set(c.id, button);
      button.dataset.unread = String(c.unread);
      if (c.id === state.selected) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
      const online = c.id === BROADCAST ? null : state.isOnline(c.id);
      button.querySelector(".dot")?.classList.toggle("on", online === true);
      const badge = button.querySelector<HTMLElement>(".badge")!;
      const said = button.querySelector<HTMLElement>(".unread")!;
      badge.hidden = c.unread === 0;
      badge.textContent = String(c.unread);
      said.textContent = c.unread === 0 ? "" : `, ${c.unread} unread`;
      return button;
    });
    for (const [id, button] of this.#buttons) {
      if (!wanted.includes(button)) {
        button.remove();
        this.#buttons.delete(id);
      }
    }
    syncChildren(this.#nav, wanted);
  }

  #conversationButton(id: string): HTMLButtonElement {
    const button = el(this.#doc, "button");
    button.type = "button";
    button.dataset.conversation = id;
    if (id !== BROADCAST) {
      const dot = el(this.#doc, "span", "dot");
      dot.setAttribute("aria-hidden", "true");
      button.append(dot);
    }
    const badge = el(this.#doc, "span", "badge");
    badge.setAttribute("aria-hidden", "true");
    button.append(
      el(this.#doc, "span", "name", label(id)),
      badge,
      el(this.#doc, "span", "visually-hidden unread"),
    );
    return button;
  }

  #drawOnline(state: PageState): void {
    const online = state.online ?? [];
    const wanted = online.map((name) => {
      const me = name === state.self;
      let li = this.#people.get(name);
      if (li !== undefined && li.classList.contains("self") !== me) li = undefined;
      if (li === undefined) {
        li = el(this.#doc, "li", me ? "self" : "");
        li.dataset.user = name;
        if (me) {
          li.append(el(this.#doc, "span", "me", `${printable(name)} (you)`));
        } else {
          const button = el(this.#doc, "button", "", printable(name));
          button.type = "button";
          button.title = `Talk with ${printable(name)}`;
          li.append(button);
        }
        this.#people.set(name, li);
      }
      return li;
    });
    for (const [name, li] of this.#people) {
      if (!wanted.includes(li)) {
        li.remove();
        this.#people.delete(name);
      }
    }
    if (state.online === null) {
      this.#unknown.textContent = state.connection === "reconnecting" ? "—" : "Not known";
      wanted.push(this.#unknown);
    }
    syncChildren(this.#online, wanted);
  }

  #drawLog(state: PageState): void {
    const id = state.selected;
    const conversation = state.conversation(id);
    const items = conversation?.items ?? [];
    this.#title.textContent = id === BROADCAST ? "Everyone" : `Conversation with ${label(id)}`;
    this.#message.placeholder = id === BROADCAST ? "Message everyone" : `Message ${label(id)}`;
    const log = this.#log;
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    const switched = this.#shown !== id;
    if (switched) {
      this.#shown = id;
      this.#rows.clear();
      log.replaceChildren();
    }
    // Items are only appended, changed in place, or dropped from the front.
    const first = items[0]?.key ?? Infinity;
    for (const [key, row] of this.#rows) {
      if (key >= first) break;
      row.li.remove();
      this.#rows.delete(key);
    }
    let ownAdded = false;
    const now = new Date();
    for (const item of items) {
      const row = this.#rows.get(item.key);
      if (row !== undefined && row.version === item.version) continue;
      if (row !== undefined) {
        // A delivery state changed: the row changes in place (the log does not announce it anew).
        if (item.kind === "message") this.#refresh(row.li, item);
        row.version = item.version;
        continue;
      }
      const li = this.#row(item, state.self, now);
      log.append(li);
      if (item.kind === "message" && item.own) ownAdded = true;
      this.#rows.set(item.key, { li, version: item.version });
    }
    if (atEnd || ownAdded || switched) log.scrollTop = log.scrollHeight;
  }

  /** The row of one message or notice. */
  #row(item: Item, self: string, now: Date): HTMLLIElement {
    const doc = this.#doc;
    const li = el(doc, "li");
    const time = el(doc, "time", "", clock(new Date(item.at)));
    time.dateTime = new Date(item.at).toISOString();
    if (item.kind === "notice") {
      li.dataset.notice = "";
      li.className = `notice ${item.tone}`;
      li.append(time, " ", el(doc, "span", "", item.text));
      return li;
    }
    li.className = item.own ? "msg own" : "msg";
    li.dataset.from = item.from;
    li.dataset.state = item.state;
    const meta = el(doc, "div", "meta");
    const who = item.own
      ? (item.to === BROADCAST ? "You to everyone" : `You to ${printable(item.to)}`)
      : item.to === BROADCAST && item.from !== self
      ? `${printable(item.from)} to everyone`
      : printable(item.from);
    meta.append(el(doc, "span", "from", who));
    meta.append(" ", time);
    if (item.sentAt !== undefined) {
      // It waited on the server while the user was away: when it was sent.
      const sent = el(doc, "time", "", when(item.sentAt, now));
      sent.dateTime = new Date(item.sentAt).toISOString();
      const waited = el(doc, "span", "waited", "(sent ");
      waited.append(sent, ")");
      meta.append(" ", waited);
    }
    if (item.own) {
      const mark = el(doc, "span", "mark");
      mark.setAttribute("role", "img");
      meta.append(" ", mark);
    }
    li.append(meta, el(doc, "p", "text", item.text), el(doc, "p", "why"));
    this.#refresh(li, item);
    return li;
  }

  /** Writes the delivery state of `item` into its row `li`: the mark and the sentence. */
  #refresh(li: HTMLLIElement, item: MessageItem): void {
    li.dataset.state = item.state;
    const mark = li.querySelector<HTMLElement>(".mark");
    if (mark !== null && item.state !== "received") {
      const [symbol, said] = MARKS[item.state];
      mark.textContent = symbol;
      mark.setAttribute("aria-label", said);
      mark.title = said;
    }
    const why = li.querySelector<HTMLElement>(".why")!;
    why.textContent = item.why ?? "";
    why.hidden = item.why === undefined;
  }
}
