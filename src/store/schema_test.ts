import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DataError } from "./data.ts";
import { migrate, type Migration, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from "./schema.ts";
import { SqliteData } from "./sqlite.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-schema-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Rows that a database of each version holds, written with that version's SQL: index k is for a
 * database at version k (0: an empty file). When a migration is added, add the rows of the
 * version before it here, so that the test below migrates them.
 */
const SAMPLES: readonly string[] = [
  "",
  `INSERT INTO owners VALUES ('alice', 'alice', x'${"01".repeat(32)}', 1000);
   INSERT INTO mail VALUES (7, 'bob', 'alice', x'6869', 2000);
   INSERT INTO receipts VALUES (5, 'alice', 'carol', 'delivered', 1500, 1600);`,
];

/** What every sample above must read as, once migrated to the latest version. */
function assertSampleKept(data: SqliteData, version: number): void {
  if (version === 0) {
    assert.deepEqual(data.summary(), { owners: 0, mail: 0, receipts: 0 });
    return;
  }
  assert.equal(data.owner("Alice")?.claimedAt, 1000);
  assert.deepEqual(data.mail("alice", 0, 10).map((m) => [m.id, m.from, m.body, m.sentAt]), [
    [7, "bob", new TextEncoder().encode("hi"), 2000],
  ]);
  assert.deepEqual(data.receipts("alice").map((r) => [r.mail, r.recipient, r.event, r.at]), [
    [5, "carol", "delivered", 1600],
  ]);
}

Deno.test("schema: MIGRATIONS are numbered 1, 2, … and each old version has sample rows", () => {
  assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1));
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  assert.equal(SAMPLES.length, SCHEMA_VERSION + 1, "add the rows of the version before a new one");
});

Deno.test("schema: a new database gets the latest version", () =>
  withDir(async (dir) => {
    const data = new SqliteData(`${dir}/chat.db`);
    await data.close();
    const db = new DatabaseSync(`${dir}/chat.db`);
    assert.equal(schemaVersion(db), SCHEMA_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all().map((r) => r.name);
    assert.deepEqual(tables, ["mail", "owners", "receipts", "sqlite_sequence"]);
    assert.equal(migrate(db, "x"), SCHEMA_VERSION, "migrating again changes nothing");
    db.close();
  }));

for (let version = 0; version < SCHEMA_VERSION; version++) {
  Deno.test(`schema: a version ${version} database migrates to the latest with its data`, () =>
    withDir(async (dir) => {
      const db = new DatabaseSync(`${dir}/chat.db`);
      for (const m of MIGRATIONS.slice(0, version)) db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${version}`);
      db.exec(SAMPLES[version]!);
      db.close();
      let data = new SqliteData(`${dir}/chat.db`);
      assertSampleKept(data, version);
      await data.close();
      data = new SqliteData(`${dir}/chat.db`);
      assertSampleKept(data, version);
      await data.close();
    }));
}

Deno.test("schema: a later migration keeps the data; a failing one changes nothing", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db, "test");
  db.exec(SAMPLES[SCHEMA_VERSION]!);
  const next: Migration = {
    version: SCHEMA_VERSION + 1,
    description: "test: a column with a default",
    sql: "ALTER TABLE mail ADD COLUMN flags INTEGER NOT NULL DEFAULT 0",
  };
  const broken: Migration = {
    version: SCHEMA_VERSION + 2,
    description: "test: fails half way",
    sql: "CREATE TABLE extra (x); INSERT INTO nowhere VALUES (1);",
  };
  assert.throws(() => migrate(db, "test", [...MIGRATIONS, next, broken]), /no such table/);
  assert.equal(schemaVersion(db), SCHEMA_VERSION + 1, "the good one stays, the broken one not");
  assert.deepEqual(db.prepare("SELECT id, flags FROM mail").all().map((r) => [r.id, r.flags]), [
    [7, 0],
  ]);
  assert.equal(
    db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'extra'").get()?.n,
    0,
  );
  db.close();
});

Deno.test("schema: a database newer than the program is refused with a sentence", () => {
  const db = new DatabaseSync(":memory:");
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  assert.throws(
    () => migrate(db, "/d/chat.db"),
    (e: unknown) =>
      e instanceof DataError && e.kind === "too-new" &&
      e.message === `The data in "/d/chat.db" has schema version ${SCHEMA_VERSION + 1}, ` +
          `newer than this chat knows (${SCHEMA_VERSION}): upgrade chat to use it.`,
  );
  assert.equal(schemaVersion(db), SCHEMA_VERSION + 1);
  db.close();
});
