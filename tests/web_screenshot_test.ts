/**
 * A screenshot of a conversation in the web client, checked to show it: the PNG is decoded
 * (tests/png.ts) and inside the box of every message on screen (from the DOM, scaled by the
 * device pixel ratio), and inside the box of its text (a DOM range), pixels differ from that
 * box's background, so its text is drawn; the image is not blank; and the same check finds the
 * texts undrawn once they are made transparent (so it can fail). With `UPDATE_SCREENSHOT=1` the image is saved as docs/web-client.png for the
 * README (tests write into the repository only then). Real Chromium; ignored, with the reason
 * in the name, when it is missing.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { browserTest } from "./browser.ts";
import { type Box, colourCount, decodePng, type Image, pixel, pixelsDiffering } from "./png.ts";
import { PipedClient } from "./spawn.ts";
import {
  type InPage,
  join,
  openConversation,
  SELECT,
  send,
  waitForMessage,
  waitForOnline,
  waitForUnread,
  withWebChat,
} from "./web_page.ts";

/** Where the README's screenshot is kept. */
const README_IMAGE = new URL("../docs/web-client.png", import.meta.url);

/** The most common colour inside `box`: its background. */
function background(image: Image, box: Box): [number, number, number, number] {
  const counts = new Map<string, number>();
  const x1 = Math.min(image.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(image.height, Math.ceil(box.y + box.height));
  for (let y = Math.max(0, Math.floor(box.y)); y < y1; y++) {
    for (let x = Math.max(0, Math.floor(box.x)); x < x1; x++) {
      const key = pixel(image, x, y).join(",");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const [top] = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  assert.ok(top, `the box ${JSON.stringify(box)} is outside the image`);
  return top[0].split(",").map(Number) as [number, number, number, number];
}

/** A box in CSS pixels scaled to image pixels. */
function scale(b: Box, ratio: number): Box {
  return { x: b.x * ratio, y: b.y * ratio, width: b.width * ratio, height: b.height * ratio };
}

/**
 * For each text in `texts`: the box of the message (`li[data-from]`) that shows it, and the box
 * of the text itself (a DOM range over its text node), in image pixels.
 */
async function messageBoxes(
  page: Page,
  texts: string[],
): Promise<{ text: string; item: Box; body: Box }[]> {
  const ratio = await page.evaluate("devicePixelRatio") as number;
  const found = await page.$eval(
    SELECT.log,
    (log: InPage, wanted: string[]) =>
      wanted.map((text) => {
        const rect = (r: InPage) => ({ x: r.x, y: r.y, width: r.width, height: r.height });
        const li = [...log.querySelectorAll("li[data-from]")].find((e: InPage) =>
          (e.textContent ?? "").includes(text)
        );
        if (!li) return null;
        const doc = li.ownerDocument;
        const walker = doc.createTreeWalker(li, 4 /* NodeFilter.SHOW_TEXT */);
        let node = walker.nextNode();
        while (node !== null && !node.data.includes(text)) node = walker.nextNode();
        if (node === null) return null;
        const range = doc.createRange();
        range.selectNodeContents(node);
        return {
          text,
          item: rect(li.getBoundingClientRect()),
          body: rect(range.getBoundingClientRect()),
        };
      }),
    texts,
  );
  return found.map((f, i) => {
    assert.ok(f, `no message shows "${texts[i]}" in one text node`);
    return { text: f.text, item: scale(f.item, ratio), body: scale(f.body, ratio) };
  });
}

/** How many pixels of `box` differ from its own most common colour (its background). */
function drawnIn(image: Image, box: Box): number {
  return pixelsDiffering(image, box, background(image, box));
}

browserTest(
  "web client screenshot shows the conversation: text drawn inside every message's box, " +
    "the image not blank",
  async () => {
    await withWebChat(async (server, open) => {
      const view = { width: 900, height: 560, deviceScaleFactor: 1 };
      const alice = await open(view);
      await join(alice, "alice");
      const bob = await open(view);
      await join(bob, "bob");
      const carol = new PipedClient("carol", server.port);
      try {
        await carol.registered();
        await waitForOnline(alice, ["alice", "bob", "carol"]);
        await openConversation(alice, "ALL");
        await openConversation(bob, "ALL");
        await send(bob, "Anyone up for lunch at one?");
        await waitForMessage(alice, "bob", "Anyone up for lunch at one?");
        await carol.type("@ALL Yes! The usual place by the river?");
        await waitForMessage(alice, "carol", "The usual place by the river?");
        await send(alice, "Count me in. I'll book a table for three.");
        await waitForMessage(alice, "alice", "book a table for three", "delivered");
        await carol.type("@alice can you bring the slides?");
        await waitForUnread(alice, "carol", 1);
        await waitForMessage(bob, "alice", "book a table for three");
        await alice.$eval("html", (h: InPage) => h.ownerDocument.activeElement?.blur?.());

        const png = await alice.screenshot({ type: "png" });
        const image = decodePng(png);
        const ratio = await alice.evaluate("devicePixelRatio") as number;
        assert.deepEqual([image.width, image.height], [view.width * ratio, view.height * ratio]);
        assert.ok(colourCount(image) > 32, `a blank image: ${colourCount(image)} colours`);
        const texts = [
          "Anyone up for lunch at one?",
          "Yes! The usual place by the river?",
          "Count me in. I'll book a table for three.",
        ];
        const messages = await messageBoxes(alice, texts);
        const enough = 30 * ratio * ratio;
        for (const { text, item, body } of messages) {
          const where = `"${text}" (message ${JSON.stringify(item)}, text ${JSON.stringify(body)})`;
          assert.ok(item.y >= 0 && item.y + item.height <= image.height, `${where} is on screen`);
          assert.ok(drawnIn(image, item) > enough, `${where}: nothing drawn in the message`);
          assert.ok(drawnIn(image, body) > enough, `${where}: its text is not drawn`);
        }
        if (Deno.env.get("UPDATE_SCREENSHOT") === "1") {
          await Deno.mkdir(new URL(".", README_IMAGE), { recursive: true });
          await Deno.writeFile(README_IMAGE, png);
        }
        // The check can fail: with the texts made invisible, it finds them undrawn.
        await alice.$eval(SELECT.log, (log: InPage, wanted: string[]) => {
          for (const li of log.querySelectorAll("li[data-from]")) {
            const walker = li.ownerDocument.createTreeWalker(li, 4);
            for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
              if (wanted.some((t) => n.data.includes(t))) {
                n.parentElement.style.color = "transparent";
              }
            }
          }
        }, texts);
        const hidden = decodePng(await alice.screenshot({ type: "png" }));
        for (const { text, body } of await messageBoxes(alice, texts)) {
          assert.ok(drawnIn(hidden, body) < enough / 3, `"${text}" hidden, yet found drawn`);
        }
        assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
      } finally {
        await carol.dispose();
      }
    });
  },
);
