/**
 * Real headless browsers for tests, driven by `puppeteer-core`: Chromium (Debian's `chromium`,
 * or `chromium-browser`, or the program named by `CHROME_PATH`) over the DevTools protocol, and
 * Firefox (Debian's `firefox-esr`, or `firefox`, or the program named by `FIREFOX_PATH`) over
 * WebDriver BiDi. Each launch gets a fresh profile directory (removed afterwards unless the test
 * passed its own), and closes cleanly so that `--sanitize-ops --sanitize-resources` pass.
 * `TEST_BROWSERS` (a comma-separated list, `chromium,firefox` by default) chooses the browsers
 * the tests run in; a few tests run in Firefox only when it names `firefox` (see
 * {@link browserTests}). Tests that need a browser that is missing or not chosen are ignored,
 * and say why in their names (as tests/tmux.ts does for tmux).
 *
 * @module
 */
import puppeteer, { type Browser, type BrowserContext, type Page } from "puppeteer-core";

/** A browser the tests can drive. */
export type BrowserKind = "chromium" | "firefox";

/** Every browser the tests know, in the order their tests are registered. */
export const BROWSER_KINDS: readonly BrowserKind[] = ["chromium", "firefox"];

/** How each browser is called in test names and messages. */
export const BROWSER_NAMES: Readonly<Record<BrowserKind, string>> = {
  chromium: "Chromium",
  firefox: "Firefox",
};

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

/**
 * Firefox preferences added to puppeteer's own (which already keep Firefox off the network for
 * updates, safe browsing, telemetry and the like): no captive portal or connectivity probes, no
 * prefetching, no session restore, so that a test's only traffic is its own page's.
 */
export const FIREFOX_PREFS: Readonly<Record<string, unknown>> = {
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "network.dns.disablePrefetch": true,
  "network.prefetch-next": false,
  "browser.sessionstore.resume_from_crash": false,
};

/**
 * The browsers named by `value` (a comma-separated list such as `TEST_BROWSERS`'s; empty or
 * undefined: all of them).
 */
export function parseBrowserList(value: string | undefined): BrowserKind[] {
  const names = (value ?? "").split(",").map((n) => n.trim().toLowerCase()).filter((n) => n);
  if (names.length === 0) return [...BROWSER_KINDS];
  const kinds: BrowserKind[] = [];
  for (const name of names) {
    if (!(BROWSER_KINDS as readonly string[]).includes(name)) {
      throw new Error(
        `Unknown browser "${name}" in TEST_BROWSERS: use ${
          BROWSER_KINDS.map((k) => `"${k}"`).join(" or ")
        }, comma-separated.`,
      );
    }
    if (!kinds.includes(name as BrowserKind)) kinds.push(name as BrowserKind);
  }
  return kinds;
}

/** The browsers chosen for this test run (`TEST_BROWSERS`), read once per test file. */
export const chosenBrowsers: readonly BrowserKind[] = parseBrowserList(
  Deno.env.get("TEST_BROWSERS"),
);

/** The browsers `TEST_BROWSERS` names (none when it is unset: every browser by default). */
const namedBrowsers: readonly BrowserKind[] = (Deno.env.get("TEST_BROWSERS") ?? "").trim()
  ? chosenBrowsers
  : [];

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

/** For each browser: the variable that names its program, and the programs looked for. */
const PROGRAMS: Readonly<Record<BrowserKind, { env: string; names: string[]; apt: string }>> = {
  chromium: { env: "CHROME_PATH", names: ["chromium", "chromium-browser"], apt: "chromium" },
  firefox: { env: "FIREFOX_PATH", names: ["firefox-esr", "firefox"], apt: "firefox-esr" },
};

/**
 * The program of browser `kind` to drive: its variable (`CHROME_PATH`, `FIREFOX_PATH`) when set
 * (even if it is wrong, so that a wrong setting fails loudly instead of skipping), else the
 * first of its usual names on `PATH` (`chromium`, `chromium-browser`; `firefox-esr`,
 * `firefox`), else undefined.
 */
