/**
 * History in one SQLite file (`--data-dir`), through `node:sqlite` in a
 * worker: the hub's thread only posts requests and takes answers, never
 * waits for a write or a disk sync. Requests reach the worker in the order
 * posted, so a read posted after an append sees what it wrote.
 *
 * @module
 */
import type { AccountStore } from "../accounts/account_store.ts";
import { SqliteAccountStore } from "../accounts/sqlite_account_store.ts";
import { packEntries } from "./packed_entries.ts";
import type { Entry, HistoryStore, Range, Retention, StoredMessage } from "./store.ts";
import type { Numbered, WorkerReply, WorkerRequest } from "./sqlite_worker.ts";

/**
 * Entries in one message to the worker, and so in one transaction, at most:
 * a backlog that waited for a failing store (up to 100,000) is written in a
 * few transactions, so a read waits behind none for long.
 */
export const MAX_CHUNK_ENTRIES = 20_000;
/** Longest wait for the worker to checkpoint and close the file before it is stopped anyway. */
const CLOSE_TIMEOUT_MS = 2000;

/** How a {@linkcode SqliteStore} is opened. */
export interface SqliteStoreOptions {
  /** The wall clock, ms since the epoch, that ages messages; tests move it. */
  readonly now?: () => number;
}

interface Waiting {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** The worker, and the requests it has not answered yet. */
class WorkerLink {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  #next = 1;
  /** Set once the worker is gone: every later request fails with it. */
  #stopped: Error | undefined;

  constructor() {
    this.#worker = new Worker(new URL("./sqlite_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      const waiting = this.#waiting.get(reply.n);
      if (waiting === undefined) return;
      this.#waiting.delete(reply.n);
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(new Error(reply.error));
    };
    this.#worker.onerror = (event) => {
      // An uncaught error in the worker would otherwise end the whole server.
      event.preventDefault();
      this.stop(new Error(`the history worker stopped: ${event.message}`));
    };
    this.#worker.onmessageerror = () => this.stop(new Error("the history worker sent garbage"));
  }

  /** Posts `request`; settles with the worker's answer. */
  call(request: WorkerRequest): Promise<unknown> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    const n = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(n, { resolve, reject });
      this.#worker.postMessage({ ...request, n } satisfies Numbered);
    });
  }

  /** Ends the worker; what it had not answered fails with `reason`. Idempotent. */
  stop(reason: Error): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = reason;
    this.#worker.terminate();
    for (const waiting of this.#waiting.values()) waiting.reject(reason);
    this.#waiting.clear();
  }
}

/** The store of a server with `--data-dir`: durable, bounded, answering through promises. */
export class SqliteStore implements HistoryStore {
  readonly kind = "sqlite";
  readonly assignsIds = false;
  readonly lastId: string | undefined;
  /** The database file. */
  readonly path: string;
  /**
   * The accounts in the same file, through the same worker, in the order
   * of all its requests. Closing this store ends it too (its calls then
   * reject); its own `close()` only refuses later calls.
   */
  readonly accounts: AccountStore;
  readonly #link: WorkerLink;
  readonly #now: () => number;
  #closing: Promise<void> | undefined;

  private constructor(
    path: string,
    link: WorkerLink,
    lastId: string | undefined,
    now: () => number,
  ) {
    this.path = path;
    this.#link = link;
    this.lastId = lastId;
    this.#now = now;
    this.accounts = new SqliteAccountStore((request) => link.call({ op: "account", request }));
  }

  /**
   * Opens (or creates) the database at `path` in a new worker, upgrading
   * its schema and trimming it to `retention`. Rejects with SQLite's or the
   * schema's reason, the worker stopped.
   */
  static async open(
    path: string,
    retention: Retention,
    options: SqliteStoreOptions = {},
  ): Promise<SqliteStore> {
    const now = options.now ?? Date.now;
    const link = new WorkerLink();
    try {
      const lastId = await link.call({ op: "open", path, retention, nowMs: now() });
      return new SqliteStore(path, link, lastId as string | undefined, now);
    } catch (error) {
      link.stop(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  /**
   * Writes `entries`, in transactions of at most {@linkcode MAX_CHUNK_ENTRIES}
   * (a backlog that waited for a failing store is not one huge transaction);
   * resolves once all are durable. Each goes as one string (see
   * `packed_entries.ts`). A retry after a failure writes each message once:
   * ids already stored are left alone.
   */
  append(entries: readonly Entry[]): Promise<void> {
    const nowMs = this.#now();
    const writes: Promise<unknown>[] = [];
    for (let start = 0; start < entries.length; start += MAX_CHUNK_ENTRIES) {
      const chunk = entries.length <= MAX_CHUNK_ENTRIES
        ? entries
        : entries.slice(start, start + MAX_CHUNK_ENTRIES);
      writes.push(this.#link.call({ op: "append", entries: packEntries(chunk), nowMs }));
    }
    return Promise.all(writes).then(() => undefined);
  }

  /** The messages of `range`, oldest first, within the retention exactly. */
  read(range: Range): Promise<readonly StoredMessage[]> {
    return this.#link.call({ op: "read", range, nowMs: this.#now() }) as Promise<StoredMessage[]>;
  }

  /**
   * Lets the worker finish what it was given, checkpoint and close the
   * file, then ends it; within {@linkcode CLOSE_TIMEOUT_MS} whatever happens.
   * Never rejects; idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_TIMEOUT_MS));
    try {
      await Promise.race([this.#link.call({ op: "close" }), late]);
    } catch {
      // A worker already gone left the file as SQLite recovers it: from its write-ahead log, at the next open.
    } finally {
      clearTimeout(timer);
      this.#link.stop(new Error("the history store is closed"));
    }
  }
}
