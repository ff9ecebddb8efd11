/**
 * The slow half of the account commands: store lookups and password work,
 * each a promise that never rejects and settles with what the hub needs to
 * answer. The hub starts them in its turn and hears back through an event;
 * nothing here touches a session. A store failure is logged (without any
 * password) and answered `unavailable`.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { type Account, type AccountStore, ALREADY_REGISTERED } from "./account_store.ts";
import { LoginThrottle } from "./login_throttle.ts";
import { PasswordChecks } from "./password_checks.ts";
import { RegistrationLimit, type Registrations } from "./registration_limit.ts";

/**
 * How a password check ended, for the throttle: it matched, it did not, there
 * is no such account, or nothing was checked (refused, store away).
 */
export type Check = "match" | "mismatch" | "unknown" | "unchecked";

/** `LOGIN <name> <password>`'s work: the check, and the account when it matched. */
export interface LoginWork {
  readonly check: Check;
  /** Set when `check` is `"match"`. */
  readonly account?: Account;
}

/** What `REGISTER`'s work came to. */
export type RegisterWork = Account | typeof ALREADY_REGISTERED | "unavailable";

/** What `PASSWORD`'s and `UNREGISTER`'s work came to: the check, then the change. */
export interface ChangeWork {
  readonly check: Check;
  /** `done` once the new hash is stored (or the account deleted); `gone`: the account was deleted meanwhile. */
  readonly result: "done" | "gone" | "unavailable";
}

/**
 * A login throttle: the in-process {@linkcode LoginThrottle} (synchronous)
 * or the Redis one (`begin` a promise that never rejects). Settling is
 * fire-and-forget either way.
 */
export interface Throttle {
  /** A try starts: `"go"` (check it, then settle it) or `"throttled"` (settle nothing). */
  begin(account: string, address: string): "go" | "throttled" | Promise<"go" | "throttled">;
  /** The right password. */
  succeeded(account: string, address: string): void;
  /** A wrong password. */
  failed(account: string, address: string): void;
  /** No such account. */
  unknownAccount(account: string, address: string): void;
  /** Not checked after all. */
  abandoned(account: string, address: string): void;
}

/** Starts account work off the hub's turn; owns the store, the password checks and the throttle. */
export class AccountDesk {
  /** Counts login tries; called in the hub's turn only (`begin` may answer later: see `account_commands.ts`). */
  readonly throttle: Throttle;
  /** Counts registrations per address; called in the hub's turn only (Redis's answers later). */
  readonly registrations: Registrations;
  readonly #store: AccountStore;
  readonly #checks: PasswordChecks;
  readonly #log: Logger;
  readonly #nowMs: () => number;
  /** Rehashes under way, awaited by `close` so none writes after the store is closed. */
  readonly #rehashes = new Set<Promise<void>>();

  /** Work on `store` through `checks`, throttled by `throttle`; store failures logged to `log`. */
  constructor(
    store: AccountStore,
    checks: PasswordChecks,
    log: Logger,
    throttle: Throttle = new LoginThrottle(),
    nowMs: () => number = Date.now,
    registrations: Registrations = new RegistrationLimit(nowMs),
  ) {
    this.registrations = registrations;
    this.#store = store;
    this.#checks = checks;
    this.#log = log;
    this.throttle = throttle;
    this.#nowMs = nowMs;
  }

  /** True when the name claim refuses a guest a registered name by itself (see `AccountStore`). */
  get claimsCheckAccounts(): boolean {
    return this.#store.claimsCheckAccounts === true;
  }

  /** True when `key` has an account; undefined when the store could not say. */
  async exists(key: string): Promise<boolean | undefined> {
    const account = await this.#find(key);
    return account === "unavailable" ? undefined : account !== undefined;
  }

  /** Checks `password` against the account of `key`. */
  async login(key: string, password: string): Promise<LoginWork> {
    const account = await this.#find(key);
    if (account === "unavailable") return { check: "unchecked" };
    if (account === undefined) return { check: "unknown" };
    const check = await this.#verify(password, account);
    if (check !== "match") return { check };
    // An older or cheaper hash (scrypt, fewer iterations) is made again now the password is known.
    if (this.#checks.needsRehash(account.hash)) {
      const rehash = this.#rehash(account, password).finally(() => this.#rehashes.delete(rehash));
      this.#rehashes.add(rehash);
    }
    return { check, account };
  }

  /** Registers `name` (key `key`) with a new hash of `password`. */
  async register(name: string, key: string, password: string): Promise<RegisterWork> {
    const hashed = await this.#checks.hash(password);
    if (hashed.kind === "refused") return "unavailable";
    try {
      return await this.#store.create(name, key, hashed.hash, this.#nowMs());
    } catch (error) {
      this.#failed("create", error);
      return "unavailable";
    }
  }

  /** Replaces account `id`'s password once `old` checks out. */
  change(id: number, key: string, old: string, next: string): Promise<ChangeWork> {
    return this.#afterCheck(id, key, old, async () => {
      const hashed = await this.#checks.hash(next);
      if (hashed.kind === "refused") return "unavailable";
      return await this.#store.setHash(id, hashed.hash) ? "done" : "gone";
    });
  }

  /** Deletes account `id` once `password` checks out. */
  unregister(id: number, key: string, password: string): Promise<ChangeWork> {
    return this.#afterCheck(
      id,
      key,
      password,
      async () => await this.#store.remove(id) ? "done" : "gone",
    );
  }

  /** Refuses every check waiting and every later one; resolves once those running, and rehashes, are done. */
  async close(): Promise<void> {
    await this.#checks.close();
    await Promise.all(this.#rehashes);
  }

  /**
   * Stores a new hash of `password` for `account`, over the hash that was
   * checked only: a `PASSWORD` (or the operator's set-password) that lands
   * meanwhile stands. A refusal (the checks busy) or a failure leaves the
   * old hash, made again at a later login. Never rejects.
   */
  async #rehash(account: Account, password: string): Promise<void> {
    const hashed = await this.#checks.hash(password);
    if (hashed.kind === "refused") return;
    try {
      const replaced = await this.#store.setHash(account.id, hashed.hash, account.hash);
      this.#log.info(
        replaced ? "password rehashed" : "password rehash skipped: changed meanwhile",
        {
          account: account.id,
        },
      );
    } catch (error) {
      this.#failed("rehash", error);
    }
  }

  async #afterCheck(
    id: number,
    key: string,
    password: string,
    then: () => Promise<ChangeWork["result"]>,
  ): Promise<ChangeWork> {
    const account = await this.#find(key);
    if (account === "unavailable") return { check: "unchecked", result: "unavailable" };
    // Deleted (and perhaps registered anew by someone else) since this session logged in.
    if (account === undefined || account.id !== id) return { check: "unchecked", result: "gone" };
    const check = await this.#verify(password, account);
    if (check !== "match") return { check, result: "unavailable" };
    try {
      return { check, result: await then() };
    } catch (error) {
      this.#failed("change", error);
      return { check, result: "unavailable" };
    }
  }

  async #find(key: string): Promise<Account | undefined | "unavailable"> {
    try {
      return await this.#store.find(key);
    } catch (error) {
      this.#failed("find", error);
      return "unavailable";
    }
  }

  async #verify(password: string, account: Account): Promise<Check> {
    const outcome = await this.#checks.verify(password, account.hash);
    return outcome.kind === "refused" ? "unchecked" : outcome.kind;
  }

  #failed(operation: string, error: unknown): void {
    // The store's errors carry SQL or worker text, never a password: only hashes reach it.
    this.#log.warn("account store failed", {
      operation,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
