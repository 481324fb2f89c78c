/**
 * The web client's entry (bundled as `/app.js` by the server): the unchanged client engine
 * (`ChatSession`, with every default extension and reconnecting on) over WebSockets to the page's
 * own server, keys kept in IndexedDB, the page's state in {@link PageState} and its drawing in
 * {@link PageView}. Only the wiring is here.
 *
 * @module
 */
import { ChatSession, DEFAULT_EXTENSIONS } from "../../client/engine.ts";
import type { ClientEvent } from "../../client/events.ts";
import { formatAddress } from "../../net/address.ts";
import { PageView } from "./dom.ts";
import { browserIdentityStore } from "../identity_store.ts";
import { indexedDbBackend } from "./indexeddb.ts";
import { PageState } from "../state.ts";
import { chatSocketUrl, pageServer, webSocketConnect } from "../ws_conn.ts";

/** How long connecting and registering may take. */
const TIMEOUT_MS = 10_000;
/** Where the last name joined with is remembered. */
const NAME_KEY = "chat.name";

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

async function join(name: string): Promise<void> {
  if (session !== null) return;
  if (!state.join(name, server)) return draw();
  remember(name);
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
    ...(store === undefined ? {} : { identity: store }),
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
      return join(name);
    }
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
    return opened;
  },
  leave() {
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
});
document.addEventListener("visibilitychange", () => {
  state.setVisible(document.visibilityState === "visible");
  draw();
});
state.setVisible(document.visibilityState === "visible");
if ("problem" in identity) view.identityNote = identity.problem;
view.username = remembered();
view.draw(state);
view.focusStart();
