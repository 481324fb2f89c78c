/**
 * Identity files: one JSON file per server and name under the user's config directory
 * (`$XDG_CONFIG_HOME/chat` or `~/.config/chat`), `identities/<host>_<port>/<name>.json`, only its
 * user may read it (mode 0600, directories 0700). A file that cannot be read is reported in one
 * sentence and never replaced.
 *
 * @module
 */
import type { ClientKey } from "./identity.ts";
import { importClientKey } from "./identity.ts";
import type { IdentityStore } from "./options.ts";
import { seenMailFile } from "./seen_file.ts";

/** The version of the file's format this client writes and reads. */
export const IDENTITY_FILE_VERSION = 1;

/** What an identity file holds. */
export interface IdentityRecord {
  /** Format version ({@link IDENTITY_FILE_VERSION}). */
  version: number;
  /** The server as typed, `host:port`. */
  server: string;
  /** The name this key owns there. */
  name: string;
  /** Public key, raw, base64. */
  publicKey: string;
  /** Private key, PKCS #8, base64. */
  privateKey: string;
  /** When the key was made (ISO 8601). */
  created: string;
}

/** An identity read from a file: the record, its key ready to sign, and where it was. */
export interface LoadedIdentity {
  /** What the file says. */
  record: IdentityRecord;
  /** The key pair. */
  key: ClientKey;
  /** The file it came from. */
  path: string;
}

/** A sentence for the user about an identity file (exit 1, nothing replaced). */
export class IdentityFileError extends Error {
  /** An error whose message is `message`. */
  constructor(message: string) {
    super(message);
    this.name = "IdentityFileError";
  }
}

function env(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return value === "" ? undefined : value;
  } catch {
    return undefined; // no --allow-env: as if unset
  }
}

/** The config directory of `chat` (`$XDG_CONFIG_HOME/chat` or `$HOME/.config/chat`), if known. */
export function configDir(): string | undefined {
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg !== undefined) return `${xdg}/chat`;
  const home = env("HOME") ?? env("USERPROFILE");
  return home === undefined ? undefined : `${home}/.config/chat`;
}

/**
 * The folder name for `server` (`host:port`, IPv6 in brackets): lower case, and every character
 * but letters, digits, `.` and `-` written `%XX`, so it is one safe name on every file system
 * (`[::1]:5500` becomes `%3a%3a1_5500`).
 */
export function serverFolder(server: string): string {
  const at = server.lastIndexOf(":");
  const host = server.slice(0, at).replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const safe = [...host].map((c) =>
    /[a-z0-9.-]/.test(c) ? c : `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`
  ).join("");
  return `${safe}_${server.slice(at + 1)}`;
}

/** The identity file of `name` on `server` under `dir` (default {@link configDir}). */
export function identityPath(server: string, name: string, dir = configDir()): string | undefined {
  return dir === undefined ? undefined : `${dir}/identities/${serverFolder(server)}/${name}.json`;
}

/** `path` with the home directory written `~`, for people. */
export function displayPath(path: string): string {
  const home = env("HOME");
  return home !== undefined && path.startsWith(home + "/") ? `~${path.slice(home.length)}` : path;
}

/**
 * Where the identity of `name` on `server` is kept, for people (`~` for the home directory);
 * undefined when no config directory is known.
 */
export function identityFileFor(server: string, name: string): string | undefined {
  const path = identityPath(server, name);
  return path === undefined ? undefined : displayPath(path);
}

function corrupt(path: string, why: string): IdentityFileError {
  return new IdentityFileError(
    `Identity file "${path}" cannot be used (${why}): restore it from your export ` +
      `(chat identity import), or move it away to make a new key, which the server will ` +
      `refuse if the old one owned the name (README.md, "Identities").`,
  );
}

/** Reads the record in `text` (from `path`); throws an {@link IdentityFileError}. */
export function parseIdentity(text: string, path: string): IdentityRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw corrupt(path, "it is not JSON");
  }
  const r = data as Partial<IdentityRecord> | null;
  if (typeof r !== "object" || r === null || Array.isArray(r)) {
    throw corrupt(path, "it is not a JSON object");
  }
  if (r.version === undefined) throw corrupt(path, '"version" is missing');
  if (r.version !== IDENTITY_FILE_VERSION) {
    throw corrupt(path, `its version is ${JSON.stringify(r.version)}, this client reads 1`);
  }
  for (const field of ["server", "name", "publicKey", "privateKey", "created"] as const) {
    if (typeof r[field] !== "string" || r[field] === "") {
      throw corrupt(path, `"${field}" is missing`);
    }
  }
  return r as IdentityRecord;
}

