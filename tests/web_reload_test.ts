/**
 * The web page across a reload, in a real browser: the tab keeps its conversations in
 * `sessionStorage`, so a reload brings back the conversations, the selected one, unread counts
 * and delivery marks, and joins again under the same name by itself; new messages then flow
 * both ways with terminal users. A damaged stored value (written by hand in the page) makes the
 * page start clean, never break. In each browser `TEST_BROWSERS` chooses (tests/browser.ts);
 * ignored, with the reason in the name, when the browser is missing.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { browserTests } from "./browser.ts";
import { PipedClient } from "./spawn.ts";
import {
  element,
  type InPage,
  join,
  openConversation,
  openFromOnline,
  SELECT,
  send,
  shownItems,
  waitForMessage,
  waitForNotice,
  waitForOnline,
  waitForStatus,
  waitForUnread,
  withWebChatIn,
} from "./web_page.ts";

/** The Conversations list: each conversation's key, unread count, and whether it is selected. */
function conversations(page: Page): Promise<[string, number, boolean][]> {
  return page.$$eval(
    `${SELECT.conversations} [data-conversation]`,
    (buttons) =>
      buttons.map((b: InPage) =>
        [
          b.getAttribute("data-conversation"),
          Number(b.getAttribute("data-unread")),
          b.getAttribute("aria-current") === "true",
        ] as [string, number, boolean]
      ),
  );
}

