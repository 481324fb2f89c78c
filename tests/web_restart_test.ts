/**
 * A browser user survives a server restart: the server stops (SIGTERM) and starts again on the
 * same TCP and web ports with the same data; the page says it is reconnecting, then that it
 * reconnected, and sends again, to a terminal user who came after the restart. Real Chromium
 * and Firefox; each ignored, with the reason in its name, when missing.
 */
import assert from "node:assert/strict";
import { BROWSER_KINDS, browserTests, openPage, withBrowser } from "./browser.ts";
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

/**
 * What Firefox reports, as an error of the page, for each attempt to connect while the server is
 * away (the page throws nothing: Chromium says the same as a console error).
 */
const FIREFOX_CONNECTION_ERROR =
  /^page error: Error: Firefox can.t establish a connection to the server at wss?:\/\/[^ ]+\.$/;

browserTests(
  "web client: a browser user survives a server restart on the same ports, says it is " +
    "reconnecting and then reconnected, and sends again",
  async (kind) => {
    const data = await Deno.makeTempDir({ prefix: "chat-test-web-restart-" });
    let server: WebServer | undefined = await startWebServer(["--data", data]);
    try {
      await withBrowser(kind, async ({ browser }) => {
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
        // A reconnect may log the failed attempts' network errors; nothing may throw. Firefox
        // reports each failed attempt as an error of the page, in words of its own.
        assert.deepEqual(
          problems.filter((p) => p.startsWith("page error") && !FIREFOX_CONNECTION_ERROR.test(p)),
          [],
        );
      });
    } finally {
      if (server) await stopWebServer(server);
      await Deno.remove(data, { recursive: true });
    }
  },
  BROWSER_KINDS,
  // Firefox adds a launch (5 to 15 s) for what the conversation test already shows works there.
  ["firefox"],
);
