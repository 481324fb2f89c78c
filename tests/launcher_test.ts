/**
 * The launcher `chat` in the repository root: from a fresh clone after `npm ci`, `./chat server`
 * and `./chat client abc 127.0.0.1` work as the design writes them. It runs the pinned Deno
 * from node_modules with the shipped permissions, from any directory and through a symlink,
 * passes arguments, signals and exit codes through, and says in one sentence what to do when
 * node_modules is missing. Every test spawns the real `./chat`.
 *
 * @module
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { PERMISSIONS } from "../scripts/build.ts";
import { startServer } from "../src/server/server.ts";

const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
const launcher = `${root}chat`;
const posix = Deno.build.os !== "windows";
const ignore = posix ? "" : " (IGNORED: the launcher is a bash script; Windows uses the binary)";

/** Runs `program` with `args` in `cwd` to completion; a minimal PATH unless `path` is given. */
async function run(
  program: string,
  args: string[],
  { cwd = Deno.cwd(), path = "/usr/bin:/bin" }: { cwd?: string; path?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(program, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    // Config and data in a temporary home: a client keeps its identities in XDG_CONFIG_HOME.
    env: { PATH: path, NO_COLOR: "1", HOME: home(), XDG_CONFIG_HOME: `${home()}/config` },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

let tempHome: string | undefined;

/** A temporary HOME for the programs these tests run, made once per run. */
function home(): string {
  return tempHome ??= Deno.makeTempDirSync({ prefix: "chat-launcher-home-" });
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "chat-launcher-" }));
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "./chat is executable and runs the version from any directory, with no deno on PATH" +
    ignore,
  ignore: !posix,
  fn: async () => {
    assert.ok(((await Deno.stat(launcher)).mode ?? 0) & 0o100, "the file chat is executable");
    await withTempDir(async (dir) => {
      // PATH is /usr/bin:/bin alone: no node_modules/.bin, so the Deno is the pinned one.
      const r = await run(launcher, ["--version"], { cwd: dir });
      assert.deepEqual(r, { code: 0, stdout: `chat ${denoJson.version}\n`, stderr: "" });
    });
  },
});

Deno.test({
  name: "./chat works through a symlink from another directory" + ignore,
  ignore: !posix,
  fn: async () => {
    await withTempDir(async (dir) => {
      await Deno.mkdir(`${dir}/bin`);
      await Deno.symlink(launcher, `${dir}/bin/chat`);
      await Deno.symlink(`${dir}/bin/chat`, `${dir}/chat-again`); // a link to a link
      for (const link of [`${dir}/bin/chat`, `${dir}/chat-again`]) {
        const r = await run(link, ["server", "--version"], { cwd: dir });
        assert.equal(r.stdout, `chat ${denoJson.version}\n`, r.stderr);
      }
      const help = await run("chat", ["help", "server"], {
        cwd: dir,
        path: `${dir}/bin:/usr/bin:/bin`,
      });
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Usage: chat server /);
    });
  },
});

Deno.test({
  name: "./chat passes arguments and exit codes through (0, 2)" + ignore,
  ignore: !posix,
  fn: async () => {
    const usage = await run(launcher, ["server", "--port", "99999"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^Invalid port "99999": use a number from 0 to 65535\.\n/);
    const spaced = await run(launcher, ["help", "no such"]);
    assert.equal(spaced.code, 2);
    assert.match(spaced.stderr, /^Unknown command "no such"/, "an argument with a space stays one");
    const help = await run(launcher, ["help", "conformance"]);
    assert.equal(help.code, 0, help.stderr);
  },
});

Deno.test({
  name: "./chat server runs with the shipped permissions and stops on SIGTERM with exit 0" +
    ignore,
  ignore: !posix,
  fn: () =>
    withTempDir(async (dataHome) => {
      // The server keeps its data under XDG_DATA_HOME: a temporary one, not the user's.
      const child = new Deno.Command(launcher, {
        // --no-web: the web client's default port 8080 is not the test's to take.
        args: ["server", "--host", "127.0.0.1", "--port", "0", "--no-web"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1", XDG_DATA_HOME: dataHome },
      }).spawn();
      await checkServerRuns(child);
      // node:sqlite with the shipped permissions: the data file was made where it was told.
      assert.ok((await Deno.stat(`${dataHome}/chat`)).isDirectory);
    }),
});

/** Reads `child`'s startup line, connects, stops it with SIGTERM and checks it exits 0. */
async function checkServerRuns(child: Deno.ChildProcess): Promise<void> {
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    while (!/listening on 127\.0\.0\.1:(\d+)/.test(seen)) {
      const { value, done } = await lines.read();
      if (done) break;
      seen += value;
    }
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(seen)?.[1]);
    assert.ok(port > 0, seen);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    // exec: the signal reaches Deno itself, not a shell in between.
    child.kill("SIGTERM");
    for (;;) {
      const { value, done } = await lines.read();
      if (done) break;
      seen += value;
    }
    const status = await child.status;
    assert.equal(status.code, 0, seen);
    assert.match(seen, /Server stopped\n$/);
    assert.equal(new TextDecoder().decode(await new Response(child.stderr).bytes()), "");
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name: "./chat client abc 127.0.0.1 registers with a server and leaves when its input ends" +
    ignore,
  ignore: !posix,
  fn: async () => {
    const joined: string[] = [];
    const server = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      log: (e) => e.event === "joined" && joined.push(e.name),
    });
    try {
      const r = await run(launcher, ["client", "abc", "127.0.0.1", "--port", String(server.port)]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(joined, ["abc"]);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "./chat without node_modules says in one sentence to run npm ci once, exit 1" + ignore,
  ignore: !posix,
  fn: async () => {
    await withTempDir(async (dir) => {
      await Deno.copyFile(launcher, `${dir}/chat`);
      await Deno.chmod(`${dir}/chat`, 0o755);
      const r = await run(`${dir}/chat`, ["server"], { cwd: dir });
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        `Deno is not installed here yet: run "npm ci" once in "${dir}", then run chat again.\n`,
      );
    });
  },
});

Deno.test("the launcher, deno.json's tasks and the compiled binary have the same permissions", async () => {
  const text = await Deno.readTextFile(launcher);
  const line = /^permissions=\(([^)]*)\)$/m.exec(text);
  assert.ok(line, "the launcher has one permissions=(...) line");
  const inLauncher = line[1]!.trim().split(/\s+/);
  assert.deepEqual(inLauncher, PERMISSIONS, "launcher vs scripts/build.ts PERMISSIONS");
  assert.match(text, /"\$\{permissions\[@\]\}"/, "the launcher passes them to deno run");
  for (const name of ["server", "client", "conformance"] as const) {
    const words = denoJson.tasks[name].split(/\s+/);
    assert.deepEqual(words.filter((w) => w.startsWith("--allow-")), PERMISSIONS, `task ${name}`);
  }
});

Deno.test("the shipped permissions read the host name and no other system information", () => {
  // The web port answers requests for the machine's name (Deno.hostname()); nothing else of
  // --allow-sys (network interfaces, uid, memory...) is granted.
  const sys = PERMISSIONS.filter((p) => p.startsWith("--allow-sys"));
  assert.deepEqual(sys, ["--allow-sys=hostname"]);
});
