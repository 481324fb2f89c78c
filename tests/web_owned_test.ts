/**
 * Owned names in the browser: a browser user's name is claimed with a key the browser keeps
 * (IndexedDB), so nobody else can take the name while it is away; a terminal user's message to
 * it meanwhile is stored; the same browser profile, started again, joins under the name, is
 * shown the message, and the sender gets the delivered receipt. Real Chromium; ignored, with
 * the reason in the name, when it is missing.
 */
import assert from "node:assert/strict";
import { browserTest, launchChromium, openPage } from "./browser.ts";
import { PipedClient, runChat } from "./spawn.ts";
import {
  join,
  openConversation,
  startWebServer,
  stopWebServer,
  waitForMessage,
  waitForNotice,
  waitForUnread,
} from "./web_page.ts";

browserTest(
  "web client: a browser owns its name; a message to it while the browser is closed is " +
    "stored, shown when the same profile comes back, and the sender gets the receipt",
  async () => {
    const data = await Deno.makeTempDir({ prefix: "chat-test-web-owned-data-" });
    const profile = await Deno.makeTempDir({ prefix: "chat-test-web-owned-profile-" });
    const server = await startWebServer(["--data", data]);
    try {
      // First visit: join, and the name is claimed with a key this browser keeps.
      let chromium = await launchChromium({ userDataDir: profile });
      try {
        const { page, problems } = await openPage(chromium.browser, server.url);
        await join(page, "alice");
        await openConversation(page, "ALL");
        await waitForNotice(page, /"alice" now belongs to you/);
        const databases = await page.evaluate(
          "indexedDB.databases().then((all) => all.map((d) => d.name))",
        ) as string[];
        assert.ok(databases.length > 0, "the key is in IndexedDB");
        assert.deepEqual(problems, []);
      } finally {
        await chromium.close();
      }
      await server.process.waitFor(/alice : DISCONNECTED/);

      // Away: nobody else can take the name; a message to it is stored.
      const impostor = await runChat(
        ["client", "alice", "127.0.0.1", "--port", String(server.port)],
        { stdin: "" },
      );
      assert.equal(impostor.code, 1, impostor.stderr);
      assert.match(impostor.stderr, /The username "alice" is taken/);
      const carol = new PipedClient("carol", server.port, ["--wait", "30s"]);
      try {
        await carol.registered();
        await carol.type("@alice written while your browser was closed");
        await carol.process.waitFor(
          /^Message stored for alice, who is offline: it will be delivered when they come back$/,
        );
        await carol.endInput();

        // Back, in the same profile: the key proves the name and the mail comes.
        chromium = await launchChromium({ userDataDir: profile });
        try {
          const { page, problems } = await openPage(chromium.browser, server.url);
          await join(page, "alice");
          await waitForUnread(page, "carol", 1);
          await openConversation(page, "carol");
          await waitForMessage(page, "carol", "written while your browser was closed");
          await carol.process.waitFor(/^Message delivered to alice \(stored at [^)]+\)$/, {
            timeoutMs: 15_000,
          });
          assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
          assert.deepEqual(problems, []);
        } finally {
          await chromium.close();
        }
      } finally {
        await carol.dispose();
      }
    } finally {
      await stopWebServer(server);
      await Deno.remove(data, { recursive: true });
      await Deno.remove(profile, { recursive: true });
    }
  },
);
