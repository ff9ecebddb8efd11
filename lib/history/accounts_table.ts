/**
 * The `accounts` table of the history's SQLite file (schema version 3, see
 * `sqlite_schema.ts`), driven synchronously through `node:sqlite`: by the
 * store's worker beside the history (one connection, one writer), and by
 * the operator's task (lib/accounts/account_task.ts) in a process of its own.
 * Also the account requests the worker takes, and how it applies them.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type Account, ALREADY_REGISTERED } from "../accounts/account_store.ts";
import { dmAccount, dmRange } from "./dm_keys.ts";
import { upgradeSchema } from "./sqlite_schema.ts";

/** An account request, as the store posts it to its worker (see `sqlite_worker.ts`). */
export type AccountCall =
  | { readonly call: "find"; readonly key: string }
  | {
    readonly call: "create";
    readonly name: string;
    readonly key: string;
    readonly hash: string;
    readonly nowMs: number;
  }
  | {
    readonly call: "set-hash";
    readonly id: number;
    readonly hash: string;
    /** Set for a compare-and-set: only while the stored hash is still this one. */
    readonly expected?: string | undefined;
  }
  | { readonly call: "remove"; readonly id: number };

/** A row as SQLite gives it. */
interface AccountRow {
  id: number;
  key: string;
  name: string;
  hash: string;
  created_ms: number;
}

/** SQLite's extended result code for a UNIQUE constraint refused. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

const COLUMNS = "id, key, name, hash, created_ms";

function accountOf(row: AccountRow): Account {
  return { id: row.id, name: row.name, key: row.key, hash: row.hash, createdMs: row.created_ms };
}

/** The accounts of one open file. Its connection is the caller's, as is closing it. */
export class AccountsTable {
  readonly #db: DatabaseSync;
  readonly #find: StatementSync;
  readonly #create: StatementSync;
  readonly #setHash: StatementSync;
  readonly #replaceHash: StatementSync;
  readonly #remove: StatementSync;
  readonly #list: StatementSync;
  readonly #removeDms: StatementSync;
  readonly #exists: StatementSync;
  readonly #onRemoved: (id: number) => void;

  /**
   * Prepares the statements on `db`, a file at schema version 3 or above;
   * `onRemoved` hears of each account removed (its messages gone with it).
   */
  constructor(db: DatabaseSync, onRemoved: (id: number) => void = () => {}) {
    this.#db = db;
    this.#onRemoved = onRemoved;
    this.#find = db.prepare(`SELECT ${COLUMNS} FROM accounts WHERE key = ?`);
    // The UNIQUE key decides, inside SQLite: no read before the write that a race could pass.
    // Not `ON CONFLICT DO NOTHING`: that takes an id from AUTOINCREMENT for each refusal.
    this.#create = db.prepare(
      `INSERT INTO accounts (key, name, hash, created_ms) VALUES (?, ?, ?, ?) RETURNING ${COLUMNS}`,
    );
    this.#setHash = db.prepare("UPDATE accounts SET hash = ? WHERE id = ?");
    // The comparison is in the UPDATE itself: no read before the write that a PASSWORD could pass.
    this.#replaceHash = db.prepare("UPDATE accounts SET hash = ? WHERE id = ? AND hash = ?");
    this.#remove = db.prepare("DELETE FROM accounts WHERE id = ?");
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM accounts ORDER BY id`);
    // One range of the messages' primary key: every conversation of the account.
    this.#removeDms = db.prepare(
      "DELETE FROM batches WHERE conversation >= ? AND conversation < ?",
    );
    this.#exists = db.prepare("SELECT 1 AS one FROM accounts WHERE id = ?");
  }

  /** The account whose key is `key`. */
  find(key: string): Account | undefined {
    const row = this.#find.get(key) as AccountRow | undefined;
    return row === undefined ? undefined : accountOf(row);
  }

  /** A new account, or {@linkcode ALREADY_REGISTERED} when `key` has one. */
  create(
    name: string,
    key: string,
    hash: string,
    nowMs: number,
  ): Account | typeof ALREADY_REGISTERED {
    try {
      return accountOf(this.#create.get(key, name, hash, nowMs) as unknown as AccountRow);
    } catch (error) {
      if ((error as { errcode?: unknown }).errcode === SQLITE_CONSTRAINT_UNIQUE) {
        return ALREADY_REGISTERED;
      }
      throw error;
    }
  }

  /** Replaces account `id`'s hash (with `expected`: only while it is still that); false when there is none. */
  setHash(id: number, hash: string, expected?: string): boolean {
    const changed = expected === undefined
      ? this.#setHash.run(hash, id)
      : this.#replaceHash.run(hash, id, expected);
    return Number(changed.changes) > 0;
  }

  /** Deletes account `id` and what is stored under it, in one transaction; false when there is none. */
  remove(id: number): boolean {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const removed = Number(this.#remove.run(id).changes) > 0;
      // In the same transaction: an account never goes without its direct messages going
      // too, nor its messages without the account.
      const { low, high } = dmRange(id);
      this.#removeDms.run(low, high);
      this.#db.exec("COMMIT");
      this.#onRemoved(id);
      return removed;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * False for the conversation of an account that no longer exists: a DM
   * delivered while its account was being removed (here, or by the
   * operator's task) must not be written after the removal.
   */
  keeps(conversation: string): boolean {
    const account = dmAccount(conversation);
    return account === undefined || this.#exists.get(account) !== undefined;
  }

  /** Every account, oldest first: for the operator's task. */
  list(): Account[] {
    return (this.#list.all() as unknown as AccountRow[]).map(accountOf);
  }

  /** Applies one request from the store; what it returns is the answer's value. */
  apply(request: AccountCall): Account | typeof ALREADY_REGISTERED | boolean | undefined {
    switch (request.call) {
      case "find":
        return this.find(request.key);
      case "create":
        return this.create(request.name, request.key, request.hash, request.nowMs);
      case "set-hash":
        return this.setHash(request.id, request.hash, request.expected);
      case "remove":
        return this.remove(request.id);
      default: {
        // Its name only: a request may carry a password hash, which no error text may hold.
        const unknown: never = request;
        throw new Error(`unknown account request ${String((unknown as { call?: unknown }).call)}`);
      }
    }
  }
}

/** The file at `path`, open for its accounts alone (the history is left as it is). */
export interface AccountsFile extends Disposable {
  /** Its accounts. */
  readonly table: AccountsTable;
}

/**
 * Opens the existing file at `path` for the operator's task: upgrades its
 * schema as the server would (refusing a newer one), and waits up to
 * `busyTimeoutMs` for a running server's write to end. Throws what SQLite
 * or the schema says; a missing file is `Deno.errors.NotFound`, never made.
 */
export function openAccountsFile(path: string, busyTimeoutMs: number): AccountsFile {
  // SQLite would make a missing file: a typo in --data-dir must not leave an empty database.
  if (!Deno.statSync(path).isFile) throw new Deno.errors.NotFound(`${path} is not a file`);
  const db = new DatabaseSync(path);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    upgradeSchema(db);
    const table = new AccountsTable(db);
    let open = true;
    return {
      table,
      [Symbol.dispose]: () => {
        if (open) db.close();
        open = false;
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