/**
 * Reads the identity file at `path`: null if there is none, else the record and its key.
 * Throws an {@link IdentityFileError} for a file that cannot be read or used.
 */
export async function readIdentityFile(path: string): Promise<LoadedIdentity | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    const why = error instanceof Error ? error.message.replace(/,? ?\(os error \d+\)$/, "") : "";
    throw new IdentityFileError(
      `Identity file "${path}" cannot be read (${why}): make it readable by you, or run ` +
        `with --no-identity.`,
    );
  }
  const record = parseIdentity(text, path);
  try {
    return { record, key: await importClientKey(record.publicKey, record.privateKey), path };
  } catch (error) {
    throw corrupt(path, error instanceof Error ? error.message : String(error));
  }
}

/** The JSON text of `record`, as files keep it. */
export function identityText(record: IdentityRecord): string {
  return JSON.stringify(record, null, 2) + "\n";
}

/**
 * Writes `record` to `path` (mode 0600; folders made 0700), never over an existing file
 * unless `replace`: written to a temporary file first, then linked (or, with `replace`,
 * renamed) into place, so a reader never sees half a file.
 */
export async function writeIdentityFile(
  path: string,
  record: IdentityRecord,
  replace = false,
): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(tmp, identityText(record), { mode: 0o600, createNew: true });
    if (replace) await Deno.rename(tmp, path);
    else await linkOrCreate(tmp, path, record);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new IdentityFileError(
        `Identity file "${path}" exists already: it was not replaced (chat identity import ` +
          `--force replaces one).`,
      );
    }
    const why = error instanceof Error ? error.message.replace(/,? ?\(os error \d+\)$/, "") : "";
    throw new IdentityFileError(
      `Identity file "${path}" could not be written (${why}): check that you may write ` +
        `"${dir}".`,
    );
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * Puts `tmp` in place at `path` as a hard link (which fails if `path` exists); on a file system
 * without hard links, creates `path` anew (which fails the same way).
 */
async function linkOrCreate(tmp: string, path: string, record: IdentityRecord): Promise<void> {
  try {
    await Deno.link(tmp, path);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) throw error;
    await Deno.writeTextFile(path, identityText(record), { mode: 0o600, createNew: true });
  }
}

/** A new record for `key`, owning `name` on `server`, made now. */
export function newRecord(server: string, name: string, key: ClientKey): IdentityRecord {
  return {
    version: IDENTITY_FILE_VERSION,
    server,
    name,
    publicKey: key.publicKey,
    privateKey: key.privateKey,
    created: new Date().toISOString(),
  };
}

/**
 * The identity store of `chat client`: the files in the config directory (one per server and
 * name), or with `file` (`--identity FILE`) that one file, whatever the server (it must be for
 * the same name), never written. The mail shown is kept beside the config directory's identity
 * file (`<name>.seen`, see `seen_file.ts`), with `file` too.
 */
export function fileIdentityStore(file?: string): IdentityStore {
  return {
    async load(server, name) {
      const path = file ?? identityPath(server, name);
      if (path === undefined) return null;
      const loaded = await readIdentityFile(path);
      if (file === undefined) return loaded?.key ?? null;
      if (loaded === null) {
        throw new IdentityFileError(
          `Identity file "${file}" does not exist: give the file "chat identity export" wrote.`,
        );
      }
      if (loaded.record.name !== name) {
        throw new IdentityFileError(
          `Identity file "${file}" is for "${loaded.record.name}", not "${name}": run ` +
            `chat client ${loaded.record.name} with it.`,
        );
      }
      return loaded.key;
    },
    async save(server, name, key) {
      const path = file ?? identityPath(server, name);
      if (path === undefined) {
        throw new IdentityFileError(
          "No config directory to keep the new key in: set XDG_CONFIG_HOME or HOME.",
        );
      }
      await writeIdentityFile(path, newRecord(server, name, key));
    },
    seenMail(server, name) {
      // Beside the identity in the config directory, also with --identity FILE (never written).
      const path = identityPath(server, name);
      return path === undefined ? null : seenMailFile(path.replace(/\.json$/, ".seen"));
    },
  };
}
