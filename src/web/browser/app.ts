/**
 * The web client's entry (bundled as `/app.js` by the server): the unchanged client engine
 * (`ChatSession`, with every default extension and reconnecting on) over WebSockets to the page's
 * own server, keys kept in IndexedDB, the page's state in {@link PageState} and its drawing in
 * {@link PageView}. Only the wiring is here, and the tab's `sessionStorage`: the conversations
 * are kept there (`history.ts`) so that a reload brings them back and joins again with the same
 * name.
 *
 * @module
 */
import { ChatSession, DEFAULT_EXTENSIONS } from "../../client/engine.ts";
import type { ClientEvent } from "../../client/events.ts";
import type { SeenMail } from "../../client/options.ts";
import { formatAddress } from "../../net/address.ts";
import { ErrorCode } from "../../protocol/mod.ts";
import { decodeHistory, encodeHistory, HISTORY, historyKey, rejoinName } from "../history.ts";
import { PageView } from "./dom.ts";
import { browserIdentityStore } from "../identity_store.ts";
import { seenMailStorage } from "../seen_storage.ts";
import { indexedDbBackend } from "./indexeddb.ts";
import { PageState } from "../state.ts";
import { chatSocketUrl, pageServer, webSocketConnect } from "../ws_conn.ts";

/** How long connecting and registering may take. */
const TIMEOUT_MS = 10_000;
/** Where the last name joined with is remembered. */
const NAME_KEY = "chat.name";
/** How long after a change the conversations are saved (at most once per this). */
const SAVE_MS = 1_000;
/** Tries, a second apart, when the name is still taken as the page joins again after a reload. */
const REJOIN_TRIES = 5;

const { host, port } = pageServer(location);
const server = formatAddress(host, port);
const connect = webSocketConnect(chatSocketUrl(location));
const identity = browserIdentityStore(globalThis, () => indexedDbBackend(indexedDB));
/** Set when the identity store failed to load: the page goes on without owning names. */
let identityBroken = false;
/** Why, when {@link identityBroken}. */
let identityNote = "";

const state = new PageState();
let session: ChatSession | null = null;
let scheduled = false;

/**
 * Draws soon (events that come in one burst are drawn once); a timer rather than an animation
 * frame, so a tab in the background still updates its title with the unread count.
 */
function draw(): void {
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    view.draw(state);
  }, 0);
  saveSoon();
}

/**
 * The mail shown to `name` on `server`, in the browser's localStorage (every tab, across
 * restarts), so mail delivered again after a server crash is shown once; in memory where the
 * browser blocks that storage.
 */
function pageSeenMail(server: string, name: string): SeenMail {
  let storage: Storage | null = null;
  try {
    storage = globalThis.localStorage; // the getter throws where storage is blocked
  } catch { /* blocked */ }
  return seenMailStorage(storage ?? { getItem: () => null, setItem: () => {} }, server, name);
}

/** The tab's storage, or null where the browser blocks it. */
function tabStorage(): Storage | null {
  let storage: Storage | null = null;
  try {
    storage = globalThis.sessionStorage; // the getter throws where storage is blocked
  } catch { /* blocked */ }
  return storage;
}

/** Set once the page said the tab cannot keep the conversations. */
let unsavedSaid = false;
/** The state's revision last saved. */
let savedRevision = -1;
let saveTimer: ReturnType<typeof setTimeout> | undefined;
/** Set while the page goes away (its session ending then is not the user's doing). */
let hiding = false;

/** Saves the conversations soon (one save for a burst of changes). */
function saveSoon(): void {
  if (saveTimer !== undefined) return;
  saveTimer = setTimeout(save, SAVE_MS);
}

/**
 * Keeps the conversations of the name joined with in the tab's storage (and only those: the
 * history of a name used before in this tab goes). Storage that is full or blocked is said once
 * in Everyone; the page goes on in memory.
 */
function save(): void {
  clearTimeout(saveTimer);
  saveTimer = undefined;
  if (state.self === "" || state.revision === savedRevision) return;
  savedRevision = state.revision;
  const key = historyKey(location.origin, state.self);
  const page = state.saved();
  const storage = tabStorage();
  let kept = false;
  try {
    if (storage !== null) {
      for (const chars of [HISTORY.maxChars, HISTORY.maxChars / 10]) {
        const text = encodeHistory(page, { chars });
        if (text === null) break;
        try {
          storage.setItem(key, text);
          kept = true;
          break;
        } catch { /* full: try a shorter history */ }
      }
      if (!kept) storage.removeItem(key); // an older history would bring back stale marks
      for (let i = storage.length - 1; i >= 0; i--) {
        const other = storage.key(i);
        if (other?.startsWith(HISTORY.prefix) && other !== key) storage.removeItem(other);
      }
    }
  } catch { /* storage blocked */ }
  if (kept || unsavedSaid) return;
  unsavedSaid = true;
  state.inform(
    "This tab cannot keep the conversations (the browser's storage is full or blocked): " +
      "they stay while the page is open, and a reload starts it empty.",
  );
  savedRevision = state.revision;
  draw();
}

