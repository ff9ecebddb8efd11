/**
 * The history's SQLite file, driven synchronously through `node:sqlite`:
 * batches written in one transaction each, made durable at commit
 * (`synchronous=FULL` in WAL mode), trimmed to the retention after the
 * commit, and read with both bounds enforced exactly. It blocks its thread,
 * so it runs in the store's worker (see `sqlite_worker.ts`), never on the
 * hub's.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { parseId } from "./message_id.ts";
import { upgradeSchema } from "./sqlite_schema.ts";
import type { Entry, Range, Retention, StoredMessage } from "./store.ts";

/**
 * How long a write waits for another process's lock on the file (a
 * `sqlite3` shell, a backup that writes) before it fails and is retried:
 * short, so that a shutdown can still write what waits within its 5 s.
 */
export const BUSY_TIMEOUT_MS = 1000;
/** Trimming by age runs at most this often: reads drop older messages exactly meanwhile. */
const AGE_TRIM_INTERVAL_MS = 60_000;
/** The write-ahead log is cut back to this size after a checkpoint, however large a batch made it. */
const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;
/** An id above every real one: the upper end of a read without `before`. */
const TOP = Number.MAX_SAFE_INTEGER;

/** A position in one conversation's order: an id's two parts. */
type Key = readonly [ms: number, seq: number];

interface Row {
  ms: number;
  seq: number;
  sender: string;
  text: string;
}

/** Messages a conversation may hold past its `lines` before it is trimmed: a tenth, at least one. */
function slackOf(lines: number): number {
  return Math.max(1, Math.ceil(lines / 10));
}

function later(a: Key, b: Key): Key {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]) ? a : b;
}

/** The history file, open: one connection, used by one thread. */
export class HistoryFile {
  /** The latest id ever stored here when the file was opened; undefined for a new file. */
  readonly lastId: string | undefined;
  readonly #db: DatabaseSync;
  readonly #retention: Retention;
  /** Messages each conversation holds, as far as known; filled lazily, dropped after an age trim. */
  readonly #counts = new Map<string, number>();
  readonly #insert: StatementSync;
  readonly #setLast: StatementSync;
  readonly #count: StatementSync;
  readonly #nth: StatementSync;
  readonly #trimLines: StatementSync;
  readonly #trimAge: StatementSync;
  readonly #latest: StatementSync;
  readonly #earliest: StatementSync;
  #ageTrimmedAt = -Infinity;
  #closed = false;

