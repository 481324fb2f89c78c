/**
 * What the server's web port serves besides the WebSocket: the page and its styles (page.ts),
 * and the browser client (browser/app.ts) as one script. Run from source, the script is made with
 * `deno bundle` on the first request and kept in memory (a failure is tried again after 30 s);
 * in an executable built by scripts/build.ts, it is the bundle made at build time and included in
 * the executable.
 * A bundle that cannot be made is a one-sentence reason, never a crash.
 *
 * @module
 */
import { PAGE_CSS, PAGE_HTML } from "./page.ts";

import type { ScriptResult, WebAssets } from "../server/web.ts";

export type { ScriptResult, WebAssets } from "../server/web.ts";

/** The repository's root (this file is src/web/assets.ts). */
const ROOT = new URL("../../", import.meta.url);

/** The browser client's entry point. */
export const APP_ENTRY: URL = new URL("src/web/browser/app.ts", ROOT);

/**
 * Where scripts/build.ts writes the bundle before `deno compile`, which includes it; it is
 * deleted after the build, so a source run never serves a stale one.
 */
export const BUNDLE_FILE: URL = new URL("src/web/app.bundle.js", ROOT);

/** How long `deno bundle` may take before it is given up. */
export const BUNDLE_TIMEOUT_MS = 60_000;

/** A file URL as a path for a command line (Windows drive letters included). */
export function pathOf(url: URL): string {
  return decodeURIComponent(url.pathname).replace(/^\/([A-Za-z]:)/, "$1");
}

/**
 * The `deno bundle` command line that makes the browser client: for browsers, quiet (the
 * bundle alone on standard output), with the repository's deno.json whatever the working
 * directory.
 */
export function bundleArgs(entry: URL = APP_ENTRY): string[] {
  return [
    "bundle",
    "--platform",
    "browser",
    "--quiet",
    "--config",
    pathOf(new URL("deno.json", ROOT)),
    pathOf(entry),
  ];
}

/** Runs a program and returns its exit status and output (Deno.Command by default). */
export type RunFn = (
  command: string,
  args: string[],
  cwd: string,
) => Promise<{ success: boolean; stdout: Uint8Array; stderr: Uint8Array }>;

/**
 * A {@link RunFn} that gives a program `timeoutMs`: then it is killed, its pipes are closed on
 * our side and the run fails, whatever the pipes do (`deno bundle` runs esbuild, which shares
 * its error output and may hold it open after deno is killed).
 */
export function runWithTimeout(timeoutMs: number = BUNDLE_TIMEOUT_MS): RunFn {
  return async (command, args, cwd) => {
    const child = new Deno.Command(command, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const readers = [child.stdout.getReader(), child.stderr.getReader()];
    const [stdout, stderr] = readers.map(readAll);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), timeoutMs));
    const done = Promise.all([child.status, stdout, stderr]);
    const first = await Promise.race([done, late]);
    clearTimeout(timer);
    if (first !== "late") {
      return { success: first[0].success, stdout: first[1]!, stderr: first[2]! };
    }
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    // Stop reading: cancelling the streams closes our ends of the pipes.
    await Promise.allSettled(readers.map((r) => r.cancel()));
    await Promise.allSettled([child.status, stdout, stderr]);
    throw new Error(`it took longer than ${timeoutMs / 1000} s and was stopped`);
  };
}

/** Everything `reader` gives, until its end or until it is cancelled. */
async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/** The last meaningful line of a command's error output, without colours. */
function lastLine(stderr: Uint8Array): string {
  // deno-lint-ignore no-control-regex
  const lines = new TextDecoder().decode(stderr).replace(/\x1b\[[0-9;]*m/g, "").split("\n")
    .map((l) => l.trim()).filter((l) => l !== "");
  return (lines.at(-1) ?? "no error output").replace(/^error:\s*/i, "").replace(/\.$/, "");
}

/**
 * Bundles the browser client from source with the Deno running this program
 * (`Deno.execPath()`), or says in one sentence why it could not.
 */
export async function bundleFromSource(
  run: RunFn = runWithTimeout(),
  entry: URL = APP_ENTRY,
): Promise<ScriptResult> {
  let out: { success: boolean; stdout: Uint8Array; stderr: Uint8Array };
  try {
    out = await run(Deno.execPath(), bundleArgs(entry), pathOf(ROOT));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      reason: `The web client could not be bundled: running deno bundle failed (${why}).`,
    };
  }
  if (!out.success || out.stdout.length === 0) {
    return {
      ok: false,
      reason: `The web client could not be bundled (deno bundle: ${lastLine(out.stderr)}); ` +
        `check that the source is complete, or use a built executable.`,
    };
  }
  return { ok: true, js: out.stdout };
}

/** Reads the bundle included in a built executable, or says why it cannot. */
export async function includedBundle(file: URL = BUNDLE_FILE): Promise<ScriptResult> {
  try {
    return { ok: true, js: await Deno.readFile(file) };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      reason: `The web client is missing from this executable (${why}); ` +
        `build it again with deno task compile.`,
    };
  }
}

/** How long a script that could not be made is answered from memory before it is tried again. */
export const RETRY_AFTER_MS = 30_000;

/**
 * The client script, made once and kept: the first call starts it (in a built executable,
 * reading the included bundle; from source, `deno bundle`), and every call gets the same result.
 * A failure is kept for {@link RETRY_AFTER_MS} only, then the next call tries again (the bundler
 * may have been unreachable): never more than one attempt at a time.
 */
export function cachedScript(
  load: () => Promise<ScriptResult> = Deno.build.standalone ? includedBundle : bundleFromSource,
  now: () => number = () => performance.now(),
): () => Promise<ScriptResult> {
  let made: Promise<ScriptResult> | null = null;
  let failedAt = 0;
  return () => {
    if (made === null || (failedAt !== 0 && now() - failedAt >= RETRY_AFTER_MS)) {
      failedAt = 0;
      made = load().catch((error): ScriptResult => {
        const why = error instanceof Error ? error.message : String(error);
        return { ok: false, reason: `The web client could not be loaded: ${why}.` };
      }).then((r) => {
        if (!r.ok) failedAt = Math.max(1, now());
        return r;
      });
    }
    return made;
  };
}

/** The page and styles of page.ts, and the client bundled once, on the first request. */
export function defaultWebAssets(): WebAssets {
  return { html: PAGE_HTML, css: PAGE_CSS, script: cachedScript() };
}