/** Brings back the conversations `name` had in this tab before a reload, if they were kept. */
function restore(name: string): void {
  const storage = tabStorage();
  try {
    const key = historyKey(location.origin, name);
    const text = storage?.getItem(key) ?? null;
    if (text === null) return;
    const page = decodeHistory(text, { server, name });
    // Damaged, or of another version of the page: the page starts clean.
    if (page === null) storage?.removeItem(key);
    else state.restore(page);
  } catch { /* storage blocked: nothing to bring back */ }
}

/** Remembers in the tab that a reload joins again as `name` (null: it does not). */
function rejoinAs(name: string | null): void {
  if (hiding) return;
  try {
    if (name === null) tabStorage()?.removeItem(HISTORY.rejoinKey);
    else tabStorage()?.setItem(HISTORY.rejoinKey, name);
  } catch { /* storage blocked: a reload shows the join form */ }
}

/** The name to join again with after a reload, if the page was in the chat. */
function rejoining(): string | null {
  try {
    return rejoinName(tabStorage()?.getItem(HISTORY.rejoinKey));
  } catch {
    return null;
  }
}

function remembered(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    return ""; // storage blocked: nothing remembered
  }
}

function remember(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch { /* storage blocked: not remembered */ }
}

/**
 * Joins as `name`, with the conversations the tab kept for it. `tries` above 1 (joining again
 * after a reload) waits and tries again while the server still holds the name for the page
 * that went away.
 */
async function join(name: string, tries = 1): Promise<void> {
  if (session !== null) return;
  if (state.self !== name) restore(name);
  if (!state.join(name, server)) return draw();
  remember(name);
  rejoinAs(name);
  draw();
  const store = "store" in identity && !identityBroken ? identity.store : undefined;
  const s: ChatSession = new ChatSession({
    host,
    port,
    name,
    timeoutMs: TIMEOUT_MS,
    connect,
    reconnect: true,
    extensions: DEFAULT_EXTENSIONS,
    ...(store === undefined ? {} : { identity: { ...store, seenMail: pageSeenMail } }),
    onEvent: (event: ClientEvent) => {
      if (session !== s) return;
      state.apply(event);
      draw();
    },
  });
  session = s;
  const opened = await s.open();
  if (session !== s) return;
  if (!opened.ok) {
    session = null;
    const event = opened.event;
    if (event.type === "identity-failed" && event.reason === "not-stored" && store) {
      // The key could not be read here (storage blocked or damaged): go on without one.
      identityBroken = true;
      identityNote = `${event.detail.replace(/\.$/, "")}. Joining without owning the name.`;
      view.identityNote = identityNote;
      return join(name, tries);
    }
    if (tries > 1 && event.type === "name-refused" && event.code === ErrorCode.UsernameTaken) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return join(name, tries - 1);
    }
    rejoinAs(null);
    state.joinFailed(event);
    return draw();
  }
  state.opened();
  const unowned = "problem" in identity ? identity.problem : identityBroken ? identityNote : "";
  if (unowned !== "") state.inform(unowned, "problem");
  draw();
  const end = await s.ended;
  if (session !== s) return;
  session = null;
  rejoinAs(null);
  state.ended(end === "left");
  draw();
}

const view = new PageView(document, {
  join: (name) => void join(name),
  send(text) {
    if (session === null) return false;
    const outcome = state.send(text, session);
    draw();
    return outcome !== "refused";
  },
  select(id) {
    state.select(id);
    draw();
  },
  open(name) {
    const opened = state.openConversation(name);
    view.draw(state);
    saveSoon();
    return opened;
  },
  leave() {
    rejoinAs(null);
    void session?.leave();
  },
});

document.addEventListener("keydown", (e) => {
  if (!e.altKey || state.phase !== "chat") return;
  if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
  e.preventDefault();
  const id = state.neighbour(e.key === "ArrowDown" ? 1 : -1);
  state.select(id);
  view.draw(state);
  view.followSelection(id);
  saveSoon();
});
document.addEventListener("visibilitychange", () => {
  state.setVisible(document.visibilityState === "visible");
  draw();
  // A phone may discard a tab in the background without another word: save now.
  if (document.visibilityState === "hidden") save();
});
addEventListener("pagehide", () => {
  hiding = true;
  save();
});
addEventListener("pageshow", () => {
  hiding = false;
});
state.setVisible(document.visibilityState === "visible");
if ("problem" in identity) view.identityNote = identity.problem;
const again = rejoining();
view.username = again ?? remembered();
view.draw(state);
view.focusStart();
// After a reload in the chat: the same name, the same conversations.
if (again !== null) void join(again, REJOIN_TRIES);
