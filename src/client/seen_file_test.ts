import assert from "node:assert/strict";
import { SEEN_KEPT, seenMailFile } from "./seen_file.ts";

Deno.test("seenMailFile keeps keys across runs in a file only its user may read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/identities/127.0.0.1_5500/alice.seen`;
    const first = seenMailFile(path);
    assert.equal(first.has("m 3 1764716400000"), false);
    first.add("m 3 1764716400000");
    first.add("r 9 1764716400000");
    first.add("m 3 1764716400000"); // once
    assert.equal(first.has("m 3 1764716400000"), true);
    assert.equal(await Deno.readTextFile(path), "m 3 1764716400000\nr 9 1764716400000\n");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/identities/127.0.0.1_5500`)).mode! & 0o777, 0o700);

    const next = seenMailFile(path); // the next run
    assert.equal(next.has("m 3 1764716400000"), true);
    assert.equal(next.has("r 9 1764716400000"), true);
    assert.equal(next.has("m 4 1764716400000"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("seenMailFile keeps the newest keys, rewriting the file past twice as many", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/bob.seen`;
    const seen = seenMailFile(path);
    for (let i = 1; i <= 2 * SEEN_KEPT + 1; i++) seen.add(`m ${i} 1`);
    const lines = (await Deno.readTextFile(path)).trim().split("\n");
    assert.equal(lines.length, SEEN_KEPT);
    assert.equal(lines.at(-1), `m ${2 * SEEN_KEPT + 1} 1`);
    const next = seenMailFile(path);
    assert.equal(next.has(`m ${2 * SEEN_KEPT + 1} 1`), true);
    assert.equal(next.has("m 1 1"), false, "the oldest are forgotten");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["bob.seen"], "no temp file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("seenMailFile ignores a damaged file's lines and never throws when it cannot write", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/carol.seen`;
    await Deno.writeTextFile(path, "garbage\n\u0000\nm 7 12\n<b>m 8 12</b>\nm 9\n");
    const seen = seenMailFile(path);
    assert.equal(seen.has("m 7 12"), true);
    assert.equal(seen.has("m 8 12"), false);
    seen.add("not a key"); // ignored
    assert.equal(seen.has("not a key"), false);

    // A folder where the file should be: nothing can be written, the run goes on in memory.
    const blocked = seenMailFile(dir);
    blocked.add("m 1 1");
    assert.equal(blocked.has("m 1 1"), true);
    const unwritable = seenMailFile(`${path}/under/a/file.seen`);
    unwritable.add("m 2 2");
    assert.equal(unwritable.has("m 2 2"), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
