/**
 * Owned names in the browser: a browser user's name is claimed with a key the browser keeps
 * (IndexedDB), so nobody else can take the name while it is away; a terminal user's message to
 * it meanwhile is stored, and so is another browser user's (one tick, then two); the same
 * browser profile, started again, joins under the name, is shown both messages, and both
 * senders get the delivered receipt. Real Chromium and Firefox (WebCrypto Ed25519 keys in
 * IndexedDB in each); each ignored, with the reason in its name, when missing.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { type BrowserKind, browserTests, launchBrowser, openPage, withBrowser } from "./browser.ts";
import { PipedClient, runChat } from "./spawn.ts";
import {
  element,
  join,
  openConversation,
  send,
  startWebServer,
  stopWebServer,
  waitForMessage,
  waitForNotice,
  waitForUnread,
} from "./web_page.ts";

/**
 * Launches browser `kind` on `profile`, opens the page, joins as `name`, runs `body`, checks
 * the page had no problem, and closes the browser (the profile stays).
 */
async function visit(
  kind: BrowserKind,
  profile: string,
  url: string,
  name: string,
  body: (page: Page) => Promise<void>,
): Promise<void> {
  const launched = await launchBrowser(kind, { userDataDir: profile });
  try {
    const { page, problems } = await openPage(launched.browser, url);
    await join(page, name);
    await body(page);
    assert.deepEqual(problems, []);
  } finally {
    await launched.close();
  }
}

/** Opens a conversation with someone who is not online, by "Write to" and "Open". */
async function writeTo(page: Page, name: string): Promise<void> {
  const to = await element(page, '::-p-aria([name="Write to"][role="textbox"])');
  await to.type(name);
  await (await element(page, '::-p-aria([name="Open"][role="button"])')).click();
  await openConversation(page, name);
}

const STORED =
  /^Message stored for alice, who is offline: it will be delivered when they come back$/;

browserTests(
  "web client: a browser owns its name; messages to it while the browser is closed, from a " +
    "terminal and from another browser, are stored, shown when the same profile comes back, " +
    "and their senders get the receipts",
  async (kind) => {
    const data = await Deno.makeTempDir({ prefix: "chat-test-web-owned-data-" });
    const profile = await Deno.makeTempDir({ prefix: "chat-test-web-owned-profile-" });
    const server = await startWebServer(["--data", data]);
    // carol's input ends before alice comes back; she then waits for alice's receipt. Two
    // browser launches come between (Firefox takes over 10 s each on a loaded machine), so the
    // wait is long: she leaves as soon as the receipt comes.
    const carol = new PipedClient("carol", server.port, ["--wait", "120s"]);
    try {
      // First visit: join, and the name is claimed with a key this browser keeps.
      await visit(kind, profile, server.url, "alice", async (page) => {
        await waitForNotice(page, /"alice" now belongs to you/);
        const databases = await page.evaluate(
          "indexedDB.databases().then((all) => all.map((d) => d.name))",
        ) as string[];
        assert.ok(databases.length > 0, "the key is in IndexedDB");
      });
      await server.process.waitFor(/alice : DISCONNECTED/);

      // Away: nobody else can take the name; messages to it are stored.
      const impostor = await runChat(
        ["client", "alice", "127.0.0.1", "--port", String(server.port)],
        { stdin: "" },
      );
      assert.equal(impostor.code, 1, impostor.stderr);
      assert.match(impostor.stderr, /The username "alice" is taken/);
      await carol.registered();
      await carol.type("@alice written while your browser was closed");
      await carol.process.waitFor(STORED);
      await carol.endInput();

      await withBrowser(kind, async ({ browser }) => {
        const opened = await openPage(browser, server.url);
        const bob = opened.page;
        await join(bob, "bob");
        await writeTo(bob, "alice");
        await send(bob, "from bob's browser, while yours was closed");
        await waitForMessage(bob, "bob", "from bob's browser", "stored");

        // Back, in the same profile: the key proves the name and the mail comes.
        await visit(kind, profile, server.url, "alice", async (page) => {
          await waitForUnread(page, "carol", 1);
          await waitForUnread(page, "bob", 1);
          await openConversation(page, "carol");
          await waitForMessage(page, "carol", "written while your browser was closed");
          await openConversation(page, "bob");
          await waitForMessage(page, "bob", "from bob's browser, while yours was closed");
          // The mail ids shown are kept for this name (a redelivery after a crash is dropped).
          const seen = await page.evaluate(() =>
            Object.keys(localStorage).filter((k) => k.startsWith("chat.seen ")).map((k) =>
              `${k}=${localStorage.getItem(k)}`
            )
          );
          assert.equal(seen.length, 1, seen.join("\n"));
          assert.match(seen[0]!, /^chat\.seen \S+ alice=m \d+ \d+\nm \d+ \d+$/);
          await carol.process.waitFor(/^Message delivered to alice \(stored at [^)]+\)$/, {
            timeoutMs: 15_000,
          });
          await waitForMessage(bob, "bob", "from bob's browser", "delivered");
        });
        assert.deepEqual(opened.problems, []);
      });
      assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
    } finally {
      await carol.dispose();
      await stopWebServer(server);
      await Deno.remove(data, { recursive: true });
      await Deno.remove(profile, { recursive: true });
    }
  },
);
