/**
 * Where the operator's task finds accounts: the `--data-dir` SQLite file,
 * or (lib/accounts/redis_task_accounts.ts) Redis. One shape for both, so
 * the task's words mean the same whatever holds the accounts.
 *
 * @module
 */
import { openAccountsFile } from "../history/accounts_table.ts";
import { HISTORY_FILE } from "../history/open_history.ts";
import { reasonOf } from "../error_reason.ts";
import type { Account } from "./account_store.ts";

/**
 * How long the task waits on its store: for a running server's SQLite
 * write to end, or for Redis to answer. A server's writes take
 * milliseconds and the task's are one account, so a longer wait means
 * something else holds the file, or Redis is stuck.
 */
export const TASK_BUSY_TIMEOUT_MS = 5000;

/** The accounts as the task reads and changes them. */
export interface TaskAccounts {
  /** Where they are, for its messages: the file's path, or the URL without its password. */
  readonly where: string;
  /** Every account, by id. */
  list(): Promise<Account[]>;
  /** The account whose key is `key`. */
  find(key: string): Promise<Account | undefined>;
  /** Replaces account `id`'s hash; false when there is none. */
  setHash(id: number, hash: string): Promise<boolean>;
  /** Deletes account `id`; false when there is none. */
  remove(id: number): Promise<boolean>;
  /** Lets go of the file or the connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * The accounts of `<dataDir>/chat.db`, a file a server made; throws when
 * there is none (the task never makes one) or it cannot be used. Its
 * answers are SQLite's, read and written synchronously.
 */
export function openFileAccounts(dataDir: string): TaskAccounts {
  const where = `${dataDir.replace(/\/+$/, "")}/${HISTORY_FILE}`;
  let file;
  try {
    file = openAccountsFile(where, TASK_BUSY_TIMEOUT_MS);
  } catch (error) {
    throw new TaskStoreError(where, error);
  }
  const { table } = file;
  const answer = <T>(call: () => T): Promise<T> => {
    try {
      return Promise.resolve(call());
    } catch (error) {
      return Promise.reject(new TaskStoreError(where, error));
    }
  };
  return {
    where,
    list: () => answer(() => table.list()),
    find: (key) => answer(() => table.find(key)),
    setHash: (id, hash) => answer(() => table.setHash(id, hash)),
    remove: (id) => answer(() => table.remove(id)),
    close: () => Promise.resolve(file[Symbol.dispose]()),
  };
}

/** A store the task could not open or use; its message says where, never a value stored. */
export class TaskStoreError extends Error {
  /** `where`: the path or redacted URL; `cause`: what failed there. */
  constructor(where: string, cause: unknown) {
    super(`${where}: ${storeProblem(cause)}`);
    this.name = "TaskStoreError";
  }
}

/** Why `error` happened, in a few words. */
function storeProblem(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) {
    return "no such file (a server started with this --data-dir makes it)";
  }
  return reasonOf(error);
}
