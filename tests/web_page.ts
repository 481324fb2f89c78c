/**
 * Drives the chat web page in a real browser for the tests/web_*_test.ts tests, through the DOM
 * contract of issue 12 only (accessible names and data-* attributes, never classes or layout),
 * and starts `chat server` with its web port. Every wait is on a condition, with a timeout that
 * says what was awaited and what the page showed.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ElementHandle, Page } from "puppeteer-core";
import { type ChatProcess, startWebServer as startServerWithWeb } from "./spawn.ts";
import { type BrowserKind, DESKTOP, openPage, type Viewport, withBrowser } from "./browser.ts";

/**
 * The browser's global object inside functions that run in the page (puppeteer sends their
 * source there). Deno's type checker has no DOM types, so it is untyped here.
 */
// deno-lint-ignore no-explicit-any
export type InPage = any;

/** How long a wait for the page lasts by default. */
export const WAIT_MS = 15_000;

/** Accessible selectors of the DOM contract. */
export const SELECT = {
  username: '::-p-aria([name="Username"][role="textbox"])',
  join: '::-p-aria([name="Join"][role="button"])',
  message: '::-p-aria([name="Message"][role="textbox"])',
  send: '::-p-aria([name="Send"][role="button"])',
  alert: '[role="alert"]',
  status: 'p[role="status"]',
  conversations: 'nav[aria-label="Conversations"]',
  online: 'ul[aria-label="Online"]',
  log: 'ol[role="log"][aria-label="Messages"]',
} as const;

/** A `chat server` with its TCP and web ports. */
export interface WebServer {
  process: ChatProcess;
  port: number;
  webPort: number;
  /** The page's address, `http://127.0.0.1:WEBPORT/` (`https` with TLS). */
  url: string;
}

/**
 * Starts `chat server --host 127.0.0.1 --port PORT --web WEBPORT` (0: free ports; give the
 * ports of a server that ran before to restart it there) and waits for both startup lines.
 */
export async function startWebServer(
  extra: string[] = [],
  ports: { port?: number; webPort?: number } = {},
): Promise<WebServer> {
  const { server, port, webPort, url } = await startServerWithWeb(extra, ports);
  return { process: server, port, webPort, url };
}

/** Stops the server with SIGTERM and waits for it to exit; returns its exit code. */
export async function stopWebServer(server: WebServer): Promise<number> {
  server.process.kill("SIGTERM");
  return (await server.process.exit()).code;
}

/** Opens the chat page for one more user, at a viewport (default {@link DESKTOP}). */
export type OpenUser = (viewport?: Viewport) => Promise<Page>;

/**
 * Runs `body` with a server (in memory unless `serverArgs` say otherwise) and a Chromium, and
 * stops both whatever happens ({@link withWebChatIn} for Chromium).
 */
export function withWebChat(
  body: (server: WebServer, open: OpenUser) => Promise<void>,
  serverArgs: string[] = ["--memory"],
): Promise<void> {
  return withWebChatIn("chromium", body, serverArgs);
}

/**
 * Runs `body` with a server (in memory unless `serverArgs` say otherwise) and a browser of
 * `kind`, and stops both whatever happens. Each page `open` makes is in a browser context of
 * its own (its own storage and IndexedDB: another person's browser). Afterwards no page may
 * have thrown or logged a console error.
 */
export async function withWebChatIn(
  kind: BrowserKind,
  body: (server: WebServer, open: OpenUser) => Promise<void>,
  serverArgs: string[] = ["--memory"],
): Promise<void> {
  const server = await startWebServer(serverArgs);
  try {
    await withBrowser(kind, async ({ browser }) => {
      const problems: string[] = [];
      const open: OpenUser = async (viewport = DESKTOP) => {
        const context = await browser.createBrowserContext();
        const opened = await openPage(context, server.url, viewport);
        problems.push(...opened.problems);
        return opened.page;
      };
      await body(server, open);
      assert.deepEqual(problems, [], "no page errors");
    });
  } finally {
    await stopWebServer(server);
  }
}

/** One item of the Messages log as the page shows it. */
export interface ShownItem {
  /** `data-from` (undefined for a notice). */
  from?: string;
  /** `data-state`. */
  state?: string;
  notice: boolean;
  /** The whole text of the item (time, sender, text, mark). */
  text: string;
  /** The item's text as rendered (`innerText`: line breaks where the page shows them). */
  rendered: string;
  /** The `datetime` of its `<time>`, and the time as shown. */
  datetime?: string;
  shownTime?: string;
}

