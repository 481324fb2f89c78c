/**
 * Joining from the web page when the name cannot be had: a name someone online uses, and a
 * malformed name, are each said in the page's alert (`role="alert"`), the join form stays, and
 * another name then joins. Real Chromium; ignored, with the reason in the name, when it is
 * missing.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { browserTest } from "./browser.ts";
import { PipedClient } from "./spawn.ts";
import {
  element,
  type InPage,
  join,
  SELECT,
  waitForOnline,
  waitForStatus,
  waitInPage,
  withWebChat,
} from "./web_page.ts";

/** Types `name`, presses Join, and waits for an alert matching `pattern`; returns its text. */
async function refused(page: Page, name: string, pattern: RegExp): Promise<string> {
  const username = await element(page, SELECT.username);
  await username.click({ count: 3 });
  await page.keyboard.press("Backspace");
  await username.type(name);
  await (await element(page, SELECT.join)).click();
  await waitInPage(
    page,
    `an alert matching ${pattern} after joining as "${name}"`,
    (sel: string, source: string, flags: string) =>
      [...(globalThis as InPage).document.querySelectorAll(sel)].some((e: InPage) =>
        new RegExp(source, flags).test(e.textContent ?? "")
      ),
    [SELECT.alert, pattern.source, pattern.flags],
  );
  return await page.$$eval(
    SELECT.alert,
    (all) => all.map((e: InPage) => e.textContent as string).join(" "),
  );
}

browserTest(
  "web client join: a taken name and a malformed name are said in the alert, the form stays, " +
    "and another name joins",
  async () => {
    await withWebChat(async (server, open) => {
      const carol = new PipedClient("carol", server.port);
      try {
        await carol.registered();
        const page = await open();
        const taken = await refused(page, "carol", /carol/);
        assert.match(taken, /taken/i, taken);
        const malformed = await refused(page, "no spaces", /Invalid username "no spaces"/);
        assert.match(malformed, /letters and digits/, malformed);
        // Still the join form, not joined.
        assert.ok(await page.$(SELECT.username), "the Username field is still there");
        assert.doesNotMatch(
          await page.$eval(SELECT.status, (e: InPage) => e.textContent as string),
          /Connected as/,
        );
        await join(page, "dave");
        await waitForStatus(page, /^Connected as dave$/);
        await waitForOnline(page, ["carol", "dave"]);
        assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
      } finally {
        await carol.dispose();
      }
    });
  },
);
