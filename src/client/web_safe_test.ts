/**
 * The client engine (and the pure view) run in a browser, and so does the web client's entry
 * (`src/web/browser/app.ts`, bundled as `/app.js`): their module graph has no `node:` module and not the
 * TCP transport, and they type-check against the DOM library alone, with no Deno namespace
 * (`deno.web.json`), so a `Deno.` call in them fails the check.
 */
import assert from "node:assert/strict";

const here = new URL(".", import.meta.url);
const root = new URL("../../", here);
const config = new URL("deno.web.json", here).pathname;
/** The modules that must run in a browser. */
const WEB_MODULES = ["src/client/engine.ts", "src/client/view.ts", "src/web/browser/app.ts"];

/** Runs the deno executable with `args` from the project root. */
async function deno(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/** The modules of `entry`'s graph that a browser could not load. */
async function notWebSafe(entry: string): Promise<string[]> {
  const info = await deno(["info", "--json", entry]);
  assert.equal(info.code, 0, info.stderr);
  const graph = JSON.parse(info.stdout) as { modules: { specifier: string }[] };
  assert.ok(graph.modules.length > 1, `the graph of ${entry} is read`);
  return graph.modules.map((m) => m.specifier).filter((s) =>
    s.startsWith("node:") || s.startsWith("npm:") || s.endsWith("/src/net/transport.ts")
  );
}

Deno.test("engine.ts, view.ts and the web client load no node: module and not the TCP transport", async () => {
  for (const entry of WEB_MODULES) assert.deepEqual(await notWebSafe(entry), [], entry);
  // The check sees them where they are: the terminal face has both.
  const terminal = await notWebSafe("src/client/terminal.ts");
  assert.ok(terminal.includes("node:readline"), terminal.join(", "));
  assert.ok(terminal.some((s) => s.endsWith("/src/net/transport.ts")), terminal.join(", "));
});

Deno.test("engine.ts, view.ts and the web client type-check against the DOM library without Deno", async () => {
  const check = await deno(["check", "--config", config, ...WEB_MODULES]);
  assert.equal(check.code, 0, check.stderr);
});

Deno.test("deno.web.json makes a Deno call next to the engine fail the check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat_web_safe_" });
  try {
    const probe = `${dir}/probe.ts`;
    const engine = new URL("engine.ts", here).href;
    await Deno.writeTextFile(
      probe,
      `import { ChatSession } from "${engine}";\nexport const probe = [ChatSession, Deno.pid];\n`,
    );
    const check = await deno(["check", "--config", config, probe]);
    assert.notEqual(check.code, 0, "a Deno call passed the check");
    assert.match(check.stderr, /Cannot find name 'Deno'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the web client bundles for the browser with no Deno call in it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat_web_bundle_" });
  try {
    const out = `${dir}/app.js`;
    const bundle = await deno([
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "src/web/browser/app.ts",
      "-o",
      out,
    ]);
    assert.equal(bundle.code, 0, bundle.stderr);
    const js = await Deno.readTextFile(out);
    assert.ok(js.includes("WebSocket"), "the bundle holds the client");
    assert.doesNotMatch(js, /\bDeno\.[a-zA-Z]|from "node:|require\("node:/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
