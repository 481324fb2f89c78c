import assert from "node:assert/strict";
import {
  browserIdentityStore,
  type KeyRecord,
  keyRecordStore,
  type RecordBackend,
  recordKey,
} from "./identity_store.ts";
import { generateClientKey } from "../client/identity.ts";

/** A backend in a Map, as IndexedDB keeps records (structured clones). */
function mapBackend(): RecordBackend & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return {
    map,
    get: (key) => Promise.resolve(structuredClone(map.get(key))),
    put: (key, value) => {
      map.set(key, structuredClone(value));
      return Promise.resolve();
    },
  };
}

Deno.test("keyRecordStore keeps one key per server and name and loads it back", async () => {
  const backend = mapBackend();
  const store = keyRecordStore(backend, () => new Date("2026-12-03T04:00:00Z"));
  assert.equal(await store.load("127.0.0.1:8080", "alice"), null);
  const key = await generateClientKey();
  await store.save("127.0.0.1:8080", "alice", key);
  const record = backend.map.get(recordKey("127.0.0.1:8080", "alice")) as KeyRecord;
  assert.deepEqual(record, {
    version: 1,
    server: "127.0.0.1:8080",
    name: "alice",
    publicKey: key.publicKey,
    privateKey: key.privateKey,
    created: "2026-12-03T04:00:00.000Z",
  });
  const loaded = await store.load("127.0.0.1:8080", "alice");
  assert.equal(loaded?.publicKey, key.publicKey);
  assert.equal(await store.load("127.0.0.1:8080", "Alice"), null, "names are case-sensitive");
  assert.equal(await store.load("localhost:8080", "alice"), null, "another server");
});

Deno.test("keyRecordStore says what to do with a record that cannot be used", async () => {
  const backend = mapBackend();
  const store = keyRecordStore(backend);
  backend.map.set(recordKey("s:1", "bob"), { publicKey: "AAAA", privateKey: "AAAA" });
  await assert.rejects(
    store.load("s:1", "bob"),
    new Error(
      'The key this browser keeps for "bob" on s:1 cannot be used (its public key is not 32 ' +
        "bytes in base64): clear this site's data to make a new one, which the server refuses " +
        "if the old one owned the name",
    ),
  );
  backend.map.set(recordKey("s:1", "carol"), "junk");
  await assert.rejects(store.load("s:1", "carol"), /cannot be used \(it has no key pair\)/);
});

Deno.test("keyRecordStore turns storage failures into sentences", async () => {
  const store = keyRecordStore({
    get: () => Promise.reject(new Error("QuotaExceededError.")),
    put: () => Promise.reject(new DOMException("The quota has been exceeded.")),
  });
  await assert.rejects(
    store.load("s:1", "bob"),
    new Error(
      'This browser could not read the key for "bob" on s:1 (QuotaExceededError); reload the ' +
        "page to try again",
    ),
  );
  await assert.rejects(
    store.save("s:1", "bob", await generateClientKey()),
    new Error(
      'This browser could not keep a key for "bob" on s:1 (The quota has been exceeded), so ' +
        "the name is not claimed; it is tried again when you next join",
    ),
  );
});

Deno.test("browserIdentityStore says why a page without WebCrypto or IndexedDB owns no name", () => {
  const backend = mapBackend();
  const insecure = browserIdentityStore({ isSecureContext: false, crypto: {} }, () => backend);
  assert.ok("problem" in insecure);
  assert.match(insecure.problem, /not served over https \(nor from localhost\)/);
  const noDb = browserIdentityStore(
    { isSecureContext: true, crypto: { subtle: {} } },
    () => backend,
  );
  assert.ok("problem" in noDb);
  assert.match(noDb.problem, /no IndexedDB/);
  const ok = browserIdentityStore({
    isSecureContext: true,
    crypto: { subtle: {} },
    indexedDB: {},
  }, () => backend);
  assert.ok("store" in ok);
});
