/**
 * `deno task compile` and `deno task release`: they build the executable, or fail with one clear
 * sentence. Where a binary can be built, the end-to-end suites run again against it (CHAT_CMD);
 * where it cannot (no internet access to download denort, no DENORT_BIN), the step is reported
 * as ignored with the reason in its name.
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { explainFailure, RELEASE_TARGETS } from "../scripts/build.ts";
import { runChat } from "./spawn.ts";
import { SERVER_OPTIONS } from "../src/commands/server.ts";

const root = decodeURIComponent(new URL("..", import.meta.url).pathname)
  .replace(/^\/([A-Za-z]:)/, "$1");
const decoder = new TextDecoder();

/** The suites that run `chat` as a child process (through tests/cli_cmd.ts, so CHAT_CMD). */
const E2E_SUITES = [
  "server_e2e_test.ts",
  // The web port, and /app.js served from the bundle included in the executable.
  "server_web_test.ts",
  "client_e2e_test.ts",
  "client_resilience_test.ts",
  "client_tty_test.ts",
];

/**
 * Runs `deno task compile` or `deno task release` as deno.json defines it (same permissions),
 * under this Deno, with `args` appended and `env` added to the environment.
 */
async function task(
  name: "compile" | "release",
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const words = denoJson.tasks[name].split(/\s+/);
  assert.deepEqual(words.slice(0, 3), ["env", "deno", "run"], denoJson.tasks[name]);
  const out = await new Deno.Command(Deno.execPath(), {
    args: words.slice(2).concat(args),
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0", ...env },
  }).output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout).trim(),
    stderr: decoder.decode(out.stderr).trim(),
  };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-compile-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("explainFailure names the missing runtime and DENORT_BIN when the download fails", () => {
  const message = explainFailure(
    "error: Writing temporary file failed\n    0: Setting up base binary.\n    1: error sending " +
      "request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip)",
    "x86_64-unknown-linux-gnu",
    undefined,
  );
  assert.match(message, /^Cannot build for "x86_64-unknown-linux-gnu": deno compile needs/);
  assert.match(message, /DENORT_BIN/);
  assert.doesNotMatch(message, /\n/);
});

Deno.test("explainFailure blames DENORT_BIN, with deno compile's reason, when it is set", () => {
  const message = explainFailure(
    "error: Writing deno compile executable to temporary file '/tmp/x.tmp'\n\nCaused by:\n" +
      "    0: Writing binary bytes\n    1: Invalid object: Not an ELF file\n",
    "x86_64-unknown-linux-gnu",
    "/etc/passwd",
  );
  assert.match(message, /DENORT_BIN \("\/etc\/passwd"\) could not be used \(Invalid object: Not/);
  assert.doesNotMatch(message, /\n/);
});

Deno.test("deno task compile with a DENORT_BIN that does not exist says so in one sentence", async () => {
  await withTempDir(async (dir) => {
    const r = await task("compile", ["--output", `${dir}/chat`], {
      DENORT_BIN: `${dir}/no-such-denort`,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^Cannot build for "[^"]+": the runtime in DENORT_BIN \(".*no-such/);
    assert.match(r.stderr, /\(no such file\)/);
  });
});

Deno.test("deno task compile refuses a DENORT_BIN that is the deno command, not denort", async () => {
  // deno accepts it and writes a file, but that file is plain deno: it ignores the embedded
  // program (`./chat --version` prints deno's version). The build must not pass that off as chat.
  await withTempDir(async (dir) => {
    const r = await task("compile", ["--output", `${dir}/chat`], { DENORT_BIN: Deno.execPath() });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /is the deno command, not its runtime denort/);
    assert.equal(await exists(`${dir}/chat`), false, "the unusable file is removed");
  });
});

