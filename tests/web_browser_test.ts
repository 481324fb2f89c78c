/**
 * The web client end to end in real headless Chromium and Firefox: a real `chat server` with its web port,
 * two browser users (each in a browser context of its own, so with storage of its own) and a
 * terminal user (`chat client`, piped) converse in every direction, `@ALL` included; marks,
 * unread counts, join and leave notices and timestamps are checked through the DOM contract
 * (tests/web_page.ts). Each browser's test is ignored, with the reason in its name, when that
 * browser is missing.
 */
import assert from "node:assert/strict";
import { browserTests } from "./browser.ts";
import { PipedClient } from "./spawn.ts";
import {
  element,
  join,
  openConversation,
  openFromOnline,
  SELECT,
  send,
  shownItems,
  waitForMessage,
  waitForNotice,
  waitForOnline,
  waitForUnread,
  withWebChatIn,
} from "./web_page.ts";

/** Waits until the terminal user's stdout has a line equal to `line`. */
async function terminalSaw(client: PipedClient, line: string): Promise<void> {
  await client.process.waitFor(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`), {
    timeoutMs: 15_000,
  });
}

browserTests(
  "web client: two browser users and a terminal user converse in every direction, @ALL " +
    "included, with delivery marks, unread counts, join and leave notices, timestamps and a " +
    "two-line message",
  async (kind) => {
    await withWebChatIn(kind, async (server, open) => {
      const alice = await open();
      await join(alice, "alice");
      const bob = await open();
      await join(bob, "bob");
      await waitForOnline(alice, ["alice", "bob"]);
      await waitForOnline(bob, ["alice", "bob"]);
      // A join notice in the Everyone conversation (selected after joining).
      await openConversation(alice, "ALL");
      await waitForNotice(alice, /bob joined/);

      const carol = new PipedClient("carol", server.port);
      try {
        await carol.registered();
        await waitForOnline(alice, ["alice", "bob", "carol"]);
        await waitForOnline(bob, ["alice", "bob", "carol"]);
        await waitForNotice(alice, /carol joined/);

        // browser → browser; bob is on another conversation, so alice's rises as unread.
        await openConversation(bob, "ALL");
        await openFromOnline(alice, "bob");
        await send(alice, "hi bob, from alice's browser");
        await waitForMessage(alice, "alice", "hi bob, from alice's browser", "delivered");
        await waitForUnread(bob, "alice", 1);
        await openConversation(bob, "alice");
        await waitForUnread(bob, "alice", 0);
        await waitForMessage(bob, "alice", "hi bob, from alice's browser", "received");

        // browser → browser, the other way, with the Send button.
        await send(bob, "hello alice, from bob's browser", "button");
        await waitForMessage(bob, "bob", "hello alice, from bob's browser", "delivered");
        await waitForMessage(alice, "bob", "hello alice, from bob's browser");

        // Shift+Enter makes a new line; Enter sends both lines as one message, shown on two.
        const box = await element(alice, SELECT.message);
        await box.type("first line");
        await alice.keyboard.down("Shift");
        await alice.keyboard.press("Enter");
        await alice.keyboard.up("Shift");
        await box.type("second line");
        await alice.keyboard.press("Enter");
        await waitForMessage(bob, "alice", "second line");
        const twoLines = (await shownItems(bob)).filter((i) => i.text.includes("first line"));
        assert.equal(twoLines.length, 1, "one message");
        assert.match(twoLines[0]!.rendered, /first line\n\s*second line/);

        // browser → terminal.
        await openFromOnline(alice, "carol");
        await send(alice, "hello carol, from a browser");
        await terminalSaw(carol, "alice: hello carol, from a browser");
        await waitForMessage(alice, "alice", "hello carol, from a browser", "delivered");

        // terminal → browser: two messages, bob on another conversation counts both.
        await carol.type("@bob hi bob, from a terminal", "@bob second line from carol");
        await waitForUnread(bob, "carol", 2);
        await terminalSaw(carol, "Message successfully sent to bob");
        await openConversation(bob, "carol");
        await waitForUnread(bob, "carol", 0);
        await waitForMessage(bob, "carol", "hi bob, from a terminal");
        await waitForMessage(bob, "carol", "second line from carol");

        // @ALL from a browser reaches the other browser and the terminal.
        await openConversation(bob, "ALL");
        await send(bob, "lunch at one, everyone?");
        await waitForMessage(bob, "bob", "lunch at one, everyone?", "delivered");
        await terminalSaw(carol, "bob: lunch at one, everyone?");
        await waitForUnread(alice, "ALL", 1);
        await openConversation(alice, "ALL");
        await waitForUnread(alice, "ALL", 0);
        await waitForMessage(alice, "bob", "lunch at one, everyone?");

        // @ALL from the terminal reaches both browsers.
        await carol.type("@ALL yes, lunch at one");
        await waitForMessage(alice, "carol", "yes, lunch at one");
        await waitForMessage(bob, "carol", "yes, lunch at one");
        await terminalSaw(carol, "Message successfully sent to ALL (everyone online)");

        // Every message has its time: an ISO datetime and HH:MM shown, near now.
        const items = await shownItems(alice);
        const messages = items.filter((i) => !i.notice);
        assert.ok(messages.length >= 2, JSON.stringify(items));
        for (const item of messages) {
          assert.match(item.shownTime ?? "", /^\d\d:\d\d$/, JSON.stringify(item));
          const at = Date.parse(item.datetime ?? "");
          assert.ok(Math.abs(Date.now() - at) < 10 * 60_000, JSON.stringify(item));
        }
        // Own delivered messages carry the two-tick mark.
        await openConversation(alice, "bob");
        const own = (await shownItems(alice)).find((i) => i.from === "alice");
        assert.equal(own?.state, "delivered");
        assert.match(own?.text ?? "", /✓✓/);

        // The terminal user leaves: both browsers say so and drop carol from Online.
        assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
        await openConversation(alice, "ALL");
        await waitForNotice(alice, /carol left/);
        await waitForOnline(alice, ["alice", "bob"]);
        await waitForOnline(bob, ["alice", "bob"]);
      } finally {
        await carol.dispose();
      }
      // A browser user leaves: the other says so.
      await alice.close();
      await openConversation(bob, "ALL");
      await waitForNotice(bob, /alice left/);
      await waitForOnline(bob, ["bob"]);
    });
  },
);
