/**
 * Accounts in Redis (`--redis-url`), so every instance sees a registration
 * at once: one hash per account, written and changed only by the scripts of
 * lib/redis/account_scripts.ts, through the runner the cluster gives (its
 * publishing connection) or the operator's task's own client. Nothing is
 * cached here: every answer is Redis's.
 *
 * @module
 */
import { CREATE_ACCOUNT, REMOVE_ACCOUNT, SET_ACCOUNT_HASH } from "../redis/account_scripts.ts";
import type { RedisClient, RunScript } from "../redis/connections.ts";
import { DEFAULT_PREFIX, KEYS } from "../redis/keys.ts";
import { type Account, type AccountStore, ALREADY_REGISTERED } from "./account_store.ts";

/** The fields of an account's hash, in the order `find` asks for them. */
const FIELDS = ["id", "name", "hash", "created"] as const;

/** What a {@linkcode RedisAccountStore} needs. */
export interface RedisAccountStoreOptions {
  /** Key prefix (the cluster's: `DEFAULT_PREFIX` in lib/redis/keys.ts). */
  readonly prefix: string;
  /** Runs a script on the current connection (the cluster's publishing one). */
  readonly run: RunScript;
  /** Sends one command on the same connection (`HMGET`, `HGETALL`). */
  readonly command: (args: string[]) => Promise<unknown>;
  /**
   * The instance whose users register through this store (the cluster's
   * id): `create` refuses a name another instance holds. Undefined (the
   * operator's task) skips that check.
   */
  readonly instance?: string;
}

/** The account store of a server with `--redis-url`. */
export class RedisAccountStore implements AccountStore {
  /** The cluster's claim script checks the name's account (`accountClaim`) in the same step. */
  readonly claimsCheckAccounts = true;
  readonly #options: RedisAccountStoreOptions;
  #closed = false;

  /** A store over `options.run` and `options.command`; nothing is sent until used. */
  constructor(options: RedisAccountStoreOptions) {
    this.#options = options;
  }

  /** The account whose key is `key`. */
  async find(key: string): Promise<Account | undefined> {
    const reply = await this.#send(["HMGET", this.#account(key), ...FIELDS]);
    return accountOf(key, reply);
  }

  /**
   * A new account, or `"already-registered"`: when the name has one, and
   * also when another instance holds the name (its user there is a guest;
   * this instance's user has lost the name, and hears so soon).
   */
  async create(
    name: string,
    key: string,
    hash: string,
    nowMs: number,
  ): Promise<Account | typeof ALREADY_REGISTERED> {
    const { prefix, instance } = this.#options;
    const id = Number(
      await this.#run(CREATE_ACCOUNT, [
        this.#account(key),
        KEYS.accountIds(prefix),
        KEYS.accountKeys(prefix),
        KEYS.name(prefix, key),
      ], [name, key, hash, String(nowMs), instance ?? ""]),
    );
    if (id <= 0) return ALREADY_REGISTERED;
    return { id, name, key, hash, createdMs: nowMs };
  }

  /** Replaces account `id`'s hash (with `expected`: only while it is still that); false when there is none. */
  async setHash(id: number, hash: string, expected?: string): Promise<boolean> {
    const { prefix } = this.#options;
    const reply = await this.#run(SET_ACCOUNT_HASH, [KEYS.accountKeys(prefix)], [
      KEYS.account(prefix, ""),
      String(id),
      hash,
      ...(expected === undefined ? [] : [expected]),
    ]);
    return reply === 1;
  }

  /**
   * Deletes account `id`; false when there is none. Its direct messages go
   * with it in the same script.
   */
  async remove(id: number): Promise<boolean> {
    const { prefix } = this.#options;
    const keys = [KEYS.accountKeys(prefix), KEYS.dmIndex(prefix, id)];
    const reply = await this.#run(REMOVE_ACCOUNT, keys, [
      KEYS.account(prefix, ""),
      String(id),
    ]);
    return reply === 1;
  }

  /**
   * Every account, by id: for the operator's task. One `HGETALL`, then one
   * `HMGET` an account (sent together); an account deleted in between is
   * left out.
   */
  async list(): Promise<Account[]> {
    const index = pairsOf(await this.#send(["HGETALL", KEYS.accountKeys(this.#options.prefix)]));
    const accounts = await Promise.all(index.map(([, key]) => this.find(key)));
    return accounts
      .filter((account): account is Account => account !== undefined)
      .sort((a, b) => a.id - b.id);
  }

  /** Refuses every later call; the connection is its owner's to close. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #account(key: string): string {
    return KEYS.account(this.#options.prefix, key);
  }

  /** A script run; closed, or failing to even start, is a rejection too. */
  #run(script: string, keys: string[], args: string[]): Promise<unknown> {
    try {
      this.#open();
      return this.#options.run(script, { keys, arguments: args });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A command; closed, or failing to even start, is a rejection too. */
  #send(args: string[]): Promise<unknown> {
    try {
      this.#open();
      return this.#options.command(args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #open(): void {
    if (this.#closed) throw new Error("Cannot use the account store: it is closed");
  }
}

/**
 * The store over one client of its own (the operator's task, tests): its
 * scripts and commands on `client`, under `prefix`, registering for
 * `instance` (undefined: no instance's names are checked). The server's
 * store runs on the cluster's connection instead (lib/redis/redis_chat.ts).
 */
export function redisAccountStoreOn(
  client: Pick<RedisClient, "eval" | "sendCommand">,
  prefix = DEFAULT_PREFIX,
  instance?: string,
): RedisAccountStore {
  return new RedisAccountStore({
    prefix,
    run: (script, args) => client.eval(script, args),
    command: (args) => client.sendCommand(args),
    ...(instance === undefined ? {} : { instance }),
  });
}

/** An account from `HMGET`'s reply for key `key`; undefined when it has no id (no account). */
function accountOf(key: string, reply: unknown): Account | undefined {
  if (!Array.isArray(reply) || reply.length !== FIELDS.length) {
    throw new Error("Cannot read an account: Redis answered HMGET unexpectedly");
  }
  const [id, name, hash, created] = reply as (string | null)[];
  if (id === null || id === undefined) return undefined;
  if (typeof name !== "string" || typeof hash !== "string" || typeof created !== "string") {
    // Never the values: one of them is a password's hash.
    throw new Error("Cannot read an account: its hash lacks a field");
  }
  return { id: Number(id), name, key, hash, createdMs: Number(created) };
}

/** `HGETALL`'s reply as [field, value] pairs: a flat array (RESP2) or an object (RESP3). */
function pairsOf(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      pairs.push([String(reply[i]), String(reply[i + 1])]);
    }
    return pairs;
  }
  if (reply !== null && typeof reply === "object") {
    return Object.entries(reply).map(([field, value]) => [field, String(value)]);
  }
  throw new Error("Cannot list accounts: Redis answered HGETALL unexpectedly");
}
