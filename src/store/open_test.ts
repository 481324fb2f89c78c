import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DataError } from "./data.ts";
import { DATABASE_FILE, defaultDataDir, openServerData } from "./open.ts";

const noEnv = () => undefined;

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-open-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.chmod(dir, 0o700).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts that opening `dir` fails with a DataError of `kind` whose sentence matches. */
async function assertFails(dir: string, kind: DataError["kind"], sentence: RegExp) {
  const error = await openServerData({ data: dir, env: noEnv }).then(
    (d) => (d.close(), null),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DataError, `expected a DataError, got ${error}`);
  assert.equal(error.kind, kind, error.message);
  assert.match(error.message, sentence);
  assert.equal(error.message.split("\n").length, 1, "one line");
  assert.ok(error.message.includes(`"${dir}`), `the path is quoted: ${error.message}`);
}

Deno.test("defaultDataDir: XDG_DATA_HOME if absolute, else HOME, else a sentence", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(defaultDataDir(env({ XDG_DATA_HOME: "/x/", HOME: "/h" })), "/x/chat");
  assert.equal(defaultDataDir(env({ XDG_DATA_HOME: "rel", HOME: "/h" })), "/h/.local/share/chat");
  assert.equal(defaultDataDir(env({ HOME: "/h" })), "/h/.local/share/chat");
  assert.throws(() => defaultDataDir(noEnv), /use --data DIR, or --memory/);
});

Deno.test("openServerData: --memory opens no file; a missing directory is made, private", () =>
  withDir(async (dir) => {
    const memory = await openServerData({ memory: true, data: `${dir}/x`, env: noEnv });
    assert.equal(memory.location, "memory");
    await memory.close();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    const data = await openServerData({ data: `${dir}/a/b`, env: noEnv });
    assert.equal(data.location, `${dir}/a/b/${DATABASE_FILE}`);
    await data.claim("alice", new Uint8Array(32), 1);
    await data.close();
    assert.equal(Deno.statSync(`${dir}/a/b`).mode! & 0o777, 0o700);
    assert.equal(Deno.statSync(`${dir}/a/b/${DATABASE_FILE}`).mode! & 0o777, 0o600);
    const again = await openServerData({
      env: (n) => n === "XDG_DATA_HOME" ? `${dir}/a` : undefined,
      data: undefined,
    }).then((d) => (d.close(), d));
    assert.equal(again.location, `${dir}/a/chat/${DATABASE_FILE}`);
    const reopened = await openServerData({ data: `${dir}/a/b`, env: noEnv });
    assert.equal(reopened.owner("alice")?.name, "alice");
    await reopened.close();
  }));

Deno.test("openServerData: a second open of a directory in use fails as locked", () =>
  withDir(async (dir) => {
    const first = await openServerData({ data: dir, env: noEnv });
    await assertFails(dir, "locked", /in use by another chat server: stop that server/);
    await first.close();
    await (await openServerData({ data: dir, env: noEnv })).close();
  }));

Deno.test("openServerData: a file of garbage is corrupt, and left as it was", () =>
  withDir(async (dir) => {
    const garbage = new TextEncoder().encode("not a database at all ".repeat(500));
    await Deno.writeFile(`${dir}/${DATABASE_FILE}`, garbage);
    await assertFails(dir, "corrupt", /move it aside or restore a backup/);
    assert.deepEqual(await Deno.readFile(`${dir}/${DATABASE_FILE}`), garbage);
  }));

Deno.test("openServerData: a truncated database is corrupt", () =>
  withDir(async (dir) => {
    const data = await openServerData({ data: dir, env: noEnv });
    await data.claim("alice", new Uint8Array(32), 1);
    for (let i = 0; i < 200; i++) await data.put("bob", "alice", new Uint8Array(2000).fill(i), i);
    await data.close();
    const file = `${dir}/${DATABASE_FILE}`;
    const size = Deno.statSync(file).size;
    assert.ok(size > 100_000, `the database has many pages (${size} bytes)`);
    await Deno.truncate(file, Math.floor(size / 2 / 4096) * 4096);
    await assertFails(dir, "corrupt", /chat will not start with empty data in its place/);
  }));

