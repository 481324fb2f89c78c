/**
 * The web client over HTTPS and WSS: `chat server --tls-cert --tls-key` serves the page with
 * TLS, and a real browser, Chromium and Firefox (told to accept the test's self-signed
 * certificate), joins over a secure WebSocket and talks with a `chat client --tls` user. Each
 * ignored, with the reason in its name, when its browser or openssl is missing.
 */
import assert from "node:assert/strict";
import { BROWSER_KINDS, browserRuns, launchBrowser, nameIn, openPage } from "./browser.ts";
import { hasOpenssl, makeCertificate, needsOpenssl, withTempDir } from "./certs.ts";
import { PipedClient } from "./spawn.ts";
import {
  join,
  openFromOnline,
  send,
  startWebServer,
  stopWebServer,
  waitForMessage,
  waitForOnline,
} from "./web_page.ts";

for (const kind of BROWSER_KINDS) {
  // In Firefox only when TEST_BROWSERS names it: a launch (5 to 15 s) for what the other Firefox
  // tests show works there, with https in place of http://127.0.0.1 (both secure contexts).
  const { runs, reason } = browserRuns(kind, kind === "firefox");
  Deno.test({
    name: nameIn(
      kind,
      "web client over HTTPS and WSS: a browser joins a TLS server and talks with a " +
        "chat client --tls user",
    ) + reason + needsOpenssl,
    ignore: !runs || !hasOpenssl,
    fn: async () => {
      await withTempDir(async (dir) => {
        const { cert, key } = await makeCertificate(dir, "server");
        const server = await startWebServer(["--memory", "--tls-cert", cert, "--tls-key", key]);
        const launched = await launchBrowser(kind, { acceptInsecureCerts: true });
        const carol = new PipedClient("carol", server.port, ["--tls", "--ca", cert]);
        try {
          assert.match(server.url, /^https:\/\//);
          const { page, problems } = await openPage(launched.browser, server.url);
          assert.equal(await page.evaluate("location.protocol"), "https:");
          await join(page, "alice");
          await carol.registered();
          await waitForOnline(page, ["alice", "carol"]);
          await openFromOnline(page, "carol");
          await send(page, "over wss, end to end");
          await carol.process.waitFor(/^alice: over wss, end to end$/, { timeoutMs: 15_000 });
          await waitForMessage(page, "alice", "over wss, end to end", "delivered");
          await carol.type("@alice and back over TLS");
          await waitForMessage(page, "carol", "and back over TLS");
          assert.equal(await carol.exit(), 0, carol.stderr.join("\n"));
          assert.deepEqual(problems, []);
        } finally {
          await carol.dispose();
          await launched.close();
          await stopWebServer(server);
        }
      });
    },
  });
}
