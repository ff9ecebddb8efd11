/**
 * The history file's schema, its version (`PRAGMA user_version`) and the
 * steps that upgrade an older file, each in one transaction: a file is at
 * one version or the next, never half-way. A file newer than this server is
 * refused, so an older server never writes into a shape it does not know.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/**
 * Step `i` upgrades a file at version `i` to `i + 1`. Append a step for a
 * new version; never edit one that has shipped (files out there ran it).
 */
const UPGRADES: readonly string[] = [
  // 0 → 1. Messages by conversation, then id: each read is one range of the primary key,
  // and the key refuses the same id twice (a retried batch). The index by time serves
  // trimming by age. `state` keeps the latest id ever given, so that ids never go back
  // across a restart even when every message has aged out and the clock went back.
  `CREATE TABLE messages (
     conversation TEXT NOT NULL,
     ms INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     sender TEXT NOT NULL,
     text TEXT NOT NULL,
     PRIMARY KEY (conversation, ms, seq)
   ) WITHOUT ROWID;
   CREATE INDEX messages_by_time ON messages (ms);
   CREATE TABLE state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     last_ms INTEGER NOT NULL,
     last_seq INTEGER NOT NULL
   );`,
  // 1 → 2. One row per batch of one conversation instead of one per message: a write of a
  // hub turn's messages costs one row and one index entry, not one each (at full speed the
  // worker took a third of a core). A row's key is its last message's id; its body holds
  // the messages as lines (see packed_entries.ts). The old rows become rows of up to 1000.
  `CREATE TABLE batches (
     conversation TEXT NOT NULL,
     last_ms INTEGER NOT NULL,
     last_seq INTEGER NOT NULL,
     first_ms INTEGER NOT NULL,
     first_seq INTEGER NOT NULL,
     count INTEGER NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (conversation, last_ms, last_seq)
   ) WITHOUT ROWID;
   CREATE INDEX batches_by_time ON batches (last_ms);
   INSERT INTO batches (conversation, last_ms, last_seq, first_ms, first_seq, count, body)
     SELECT conversation,
       CAST(substr(max(k), 1, 16) AS INTEGER), CAST(substr(max(k), 17) AS INTEGER),
       CAST(substr(min(k), 1, 16) AS INTEGER), CAST(substr(min(k), 17) AS INTEGER),
       count(*),
       group_concat(
         ms || '-' || seq || char(9) || sender || char(9) || replace(text, char(10), ' ')
           || char(10),
         '' ORDER BY ms, seq)
     FROM (
       SELECT conversation, ms, seq, sender, text, printf('%016d%016d', ms, seq) AS k,
         (row_number() OVER (PARTITION BY conversation ORDER BY ms, seq) - 1) / 1000 AS part
       FROM messages)
     GROUP BY conversation, part;
   DROP TABLE messages;`,
  // 2 → 3. Accounts (lib/accounts/): the key (the name's comparison key) is UNIQUE, so two
  // registrations of one name cannot both succeed, whatever their timing. AUTOINCREMENT:
  // an id is never given again after a delete, so whatever is stored under an id (direct
  // messages) can never pass to a later account of the same name.
  `CREATE TABLE accounts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     key TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     hash TEXT NOT NULL,
     created_ms INTEGER NOT NULL
   );`,
];

/** The version this server writes: a file is upgraded to it, and one above it is refused. */
export const SCHEMA_VERSION: number = UPGRADES.length;

/** The file's schema is one this server cannot use: newer than it, or not a history file. */
export class SchemaError extends Error {
  override name = "SchemaError";
}

/** The file's schema version. */
export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}

/**
 * Brings the file to {@linkcode SCHEMA_VERSION} (or `target`, below it:
 * tests make the files an older server made), one step and one
 * transaction at a time; returns the version it found. Throws a
 * {@linkcode SchemaError} for a file newer than this server.
 */
export function upgradeSchema(db: DatabaseSync, target: number = SCHEMA_VERSION): number {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) {
    throw new SchemaError(
      `its schema version is ${found}, newer than this server's ${SCHEMA_VERSION}: ` +
        "run the newer server, or restore a backup made for this one",
    );
  }
  for (let version = found; version < Math.min(target, SCHEMA_VERSION); version++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(UPGRADES[version]!);
      // PRAGMA takes no parameters; the number is this module's own.
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      const reason = error instanceof Error ? error.message : String(error);
      throw new SchemaError(`cannot upgrade its schema from version ${version}: ${reason}`);
    }
  }
  return found;
}
