/**
 * The web client's page and styles, as the server sends them (`GET /` and `GET /app.css`): no
 * inline script or style (the page's Content-Security-Policy allows only `/app.js` and
 * `/app.css`), nothing fetched from elsewhere. `app.ts` brings it to life; the elements it finds
 * by id, and those the browser tests find by role and name, are the DOM contract
 * (/work/coord/i12/COMMON.md and `dom.ts`).
 *
 * @module
 */

/** The page (`GET /`). */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>chat</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<header class="bar">
  <h1>chat</h1>
  <p role="status" id="status">Offline</p>
  <button type="button" id="leave" hidden>Leave</button>
</header>
<main>
  <section id="join-view" class="join-view" aria-labelledby="join-title">
    <form id="join" class="join" novalidate>
      <h2 id="join-title">Join the chat</h2>
      <label for="username">Username</label>
      <input id="username" name="username" autocomplete="username" autocapitalize="off"
        autocorrect="off" spellcheck="false" maxlength="64" aria-describedby="username-hint">
      <p id="username-hint" class="hint">Letters and digits, up to 64.</p>
      <button type="submit" id="join-button">Join</button>
      <p role="alert" id="alert" class="alert"></p>
      <p id="identity-note" class="hint"></p>
      <noscript>This page needs JavaScript to chat.</noscript>
    </form>
  </section>
  <div id="chat-view" class="chat-view" hidden>
    <aside class="side">
      <h2 class="side-title" id="conversations-title">Conversations</h2>
      <nav aria-label="Conversations" id="conversations" class="conversations"></nav>
      <form id="open" class="open" novalidate>
        <label for="open-name" class="visually-hidden">Write to</label>
        <input id="open-name" name="to" placeholder="Write to (name)" autocomplete="off"
          autocapitalize="off" autocorrect="off" spellcheck="false" maxlength="64">
        <button type="submit" id="open-button">Open</button>
      </form>
      <p id="open-problem" class="alert" aria-live="polite"></p>
      <h2 class="side-title" id="online-title">Online</h2>
      <ul aria-label="Online" id="online" class="online"></ul>
      <p class="hint keys">Alt+↑ and Alt+↓ switch conversations.</p>
    </aside>
    <section class="talk" aria-labelledby="talk-title">
      <h2 id="talk-title" class="talk-title">Everyone</h2>
      <ol role="log" aria-label="Messages" id="messages" class="messages" tabindex="0"></ol>
      <form id="composer" class="composer" novalidate>
        <label for="message" class="visually-hidden">Message</label>
        <textarea id="message" name="message" rows="1" autocomplete="off"
          placeholder="Message everyone" aria-describedby="message-hint"></textarea>
        <p id="message-hint" class="visually-hidden">Enter sends, Shift+Enter starts a new line.</p>
        <button type="submit" id="send">Send</button>
      </form>
    </section>
  </div>
