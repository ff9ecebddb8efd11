/**
 * Accounts as the server keeps them, whatever holds them (the SQLite file of
 * `--data-dir` today, Redis later): the record and the store's interface.
 * A store knows nothing of passwords: it keeps the hash the password module
 * made, as an opaque string.
 *
 * @module
 */

/** One account, as stored. */
export interface Account {
  /** Given at registration and never again, not even after the account is deleted. */
  readonly id: number;
  /** The name as it was registered: how the account is shown. */
  readonly name: string;
  /** The name's comparison key (`nameKey` in lib/names.ts): unique among accounts. */
  readonly key: string;
  /** The password's hash, opaque here (made and checked by the password module). */
  readonly hash: string;
  /** When the account was registered, ms since the Unix epoch. */
  readonly createdMs: number;
}

/** What {@linkcode AccountStore.create} answers when the key has an account already. */
export const ALREADY_REGISTERED = "already-registered";

/**
 * Where accounts live. Every method answers asynchronously (the store may
 * be a worker or a network away) and rejects only when the store itself
 * fails; the answers a user can cause are values.
 */
export interface AccountStore {
  /**
   * True when the name claim itself refuses a guest a registered name (Redis:
   * the claim and the accounts are one store), so a `LOGIN <name>` whose
   * lookup fails may go on to the claim, which waits for the store as any
   * claim does.
   */
  readonly claimsCheckAccounts?: boolean;
  /** The account whose key is `key`, or undefined when there is none. */
  find(key: string): Promise<Account | undefined>;
  /**
   * Registers `name` (whose key is `key`) with `hash`, at `nowMs`. The key's
   * uniqueness is the store's own (a constraint, not a read before the
   * write): of two creates of one key, however close, one gets
   * {@linkcode ALREADY_REGISTERED}.
   */
  create(
    name: string,
    key: string,
    hash: string,
    nowMs: number,
  ): Promise<Account | typeof ALREADY_REGISTERED>;
  /**
   * Replaces account `id`'s hash; false when there is no such account
   * (deleted meanwhile). With `expected`, a compare-and-set: only while the
   * stored hash is still `expected`, in one step of the store's own, else
   * false; a rehash after a login then never undoes a `PASSWORD` that
   * landed between the login's check and its write.
   */
  setHash(id: number, hash: string, expected?: string): Promise<boolean>;
  /** Deletes account `id` and what is stored under it; false when there was no such account. */
  remove(id: number): Promise<boolean>;
  /** Refuses every later call. Idempotent; never rejects. */
  close(): Promise<void>;
}