/** Waits until the terminal user's stdout has a line equal to `line`. */
async function terminalSaw(client: PipedClient, line: string): Promise<void> {
  await client.process.waitFor(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`), {
    timeoutMs: 15_000,
  });
}

/** Reloads the page and waits until it has joined again as `name` by itself. */
async function reloadAndRejoin(page: Page, name: string): Promise<void> {
  await page.reload({ waitUntil: "load" });
  await waitForStatus(page, new RegExp(`^Connected as ${name}$`), 30_000);
}

/** The keys the page keeps in the tab's `sessionStorage`. */
function tabKeys(page: Page): Promise<string[]> {
  return page.evaluate(() => Object.keys((globalThis as InPage).sessionStorage).sort());
}

/**
 * Makes the page write `value` under `key` in the tab's storage as it goes away, after the
 * page saved its own (the page saves on `pagehide` and on becoming hidden, and its listeners
 * come first).
 */
async function spoilOnLeaving(page: Page, key: string, value: string): Promise<void> {
  await page.evaluate(
    (k: string, v: string) => {
      const window = globalThis as InPage;
      const spoil = () => window.sessionStorage.setItem(k, v);
      window.addEventListener("pagehide", spoil);
      window.document.addEventListener("visibilitychange", spoil);
    },
    key,
    value,
  );
}

browserTests(
  "web client: a reload brings back the conversations, the selected one, unread counts and " +
    "marks, joins again under the same name, and messages flow both ways afterwards",
  async (kind) => {
    await withWebChatIn(kind, async (server, open) => {
      const alice = await open();
      await join(alice, "alice");
      const carol = new PipedClient("carol", server.port);
      const dave = new PipedClient("dave", server.port);
      try {
        await carol.registered();
        await dave.registered();
        await waitForOnline(alice, ["alice", "carol", "dave"]);

        // alice and carol talk: a delivered message (✓✓) and carol's answer.
        await openFromOnline(alice, "carol");
        await send(alice, "hi carol, before the reload");
        await terminalSaw(carol, "alice: hi carol, before the reload");
        await waitForMessage(alice, "alice", "hi carol, before the reload", "delivered");
        await carol.type("@alice hello alice, before the reload");
        await waitForMessage(alice, "carol", "hello alice, before the reload", "received");

        // A message to someone not online: ✗ with its reason (the server keeps no mail here).
        await (await element(alice, "#open-name")).type("zed");
        await alice.keyboard.press("Enter");
        await send(alice, "are you there, zed?");
        await waitForMessage(alice, "alice", "are you there, zed?", "failed");

        // dave writes twice and carol to everyone while alice reads zed's: they wait unread.
        await dave.type("@alice one from dave", "@alice two from dave");
        await carol.type("@ALL hello everyone");
        await waitForUnread(alice, "dave", 2);
        await waitForUnread(alice, "ALL", 1);
        const before = await conversations(alice);
        assert.deepEqual(before, [
          ["ALL", 1, false],
          ["carol", 0, false],
          ["zed", 0, true],
          ["dave", 2, false],
        ]);
        const zedBefore = await shownItems(alice);

        await reloadAndRejoin(alice, "alice");

        // The same conversations, selection, counts, and zed's ✗ with its sentence.
        await waitForUnread(alice, "dave", 2);
        assert.deepEqual(await conversations(alice), before);
        assert.equal(await alice.title(), "(3) chat");
        const zedAfter = await shownItems(alice);
        const failed = (items: typeof zedBefore) =>
          items.filter((i) => i.from === "alice").map((i) => [i.state, i.text, i.datetime]);
        assert.deepEqual(failed(zedAfter), failed(zedBefore));
        assert.match(failed(zedAfter)[0]?.[1] ?? "", /✗.*Not delivered to zed/);

        // carol's conversation: both messages, alice's with ✓✓.
        await openConversation(alice, "carol");
        await waitForMessage(alice, "alice", "hi carol, before the reload", "delivered");
        await waitForMessage(alice, "carol", "hello alice, before the reload", "received");
        await openConversation(alice, "dave");
        await waitForUnread(alice, "dave", 0);
        await waitForMessage(alice, "dave", "two from dave", "received");

        // Rejoined as alice: online for the others, and messages go both ways.
        await waitForOnline(alice, ["alice", "carol", "dave"]);
        await openConversation(alice, "carol");
        await send(alice, "back after the reload");
        await terminalSaw(carol, "alice: back after the reload");
        await waitForMessage(alice, "alice", "back after the reload", "delivered");
        await carol.type("@alice welcome back");
        await waitForMessage(alice, "carol", "welcome back", "received");
        // The page keeps one history in the tab, and the name to join again with.
        assert.deepEqual(await tabKeys(alice), [
          "chat.history " + new URL(server.url).origin + " alice",
          "chat.rejoin",
        ]);

        assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
        assert.equal(await dave.exit(), 0, dave.stderr.join("\n"));
      } finally {
        await carol.dispose();
        await dave.dispose();
      }
    });
  },
);

browserTests(
  "web client: a damaged history in the tab's storage is ignored: the page starts clean, " +
    "joins again and works",
  async (kind) => {
    await withWebChatIn(kind, async (server, open) => {
      const alice = await open();
      await join(alice, "alice");
      const carol = new PipedClient("carol", server.port);
      try {
        await carol.registered();
        await carol.type("@alice before the damage");
        await waitForUnread(alice, "carol", 1);
        const key = "chat.history " + new URL(server.url).origin + " alice";

        for (
          const garbage of [
            "{not json",
            JSON.stringify({ v: 99, self: "alice" }),
            // Right version, hostile content: markup as a name, a time that is no date.
            JSON.stringify({
              v: 1,
              self: "alice",
              server: new URL(server.url).host,
              selected: "ALL",
              toldOffline: [],
              conversations: [{ id: "ALL", unread: 1, items: [] }, {
                id: "<img src=x onerror=alert(1)>",
                unread: 5,
                items: [{ kind: "message", at: 1e300, from: "x", to: "alice", text: "<b>" }],
              }],
            }),
          ]
        ) {
          await spoilOnLeaving(alice, key, garbage);
          await reloadAndRejoin(alice, "alice");
          assert.deepEqual(await conversations(alice), [["ALL", 0, true]], garbage);
          assert.equal(await alice.$("img"), null);
        }

        // It works: a message in, a message out.
        await carol.type("@alice after the damage");
        await waitForUnread(alice, "carol", 1);
        await openConversation(alice, "carol");
        await waitForMessage(alice, "carol", "after the damage", "received");
        await send(alice, "all good here");
        await terminalSaw(carol, "alice: all good here");
        await waitForMessage(alice, "alice", "all good here", "delivered");

        // A damaged name to join again with: the join form, which joins as before.
        await spoilOnLeaving(alice, "chat.rejoin", "<b>alice</b>");
        await alice.reload({ waitUntil: "load" });
        await waitForStatus(alice, /^Offline$/);
        await (await element(alice, SELECT.join)).click();
        await waitForStatus(alice, /^Connected as alice$/);
        await openConversation(alice, "carol");
        await waitForMessage(alice, "alice", "all good here", "delivered");

        assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
      } finally {
        await carol.dispose();
      }
    });
  },
);

/** The history the page saved in the tab, once it has saved one that has `text`. */
async function savedHistory(
  page: Page,
  key: string,
  text: string,
): Promise<Record<string, unknown>> {
  await page.waitForFunction(
    (k: string, t: string) => ((globalThis as InPage).sessionStorage.getItem(k) ?? "").includes(t),
    { polling: 100, timeout: 15_000 },
    key,
    text,
  );
  return JSON.parse(
    await page.evaluate((k: string) => (globalThis as InPage).sessionStorage.getItem(k), key),
  );
}

browserTests(
  "web client: a message still sending when the page went away comes back after the reload " +
    "as not confirmed (?) with a note, and is not sent again",
  async (kind) => {
    await withWebChatIn(kind, async (server, open) => {
      const alice = await open();
      await join(alice, "alice");
      const carol = new PipedClient("carol", server.port);
      try {
        await carol.registered();
        await waitForOnline(alice, ["alice", "carol"]);
        await openFromOnline(alice, "carol");
        await send(alice, "this one arrived");
        await waitForMessage(alice, "alice", "this one arrived", "delivered");
        // The page went away between sending and the server's answer: its history then holds
        // the message as sending (·). Written as the page goes away, as the page would have.
        const key = "chat.history " + new URL(server.url).origin + " alice";
        const saved = '"text":"this one arrived","own":true,"state":"delivered"';
        const history = await savedHistory(alice, key, saved) as {
          conversations: { id: string; items: Record<string, unknown>[] }[];
        };
        const withCarol = history.conversations.find((c) => c.id === "carol")!;
        withCarol.items.push({
          ...withCarol.items.find((i) => i.own === true),
          text: "this one had no answer",
          state: "pending",
        });
        await spoilOnLeaving(alice, key, JSON.stringify(history));
        await reloadAndRejoin(alice, "alice");

        await waitForMessage(alice, "alice", "this one arrived", "delivered");
        await waitForMessage(alice, "alice", "this one had no answer", "unconfirmed");
        const unconfirmed = (await shownItems(alice)).find((i) =>
          i.text.includes("this one had no answer")
        );
        assert.match(unconfirmed?.text ?? "", /\?/);
        assert.match(unconfirmed?.text ?? "", /the page was reloaded before the server answered/);

        // Later messages go out; the unconfirmed one never does.
        await send(alice, "and this one after the reload");
        await terminalSaw(carol, "alice: and this one after the reload");
        await waitForMessage(alice, "alice", "and this one after the reload", "delivered");
        assert.deepEqual(carol.stdout.filter((l) => l.includes("had no answer")), []);
        assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
      } finally {
        await carol.dispose();
      }
    });
  },
);

browserTests(
  "web client: when the tab's storage is full the page says so once and goes on in memory",
  async (kind) => {
    await withWebChatIn(kind, async (server, open) => {
      const alice = await open();
      await join(alice, "alice");
      const carol = new PipedClient("carol", server.port);
      try {
        await carol.registered();
        await alice.evaluate(() => {
          const window = globalThis as InPage;
          window.fullTries = 0;
          window.Storage.prototype.setItem = () => {
            window.fullTries++;
            throw new window.DOMException("The quota has been exceeded.", "QuotaExceededError");
          };
        });
        await carol.type("@alice one", "@alice two");
        await waitForUnread(alice, "carol", 2);
        await openConversation(alice, "ALL");
        const full = /This tab cannot keep the conversations/;
        await waitForNotice(alice, full);
        const tries = await alice.evaluate(() => (globalThis as InPage).fullTries as number);
        await openConversation(alice, "carol");
        await send(alice, "still working");
        await terminalSaw(carol, "alice: still working");
        await waitForMessage(alice, "alice", "still working", "delivered");
        // The page tried to save again since, and said nothing more.
        await alice.waitForFunction(
          (n: number) => (globalThis as InPage).fullTries > n,
          { polling: 100, timeout: 15_000 },
          tries,
        );
        await openConversation(alice, "ALL");
        const said = (await shownItems(alice)).filter((i) => full.test(i.text));
        assert.equal(said.length, 1, "said once");
        assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
      } finally {
        await carol.dispose();
      }
    });
  },
  ["chromium"],
);
