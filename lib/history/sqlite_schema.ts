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
 * Brings the file to {@linkcode SCHEMA_VERSION}, one step and one
 * transaction at a time; returns the version it found. Throws a
 * {@linkcode SchemaError} for a file newer than this server.
 */
export function upgradeSchema(db: DatabaseSync): number {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) {
    throw new SchemaError(
      `its schema version is ${found}, newer than this server's ${SCHEMA_VERSION}: ` +
        "run the newer server, or restore a backup made for this one",
    );
  }
  for (let version = found; version < SCHEMA_VERSION; version++) {
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
