/**
 * Accounts in the `--data-dir` SQLite file, through the history store's
 * worker (lib/history/sqlite_store.ts): one connection and one writer for
 * history and accounts, so neither waits on the other's lock, and nothing
 * of SQLite runs on the hub's thread. Nothing is cached here: every answer
 * is the file's, so an account deleted by the operator's task is gone at
 * the next call.
 *
 * @module
 */
import type { AccountCall } from "../history/accounts_table.ts";
import type { Account, AccountStore, ALREADY_REGISTERED } from "./account_store.ts";

/** Posts one account request to the worker; settles with its answer. */
export type AccountPost = (request: AccountCall) => Promise<unknown>;

/** The account store of a server with `--data-dir`; get it as `SqliteStore.accounts`. */
export class SqliteAccountStore implements AccountStore {
  readonly #post: AccountPost;
  #closed = false;

  /** Sends its requests through `post` (the history store's worker). */
  constructor(post: AccountPost) {
    this.#post = post;
  }

  /** The account whose key is `key`. */
  find(key: string): Promise<Account | undefined> {
    return this.#call({ call: "find", key }) as Promise<Account | undefined>;
  }

  /** A new account, or `"already-registered"` (the file's UNIQUE key decides). */
  create(
    name: string,
    key: string,
    hash: string,
    nowMs: number,
  ): Promise<Account | typeof ALREADY_REGISTERED> {
    return this.#call({ call: "create", name, key, hash, nowMs }) as Promise<
      Account | typeof ALREADY_REGISTERED
    >;
  }

  /** Replaces account `id`'s hash (with `expected`: only while it is still that); false when there is none. */
  setHash(id: number, hash: string, expected?: string): Promise<boolean> {
    return this.#call({ call: "set-hash", id, hash, expected }) as Promise<boolean>;
  }

  /** Deletes account `id` (and, once they are stored, its direct messages); false when there is none. */
  remove(id: number): Promise<boolean> {
    return this.#call({ call: "remove", id }) as Promise<boolean>;
  }

  /**
   * Refuses every later call; the worker and the file stay open, since the
   * history uses them: closing the history store ends them both.
   */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #call(request: AccountCall): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("the account store is closed"));
    return this.#post(request);
  }
}
