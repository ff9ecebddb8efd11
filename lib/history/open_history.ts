/**
 * Which store the configuration asks for, opened: memory for a lone server,
 * SQLite in `--data-dir`, Redis with `--redis-url`; none with
 * `--history-lines 0`.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { ChatHistory } from "./chat_history.ts";
import { MemoryStore } from "./memory_store.ts";
import type { HistoryStore, Retention } from "./store.ts";

/** What `config` keeps: `--history-lines` and `--history-days`. */
export function retentionOf(config: Config): Retention {
  return { lines: config.historyLines, maxAgeMs: config.historyDays * 86_400_000 };
}

/** The history of a lone server without `--data-dir`: in memory, or none with `--history-lines 0`. */
export function memoryHistory(config: Config, log?: Logger): ChatHistory {
  const store = config.historyLines === 0 ? undefined : new MemoryStore(retentionOf(config));
  return new ChatHistory({ store, ...(log === undefined ? {} : { log }) });
}

/**
 * The history of an instance joined through Redis: `store` is the one made
 * with its cluster (`openRedisChat` in lib/redis/redis_cluster.ts, loaded only
 * with `--redis-url`), undefined with `--history-lines 0`.
 */
export function redisHistory(store: HistoryStore | undefined, log?: Logger): ChatHistory {
  return new ChatHistory({ store, ...(log === undefined ? {} : { log }) });
}
