/**
 * Opening the server's data: `--memory`, or the directory of `--data DIR` (default: `chat` under
 * the user's data directory), with every failure said in one sentence that tells the operator
 * what to do. It never starts with empty data in place of data it could not read.
 *
 * @module
 */
import { DataError, type ServerData } from "./data.ts";
import { MemoryData } from "./memory.ts";
import { SqliteData } from "./sqlite.ts";

/** The database file's name inside the data directory. */
export const DATABASE_FILE = "chat.db";

/** Where and how to open the data. */
export interface OpenOptions {
  /** The data directory (`--data DIR`); default {@link defaultDataDir}. */
  readonly data?: string | undefined;
  /** Keep everything in memory (`--memory`): no files at all. */
  readonly memory?: boolean | undefined;
  /** Reads an environment variable (`XDG_DATA_HOME`, `HOME`). */
  readonly env: (name: string) => string | undefined;
}

/**
 * The default data directory: `$XDG_DATA_HOME/chat` when `XDG_DATA_HOME` is an absolute path,
 * else `$HOME/.local/share/chat`. Throws a {@link DataError} when neither is set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DATABASE_FILE, defaultDataDir, type OpenOptions, openServerData } from "./open.ts";
 *
 * const env = (name: string) => ({ HOME: "/home/ann" } as Record<string, string>)[name];
 * assert.equal(defaultDataDir(env), "/home/ann/.local/share/chat");
 * const options: OpenOptions = { memory: true, env };
 * const data = await openServerData(options);
 * assert.equal(data.location, "memory");
 * assert.equal(DATABASE_FILE, "chat.db");
 * ```
 */
export function defaultDataDir(env: (name: string) => string | undefined): string {
  const xdg = env("XDG_DATA_HOME");
  if (xdg && xdg.startsWith("/")) return `${xdg.replace(/\/+$/, "")}/chat`;
  const home = env("HOME");
  if (home) return `${home.replace(/\/+$/, "")}/.local/share/chat`;
  throw new DataError(
    "unreadable",
    "There is no default data directory (neither XDG_DATA_HOME nor HOME is set): " +
      "use --data DIR, or --memory to keep nothing on disk.",
  );
}

/**
 * Opens the server's data: a {@link MemoryData} with `memory`, else the SQLite database in the
 * data directory, which is made (mode 0700) if missing; a new database file gets mode 0600.
 * Throws a {@link DataError} whose message is the one sentence to print.
 */
export function openServerData(options: OpenOptions): Promise<ServerData> {
  if (options.memory) return Promise.resolve(new MemoryData());
  try {
    return Promise.resolve(openSqlite(options.data ?? defaultDataDir(options.env)));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Opens (creating if needed) `dir/chat.db`, checked with `PRAGMA quick_check`. */
function openSqlite(dir: string): SqliteData {
  makeDir(dir);
  const file = `${dir.replace(/\/+$/, "")}/${DATABASE_FILE}`;
  try {
    Deno.writeFileSync(file, new Uint8Array(), { createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw fileError(error, dir, file);
  }
  let data: SqliteData;
  try {
    data = new SqliteData(file);
  } catch (error) {
    throw fileError(error, dir, file);
  }
  let problems: string[];
  try {
    problems = data.check();
  } catch (error) {
    void data.close();
    throw fileError(error, dir, file);
  }
  if (problems.length !== 1 || problems[0] !== "ok") {
    void data.close();
    throw corrupt(file, `quick_check says: ${problems.slice(0, 2).join("; ")}`);
  }
  return data;
}

/** Makes the data directory (and its parents) with mode 0700, if it is not there. */
function makeDir(dir: string): void {
  try {
    const info = Deno.statSync(dir);
    if (!info.isDirectory) {
      throw new DataError(
        "unreadable",
        `The data directory "${dir}" is not a directory: move it aside or use another --data DIR.`,
      );
    }
    return;
  } catch (error) {
    if (error instanceof DataError) throw error;
    if (!(error instanceof Deno.errors.NotFound)) throw fileError(error, dir, dir);
  }
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fileError(error, dir, dir);
  }
}

const SQLITE_BUSY = 5, SQLITE_LOCKED = 6, SQLITE_PERM = 3, SQLITE_READONLY = 8;
const SQLITE_CORRUPT = 11, SQLITE_CANTOPEN = 14, SQLITE_NOTADB = 26, SQLITE_AUTH = 23;

/** Says in one sentence why `file` (in data directory `dir`) could not be used. */
function fileError(error: unknown, dir: string, file: string): DataError {
  if (error instanceof DataError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = Number((error as { errcode?: unknown })?.errcode ?? NaN) & 0xff;
  if (error instanceof Deno.errors.NotCapable) {
    return new DataError(
      "unreadable",
      `chat may not use "${file}" (${message}): run it with read and write permission there.`,
    );
  }
  if (code === SQLITE_BUSY || code === SQLITE_LOCKED || /database is locked/.test(message)) {
    return new DataError(
      "locked",
      `The data in "${dir}" is in use by another chat server: stop that server, or use ` +
        `another --data DIR.`,
    );
  }
  if (
    code === SQLITE_NOTADB || code === SQLITE_CORRUPT || /not a database|malformed/.test(message)
  ) {
    return corrupt(file, message);
  }
  if (
    error instanceof Deno.errors.PermissionDenied || code === SQLITE_PERM ||
    code === SQLITE_READONLY || code === SQLITE_CANTOPEN || code === SQLITE_AUTH ||
    /permission denied|unable to open|readonly/i.test(message)
  ) {
    return new DataError(
      "unreadable",
      `Cannot open "${file}" (${message}): give the user running chat read and write access ` +
        `to "${dir}", or use another --data DIR.`,
    );
  }
  return new DataError(
    "io",
    `Reading or writing "${file}" failed (${message}): check the disk (free space, errors) ` +
      `and start again.`,
  );
}

function corrupt(file: string, detail: string): DataError {
  return new DataError(
    "corrupt",
    `"${file}" is not a readable chat database (${detail}): move it aside or restore a ` +
      `backup; chat will not start with empty data in its place.`,
  );
}