  /**
   * Opens (or creates) the file at `path`, upgrades its schema, and trims
   * it to `retention` as of `nowMs`. Throws what SQLite or the schema says.
   */
  constructor(path: string, retention: Retention, nowMs: number) {
    this.#retention = retention;
    const db = new DatabaseSync(path);
    this.#db = db;
    try {
      // Waits for another process's lock; set first, so that even the upgrade may wait.
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Before the switch to WAL, which rewrites the header: a file refused is left as it was.
      upgradeSchema(db);
      const mode = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
      if (mode.journal_mode !== "wal") {
        throw new Error(`cannot use write-ahead logging (journal mode ${mode.journal_mode})`);
      }
      // Each commit reaches the disk before it returns: a power cut loses at most the batch underway.
      db.exec("PRAGMA synchronous = FULL");
      db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      this.#insert = db.prepare(
        "INSERT OR IGNORE INTO messages (conversation, ms, seq, sender, text) VALUES (?, ?, ?, ?, ?)",
      );
      this.#setLast = db.prepare(
        `INSERT INTO state (id, last_ms, last_seq) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_ms = excluded.last_ms, last_seq = excluded.last_seq
         WHERE (excluded.last_ms, excluded.last_seq) > (state.last_ms, state.last_seq)`,
      );
      this.#count = db.prepare("SELECT count(*) AS n FROM messages WHERE conversation = ?");
      this.#nth = db.prepare(
        "SELECT ms, seq FROM messages WHERE conversation = ? ORDER BY ms, seq LIMIT 1 OFFSET ?",
      );
      this.#trimLines = db.prepare(
        `DELETE FROM messages WHERE conversation = ? AND (ms, seq) < (
           SELECT ms, seq FROM messages WHERE conversation = ? ORDER BY ms, seq LIMIT 1 OFFSET ?)`,
      );
      this.#trimAge = db.prepare("DELETE FROM messages WHERE ms < ?");
      const range = "conversation = ? AND (ms, seq) >= (?, ?) AND (ms, seq) < (?, ?)";
      this.#latest = db.prepare(
        `SELECT ms, seq, sender, text FROM messages WHERE ${range} ORDER BY ms DESC, seq DESC LIMIT ?`,
      );
      this.#earliest = db.prepare(
        `SELECT ms, seq, sender, text FROM messages WHERE ${range} ORDER BY ms, seq LIMIT ?`,
      );
      this.lastId = this.#readLastId();
      this.#trimAll(nowMs);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Writes `entries` (ids given) in one transaction, durable when it
   * returns; an id already stored is left as it is, so a retried batch
   * writes each message once. Then trims what passed the retention.
   */
  append(entries: readonly Entry[], nowMs: number): void {
    const added = new Map<string, number>();
    let last: Key | undefined;
    this.#transaction(() => {
      for (const entry of entries) {
        const id = entry.id === undefined ? undefined : parseId(entry.id);
        if (id === undefined) continue;
        const { changes } = this.#insert.run(
          entry.conversation,
          id.ms,
          id.seq,
          entry.sender,
          entry.text,
        );
        if (Number(changes) > 0) {
          added.set(entry.conversation, (added.get(entry.conversation) ?? 0) + 1);
        }
        last = last === undefined ? [id.ms, id.seq] : later(last, [id.ms, id.seq]);
      }
      if (last !== undefined) this.#setLast.run(last[0], last[1]);
    });
    // After the commit: trimming is housekeeping, and reads hold the bounds meanwhile.
    for (const [conversation, count] of added) {
      const known = this.#counts.get(conversation);
      if (known !== undefined) this.#counts.set(conversation, known + count);
      if (this.#countOf(conversation) > this.#retention.lines + slackOf(this.#retention.lines)) {
        this.#transaction(() => this.#trimConversation(conversation));
      }
    }
    if (nowMs - this.#ageTrimmedAt >= AGE_TRIM_INTERVAL_MS) {
      this.#transaction(() => this.#trimOld(nowMs));
    }
  }

  /**
   * The messages of `range` within the retention as of `nowMs` (the
   * conversation's `lines` latest, none older than `maxAgeMs`), oldest first.
   */
  read(range: Range, nowMs: number): StoredMessage[] {
    const { conversation } = range;
    let low: Key = [Math.max(0, Math.ceil(nowMs - this.#retention.maxAgeMs)), 0];
    const excess = this.#countOf(conversation) - this.#retention.lines;
    if (excess > 0) {
      const row = this.#nth.get(conversation, excess) as Row | undefined;
      if (row !== undefined) low = later(low, [row.ms, row.seq]);
    }
    const after = range.after === undefined ? undefined : parseId(range.after);
    if (after !== undefined) low = later(low, [after.ms, after.seq + 1]);
    const before = range.before === undefined ? undefined : parseId(range.before);
    const high: Key = before === undefined ? [TOP, TOP] : [before.ms, before.seq];
    const statement = range.from === "latest" ? this.#latest : this.#earliest;
    const rows = statement.all(
      conversation,
      low[0],
      low[1],
      high[0],
      high[1],
      range.limit,
    ) as unknown as Row[];
    if (range.from === "latest") rows.reverse();
    return rows.map((row) => ({ id: `${row.ms}-${row.seq}`, sender: row.sender, text: row.text }));
  }

  /** Checkpoints the write-ahead log into the file and closes it. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #readLastId(): string | undefined {
    const state = this.#db.prepare("SELECT last_ms AS ms, last_seq AS seq FROM state").get() as
      | Row
      | undefined;
    const newest = this.#db.prepare(
      "SELECT ms, seq FROM messages ORDER BY ms DESC, seq DESC LIMIT 1",
    ).get() as Row | undefined;
    const keys = [state, newest].filter((row) => row !== undefined).map((row) =>
      [row.ms, row.seq] as Key
    );
    if (keys.length === 0) return undefined;
    const [ms, seq] = keys.reduce(later);
    return `${ms}-${seq}`;
  }

  /** At open: every conversation to its `lines` exactly, and nothing older than the age. */
  #trimAll(nowMs: number): void {
    this.#transaction(() => {
      this.#trimOld(nowMs);
      const rows = this.#db.prepare(
        "SELECT conversation, count(*) AS n FROM messages GROUP BY conversation",
      ).all() as unknown as { conversation: string; n: number }[];
      for (const { conversation, n } of rows) {
        this.#counts.set(conversation, n);
        if (n > this.#retention.lines) this.#trimConversation(conversation);
      }
    });
  }

  /** Drops a conversation's oldest messages past its `lines`. */
  #trimConversation(conversation: string): void {
    const excess = this.#countOf(conversation) - this.#retention.lines;
    if (excess <= 0) return;
    this.#trimLines.run(conversation, conversation, excess);
    this.#counts.set(conversation, this.#retention.lines);
  }

  /** Drops every message older than the age; the counts are read afresh afterwards. */
  #trimOld(nowMs: number): void {
    this.#ageTrimmedAt = nowMs;
    const { changes } = this.#trimAge.run(Math.ceil(nowMs - this.#retention.maxAgeMs));
    if (Number(changes) > 0) this.#counts.clear();
  }

  #countOf(conversation: string): number {
    let count = this.#counts.get(conversation);
    if (count === undefined) {
      count = (this.#count.get(conversation) as { n: number }).n;
      this.#counts.set(conversation, count);
    }
    return count;
  }

  /** Runs `work` in one write transaction: all of it is committed, or none. */
  #transaction(work: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      // What the failed transaction did to the counts is unknown: read them afresh.
      this.#counts.clear();
      throw error;
    }
  }
}
