/**
 * Real headless Chromium for tests: Debian's `chromium` (or `chromium-browser`, or the program
 * named by `CHROME_PATH`) driven by `puppeteer-core` over the DevTools protocol. Each launch
 * gets a fresh user data directory (removed afterwards unless the test passed its own), and
 * closes cleanly so that `--sanitize-ops --sanitize-resources` pass. Tests that need it are
 * ignored, and say why in their names, when no Chromium is installed (as tests/tmux.ts does for
 * tmux).
 *
 * @module
 */
import puppeteer, { type Browser, type BrowserContext, type Page } from "puppeteer-core";

/** The launch flags that work on these machines (../shared/platform-facts.md). */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The absolute path of `program` found on `PATH` (as the shell would run it), if any. */
function onPath(program: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const path = `${dir}/${program}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch { /* not here */ }
  }
  return undefined;
}

/**
 * The Chromium program to drive: `CHROME_PATH` when set (even if it is wrong, so that a wrong
 * setting fails loudly instead of skipping), else `chromium` or `chromium-browser` on `PATH`,
 * else undefined.
 */
export function findChromium(): string | undefined {
  const fromEnv = Deno.env.get("CHROME_PATH")?.trim();
  if (fromEnv) return fromEnv;
  for (const program of ["chromium", "chromium-browser"]) {
    const path = onPath(program);
    if (path !== undefined) return path;
  }
  return undefined;
}

/** The Chromium these tests use, found once per test file. */
export const chromiumPath: string | undefined = findChromium();

/** Appended to a browser test's name: empty, or why the test is ignored. */
export const browserSkipReason: string = chromiumPath === undefined
  ? " (IGNORED: chromium is not installed; apt-get install chromium, or set CHROME_PATH)"
  : "";

/**
 * Registers a test that needs Chromium: ignored, with the reason in its name, when there is
 * none.
 */
export function browserTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: name + browserSkipReason, ignore: chromiumPath === undefined, fn });
}

/** How long closing Chromium may take before it is killed. */
const CLOSE_MS = 20_000;

/** A running Chromium and the user data directory (profile) it uses. */
export interface Chromium {
  readonly browser: Browser;
  readonly userDataDir: string;
  /** Closes every page and the browser; removes the profile if the launch made it. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium. `userDataDir` reuses a profile (the same "browser" coming back,
 * with its IndexedDB); without it a fresh temporary profile is made and removed on close.
 * `acceptInsecureCerts` lets pages use a server's self-signed test certificate.
 */
export async function launchChromium(
  options: { userDataDir?: string; acceptInsecureCerts?: boolean } = {},
): Promise<Chromium> {
  if (chromiumPath === undefined) {
    throw new Error("No Chromium to launch: install chromium, or set CHROME_PATH to one.");
  }
  const ownDir = options.userDataDir === undefined;
  const userDataDir = options.userDataDir ??
    await Deno.makeTempDir({ prefix: "chat-test-chromium-" });
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [...CHROMIUM_FLAGS],
      userDataDir,
      defaultViewport: null,
      timeout: 30_000,
      acceptInsecureCerts: options.acceptInsecureCerts ?? false,
    });
  } catch (error) {
    if (ownDir) await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    throw new Error(
      `Could not launch Chromium ("${chromiumPath}"): ${(error as Error).message}`,
      { cause: error },
    );
  }
  let closed = false;
  return {
    browser,
    userDataDir,
    async close() {
      if (closed) return;
      closed = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          browser.process()?.kill("SIGKILL");
          reject(new Error("Chromium did not close within 20 s: it was killed."));
        }, CLOSE_MS);
      });
      try {
        await Promise.race([browser.close(), stuck]);
      } finally {
        clearTimeout(timer);
        if (ownDir) await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
      }
    },
  };
}

/** Runs `body` with a fresh Chromium and closes it afterwards whatever happens. */
export async function withChromium<T>(body: (chromium: Chromium) => Promise<T>): Promise<T> {
  const chromium = await launchChromium();
  try {
    return await body(chromium);
  } finally {
    await chromium.close();
  }
}

/** A viewport: CSS pixels and the device pixel ratio. */
export interface Viewport {
  width: number;
  height: number;
  deviceScaleFactor?: number;
}

/** A desktop window. */
export const DESKTOP: Viewport = { width: 1024, height: 700, deviceScaleFactor: 1 };
/** A phone held upright: 360 CSS pixels wide, two device pixels per CSS pixel. */
export const PHONE: Viewport = { width: 360, height: 740, deviceScaleFactor: 2 };

/**
 * Opens a page (in `browser`, or in one of its contexts) at `viewport` and goes to `url`
 * (waiting for its load event). Errors the page throws, console errors (a blocked resource,
 * a CSP violation), and any request to another origin than `url`'s (the page must fetch
 * nothing from elsewhere) are collected in `problems`, so that a test can check there were
 * none.
 */
export async function openPage(
  browser: Browser | BrowserContext,
  url: string,
  viewport: Viewport = DESKTOP,
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const origin = new URL(url).origin;
  page.on("pageerror", (error) => problems.push(`page error: ${String(error)}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("request", (request) => {
    const to = request.url();
    const from = new URL(to.replace(/^ws(s?):/, "http$1:")).origin;
    if (!to.startsWith("data:") && from !== origin) {
      problems.push(`request to another origin: ${to}`);
    }
  });
  page.setDefaultTimeout(15_000);
  // The first load of a server's page may wait for its script to be bundled (a cold cache
  // fetches the bundler), so navigation gets longer.
  page.setDefaultNavigationTimeout(60_000);
  await page.setViewport({ deviceScaleFactor: 1, ...viewport });
  await page.goto(url, { waitUntil: "load" });
  return { page, problems };
}