export function findBrowser(kind: BrowserKind): string | undefined {
  const { env, names } = PROGRAMS[kind];
  const fromEnv = Deno.env.get(env)?.trim();
  if (fromEnv) return fromEnv;
  for (const program of names) {
    const path = onPath(program);
    if (path !== undefined) return path;
  }
  return undefined;
}

/** The Chromium program to drive ({@link findBrowser} for `"chromium"`). */
export function findChromium(): string | undefined {
  return findBrowser("chromium");
}

/**
 * The program of each browser these tests use, found once per test file: undefined when it is
 * not installed or not chosen by `TEST_BROWSERS`.
 */
export const browserPaths: Readonly<Record<BrowserKind, string | undefined>> = {
  chromium: chosenBrowsers.includes("chromium") ? findBrowser("chromium") : undefined,
  firefox: chosenBrowsers.includes("firefox") ? findBrowser("firefox") : undefined,
};

/** The Chromium these tests use (undefined: none, or not chosen by `TEST_BROWSERS`). */
export const chromiumPath: string | undefined = browserPaths.chromium;

/** Appended to the name of a test in browser `kind`: empty, or why the test is ignored. */
export function skipReason(kind: BrowserKind): string {
  if (browserPaths[kind] !== undefined) return "";
  if (!chosenBrowsers.includes(kind)) {
    return ` (IGNORED: ${kind} is not in TEST_BROWSERS=${chosenBrowsers.join(",")})`;
  }
  const { env, apt } = PROGRAMS[kind];
  return ` (IGNORED: ${kind} is not installed; apt-get install ${apt}, or set ${env})`;
}

/** Appended to a Chromium test's name: empty, or why the test is ignored. */
export const browserSkipReason: string = skipReason("chromium");

/**
 * Registers a test that needs Chromium: ignored, with the reason in its name, when there is
 * none.
 */
export function browserTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: name + browserSkipReason, ignore: chromiumPath === undefined, fn });
}

/** `name` saying which browser it runs in: `NAME, in Firefox`. */
export function nameIn(kind: BrowserKind, name: string): string {
  return `${name}, in ${BROWSER_NAMES[kind]}`;
}

/**
 * Registers one test per browser of `kinds` (default: all): `NAME, in Chromium`, `NAME, in
 * Firefox`, each given its browser; ignored, with the reason in its name, when that browser is
 * missing or not chosen. The browsers of `whenNamed` run only when `TEST_BROWSERS` names them:
 * for the tests whose run in that browser is worth less than the time it adds to every run
 * (a Firefox launch costs 5 to 15 s on these machines, a Chromium one 2 to 3 s).
 */
export function browserTests(
  name: string,
  fn: (kind: BrowserKind) => Promise<void>,
  kinds: readonly BrowserKind[] = BROWSER_KINDS,
  whenNamed: readonly BrowserKind[] = [],
): void {
  for (const kind of kinds) {
    const { runs, reason } = browserRuns(kind, whenNamed.includes(kind));
    Deno.test({ name: nameIn(kind, name) + reason, ignore: !runs, fn: () => fn(kind) });
  }
}

/**
 * Whether a test in browser `kind` runs, and the reason it does not (appended to its name; ""
 * when it runs). `whenNamed`: it runs only when `TEST_BROWSERS` names `kind` (see
 * {@link browserTests}).
 */
export function browserRuns(
  kind: BrowserKind,
  whenNamed = false,
): { runs: boolean; reason: string } {
  if (browserPaths[kind] === undefined) return { runs: false, reason: skipReason(kind) };
  if (whenNamed && !namedBrowsers.includes(kind)) {
    return {
      runs: false,
      reason: ` (IGNORED: in ${BROWSER_NAMES[kind]} only when TEST_BROWSERS names ${kind})`,
    };
  }
  return { runs: true, reason: "" };
}

/**
 * The Firefoxes {@link launchBrowser} started: {@link openPage} opens each of their pages in a
 * window of its own (see there).
 */
const firefoxes = new WeakSet<Browser>();

/** How long closing a browser may take before it is killed. */
const CLOSE_MS = 20_000;

/** A running Chromium and the user data directory (profile) it uses. */
export interface Chromium {
  readonly browser: Browser;
  readonly userDataDir: string;
  /** Closes every page and the browser; removes the profile if the launch made it. */
  close(): Promise<void>;
}