</main>
</body>
</html>
`;

/** The styles (`GET /app.css`): system fonts, light and dark, from 360 px phones to desktops. */
export const PAGE_CSS = `:root {
  color-scheme: light dark;
  --bg: #ffffff;
  --fg: #1b1f24;
  --muted: #5b6570;
  --line: #d8dde3;
  --panel: #f4f6f8;
  --accent: #0b63ce;
  --accent-fg: #ffffff;
  --own: #e3efff;
  --good: #1a7f37;
  --bad: #c62828;
  --warn: #9a6700;
  --focus: #f5a623;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181c;
    --fg: #e6e9ed;
    --muted: #9aa4af;
    --line: #2e343b;
    --panel: #1d2126;
    --accent: #4c9dff;
    --accent-fg: #0b1320;
    --own: #1d3350;
    --good: #56c26a;
    --bad: #ff7b72;
    --warn: #e3b341;
  }
}
* { box-sizing: border-box; }
html, body { height: 100%; }
body {
  margin: 0;
  display: flex;
  flex-direction: column;
  background: var(--bg);
  color: var(--fg);
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  overflow-wrap: anywhere;
}
[hidden] { display: none !important; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
}
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
button, input, textarea { font: inherit; color: inherit; }
button {
  cursor: pointer; border: 1px solid var(--line); border-radius: 6px; background: var(--panel);
  padding: 0.35rem 0.8rem;
}
button[type="submit"] { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); }
button:disabled { opacity: 0.55; cursor: default; }
input, textarea {
  border: 1px solid var(--line); border-radius: 6px; background: var(--bg); padding: 0.45rem 0.6rem;
  min-width: 0;
}
.bar {
  display: flex; align-items: center; gap: 0.75rem; padding: 0.4rem 0.9rem;
  border-bottom: 1px solid var(--line); background: var(--panel);
}
.bar h1 { font-size: 1.1rem; margin: 0; }
.bar [role="status"] { margin: 0 auto 0 0; color: var(--muted); font-size: 0.92rem; }
main { flex: 1; min-height: 0; display: flex; flex-direction: column; }
.hint { color: var(--muted); font-size: 0.88rem; margin: 0; }
.alert { color: var(--bad); margin: 0; }
.alert:empty { display: none; }
.join-view { flex: 1; display: flex; align-items: flex-start; justify-content: center; padding: 2rem 1rem; }
.join { width: 100%; max-width: 24rem; display: flex; flex-direction: column; gap: 0.5rem; }
.join h2 { margin: 0 0 0.5rem; font-size: 1.3rem; }
.join label { font-weight: 600; }
.join button { align-self: flex-start; }
.chat-view { flex: 1; min-height: 0; display: grid; grid-template-columns: 15rem 1fr; }
.side {
  border-right: 1px solid var(--line); padding: 0.6rem; overflow-y: auto; display: flex;
  flex-direction: column; gap: 0.4rem; background: var(--panel);
}
.side-title { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); margin: 0.4rem 0 0; }
.conversations { display: flex; flex-direction: column; gap: 0.2rem; }
.conversations button {
  display: flex; align-items: center; gap: 0.4rem; width: 100%; text-align: left;
  background: transparent; border-color: transparent;
}
.conversations button[aria-current="true"] { background: var(--own); border-color: var(--accent); font-weight: 600; }
.badge {
  margin-left: auto; min-width: 1.4rem; padding: 0 0.4rem; border-radius: 999px;
  background: var(--accent); color: var(--accent-fg); font-size: 0.8rem; text-align: center;
}
.dot { width: 0.5rem; height: 0.5rem; border-radius: 50%; background: var(--line); flex: none; }
.dot.on { background: var(--good); }
.open { display: flex; gap: 0.3rem; }
.open input { flex: 1; width: 0; padding: 0.25rem 0.5rem; }
.open button { padding: 0.25rem 0.6rem; }
.online { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 0.15rem; }
.online button { background: transparent; border-color: transparent; padding: 0.15rem 0.5rem; text-align: left; width: 100%; }
.online .me { padding: 0.15rem 0.5rem; color: var(--muted); display: block; }
.talk { min-width: 0; min-height: 0; display: flex; flex-direction: column; }
.talk-title { margin: 0; padding: 0.5rem 0.9rem; font-size: 1rem; border-bottom: 1px solid var(--line); }
.messages { flex: 1; min-height: 0; overflow-y: auto; list-style: none; margin: 0; padding: 0.6rem 0.9rem; display: flex; flex-direction: column; gap: 0.35rem; }
.msg { max-width: min(40rem, 92%); padding: 0.35rem 0.6rem; border-radius: 8px; background: var(--panel); align-self: flex-start; }
.msg.own { align-self: flex-end; background: var(--own); }
.meta { display: flex; gap: 0.5rem; align-items: baseline; font-size: 0.8rem; color: var(--muted); }
.from { font-weight: 600; color: var(--fg); }
.text { margin: 0.1rem 0 0; white-space: pre-wrap; }
.mark { margin-left: auto; font-weight: 600; }
.msg[data-state="delivered"] .mark, .msg[data-state="stored"] .mark { color: var(--good); }
.msg[data-state="failed"] .mark { color: var(--bad); }
.msg[data-state="unconfirmed"] .mark { color: var(--warn); }
.why { margin: 0.15rem 0 0; font-size: 0.85rem; color: var(--muted); }
.msg[data-state="failed"] .why { color: var(--bad); }
.notice { align-self: center; text-align: center; font-size: 0.85rem; color: var(--muted); max-width: 46rem; }
.notice.problem { color: var(--bad); }
.notice.good { color: var(--good); }
.notice time { margin-right: 0.4rem; }
.composer { display: flex; gap: 0.5rem; padding: 0.6rem 0.9rem; border-top: 1px solid var(--line); align-items: flex-end; }
.composer textarea { flex: 1; resize: none; max-height: 9rem; field-sizing: content; }
@media (max-width: 640px) {
  body { font-size: 15px; }
  .chat-view { grid-template-columns: 1fr; grid-template-rows: auto 1fr; }
  .side { border-right: 0; border-bottom: 1px solid var(--line); padding: 0.4rem 0.6rem; max-height: 34vh; }
  .side-title, .keys { display: none; }
  .conversations { flex-direction: row; flex-wrap: wrap; }
  .conversations button { width: auto; }
  .online { flex-direction: row; flex-wrap: wrap; gap: 0.25rem; }
  .online::before { content: "Online:"; color: var(--muted); font-size: 0.85rem; align-self: center; }
  .online button, .online .me { width: auto; font-size: 0.9rem; padding: 0.1rem 0.45rem; }
  .msg { max-width: 100%; }
  .bar { padding: 0.35rem 0.6rem; }
  .messages, .composer { padding-left: 0.6rem; padding-right: 0.6rem; }
}
`;
