/**
 * A browser user survives a server restart: the server stops (SIGTERM) and starts again on the
 * same TCP and web ports with the same data; the page says it is reconnecting, then that it
 * reconnected, and sends again, to a terminal user who came after the restart. Real Chromium;
 * ignored, with the reason in the name, when it is missing.
 */
import assert from "node:assert/strict";
import { browserTest, openPage, withChromium } from "./browser.ts";
import { PipedClient } from "./spawn.ts";
import {
  join,
  openFromOnline,
  send,
  startWebServer,
  stopWebServer,
  waitForMessage,
  waitForOnline,
  waitForStatus,
  type WebServer,
} from "./web_page.ts";

browserTest(
  "web client: a browser user survives a server restart on the same ports, says it is " +
    "reconnecting and then reconnected, and sends again",
  async () => {
    const data = await Deno.makeTempDir({ prefix: "chat-test-web-restart-" });
    let server: WebServer | undefined = await startWebServer(["--data", data]);
    try {
      await withChromium(async ({ browser }) => {
        const { page, problems } = await openPage(browser, server!.url);
        await join(page, "alice");
        await waitForOnline(page, ["alice"]);

        assert.equal(await stopWebServer(server!), 0);
        const { port, webPort } = server!;
        server = undefined;
        await waitForStatus(page, /^Reconnecting…$/);

        server = await startWebServer(["--data", data], { port, webPort });
        await waitForStatus(page, /^Reconnected$/, 30_000);

        const carol = new PipedClient("carol", server.port);
        try {
          await carol.registered();
          await waitForOnline(page, ["alice", "carol"]);
          await openFromOnline(page, "carol");
          await send(page, "still here after the restart");
          await carol.process.waitFor(/^alice: still here after the restart$/, {
            timeoutMs: 15_000,
          });
          await waitForMessage(page, "alice", "still here after the restart", "delivered");
          assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
        } finally {
          await carol.dispose();
        }
        // A reconnect may log the failed attempts' network errors; nothing may throw.
        assert.deepEqual(problems.filter((p) => p.startsWith("page error")), []);
      });
    } finally {
      if (server) await stopWebServer(server);
      await Deno.remove(data, { recursive: true });
    }
  },
);