/** A running browser of either kind, and the profile directory it uses. */
export interface TestBrowser extends Chromium {
  readonly kind: BrowserKind;
}

/** What a launch may be given. */
export interface LaunchOptions {
  /**
   * Reuse this profile (the same "browser" coming back, with its IndexedDB); without it a fresh
   * temporary profile is made and removed on close.
   */
  userDataDir?: string;
  /** Let pages use a server's self-signed test certificate. */
  acceptInsecureCerts?: boolean;
}

/**
 * Launches headless browser `kind` on a profile of its own (or `options.userDataDir`): Chromium
 * over the DevTools protocol, Firefox over WebDriver BiDi.
 */
export async function launchBrowser(
  kind: BrowserKind,
  options: LaunchOptions = {},
): Promise<TestBrowser> {
  const path = browserPaths[kind];
  const label = BROWSER_NAMES[kind];
  if (path === undefined) {
    throw new Error(
      `No ${label} to launch${skipReason(kind).replace(/^ \(IGNORED: /, ": ").replace(/\)$/, "")}.`,
    );
  }
  const ownDir = options.userDataDir === undefined;
  const userDataDir = options.userDataDir ??
    await Deno.makeTempDir({ prefix: `chat-test-${kind}-` });
  let browser: Browser;
  try {
    const common = {
      executablePath: path,
      headless: true,
      userDataDir,
      defaultViewport: null,
      timeout: 30_000,
      acceptInsecureCerts: options.acceptInsecureCerts ?? false,
    };
    browser = kind === "chromium"
      ? await puppeteer.launch({ ...common, browser: "chrome", args: [...CHROMIUM_FLAGS] })
      : await puppeteer.launch({
        ...common,
        browser: "firefox",
        extraPrefsFirefox: { ...FIREFOX_PREFS },
      });
  } catch (error) {
    if (ownDir) await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    throw new Error(
      `Could not launch ${label} ("${path}"): ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (kind === "firefox") firefoxes.add(browser);
  let closed = false;
  return {
    kind,
    browser,
    userDataDir,
    async close() {
      if (closed) return;
      closed = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          browser.process()?.kill("SIGKILL");
          reject(new Error(`${label} did not close within 20 s: it was killed.`));
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

/**
 * Launches headless Chromium ({@link launchBrowser} for `"chromium"`). `userDataDir` reuses a
 * profile; `acceptInsecureCerts` lets pages use a server's self-signed test certificate.
 */
export function launchChromium(options: LaunchOptions = {}): Promise<Chromium> {
  return launchBrowser("chromium", options);
}

/** Runs `body` with a fresh browser of `kind` and closes it afterwards whatever happens. */
export async function withBrowser<T>(
  kind: BrowserKind,
  body: (browser: TestBrowser) => Promise<T>,
  options: LaunchOptions = {},
): Promise<T> {
  const launched = await launchBrowser(kind, options);
  try {
    return await body(launched);
  } finally {
    await launched.close();
  }
}

/** Runs `body` with a fresh Chromium and closes it afterwards whatever happens. */
export function withChromium<T>(body: (chromium: Chromium) => Promise<T>): Promise<T> {
  return withBrowser("chromium", body);
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
 * Opens a page (in `browser`, or in one of its contexts; in Firefox in a window of its own, so
 * that it is visible) at `viewport` and goes to `url` (waiting for its load event). Errors the
 * page throws, console errors (a blocked resource, a CSP violation: Firefox reports those as
 * page errors), and any request to another origin than `url`'s (the page must fetch nothing
 * from elsewhere) are collected in `problems`, so that a test can check there were none.
 */
export async function openPage(
  browser: Browser | BrowserContext,
  url: string,
  viewport: Viewport = DESKTOP,
): Promise<{ page: Page; problems: string[] }> {
  // Firefox shows one tab of a window at a time and the others are hidden (their
  // `document.visibilityState` is "hidden", so the chat page counts what arrives as unread), as
  // a person's browser would; Chromium's headless tabs are all visible. Each person is a window.
  const owner = "defaultBrowserContext" in browser ? browser : browser.browser();
  const page = await browser.newPage(firefoxes.has(owner) ? { type: "window" } : undefined);
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