Deno.test("openServerData: a database newer than this chat is refused, unchanged", () =>
  withDir(async (dir) => {
    await (await openServerData({ data: dir, env: noEnv })).close();
    const db = new DatabaseSync(`${dir}/${DATABASE_FILE}`);
    db.exec("PRAGMA user_version = 99");
    db.close();
    await assertFails(
      dir,
      "too-new",
      /schema version 99, newer than this chat knows.*upgrade chat/,
    );
  }));

Deno.test("openServerData: a data path that is a file is refused", () =>
  withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "x");
    await assertFails(`${dir}/file`, "unreadable", /is not a directory/);
  }));

/**
 * Opens `dataDir` as an unprivileged user and returns what it printed: as "nobody" through
 * `setpriv` when the tests run as root (root reads every file), else as this user.
 */
async function openAsUser(outer: string, dataDir: string): Promise<string> {
  const script = `${outer}/probe.ts`;
  const open = new URL("./open.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    `import { openServerData } from "${open}";\n` +
      `await openServerData({ data: Deno.args[0], env: () => undefined }).then(\n` +
      `  (d) => (d.close(), console.log("opened")),\n` +
      `  (e) => console.log(e.kind + ": " + e.message),\n);\n`,
  );
  await Deno.chmod(script, 0o644);
  await Deno.chmod(outer, 0o755);
  const denoDir = `${outer}/deno-dir`;
  await Deno.mkdir(denoDir, { mode: 0o777 });
  await Deno.chmod(denoDir, 0o777);
  const run = [Deno.execPath(), "run", "--no-lock", "-A", script, dataDir];
  const cmd = root ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...run] : run;
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd: outer,
    env: { DENO_DIR: denoDir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim() || new TextDecoder().decode(out.stderr);
}

/** Whether the tests run as root (asked with `id -u`: Deno.uid needs --allow-sys). */
const root = (await new Deno.Command("id", { args: ["-u"], stdout: "piped" }).output()
  .then((o) => new TextDecoder().decode(o.stdout).trim(), () => "")) === "0";

const canDropPrivileges = !root ||
  (await new Deno.Command("setpriv", { args: ["--version"], stdout: "null", stderr: "null" })
    .output().then((o) => o.success, () => false));

Deno.test({
  name: "openServerData: data the user may not read or write is unreadable, said in a sentence" +
    (canDropPrivileges ? "" : " (skipped: running as root without setpriv)"),
  ignore: !canDropPrivileges,
  fn: () =>
    withDir(async (dir) => {
      // A directory the probe may not enter: root's own (the probe runs as nobody), else mode 0.
      await (await openServerData({ data: `${dir}/d`, env: noEnv })).close();
      if (!root) await Deno.chmod(`${dir}/d`, 0);
      const said = await openAsUser(dir, `${dir}/d`);
      if (!root) await Deno.chmod(`${dir}/d`, 0o700);
      assert.match(said, /^unreadable: Cannot open ".*\/d.*" \(Permission denied/);
      assert.match(said, /give the user running chat read and write access to ".*\/d"/);
    }),
});

/** Mounts a full 64 KiB tmpfs on a new temp dir (root only); null where that is not allowed. */
async function fullDisk(): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "chat-open-full-test-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  if (mount?.success) {
    await Deno.writeFile(`${dir}/filler`, new Uint8Array(64 * 1024)).catch(() => {});
    return dir;
  }
  await Deno.remove(dir);
  return null;
}

const canMount = await fullDisk().then(async (dir) => {
  if (dir === null) return false;
  await new Deno.Command("umount", { args: [dir] }).output();
  await Deno.remove(dir, { recursive: true });
  return true;
});

Deno.test({
  name: "openServerData: a disk with no room is an io failure, said in a sentence" +
    (canMount ? "" : " (skipped: mounting a small tmpfs needs root)"),
  ignore: !canMount,
  fn: async () => {
    const full = (await fullDisk())!;
    try {
      await assertFails(`${full}/d`, "io", /\(database or disk is full\): check the disk/);
    } finally {
      await new Deno.Command("umount", { args: [full] }).output();
      await Deno.remove(full, { recursive: true });
    }
  },
});
