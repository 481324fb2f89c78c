/**
 * scripts/build.ts's bundle step: two builds at once do not rewrite or delete each other's
 * bundle while it is compiled in (the file is created exclusively, as the build's lock).
 *
 * @module
 */
import assert from "node:assert/strict";
import { withBundle, writeBundle } from "./build.ts";
import type { ScriptResult } from "../src/web/assets.ts";

const enc = new TextEncoder();

Deno.test("withBundle: a second build while one compiles is refused, and the first one's bundle stays intact", async () => {
  const dir = await Deno.makeTempDir();
  const file = new URL(`file://${dir}/app.bundle.js`);
  const bundle = (text: string) => () =>
    Promise.resolve<ScriptResult>({ ok: true, js: enc.encode(text) });
  try {
    let second: string | null | number = "not run";
    const first = await withBundle(async () => {
      // While the first build "compiles": another one starts.
      second = await withBundle(() => Promise.resolve(null), { file, bundle: bundle("two") });
      assert.equal(await Deno.readTextFile(file), "one", "not rewritten by the second build");
      return null;
    }, { file, bundle: bundle("one") });
    assert.equal(first, null);
    assert.match(
      String(second),
      /^Cannot build: ".*app\.bundle\.js" exists, so another build is running/,
    );
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound, "deleted by its own build");
    // A failed bundle leaves no file behind, and says why.
    const failed = await withBundle(() => Promise.resolve(0), {
      file,
      bundle: () => Promise.resolve({ ok: false, reason: "The bundler is missing." }),
    });
    assert.equal(failed, "Cannot build: the bundler is missing.");
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
    assert.equal(await writeBundle({ file, bundle: bundle("x") }), null);
    assert.equal(await Deno.readTextFile(file), "x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
