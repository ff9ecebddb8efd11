/**
 * The history's SQLite file, driven synchronously through `node:sqlite`:
 * batches written in one transaction each, one row per conversation in a
 * batch (see `sqlite_batches.ts`), made durable at commit
 * (`synchronous=FULL` in WAL mode), trimmed to the retention after the
 * commit (whole rows), and read with both bounds enforced exactly. It blocks its thread,
 * so it runs in the store's worker (see `sqlite_worker.ts`), never on the
 * hub's.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { unpackEntries, unpackMessages } from "./packed_entries.ts";
import {
  type BatchRow,
  batchRows,
  compareKeys,
  type Key,
  keyOf,
  later,
  messagesWithin,
  ordered,
  packedRows,
  TOP,
} from "./sqlite_batches.ts";
import { AccountsTable } from "./accounts_table.ts";
import { upgradeSchema } from "./sqlite_schema.ts";
import type { Range, Retention, StoredMessage } from "./store.ts";

/**
 * How long a write waits for another process's lock on the file (a
 * `sqlite3` shell, a backup that writes) before it fails and is retried:
 * short, so that a shutdown can still write what waits within its 5 s.
 */
export const BUSY_TIMEOUT_MS = 1000;
/**
 * Messages in one row at most: a read parses whole rows, so `HISTORY 1000`
 * parses a few thousand lines at most, however large the batch was.
 */
export const MAX_ROW_MESSAGES = 1000;
/** Trimming by age runs at most this often: reads drop older messages exactly meanwhile. */
const AGE_TRIM_INTERVAL_MS = 60_000;
/** The write-ahead log is cut back to this size after a checkpoint, however large a batch made it. */
const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * A conversation's newest row takes the next batch's messages while it
 * holds fewer than this: at a few messages a second each batch is one
 * message, and `HISTORY 1000` would walk a thousand rows. About a page
 * (4 KB) of messages, so a commit writes no more pages than a new row would.
 */
export const SMALL_ROW_MESSAGES = 32;
/**
 * ... and while its first message is less than this older than the new
 * ones: rows are trimmed by age whole, so a row kept open longer would keep
 * its old messages in the file past the age (reads drop them anyway).
 */
export const SMALL_ROW_SPAN_MS = 60_000;

/** A conversation's newest row: its first and last ids and how many messages it holds. */
interface Tail {
  readonly first: Key;
  readonly last: Key;
  readonly count: number;
}

/** A row's keys and size, without its body. */
interface RowHead {
  first_ms: number;
  first_seq: number;
  last_ms: number;
  last_seq: number;
  count: number;
}

/** A row with its body. */
interface RowBody extends RowHead {
  body: string;
}

/** Messages a conversation may hold past its `lines` before it is trimmed: a tenth, at least one. */
function slackOf(lines: number): number {
  return Math.max(1, Math.ceil(lines / 10));
}

