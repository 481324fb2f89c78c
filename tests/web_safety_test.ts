/**
 * Text from others is shown as text, never as HTML: markup sent from a terminal and from
 * another browser appears literally in the page, and no element (an image whose error handler
 * would run, a bold) is created from it. Real Chromium and Firefox; each ignored, with the
 * reason in its name, when missing.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { browserTests } from "./browser.ts";
import { PipedClient } from "./spawn.ts";
import {
  type InPage,
  join,
  openConversation,
  openFromOnline,
  SELECT,
  send,
  shownItems,
  waitForMessage,
  waitForOnline,
  withWebChatIn,
} from "./web_page.ts";

const HOSTILE = [
  `<img src=x onerror="window.__pwned=1"><b>bold?</b>`,
  `<script>window.__pwned=2</script>&lt;&amp;`,
  `<svg onload="window.__pwned=3"></svg><a href="javascript:alert(1)">link</a>`,
];

browserTests(
  "web client shows markup from a terminal and from another browser as literal text, and " +
    "creates no element from it",
  async (kind) => {
    await withWebChatIn(kind, async (server, open) => {
      const alice = await open();
      await join(alice, "alice");
      const bob = await open();
      await join(bob, "bob");
      const carol = new PipedClient("carol", server.port);
      try {
        await carol.registered();
        await waitForOnline(alice, ["alice", "bob", "carol"]);
        await carol.type(...HOSTILE.map((h) => `@alice ${h}`));
        await openFromOnline(bob, "alice");
        for (const h of HOSTILE) await send(bob, h);

        await openConversation(alice, "carol");
        for (const h of HOSTILE) await waitForMessage(alice, "carol", h);
        await checkNoMarkup(alice, "carol");
        await openConversation(alice, "bob");
        for (const h of HOSTILE) await waitForMessage(alice, "bob", h);
        await checkNoMarkup(alice, "bob");
        // The sender's own page shows its text literally too.
        for (const h of HOSTILE) await waitForMessage(bob, "bob", h, "delivered");
        await checkNoMarkup(bob, "bob");
        assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
      } finally {
        await carol.dispose();
      }
    });
  },
);

/** Checks that `from`'s messages hold every hostile text literally and no element from it. */
async function checkNoMarkup(page: Page, from: string): Promise<void> {
  const items = (await shownItems(page)).filter((i) => i.from === from);
  for (const h of HOSTILE) {
    assert.ok(items.some((i) => i.text.includes(h)), `"${h}" shown literally`);
  }
  const made = await page.$eval(
    SELECT.log,
    (log: InPage) =>
      [...log.querySelectorAll("img, b, script, svg, a")].map((e: InPage) => e.outerHTML),
  );
  assert.deepEqual(made, [], "no element made from a message");
  assert.equal(await page.evaluate("window.__pwned"), undefined, "no handler ran");
  assert.equal(await page.evaluate('document.querySelectorAll("img[src=x]").length'), 0);
}
