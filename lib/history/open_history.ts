/**
 * Which store the configuration asks for, opened: memory for a lone server,
 * SQLite in `--data-dir`, Redis with `--redis-url`; none with
 * `--history-lines 0`.
 *
 * @module
 */
import type { AccountStore } from "../accounts/account_store.ts";
import type { Config } from "../config.ts";
import { reasonOf } from "../error_reason.ts";
import type { LogFields, Logger } from "../log.ts";
import { ChatHistory } from "./chat_history.ts";
import { MemoryStore } from "./memory_store.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { HistoryStore, Retention } from "./store.ts";

/**
 * Least time between two SQLite transactions: under load the worker then
 * commits (and syncs) 50 times a second at most, in batches of thousands,
 * instead of once per hub turn; well inside the second of messages a crash
 * may lose.
 */
const SQLITE_BATCH_INTERVAL_MS = 20;

/** The history's file in `--data-dir`. */
export const HISTORY_FILE = "chat.db";

/** What `config` keeps: `--history-lines` and `--history-days`. */
export function retentionOf(config: Config): Retention {
  return { lines: config.historyLines, maxAgeMs: config.historyDays * 86_400_000 };
}

/** The history of a lone server without `--data-dir`: in memory, or none with `--history-lines 0`. */
export function memoryHistory(config: Config, log?: Logger): ChatHistory {
  const store = config.historyLines === 0 ? undefined : new MemoryStore(retentionOf(config));
  return new ChatHistory({ store, ...(log === undefined ? {} : { log }) });
}

/** `--data-dir` cannot be created, written or opened: the server must not start. */
export class HistoryOpenError extends Error {
  override name = "HistoryOpenError";

  /** Says which directory and why, in the one line the server exits with. */
  constructor(dataDir: string, cause: unknown) {
    super(`Cannot start: --data-dir ${dataDir}: ${openingProblem(cause)}`, { cause });
  }
}

/** A history opened by {@linkcode openHistory}, and what its startup log line says of it. */
export interface OpenedHistory {
  /** Undefined with `--redis-url`: the history is made with the cluster ({@linkcode redisHistory}). */
  readonly history: ChatHistory | undefined;
  /**
   * The accounts, with `--data-dir` (in the history's file, through its
   * worker: `SqliteStore.accounts`); undefined otherwise: accounts are off
   * without a store, and with `--redis-url` they will live in Redis.
   */
  readonly accounts?: AccountStore;
  /** The `history` line's fields: the store's kind, its file, `lines` and `days`. */
  readonly fields: LogFields;
}

/**
 * The history `config` asks for, its store open. Rejects with a
 * {@linkcode HistoryOpenError} when `--data-dir` cannot be used. Call it
 * while the process may still read and write files: the store's worker
 * module and its file are opened here.
 */
export async function openHistory(config: Config, log: Logger): Promise<OpenedHistory> {
  const lines = config.historyLines;
  const days = config.historyDays;
  if (lines === 0) return { history: memoryHistory(config, log), fields: { store: "none" } };
  // With --redis-url, history belongs in Redis, whether or not --data-dir is given (the
  // protocol's "Where state lives"): no file is opened here.
  if (config.redisUrl !== undefined) {
    return { history: undefined, fields: { store: "redis", lines, days } };
  }
  if (config.dataDir === undefined) {
    return { history: memoryHistory(config, log), fields: { store: "memory", lines, days } };
  }
  const dataDir = config.dataDir;
  let store: SqliteStore;
  try {
    store = await SqliteStore.open(prepareFile(dataDir), retentionOf(config));
  } catch (error) {
    throw new HistoryOpenError(dataDir, error);
  }
  return {
    history: new ChatHistory({ store, log, minBatchIntervalMs: SQLITE_BATCH_INTERVAL_MS, lines }),
    accounts: store.accounts,
    fields: { store: store.kind, path: store.path, lines, days },
  };
}

/**
 * Makes `dataDir` if it is missing (for this user alone) and the history
 * file in it if it is missing (0600: SQLite gives its `-wal` and `-shm`
 * files the same mode); returns the file's path. Throws if either cannot
 * be made or written.
 */
function prepareFile(dataDir: string): string {
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!Deno.statSync(dataDir).isDirectory) throw new Deno.errors.NotADirectory();
  const path = `${dataDir.replace(/\/+$/, "")}/${HISTORY_FILE}`;
  Deno.openSync(path, { write: true, create: true, mode: 0o600 }).close();
  return path;
}

/** Why opening failed, in a few words. */
function openingProblem(error: unknown): string {
  if (error instanceof Deno.errors.NotADirectory || error instanceof Deno.errors.AlreadyExists) {
    return "not a directory";
  }
  if (error instanceof Deno.errors.IsADirectory) return `${HISTORY_FILE} is a directory`;
  if (error instanceof Deno.errors.NotCapable) {
    return `the server's runtime flags do not allow it (${error.message})`;
  }
  return reasonOf(error);
}

/**
 * The history of an instance joined through Redis: `store` is the one made
 * with its cluster (`openRedisChat` in lib/redis/redis_chat.ts, loaded only
 * with `--redis-url`), undefined with `--history-lines 0`.
 */
export function redisHistory(store: HistoryStore | undefined, log?: Logger): ChatHistory {
  return new ChatHistory({ store, ...(log === undefined ? {} : { log }) });
}