/** The items of the Messages log of the selected conversation. */
export function shownItems(page: Page): Promise<ShownItem[]> {
  return page.$$eval(`${SELECT.log} > li`, (items) =>
    items.map((li: InPage) => {
      const time = li.querySelector("time");
      const item: Record<string, unknown> = {
        notice: li.hasAttribute("data-notice"),
        text: li.textContent ?? "",
        rendered: li.innerText ?? "",
      };
      if (li.hasAttribute("data-from")) item.from = li.getAttribute("data-from");
      if (li.hasAttribute("data-state")) item.state = li.getAttribute("data-state");
      if (time) {
        item.datetime = time.getAttribute("datetime");
        item.shownTime = time.textContent;
      }
      return item as unknown as ShownItem;
    }));
}

/** What the page shows, for the message of a failed wait. */
async function describe(page: Page): Promise<string> {
  try {
    return await page.$eval("body", (body: InPage) => {
      const q = (s: string) => [...body.querySelectorAll(s)];
      const attrs = (e: InPage) =>
        [...e.attributes].filter((a: InPage) =>
          a.name.startsWith("data-") || a.name.startsWith("aria-")
        )
          .map((a: InPage) => `${a.name}=${a.value}`).join(" ");
      return JSON.stringify(
        {
          status: q('p[role="status"]').map((e) => e.textContent),
          alerts: q('[role="alert"]').map((e) => e.textContent),
          conversations: q('nav[aria-label="Conversations"] [data-conversation]').map((e) =>
            `${attrs(e)}: ${e.textContent}`
          ),
          online: q('ul[aria-label="Online"] [data-user]').map((e) => e.getAttribute("data-user")),
          log: q('ol[role="log"] > li').map((e) => `${attrs(e)}: ${e.textContent}`),
          text: (body.innerText as string).slice(0, 600),
        },
        null,
        1,
      );
    });
  } catch (error) {
    return `(the page could not be read: ${(error as Error).message})`;
  }
}

/**
 * Waits until `condition` (run in the page with `args`) returns true, re-checking on every
 * DOM change; on timeout throws with `what` and what the page showed.
 */
export async function waitInPage(
  page: Page,
  what: string,
  condition: (...args: InPage[]) => boolean,
  args: unknown[],
  timeoutMs = WAIT_MS,
): Promise<void> {
  try {
    await page.waitForFunction(condition, { polling: "mutation", timeout: timeoutMs }, ...args);
  } catch (error) {
    throw new Error(
      `Timed out after ${timeoutMs} ms waiting for ${what}. The page showed: ${await describe(
        page,
      )}`,
      { cause: error },
    );
  }
}

/** Waits until the connection status (`p[role=status]`) matches `pattern`; returns its text. */
export async function waitForStatus(page: Page, pattern: RegExp, timeoutMs = WAIT_MS) {
  await waitInPage(
    page,
    `the status to match ${pattern}`,
    (source: string, flags: string) => {
      const status = (globalThis as InPage).document.querySelector('p[role="status"]');
      return status !== null && new RegExp(source, flags).test(status.textContent ?? "");
    },
    [pattern.source, pattern.flags],
    timeoutMs,
  );
  return await page.$eval(SELECT.status, (e: InPage) => e.textContent as string);
}

/** Finds the element for `selector`, or throws saying which. */
export async function element(page: Page, selector: string): Promise<ElementHandle> {
  const handle = await page.waitForSelector(selector, { timeout: WAIT_MS });
  if (handle === null) throw new Error(`No element for ${selector} on the page.`);
  return handle as ElementHandle;
}

/** Types `name` into Username, clicks Join, and waits for "Connected as NAME". */
export async function join(page: Page, name: string): Promise<void> {
  const username = await element(page, SELECT.username);
  await username.click({ count: 3 });
  await username.type(name);
  await (await element(page, SELECT.join)).click();
  await waitForStatus(page, new RegExp(`Connected as ${name}\\b`));
}

/** Opens a conversation by its button in the Conversations list, and waits until selected. */
export async function openConversation(page: Page, key: string): Promise<void> {
  const selector = `${SELECT.conversations} [data-conversation="${key}"]`;
  await (await element(page, selector)).click();
  await waitInPage(
    page,
    `conversation "${key}" to be selected`,
    (sel: string) =>
      (globalThis as InPage).document.querySelector(sel)?.getAttribute("aria-current") === "true",
    [selector],
  );
}

/**
 * Opens the conversation with `name` from the Online list (the way to start talking with
 * someone), and waits until it is selected.
 */
