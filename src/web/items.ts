/**
 * What the web client's page holds, as types: the items of a conversation (messages and
 * notices), the conversations, and what of them is kept across a reload. `state.ts` makes and
 * changes them; `dom.ts` draws them; `history.ts` keeps the saved form. Types only.
 *
 * @module
 */

/** The delivery state of one of the user's messages, as `data-state` names it. */
export type Delivery = "pending" | "stored" | "delivered" | "failed" | "unconfirmed";

/** One message in a conversation, the user's own or someone else's. */
export interface MessageItem {
  /** A message. */
  readonly kind: "message";
  /** Unique in the page, increasing. */
  readonly key: number;
  /** Bumped each time the item changes (its delivery state). */
  version: number;
  /** When it was shown (milliseconds since the epoch). */
  readonly at: number;
  /** Who wrote it. */
  readonly from: string;
  /** Who it went to: a name, or `ALL`. */
  readonly to: string;
  /** The text, its control characters made visible; lines kept. */
  readonly text: string;
  /** True for the user's own messages. */
  readonly own: boolean;
  /** `received` for others' messages, the delivery state for the user's own. */
  state: Delivery | "received";
  /** For a problem (not delivered, not confirmed) or a stored message: the sentence. */
  why?: string;
  /** A message that waited on the server: when it was sent (milliseconds since the epoch). */
  readonly sentAt?: number;
  /** One of the user's messages stored for someone offline: its mail number on the server. */
  mail?: number;
}

/** A notice in a conversation: someone joined or left, the connection, a problem. */
export interface NoticeItem {
  /** A notice. */
  readonly kind: "notice";
  /** Unique in the page, increasing. */
  readonly key: number;
  /** Bumped each time the item changes (notices never do). */
  version: number;
  /** When it was shown (milliseconds since the epoch). */
  readonly at: number;
  /** One or more sentences. */
  readonly text: string;
  /** How it reads: plain, good news, or a problem. */
  readonly tone: "info" | "good" | "problem";
}

/** What a conversation holds. */
export type Item = MessageItem | NoticeItem;

/** One conversation: Everyone (`ALL`) or one person. */
export interface Conversation {
  /** `ALL` or the person's name. */
  readonly id: string;
  /** Its messages and notices, oldest first (at most `MAX_ITEMS` of `state.ts`). */
  readonly items: Item[];
  /** Messages from others that came while it was not being read. */
  unread: number;
}

/** An item as kept across a reload: without its key and version, which the page hands out. */
export type SavedItem = Omit<MessageItem, "key" | "version"> | Omit<NoticeItem, "key" | "version">;

/** A conversation as kept across a reload. */
export interface SavedConversation {
  /** `ALL` or the person's name. */
  readonly id: string;
  /** Its items, oldest first. */
  readonly items: readonly SavedItem[];
  /** Its unread count. */
  readonly unread: number;
}

/**
 * What of the page is kept across a reload (`history.ts` writes it to the tab's storage): the
 * conversations with their items, unread counts and marks, the selected one, and who the user
 * was told is offline. Not the connection, the Online list or the join form.
 */
export interface SavedPage {
  /** The user's name. */
  readonly self: string;
  /** The server as `host:port`. */
  readonly server: string;
  /** The conversation shown. */
  readonly selected: string;
  /** People the user was told are offline. */
  readonly toldOffline: readonly string[];
  /** The conversations, Everyone first. */
  readonly conversations: readonly SavedConversation[];
}
