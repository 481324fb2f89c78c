/**
 * The browser harness itself: headless Chromium and Firefox launch under `deno test` with the
 * sanitizers on, render a page at a given viewport, their screenshots decode (tests/png.ts) to
 * the colours drawn, and each browser context's page is visible (as a person's own browser
 * window is); `TEST_BROWSERS` is read as documented.
 */
import assert from "node:assert/strict";
import { BROWSER_KINDS, browserTests, openPage, parseBrowserList, withBrowser } from "./browser.ts";
import { decodePng, pixel, pixelsDiffering } from "./png.ts";

const PAGE = "data:text/html," + encodeURIComponent(
  `<!doctype html><meta charset="utf-8"><style>
  html, body { margin: 0; background: #ffffff; }
  #box { position: absolute; left: 10px; top: 20px; width: 30px; height: 40px; background: #ff0000; }
  #text { position: absolute; left: 60px; top: 20px; font: 16px sans-serif; color: #000; }
  </style><div id="box"></div><p id="text">Hello</p>`,
);

Deno.test("parseBrowserList reads TEST_BROWSERS: unset or empty is every browser, names in any case and order, each once", () => {
  assert.deepEqual(parseBrowserList(undefined), ["chromium", "firefox"]);
  assert.deepEqual(parseBrowserList(" "), ["chromium", "firefox"]);
  assert.deepEqual(parseBrowserList("firefox"), ["firefox"]);
  assert.deepEqual(parseBrowserList("Firefox, chromium,firefox"), ["firefox", "chromium"]);
  assert.throws(
    () => parseBrowserList("chromium,safari"),
    /Unknown browser "safari" in TEST_BROWSERS: use "chromium" or "firefox", comma-separated\./,
  );
});

browserTests(
  "launchBrowser renders a page at a viewport, its screenshot decodes to what was drawn, and " +
    "the pages of two browser contexts are both visible",
  async (kind) => {
    await withBrowser(kind, async ({ browser }) => {
      const { page, problems } = await openPage(browser, PAGE, {
        width: 200,
        height: 100,
        deviceScaleFactor: 2,
      });
      const ratio = await page.evaluate("devicePixelRatio");
      assert.equal(ratio, 2);
      const image = decodePng(await page.screenshot({ type: "png" }));
      assert.deepEqual([image.width, image.height], [400, 200]);
      assert.deepEqual(pixel(image, 5, 5), [255, 255, 255, 255]);
      assert.deepEqual(pixel(image, 2 * 25, 2 * 40), [255, 0, 0, 255]);
      const box = await page.$eval("#text", (e) => {
        const r = e.getBoundingClientRect();
        return { x: r.x, y: r.y, width: r.width, height: r.height };
      });
      const scaled = {
        x: box.x * 2,
        y: box.y * 2,
        width: box.width * 2,
        height: box.height * 2,
      };
      assert.ok(pixelsDiffering(image, scaled, [255, 255, 255, 255]) > 20, "text is drawn");
      assert.deepEqual(problems, []);
      // Two people, each in a browser context of their own: neither page is a hidden tab.
      const other = await openPage(await browser.createBrowserContext(), PAGE);
      for (const shown of [page, other.page]) {
        assert.equal(await shown.evaluate("document.visibilityState"), "visible");
      }
      assert.deepEqual(other.problems, []);
      await page.close();
    });
  },
  BROWSER_KINDS,
  // Every Firefox test shows the same; run on its own when TEST_BROWSERS names firefox.
  ["firefox"],
);
