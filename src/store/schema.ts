/**
 * The database's schema and its migrations. The schema version is kept in `PRAGMA user_version`
 * (0 in a new, empty database). Each migration takes the database from version N-1 to N in one
 * transaction; a database newer than this program knows is refused, never changed.
 *
 * To change the schema, append a migration (never edit one that has shipped), and add to
 * `schema_test.ts` a database made with the SQL of the version before it.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { DataError } from "./data.ts";

/** One step of the schema: from version `version - 1` to `version`. */
export interface Migration {
  /** The version this migration makes. */
  readonly version: number;
  /** What it changes, for people. */
  readonly description: string;
  /** The SQL that makes the change (several statements). */
  readonly sql: string;
}

/**
 * Version 1: owners by their name's lookalike key (`nameKey`, computed by the program: a change
 * of that rule needs a migration that recomputes `name_key`), mail by recipient and id (ids come
 * from AUTOINCREMENT's `sqlite_sequence`, so they are never reused even when every message was
 * deleted), receipts by sender.
 */
const V1 = `
CREATE TABLE owners (
  name_key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  public_key BLOB NOT NULL,
  claimed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE mail (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  body BLOB NOT NULL,
  sent_at INTEGER NOT NULL
);
CREATE INDEX mail_by_recipient ON mail (recipient, id);
CREATE INDEX mail_by_age ON mail (sent_at);
CREATE TABLE receipts (
  mail INTEGER PRIMARY KEY,
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('delivered', 'expired', 'refused', 'released')),
  sent_at INTEGER NOT NULL,
  made_at INTEGER NOT NULL
);
CREATE INDEX receipts_by_sender ON receipts (sender, made_at, mail);
CREATE INDEX receipts_by_age ON receipts (made_at);
`;

/** Every migration, in order: `MIGRATIONS[i].version === i + 1`. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "owners, mail and receipts", sql: V1 },
];

/** The schema version this program writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/** The database's schema version (`PRAGMA user_version`). */
export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}

/**
 * Brings `db` to the latest version of `migrations`, one transaction per migration; returns the
 * version it found. Throws {@link DataError} `too-new` if the database is newer than
 * `migrations` know (`location` names it in the sentence).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import {
 *   migrate,
 *   type Migration,
 *   MIGRATIONS,
 *   SCHEMA_VERSION,
 *   schemaVersion,
 * } from "./schema.ts";
 *
 * const db = new DatabaseSync(":memory:");
 * const all: readonly Migration[] = MIGRATIONS;
 * assert.equal(migrate(db, ":memory:", all), 0);
 * assert.equal(schemaVersion(db), SCHEMA_VERSION);
 * db.close();
 * ```
 */
export function migrate(
  db: DatabaseSync,
  location: string,
  migrations: readonly Migration[] = MIGRATIONS,
): number {
  const found = schemaVersion(db);
  const latest = migrations.length;
  if (found > latest) {
    throw new DataError(
      "too-new",
      `The data in "${location}" has schema version ${found}, newer than this chat knows ` +
        `(${latest}): upgrade chat to use it.`,
    );
  }
  for (const m of migrations.slice(found)) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }
  return found;
}
