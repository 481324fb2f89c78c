/**
 * The web client at phone width (360 CSS pixels) and by keyboard alone: nothing scrolls
 * sideways, even with long unbroken words; every control is on screen, not covered, and
 * reachable with Tab; a user joins, switches conversations with Alt+↓, picks a person and sends
 * with Tab and Enter only, never the mouse. Real Chromium and Firefox; each ignored, with the
 * reason in its name, when missing.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { browserTests, PHONE } from "./browser.ts";
import { PipedClient } from "./spawn.ts";
import {
  element,
  type InPage,
  SELECT,
  tabTo,
  waitForMessage,
  waitForOnline,
  waitForStatus,
  waitInPage,
  withWebChatIn,
} from "./web_page.ts";

/** Fails if the page scrolls sideways at its width. */
async function assertNoSideScroll(page: Page, when: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.$eval("html", (html: InPage) => ({
    scrollWidth: html.ownerDocument.scrollingElement.scrollWidth as number,
    innerWidth: html.ownerDocument.defaultView.innerWidth as number,
  }));
  assert.ok(
    scrollWidth <= PHONE.width && innerWidth === PHONE.width,
    `${when}: the page is ${scrollWidth} CSS pixels wide in a ${innerWidth}-pixel viewport`,
  );
}

/**
 * Fails unless the element for `selector`, scrolled into view, has a size, lies within the
 * viewport's width, and is the element found at its own centre (not covered by another).
 */
async function assertReachable(page: Page, selector: string): Promise<void> {
  const handle = await element(page, selector);
  const seen = await handle.evaluate((e: InPage) => {
    e.scrollIntoView({ block: "center", inline: "nearest" });
    const r = e.getBoundingClientRect();
    const view = e.ownerDocument.defaultView;
    const hit = e.ownerDocument.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return {
      box: [r.left, r.top, r.width, r.height].map(Math.round),
      viewport: [view.innerWidth, view.innerHeight],
      onTop: hit !== null && (hit === e || e.contains(hit)),
    };
  });
  const [left, top, width, height] = seen.box as [number, number, number, number];
  const [vw, vh] = seen.viewport as [number, number];
  const where = `${selector} at ${JSON.stringify(seen.box)} in ${vw}x${vh}`;
  assert.ok(width > 0 && height > 0, `${where}: has no size`);
  assert.ok(left >= 0 && left + width <= vw, `${where}: sticks out sideways`);
  assert.ok(top >= 0 && top + height <= vh, `${where}: cannot be scrolled into view`);
  assert.ok(seen.onTop, `${where}: is covered by another element`);
}

/** The focusable thing in the Online list for `name`: a button or link in its item, or it. */
function personSelector(name: string): string {
  return `${SELECT.online} [data-user="${name}"]`;
}

async function focusablePerson(page: Page, name: string): Promise<string> {
  const inner = `${personSelector(name)} button, ${personSelector(name)} a`;
  return await page.$(inner) ? inner : personSelector(name);
}

browserTests(
  "web client at phone width (360 px) by keyboard alone: no sideways scroll, every control " +
    "on screen, join, switch conversations with Alt+↓, pick a person and send with Tab and Enter",
  async (kind) => {
    await withWebChatIn(kind, async (server, open) => {
      const page = await open(PHONE);
      await assertNoSideScroll(page, "the join form");
      await assertReachable(page, SELECT.username);
      await assertReachable(page, SELECT.join);

      // Join by keyboard: Tab to Username, type, Tab to Join, Enter.
      await tabTo(page, SELECT.username);
      await page.keyboard.type("pat");
      await tabTo(page, SELECT.join);
      await page.keyboard.press("Enter");
      await waitForStatus(page, /Connected as pat\b/);

      const carol = new PipedClient("carol", server.port);
      try {
        await carol.registered();
        await waitForOnline(page, ["carol", "pat"]);
        const long = "https://example.com/" + "a-very-long-unbroken-word".repeat(12);
        await carol.type(`@ALL ${long}`, `@pat ${"x".repeat(400)}`);
        await waitForMessage(page, "carol", long);
        await assertNoSideScroll(page, "a long unbroken word in the log");
        for (
          const selector of [
            SELECT.message,
            SELECT.send,
            `${SELECT.conversations} [data-conversation="ALL"]`,
            `${SELECT.conversations} [data-conversation="carol"]`,
            personSelector("carol"),
            SELECT.status,
            '::-p-aria([name="Leave"][role="button"])',
            '::-p-aria([name="Write to"][role="textbox"])',
            '::-p-aria([name="Open"][role="button"])',
          ]
        ) {
          await assertReachable(page, selector);
        }

        // Alt+↓ selects the next conversation, carol's; so choosing Everyone below is a change.
        await page.keyboard.down("Alt");
        await page.keyboard.press("ArrowDown");
        await page.keyboard.up("Alt");
        await waitInPage(
          page,
          "carol's conversation selected with Alt+↓",
          (sel: string) =>
            (globalThis as InPage).document.querySelector(sel)?.getAttribute("aria-current") ===
              "true",
          [`${SELECT.conversations} [data-conversation="carol"]`],
        );

        // Everyone, by keyboard: Tab to its conversation, Enter, Tab to Message, type, Enter.
        const everyone = `${SELECT.conversations} [data-conversation="ALL"]`;
        await tabTo(page, everyone);
        await page.keyboard.press("Enter");
        await waitInPage(
          page,
          "Everyone selected by keyboard",
          (sel: string) =>
            (globalThis as InPage).document.querySelector(sel)?.getAttribute("aria-current") ===
              "true",
          [everyone],
        );
        await tabTo(page, SELECT.message);
        await page.keyboard.type("typed on a phone, sent with Enter");
        await page.keyboard.press("Enter");
        await carol.process.waitFor(/^pat: typed on a phone, sent with Enter$/, {
          timeoutMs: 15_000,
        });

        // A person from the Online list, by keyboard; then the Send button with Enter.
        await tabTo(page, await focusablePerson(page, "carol"));
        await page.keyboard.press("Enter");
        const withCarol = `${SELECT.conversations} [data-conversation="carol"]`;
        await waitInPage(
          page,
          "carol's conversation opened from the Online list by keyboard",
          (sel: string) =>
            (globalThis as InPage).document.querySelector(sel)?.getAttribute("aria-current") ===
              "true",
          [withCarol],
        );
        await waitForMessage(page, "carol", "x".repeat(400));
        await assertNoSideScroll(page, "a 400-character word in a conversation");
        await tabTo(page, SELECT.message);
        await page.keyboard.type("and this one with the Send button");
        await tabTo(page, SELECT.send);
        await page.keyboard.press("Enter");
        await carol.process.waitFor(/^pat: and this one with the Send button$/, {
          timeoutMs: 15_000,
        });
        await waitForMessage(page, "pat", "and this one with the Send button", "delivered");
        await assertNoSideScroll(page, "after sending");
        assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
      } finally {
        await carol.dispose();
      }
    });
  },
);
