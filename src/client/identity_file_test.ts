/** Identity files: their place, their format, and writing that never replaces a key silently. */
import assert from "node:assert/strict";
import { generateClientKey } from "./identity.ts";
import {
  fileIdentityStore,
  identityPath,
  newRecord,
  parseIdentity,
  readIdentityFile,
  serverFolder,
  writeIdentityFile,
} from "./identity_file.ts";

Deno.test("serverFolder makes one file-safe name of host and port, IPv6 included", () => {
  assert.equal(serverFolder("127.0.0.1:5500"), "127.0.0.1_5500");
  assert.equal(serverFolder("Chat.Example.org:7000"), "chat.example.org_7000");
  assert.equal(serverFolder("[::1]:5500"), "%3a%3a1_5500");
  assert.equal(serverFolder("[fe80::1%eth0]:1"), "fe80%3a%3a1%25eth0_1");
  assert.equal(identityPath("[::1]:5500", "abc", "/c"), "/c/identities/%3a%3a1_5500/abc.json");
});

Deno.test("parseIdentity says in one sentence what is wrong with a file, quoting its path", () => {
  for (
    const [text, why] of [
      ["{", "it is not JSON"],
      ["[]", "it is not a JSON object"],
      ["{}", '"version" is missing'],
      ['{"version": 1}', '"server" is missing'],
      ['{"version": 2}', "its version is 2"],
      ['{"version": 1, "server": "a:1", "name": "x"}', '"publicKey" is missing'],
    ]
  ) {
    assert.throws(() => parseIdentity(text!, "/f.json"), (e: Error) => {
      assert.match(e.message, /^Identity file "\/f\.json" cannot be used \(/);
      assert.ok(e.message.includes(why!), e.message);
      return true;
    });
  }
});

Deno.test("writeIdentityFile writes 0600 in 0700 folders and never over an existing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a/b/abc.json`;
    const record = newRecord("h:1", "abc", await generateClientKey());
    await writeIdentityFile(path, record);
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${dir}/a/b`)).mode! & 0o777, 0o700);
    }
    const other = newRecord("h:1", "abc", await generateClientKey());
    await assert.rejects(writeIdentityFile(path, other), /exists already: it was not replaced/);
    assert.equal((await readIdentityFile(path))!.record.publicKey, record.publicKey);
    await writeIdentityFile(path, other, true);
    assert.equal((await readIdentityFile(path))!.record.publicKey, other.publicKey);
    assert.deepEqual([...Deno.readDirSync(`${dir}/a/b`)].map((e) => e.name), ["abc.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readIdentityFile refuses a private key that is not the public key's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = newRecord("h:1", "abc", await generateClientKey());
    const b = await generateClientKey();
    await Deno.writeTextFile(`${dir}/x.json`, JSON.stringify({ ...a, privateKey: b.privateKey }));
    await assert.rejects(readIdentityFile(`${dir}/x.json`), /does not belong to its private key/);
    assert.equal(await readIdentityFile(`${dir}/none.json`), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileIdentityStore with --identity FILE uses it whatever the server, for its name only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = await generateClientKey();
    await writeIdentityFile(`${dir}/abc.json`, newRecord("far:1", "abc", key));
    const store = fileIdentityStore(`${dir}/abc.json`);
    assert.equal((await store.load("near:2", "abc"))!.publicKey, key.publicKey);
    await assert.rejects(store.load("near:2", "xyz"), /is for "abc", not "xyz"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
