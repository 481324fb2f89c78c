/**
 * The browser harness itself: headless Chromium launches under `deno test` with the sanitizers
 * on, renders a page at a given viewport, and its screenshot decodes (tests/png.ts) to the
 * colours drawn.
 */
import assert from "node:assert/strict";
import { browserTest, openPage, withChromium } from "./browser.ts";
import { decodePng, pixel, pixelsDiffering } from "./png.ts";

const PAGE = "data:text/html," + encodeURIComponent(
  `<!doctype html><meta charset="utf-8"><style>
  html, body { margin: 0; background: #ffffff; }
  #box { position: absolute; left: 10px; top: 20px; width: 30px; height: 40px; background: #ff0000; }
  #text { position: absolute; left: 60px; top: 20px; font: 16px sans-serif; color: #000; }
  </style><div id="box"></div><p id="text">Hello</p>`,
);

browserTest(
  "launchChromium renders a page at a viewport and its screenshot decodes to what was drawn",
  async () => {
    await withChromium(async ({ browser }) => {
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
      await page.close();
    });
  },
);