/** The history file, open: one connection, used by one thread. */
export class HistoryFile {
  /** The latest id ever stored here when the file was opened; undefined for a new file. */
  readonly lastId: string | undefined;
  /** The file's accounts, on the same connection: one writer, no lock taken from each other. */
  readonly accounts: AccountsTable;
  readonly #db: DatabaseSync;
  readonly #retention: Retention;
  /** Messages each conversation holds (the sum of its rows' counts), as far as known. */
  readonly #counts = new Map<string, number>();
  /** Each conversation's newest row: an entry at or below its id was written already. */
  readonly #tails = new Map<string, Tail>();
  /** The oldest id within each conversation's `lines`, as far as known since its last write. */
  readonly #boundaries = new Map<string, Key>();
  readonly #insert: StatementSync;
  readonly #extend: StatementSync;
  readonly #setLast: StatementSync;
  readonly #count: StatementSync;
  readonly #newestRow: StatementSync;
  readonly #heads: StatementSync;
  readonly #body: StatementSync;
  readonly #trimLines: StatementSync;
  readonly #trimAge: StatementSync;
  readonly #above: StatementSync;
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
        `INSERT OR IGNORE INTO batches (conversation, last_ms, last_seq, first_ms, first_seq, count, body)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      this.#extend = db.prepare(
        `UPDATE batches SET last_ms = ?, last_seq = ?, count = count + ?, body = body || ?
         WHERE conversation = ? AND last_ms = ? AND last_seq = ?`,
      );
      this.#setLast = db.prepare(
        `INSERT INTO state (id, last_ms, last_seq) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_ms = excluded.last_ms, last_seq = excluded.last_seq
         WHERE (excluded.last_ms, excluded.last_seq) > (state.last_ms, state.last_seq)`,
      );
      this.#count = db.prepare(
        "SELECT coalesce(sum(count), 0) AS n FROM batches WHERE conversation = ?",
      );
      const head = "first_ms, first_seq, last_ms, last_seq, count";
      this.#newestRow = db.prepare(
        `SELECT ${head} FROM batches WHERE conversation = ? ORDER BY last_ms DESC, last_seq DESC LIMIT 1`,
      );
      this.#heads = db.prepare(
        `SELECT ${head} FROM batches WHERE conversation = ? ORDER BY last_ms, last_seq`,
      );
      this.#body = db.prepare(
        "SELECT body FROM batches WHERE conversation = ? AND last_ms = ? AND last_seq = ?",
      );
      this.#trimLines = db.prepare(
        "DELETE FROM batches WHERE conversation = ? AND (last_ms, last_seq) <= (?, ?)",
      );
      this.#trimAge = db.prepare("DELETE FROM batches WHERE last_ms < ?");
      this.#above = db.prepare(
        `SELECT ${head} FROM batches WHERE conversation = ? AND (last_ms, last_seq) >= (?, ?)
         ORDER BY last_ms, last_seq LIMIT 1`,
      );
      this.#latest = db.prepare(
        `SELECT ${head}, body FROM batches
         WHERE conversation = ? AND (last_ms, last_seq) >= (?, ?) AND (last_ms, last_seq) <= (?, ?)
         ORDER BY last_ms DESC, last_seq DESC`,
      );
      this.#earliest = db.prepare(
        `SELECT ${head}, body FROM batches WHERE conversation = ? AND (last_ms, last_seq) >= (?, ?)
         ORDER BY last_ms, last_seq`,
      );
      // A removed account's cached counts and rows are gone from the file: read them afresh.
      this.accounts = new AccountsTable(db, () => this.#forgetCaches());
      this.lastId = this.#readLastId();
      this.#trimAll(nowMs);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Writes the entries `packed` (see `packed_entries.ts`) in one
   * transaction, durable when it returns: one row per conversation (per
   * {@linkcode MAX_ROW_MESSAGES}), or added to the conversation's newest
   * row while that is small and recent. An id at or below its conversation's newest
   * stored one was written already (a retried batch) and is left out. Then
   * trims what passed the retention.
   */
  append(packed: string, nowMs: number): void {
    const added = new Map<string, { count: number; tail: Tail }>();
    this.#transaction(() => {
      const newest = (conversation: string) => this.#tailOf(conversation)?.last;
      const rows = packedRows(packed, newest, MAX_ROW_MESSAGES) ??
        batchRows(unpackEntries(packed), newest, MAX_ROW_MESSAGES);
      let last: Key | undefined;
      for (const row of rows) {
        if (!this.accounts.keeps(row.conversation)) continue;
        const before = added.get(row.conversation);
        const tail = before?.tail ?? this.#tailOf(row.conversation);
        const written = this.#write(row, tail);
        if (written !== undefined) {
          added.set(row.conversation, { count: (before?.count ?? 0) + row.count, tail: written });
        }
        last = last === undefined ? row.last : later(last, row.last);
      }
      if (last !== undefined) this.#setLast.run(last[0], last[1]);
    });
    // After the commit: trimming is housekeeping, and reads hold the bounds meanwhile.
    for (const [conversation, { count, tail }] of added) {
      this.#tails.set(conversation, tail);
      this.#boundaries.delete(conversation);
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
   * conversation's `lines` latest, none older than `maxAgeMs`), oldest
   * first: rows are walked from the range's end, and the walk stops once
   * it holds `limit` messages.
   */
  read(range: Range, nowMs: number): StoredMessage[] {
    const { conversation, limit } = range;
    let low: Key = [Math.max(0, Math.ceil(nowMs - this.#retention.maxAgeMs)), 0];
    const boundary = this.#boundaryOf(conversation, range.keep);
    if (boundary !== undefined) low = later(low, boundary);
    const after = range.after === undefined ? undefined : keyOf(range.after);
    if (after !== undefined) low = later(low, [after[0], after[1] + 1]);
    const before = range.before === undefined ? undefined : keyOf(range.before);
    const high: Key = before ?? TOP;
    if (compareKeys(low, high) >= 0) return [];
    const runs: StoredMessage[][] = [];
    let found = 0;
    if (range.from === "latest") {
      // The first row whose key reaches `high` may hold messages below it; rows past it do not.
      const straddling = this.#above.get(conversation, high[0], high[1]) as RowHead | undefined;
      const top: Key = straddling === undefined ? TOP : [straddling.last_ms, straddling.last_seq];
      for (const row of this.#latest.iterate(conversation, low[0], low[1], top[0], top[1])) {
        const run = messagesWithin((row as unknown as RowBody).body, low, high);
        runs.push(run);
        found += run.length;
        if (found >= limit) break;
      }
      runs.reverse();
      const messages = ordered(runs);
      return messages.length > limit ? messages.slice(-limit) : messages;
    }
    for (const row of this.#earliest.iterate(conversation, low[0], low[1])) {
      const { first_ms, first_seq, body } = row as unknown as RowBody;
      if (compareKeys([first_ms, first_seq], high) >= 0) break;
      const run = messagesWithin(body, low, high);
      runs.push(run);
      found += run.length;
      if (found >= limit) break;
    }
    const messages = ordered(runs);
    return messages.length > limit ? messages.slice(0, limit) : messages;
  }

  /** Checkpoints the write-ahead log into the file and closes it. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #readLastId(): string | undefined {
    const state = this.#db.prepare("SELECT last_ms, last_seq FROM state").get() as
      | RowHead
      | undefined;
    const newest = this.#db.prepare(
      "SELECT last_ms, last_seq FROM batches ORDER BY last_ms DESC, last_seq DESC LIMIT 1",
    ).get() as RowHead | undefined;
    const keys = [state, newest].filter((row) => row !== undefined).map((row) =>
      [row.last_ms, row.last_seq] as Key
    );
    if (keys.length === 0) return undefined;
    const [ms, seq] = keys.reduce(later);
    return `${ms}-${seq}`;
  }

  /** At open: every conversation to its `lines` (whole rows), and nothing older than the age. */
  #trimAll(nowMs: number): void {
    this.#transaction(() => {
      this.#trimOld(nowMs);
      const rows = this.#db.prepare(
        "SELECT conversation, sum(count) AS n FROM batches GROUP BY conversation",
      ).all() as unknown as { conversation: string; n: number }[];
      for (const { conversation, n } of rows) {
        this.#counts.set(conversation, n);
        if (n > this.#retention.lines) this.#trimConversation(conversation);
      }
    });
  }

  /** Drops a conversation's oldest rows while what remains still holds its `lines`. */
  #trimConversation(conversation: string): void {
    let count = this.#countOf(conversation);
    let cut: Key | undefined;
    for (const row of this.#heads.iterate(conversation)) {
      const head = row as unknown as RowHead;
      if (count - head.count < this.#retention.lines) break;
      count -= head.count;
      cut = [head.last_ms, head.last_seq];
    }
    if (cut === undefined) return;
    this.#trimLines.run(conversation, cut[0], cut[1]);
    this.#counts.set(conversation, count);
    this.#boundaries.delete(conversation);
  }

  /** Drops every row whose messages are all older than the age; counts are read afresh afterwards. */
  #trimOld(nowMs: number): void {
    this.#ageTrimmedAt = nowMs;
    const { changes } = this.#trimAge.run(Math.ceil(nowMs - this.#retention.maxAgeMs));
    if (Number(changes) > 0) {
      this.#counts.clear();
      this.#boundaries.clear();
    }
  }

  /**
   * The oldest id of a conversation's `lines` latest, when it holds more:
   * found by walking its oldest rows and parsing the one that holds it.
   */
  #boundaryOf(conversation: string, keep?: number): Key | undefined {
    const lines = Math.min(this.#retention.lines, keep ?? Infinity);
    const excess = this.#countOf(conversation) - lines;
    if (excess <= 0) return undefined;
    // Only the boundary of the retention's `lines` is kept: a `keep` changes with each read.
    const known = keep === undefined ? this.#boundaries.get(conversation) : undefined;
    if (known !== undefined) return known;
    let skipped = 0;
    let boundary: Key | undefined;
    for (const row of this.#heads.iterate(conversation)) {
      const head = row as unknown as RowHead;
      if (skipped + head.count > excess) {
        const { body } = this.#body.get(conversation, head.last_ms, head.last_seq) as {
          body: string;
        };
        const messages = unpackMessages(body);
        const message = messages[Math.min(excess - skipped, messages.length - 1)];
        boundary = message === undefined ? undefined : keyOf(message.id);
        break;
      }
      skipped += head.count;
    }
    if (boundary !== undefined && keep === undefined) this.#boundaries.set(conversation, boundary);
    return boundary;
  }

  #countOf(conversation: string): number {
    let count = this.#counts.get(conversation);
    if (count === undefined) {
      count = (this.#count.get(conversation) as { n: number }).n;
      this.#counts.set(conversation, count);
    }
    return count;
  }

  /**
   * Writes `row`: added to the conversation's newest row (`tail`) while
   * that holds fewer than {@linkcode SMALL_ROW_MESSAGES} within
   * {@linkcode SMALL_ROW_SPAN_MS}, else a row of its own. Returns the
   * conversation's newest row after, or undefined when nothing was written.
   */
  #write(row: BatchRow, tail: Tail | undefined): Tail | undefined {
    const { conversation, first, last, count, body } = row;
    if (
      tail !== undefined && tail.count < SMALL_ROW_MESSAGES &&
      last[0] - tail.first[0] < SMALL_ROW_SPAN_MS
    ) {
      const at = tail.last;
      const { changes } = this.#extend.run(
        last[0],
        last[1],
        count,
        body,
        conversation,
        at[0],
        at[1],
      );
      // Gone (aged out since): the row is written on its own.
      if (Number(changes) > 0) return { first: tail.first, last, count: tail.count + count };
    }
    const { changes } = this.#insert.run(
      conversation,
      last[0],
      last[1],
      first[0],
      first[1],
      count,
      body,
    );
    return Number(changes) > 0 ? { first, last, count } : undefined;
  }

  #tailOf(conversation: string): Tail | undefined {
    let tail = this.#tails.get(conversation);
    if (tail === undefined) {
      const row = this.#newestRow.get(conversation) as RowHead | undefined;
      if (row === undefined) return undefined;
      tail = {
        first: [row.first_ms, row.first_seq],
        last: [row.last_ms, row.last_seq],
        count: row.count,
      };
      this.#tails.set(conversation, tail);
    }
    return tail;
  }

  /** Runs `work` in one write transaction: all of it is committed, or none. */
  #transaction(work: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      // What the failed transaction did to the caches is unknown: read them afresh.
      this.#forgetCaches();
      throw error;
    }
  }

  #forgetCaches(): void {
    this.#counts.clear();
    this.#tails.clear();
    this.#boundaries.clear();
  }
}
