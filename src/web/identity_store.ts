/**
 * Where the web client keeps its identities (PROTOCOL.md, "Owned names"): an
 * {@link IdentityStore} on the browser's IndexedDB, one record per server (`host:port`) and
 * name, holding the key pair as `chat identity export` writes it (base64 public key, PKCS #8
 * private key). The records are plain data ({@link keyRecordStore}, tested without a browser);
 * `indexeddb.ts` is the browser's storage under it.
 *
 * @module
 */
import type { IdentityStore } from "../client/options.ts";
import { type ClientKey, importClientKey } from "../client/identity.ts";

export type { IdentityStore } from "../client/options.ts";
export type { ClientKey } from "../client/identity.ts";

/** One identity as stored: the fields of an identity file. */
export interface KeyRecord {
  /** Always 1. */
  version: 1;
  /** The server as `host:port`. */
  server: string;
  /** The name the key owns there. */
  name: string;
  /** The public key, 32 raw bytes in base64. */
  publicKey: string;
  /** The private key, PKCS #8 in base64. */
  privateKey: string;
  /** When it was made (ISO 8601). */
  created: string;
}

/** Where records are kept: get and put by key, rejecting with an Error on failure. */
export interface RecordBackend {
  /** The record kept under `key`, or undefined. */
  get(key: string): Promise<unknown>;
  /** Keeps `value` under `key`. */
  put(key: string, value: KeyRecord): Promise<void>;
}

/** The key a record is kept under: the server and the name. */
export function recordKey(server: string, name: string): string {
  return `${server} ${name}`;
}

/**
 * An {@link IdentityStore} over `backend`. A record that cannot be used (not one, or a key that
 * does not import) rejects with one sentence saying so and what to do, as a damaged identity
 * file does in `chat client`.
 */
export function keyRecordStore(backend: RecordBackend, now = () => new Date()): IdentityStore {
  return {
    async load(server: string, name: string): Promise<ClientKey | null> {
      let value: unknown;
      try {
        value = await backend.get(recordKey(server, name));
      } catch (error) {
        throw new Error(
          `This browser could not read the key for "${name}" on ${server} (${why(error)}); ` +
            "reload the page to try again",
        );
      }
      if (value === undefined) return null;
      const record = value as Partial<KeyRecord> | null;
      try {
        if (typeof record?.publicKey !== "string" || typeof record.privateKey !== "string") {
          throw new Error("it has no key pair");
        }
        return await importClientKey(record.publicKey, record.privateKey);
      } catch (error) {
        throw new Error(
          `The key this browser keeps for "${name}" on ${server} cannot be used ` +
            `(${why(error)}): clear this site's data to make a new one, which the server ` +
            "refuses if the old one owned the name",
        );
      }
    },
    async save(server: string, name: string, key: ClientKey): Promise<void> {
      const record: KeyRecord = {
        version: 1,
        server,
        name,
        publicKey: key.publicKey,
        privateKey: key.privateKey,
        created: now().toISOString(),
      };
      try {
        await backend.put(recordKey(server, name), record);
      } catch (error) {
        throw new Error(
          `This browser could not keep a key for "${name}" on ${server} (${why(error)}), ` +
            "so the name is not claimed; it is tried again when you next join",
        );
      }
    },
  };
}

function why(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\.$/, "") || "no reason given";
}

/** Where the page keeps its identities, or why it cannot keep any. */
export type IdentitySetup =
  | { store: IdentityStore }
  | {
    /** One sentence for the page: why names stay unowned in this browser. */
    problem: string;
  };

/**
 * The identity store of this browser: on `backend` (IndexedDB), when the page may make keys
 * (WebCrypto works only in a secure context: https, or http on localhost) and has IndexedDB (a
 * private window may not). Otherwise the sentence that says the name stays unowned, and why.
 */
export function browserIdentityStore(
  scope: { isSecureContext?: boolean; indexedDB?: unknown; crypto?: { subtle?: unknown } },
  backend: () => RecordBackend,
): IdentitySetup {
  if (scope.isSecureContext === false || scope.crypto?.subtle === undefined) {
    return {
      problem: "This page is not served over https (nor from localhost), so the browser cannot " +
        "make a key: your name stays unowned here, and messages sent to you while you are away " +
        "are not kept. Use chat client, or a server with --tls-cert, to own your name.",
    };
  }
  if (scope.indexedDB === undefined) {
    return {
      problem: "This browser offers no IndexedDB here (a private window?), so it cannot keep a " +
        "key: your name stays unowned, and messages sent to you while you are away are not kept.",
    };
  }
  return { store: keyRecordStore(backend()) };
}