Deno.test("deno task release with a local DENORT_BIN builds this platform only, and says so", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/dist`;
    const r = await task("release", ["--out-dir", out], { DENORT_BIN: `${dir}/no-such-denort` });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split("\n");
    assert.equal(lines.length, 2, r.stderr);
    const [first = "", second = ""] = lines;
    assert.match(first, new RegExp(`^Cannot build for "${Deno.build.target}": .*DENORT_BIN`));
    const others = RELEASE_TARGETS.filter((t) => t !== Deno.build.target);
    assert.match(second, /^Skipped .*: DENORT_BIN is a runtime for this platform/);
    for (const t of others) assert.ok(second.includes(t), `${t} in: ${second}`);
    assert.equal(await exists(out), false, "no empty output directory is left behind");
  });
});

Deno.test("deno task compile rejects arguments it does not know (exit 2)", async () => {
  const r = await task("compile", ["--target", "x86_64-unknown-linux-gnu"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Unexpected arguments "--target x86_64-unknown-linux-gnu"/);
});

Deno.test("deno task compile builds a working chat binary or says in one sentence why not", async (t) => {
  await withTempDir(async (dir) => {
    const output = `${dir}/chat`;
    const build = await task("compile", ["--output", output]);
    if (build.code !== 0) {
      assert.equal(build.code, 1, build.stderr);
      assert.match(build.stderr, /^Cannot build for "[^"]+": /, build.stderr);
      assert.equal(build.stderr.split("\n").length, 1, `expected one sentence: ${build.stderr}`);
      console.log(`compiled binary not tested: ${build.stderr}`);
      if (/could not download/.test(build.stderr)) {
        await t.step(
          "deno task release without internet access fails in one sentence",
          async () => {
            const out = `${dir}/dist`;
            const r = await task("release", ["--out-dir", out]);
            assert.equal(r.code, 1, r.stderr);
            assert.equal(r.stderr.split("\n").length, 1, `expected one sentence: ${r.stderr}`);
            assert.match(
              r.stderr,
              /^Cannot build for .*: deno compile needs its runtime .*DENORT_BIN/,
            );
            for (const target of RELEASE_TARGETS) assert.ok(r.stderr.includes(target), target);
            assert.equal(await exists(out), false, "no empty output directory is left behind");
          },
        );
      }
      await t.step({
        name: `end-to-end suites against the compiled chat (skipped: ${build.stderr})`,
        ignore: true,
        fn: () => {},
      });
      return;
    }
    const exe = Deno.build.os === "windows" ? `${output}.exe` : output;
    assert.match(build.stdout, new RegExp(`^Built .*chat.* \\(chat ${denoJson.version}, `));
    const version = await new Deno.Command(exe, { args: ["--version"], stdout: "piped" }).output();
    assert.equal(decoder.decode(version.stdout).trim(), `chat ${denoJson.version}`);
    await t.step("end-to-end suites pass against the compiled chat", async () => {
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "test",
          "--allow-net",
          "--allow-run",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--sanitize-ops",
          "--sanitize-resources",
          ...E2E_SUITES.map((s) => `${root}tests/${s}`),
        ],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
        env: { CHAT_CMD: exe, NO_COLOR: "1", RUST_BACKTRACE: "0" },
      }).output();
      const report = decoder.decode(run.stdout) + decoder.decode(run.stderr);
      assert.ok(run.success, report);
      console.log(report.trim().split("\n").filter((l) => /passed|ignored/.test(l)).at(-1));
    });
  });
});

/** The `--options` named in the first column of the README table under `heading`. */
async function readmeOptions(heading: string): Promise<Set<string>> {
  const readme = await Deno.readTextFile(`${root}README.md`);
  const [section = ""] = readme.slice(readme.indexOf(`\n${heading}\n`) + 1).split(/\n## /);
  const rows = section.split("\n").filter((l) => /^\| `-/.test(l));
  return new Set(rows.flatMap((r) => r.split("|")[1]?.match(/--[a-z][a-z-]*/g) ?? []));
}

/**
 * The `--options` named in the Options part of a help text: at the start of a line, or beside
 * the option they go with (`--tls ... (--ca FILE: ...)`).
 */
function helpOptions(help: string): Set<string> {
  const [options = ""] = help.slice(help.indexOf("\nOptions:\n")).split(/\n\n/);
  return new Set([...options.matchAll(/(?<![\w-])(--[a-z][a-z-]*)/g)].map((m) => m[1] ?? ""));
}

// chat server --help is one screen and names the limits without their table (see
// tests/help_test.ts); the README's table must still hold every option the server accepts.
Deno.test("the README's table of chat server holds every option it accepts, and no other", async () => {
  const inReadme = await readmeOptions("## The server");
  inReadme.delete("--version"); // chat's own, accepted after any command
  const accepted = Object.keys(SERVER_OPTIONS).map((o) => `--${o}`);
  assert.deepEqual([...inReadme].sort(), accepted.sort());
});

Deno.test("chat client --help lists the same options as the README's table", async () => {
  const help = await runChat(["client", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  const inHelp = helpOptions(help.stdout);
  const inReadme = await readmeOptions("## The client");
  assert.ok(inHelp.size > 3 && inReadme.size > 3, `${[...inHelp]} / ${[...inReadme]}`);
  assert.deepEqual([...inHelp].sort(), [...inReadme].sort());
});
