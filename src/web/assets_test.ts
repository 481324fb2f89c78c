import assert from "node:assert/strict";
import {
  bundleArgs,
  bundleFromSource,
  cachedScript,
  defaultWebAssets,
  includedBundle,
  RETRY_AFTER_MS,
  type RunFn,
  runWithTimeout,
  type ScriptResult,
} from "./assets.ts";
import { PAGE_CSS, PAGE_HTML } from "./page.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("bundleArgs bundles for browsers, quietly, with the repository's deno.json whatever the cwd", () => {
  const args = bundleArgs();
  assert.deepEqual(args.slice(0, 4), ["bundle", "--platform", "browser", "--quiet"]);
  assert.equal(args[4], "--config");
  assert.match(args[5]!, /[\\/]deno\.json$/);
  assert.ok(args[5]!.startsWith("/") || /^[A-Za-z]:/.test(args[5]!), "an absolute path");
  assert.match(args.at(-1)!, /src[\\/]web[\\/]browser[\\/]app\.ts$/);
});

Deno.test("bundleFromSource runs deno bundle with Deno.execPath() from the repository and takes its output", async () => {
  const calls: [string, string[], string][] = [];
  const run: RunFn = (command, args, cwd) => {
    calls.push([command, args, cwd]);
    return Promise.resolve({
      success: true,
      stdout: enc.encode("let x = 1;"),
      stderr: enc.encode(""),
    });
  };
  const r = await bundleFromSource(run);
  assert.deepEqual(r, { ok: true, js: enc.encode("let x = 1;") });
  assert.equal(calls[0]![0], Deno.execPath());
  assert.deepEqual(calls[0]![1], bundleArgs());
  assert.ok(calls[0]![1].at(-1)!.startsWith(calls[0]![2]), "cwd: the repository's root");
});

Deno.test("bundleFromSource says in one sentence why a bundle failed, from deno bundle's last line", async () => {
  const failing: RunFn = () =>
    Promise.resolve({
      success: false,
      stdout: new Uint8Array(0),
      stderr: enc.encode('\x1b[31merror\x1b[0m: Module not found "file:///x/app.ts".\n'),
    });
  const r = await bundleFromSource(failing);
  assert.deepEqual(r, {
    ok: false,
    reason:
      'The web client could not be bundled (deno bundle: Module not found "file:///x/app.ts"); ' +
      "check that the source is complete, or use a built executable.",
  });
  const throwing: RunFn = () => Promise.reject(new Deno.errors.NotFound("No such file"));
  const t = await bundleFromSource(throwing);
  assert.equal(t.ok, false);
  assert.match(
    t.ok ? "" : t.reason,
    /^The web client could not be bundled: running deno bundle failed \(No such file\)\.$/,
  );
});

Deno.test("bundleFromSource really bundles: a module and its imports become one script", async () => {
  const r = await bundleFromSource(undefined, new URL("../net/address.ts", import.meta.url));
  assert.equal(r.ok, true, r.ok ? "" : r.reason);
  const js = new TextDecoder().decode(r.ok ? r.js : new Uint8Array(0));
  assert.match(js, /function formatAddress/);
  assert.doesNotMatch(js, /^import /m);
});

Deno.test("includedBundle reads the built file, or says the executable must be built again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/app.bundle.js`, "ok();");
    const r = await includedBundle(new URL(`file://${dir}/app.bundle.js`));
    assert.deepEqual(r, { ok: true, js: enc.encode("ok();") });
    const missing = await includedBundle(new URL(`file://${dir}/none.js`));
    assert.equal(missing.ok, false);
    assert.match(
      missing.ok ? "" : missing.reason,
      /^The web client is missing from this executable \(.*\); build it again with deno task compile\.$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cachedScript loads once, on the first call, and gives every caller the same result", async () => {
  let loads = 0;
  const result: ScriptResult = { ok: false, reason: "No." };
  const script = cachedScript(() => {
    loads++;
    return Promise.resolve(result);
  });
  assert.equal(loads, 0, "nothing before the first request");
  const all = await Promise.all([script(), script(), script()]);
  assert.equal(loads, 1);
  for (const r of all) assert.equal(r, result);
});

Deno.test("cachedScript tries a failed bundle again after RETRY_AFTER_MS, and keeps a good one", async () => {
  let time = 1000;
  const results: ScriptResult[] = [
    { ok: false, reason: "No." },
    { ok: true, js: enc.encode("x") },
  ];
  let loads = 0;
  const script = cachedScript(() => Promise.resolve(results[loads++]!), () => time);
  assert.equal((await script()).ok, false);
  time += RETRY_AFTER_MS - 1;
  assert.equal((await script()).ok, false);
  assert.equal(loads, 1, "not yet");
  time += 1;
  assert.equal((await script()).ok, true);
  time += 10 * RETRY_AFTER_MS;
  assert.equal((await script()).ok, true);
  assert.equal(loads, 2);
});

Deno.test("defaultWebAssets serves page.ts's page and styles", () => {
  const assets = defaultWebAssets();
  assert.equal(assets.html, PAGE_HTML);
  assert.equal(assets.css, PAGE_CSS);
});

Deno.test("runWithTimeout kills a bundler that takes too long and stops waiting, even while a child of it holds the pipes", async () => {
  // A "bundler" that leaves a child holding its output open for 20 s, as esbuild may.
  const run = runWithTimeout(300);
  const started = performance.now();
  await assert.rejects(
    run("sh", ["-c", "sleep 20 & sleep 20"], "/"),
    /^Error: it took longer than 0\.3 s and was stopped$/,
  );
  const ms = performance.now() - started;
  assert.ok(ms < 15_000, `gave up after ${Math.round(ms)} ms, not when the pipes closed`);
  const quick = await runWithTimeout(10_000)("sh", ["-c", "echo out; echo err >&2; exit 3"], "/");
  assert.deepEqual(
    { ...quick, stdout: dec.decode(quick.stdout), stderr: dec.decode(quick.stderr) },
    { success: false, stdout: "out\n", stderr: "err\n" },
  );
});

Deno.test("cachedScript turns a loader that rejects into a failure, and tries it again later", async () => {
  let time = 1000;
  let loads = 0;
  const script = cachedScript(() => {
    loads++;
    return loads === 1 ? Promise.reject(new Error("no esbuild")) : Promise.resolve({
      ok: true,
      js: enc.encode("x"),
    });
  }, () => time);
  assert.deepEqual(await script(), {
    ok: false,
    reason: "The web client could not be loaded: no esbuild.",
  });
  time += RETRY_AFTER_MS;
  assert.equal((await script()).ok, true, "not kept for ever");
  assert.equal(loads, 2);
});
