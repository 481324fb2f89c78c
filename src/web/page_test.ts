import assert from "node:assert/strict";
import { PAGE_CSS, PAGE_HTML } from "./page.ts";

Deno.test("PAGE_HTML has no inline script or style, and loads only /app.js and /app.css", () => {
  assert.doesNotMatch(PAGE_HTML, /<style|style=|\son[a-z]+=/i, "no inline style or handler");
  const scripts = [...PAGE_HTML.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
  assert.deepEqual(scripts.map((m) => [m[0].match(/src="([^"]*)"/)?.[1], m[1]]), [["/app.js", ""]]);
  const links = [...PAGE_HTML.matchAll(/<link\b[^>]*href="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(links, ["data:,", "/app.css"], "nothing fetched from elsewhere");
  assert.doesNotMatch(PAGE_HTML + PAGE_CSS, /https?:\/\/|@import|url\(/, "no other origin");
});

Deno.test("PAGE_HTML holds the elements of the DOM contract", () => {
  const has = (pattern: RegExp) => assert.match(PAGE_HTML, pattern);
  has(/<label for="username">Username<\/label>\s*<input id="username"/);
  has(/<button type="submit" id="join-button">Join<\/button>/);
  has(/<p role="alert" id="alert"/);
  has(/<p role="status" id="status">/);
  has(/<nav aria-label="Conversations" id="conversations"/);
  has(/<ul aria-label="Online" id="online"/);
  has(/<ol role="log" aria-label="Messages" id="messages"/);
  has(/<label for="message" class="visually-hidden">Message<\/label>\s*<textarea id="message"/);
  has(/<button type="submit" id="send">Send<\/button>/);
  has(/<meta name="viewport" content="width=device-width, initial-scale=1">/);
});

Deno.test("PAGE_CSS shows the focus, follows a dark scheme and narrows for phones", () => {
  assert.match(PAGE_CSS, /:focus-visible \{ outline: 3px solid/);
  assert.match(PAGE_CSS, /@media \(prefers-color-scheme: dark\)/);
  assert.match(PAGE_CSS, /@media \(max-width: 640px\)[\s\S]*grid-template-columns: 1fr;/);
  assert.match(PAGE_CSS, /font: [^;]*system-ui/);
});
