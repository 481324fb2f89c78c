import assert from "node:assert/strict";
import { SEEN_KEPT_WEB, seenKeyOf, seenMailStorage } from "./seen_storage.ts";

/** A Storage over a Map; `full` makes setItem throw as a full localStorage does. */
function memoryStorage() {
  const values = new Map<string, string>();
  const storage = {
    full: false,
    values,
    getItem: (k: string) => values.get(k) ?? null,
    setItem(k: string, v: string) {
      if (storage.full) throw new DOMException("quota", "QuotaExceededError");
      values.set(k, v);
    },
  };
  return storage;
}

Deno.test("seenMailStorage keeps the newest keys per server and name for the next page", () => {
  const storage = memoryStorage();
  const seen = seenMailStorage(storage, "127.0.0.1:5500", "alice");
  for (let i = 1; i <= SEEN_KEPT_WEB + 5; i++) seen.add(`m ${i} 1`);
  seen.add("r 3 1");
  const next = seenMailStorage(storage, "127.0.0.1:5500", "alice");
  assert.ok(next.has(`m ${SEEN_KEPT_WEB + 5} 1`) && next.has("r 3 1"));
  assert.equal(next.has("m 1 1"), false, "the oldest are forgotten");
  assert.equal(storage.values.get(seenKeyOf("127.0.0.1:5500", "alice"))!.split("\n").length, 200);
  assert.equal(seenMailStorage(storage, "127.0.0.1:5500", "bob").has("r 3 1"), false);
  assert.equal(seenMailStorage(storage, "localhost:5500", "alice").has("r 3 1"), false);
});

Deno.test("seenMailStorage reads only keys from a damaged value, and goes on when storage fails", () => {
  const storage = memoryStorage();
  storage.values.set(seenKeyOf("s:1", "alice"), "<img src=x>\nm 4 9\n{}\nm x 1");
  const seen = seenMailStorage(storage, "s:1", "alice");
  assert.ok(seen.has("m 4 9"));
  assert.equal(seen.has("m x 1"), false);
  seen.add("<b>"); // not a key: ignored
  assert.equal(seen.has("<b>"), false);

  storage.full = true;
  seen.add("m 5 9");
  assert.ok(seen.has("m 5 9"), "this page still knows it");
  const blocked = seenMailStorage(
    {
      getItem: () => {
        throw new DOMException("denied", "SecurityError");
      },
      setItem: () => {
        throw new DOMException("denied", "SecurityError");
      },
    },
    "s:1",
    "alice",
  );
  blocked.add("m 6 9");
  assert.ok(blocked.has("m 6 9"));
});
