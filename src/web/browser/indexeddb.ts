/**
 * The browser's storage under the web client's identities (`identity_store.ts`): IndexedDB,
 * the database `chat` with one object store `identities`, a record per server and name.
 *
 * @module
 */
import type { RecordBackend } from "../identity_store.ts";

export type { KeyRecord, RecordBackend } from "../identity_store.ts";

const DB_NAME = "chat";
const STORE = "identities";

/** A {@link RecordBackend} on IndexedDB (the database `chat`, object store `identities`). */
export function indexedDbBackend(factory: IDBFactory): RecordBackend {
  let opening: Promise<IDBDatabase> | null = null;
  const open = () =>
    opening ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => {
        opening = null;
        reject(request.error ?? new Error("IndexedDB did not open"));
      };
      request.onblocked = () => {
        opening = null;
        reject(new Error("IndexedDB is blocked by another tab"));
      };
    });
  const run = async <T>(mode: IDBTransactionMode, act: (s: IDBObjectStore) => IDBRequest<T>) => {
    const db = await open();
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error ?? request.error ?? new Error("IndexedDB failed"));
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB aborted the transaction"));
    });
  };
  return {
    get: (key) => run("readonly", (s) => s.get(key)),
    put: async (key, value) => {
      await run("readwrite", (s) => s.put(value, key));
    },
  };
}