export async function openFromOnline(page: Page, name: string): Promise<void> {
  const person = await element(page, `${SELECT.online} [data-user="${name}"]`);
  const button = await person.$("button, a, [tabindex]") ?? person;
  await button.click();
  const selector = `${SELECT.conversations} [data-conversation="${name}"]`;
  await waitInPage(
    page,
    `conversation "${name}" to be opened from the Online list`,
    (sel: string) =>
      (globalThis as InPage).document.querySelector(sel)?.getAttribute("aria-current") === "true",
    [selector],
  );
}

/** Types `text` into Message and sends it with Enter (or the Send button, `by: "button"`). */
export async function send(
  page: Page,
  text: string,
  by: "enter" | "button" = "enter",
): Promise<void> {
  const box = await element(page, SELECT.message);
  await box.click();
  await box.type(text);
  if (by === "enter") await page.keyboard.press("Enter");
  else await (await element(page, SELECT.send)).click();
}

/** Waits until the selected conversation shows a message from `from` whose text has `text`. */
export async function waitForMessage(
  page: Page,
  from: string,
  text: string,
  state?: string,
): Promise<void> {
  await waitInPage(
    page,
    `a message from "${from}" with "${text}"${state ? ` (${state})` : ""}`,
    (log: string, who: string, what: string, st: string) =>
      [...(globalThis as InPage).document.querySelectorAll(`${log} > li[data-from]`)].some(
        (li: InPage) =>
          li.getAttribute("data-from") === who && (li.textContent ?? "").includes(what) &&
          (st === "" || li.getAttribute("data-state") === st),
      ),
    [SELECT.log, from, text, state ?? ""],
  );
}

/** Waits until the selected conversation shows a notice whose text matches `pattern`. */
export async function waitForNotice(page: Page, pattern: RegExp): Promise<void> {
  await waitInPage(
    page,
    `a notice matching ${pattern}`,
    (log: string, source: string, flags: string) =>
      [...(globalThis as InPage).document.querySelectorAll(`${log} > li[data-notice]`)].some(
        (li: InPage) => new RegExp(source, flags).test(li.textContent ?? ""),
      ),
    [SELECT.log, pattern.source, pattern.flags],
  );
}

/** Waits until the conversation `key`'s button says `data-unread="N"`. */
export async function waitForUnread(page: Page, key: string, unread: number): Promise<void> {
  const selector = `${SELECT.conversations} [data-conversation="${key}"]`;
  await waitInPage(
    page,
    `conversation "${key}" to show ${unread} unread`,
    (sel: string, n: string) =>
      (globalThis as InPage).document.querySelector(sel)?.getAttribute("data-unread") === n,
    [selector, String(unread)],
  );
}

/** Waits until the Online list is exactly `names` (in any order). */
export async function waitForOnline(page: Page, names: string[]): Promise<void> {
  await waitInPage(
    page,
    `the Online list to be ${names.join(", ")}`,
    (list: string, want: string[]) => {
      const shown = [
        ...(globalThis as InPage).document.querySelectorAll(`${list} [data-user]`),
      ].map((e: InPage) => e.getAttribute("data-user")).sort();
      return JSON.stringify(shown) === JSON.stringify([...want].sort());
    },
    [SELECT.online, names],
  );
}

/**
 * Presses Tab (or Shift+Tab, when `selector`'s element comes before the focused one) until the
 * element for `selector` has the focus (at most `max` presses). Going back instead of wrapping
 * round keeps the focus in the page: past its last control Tab goes to the browser's own
 * controls, and in headless Firefox the page then gets key presses without the focus, so Enter
 * no longer presses a button.
 */
export async function tabTo(page: Page, selector: string, max = 40): Promise<void> {
  const target = await element(page, selector);
  for (let i = 0; i <= max; i++) {
    const where = await target.evaluate((e: InPage) => {
      const active = e.ownerDocument.activeElement;
      if (e === active) return 0;
      if (active === null || active === e.ownerDocument.body) return 1;
      // 4: Node.DOCUMENT_POSITION_FOLLOWING, the target is after the focused element.
      return (active.compareDocumentPosition(e) & 4) !== 0 ? 1 : -1;
    }) as number;
    if (where === 0) return;
    if (where > 0) {
      await page.keyboard.press("Tab");
    } else {
      await page.keyboard.down("Shift");
      await page.keyboard.press("Tab");
      await page.keyboard.up("Shift");
    }
  }
  throw new Error(`Tab did not reach ${selector} in ${max} presses: it is not keyboard-reachable.`);
}
