/**
 * The login throttle of one instance: the rules of `throttle_rules.ts`
 * over three bounded maps (runs by account and address, failures by
 * account, failures by address), read from an injected clock. Synchronous
 * and cheap, so the hub calls it in its own turn.
 *
 * @module
 */
import {
  addressKey,
  beginTry,
  type Counts,
  currentLevel,
  currentRun,
  DEFAULT_LIMITS,
  type Level,
  type Run,
  type Settlement,
  settleTry,
  type ThrottleLimits,
} from "./throttle_rules.ts";

/** How a {@linkcode LoginThrottle} counts. */
export interface LoginThrottleOptions {
  /** The rules' numbers (default {@linkcode DEFAULT_LIMITS}). */
  readonly limits?: ThrottleLimits;
  /** Records each map holds at most (default {@linkcode DEFAULT_MAX_ENTRIES}). */
  readonly maxEntries?: number;
  /** The clock, in ms; tests move it. */
  readonly now?: () => number;
}

/** Records per map by default: all three full hold about 50 MiB of heap (measured: 175 bytes a record). */
export const DEFAULT_MAX_ENTRIES = 100_000;

/** The three records' keys for one try. */
interface Keys {
  readonly run: string;
  readonly account: string;
  readonly address: string;
}

/** Expired records looked at, and dropped, per map on each try: the maps shrink as they age. */
const PRUNE_PER_TRY = 2;
/** Expired records looked at per map when one is full and a new key needs room. */
const PRUNE_WHEN_FULL = 32;

/**
 * Counts login tries per account and address and says which may be
 * checked. Call {@linkcode LoginThrottle.begin} before checking a password,
 * and exactly one of the settling methods once the check has ended.
 * `account` is the account's name key (names compare as names do);
 * `address` the client's address as text.
 */
export class LoginThrottle {
  /** The rules' numbers. */
  readonly limits: ThrottleLimits;
  /** Records each map holds at most. */
  readonly maxEntries: number;
  readonly #now: () => number;
  readonly #runs = new Map<string, Run>();
  readonly #accounts = new Map<string, Level>();
  readonly #addresses = new Map<string, Level>();
  #refusedFull = 0;

  /** A throttle with no tries counted. */
  constructor(options: LoginThrottleOptions = {}) {
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#now = options.now ?? Date.now;
  }

  /** Records held now, per map. */
  get size(): { readonly runs: number; readonly accounts: number; readonly addresses: number } {
    return {
      runs: this.#runs.size,
      accounts: this.#accounts.size,
      addresses: this.#addresses.size,
    };
  }

  /** Tries refused because a map was full of live records: worth a metric. */
  get refusedFull(): number {
    return this.#refusedFull;
  }

  /**
   * A try to log in to `account` from `address` starts: `"go"` (check the
   * password; it counts as a failure until settled) or `"throttled"`
   * (answer `ERR login-throttled`, check nothing, settle nothing).
   */
  begin(account: string, address: string): "go" | "throttled" {
    const nowMs = this.#now();
    const keys = this.#keys(account, address);
    this.#pruneAll(PRUNE_PER_TRY, nowMs);
    const { decision, counts } = beginTry(this.#read(keys), nowMs, this.limits);
    if (decision === "throttled") return decision;
    // At a full map, refuse rather than forget someone's failures to make room.
    if (!this.#roomFor(keys, nowMs)) {
      this.#refusedFull++;
      return "throttled";
    }
    this.#write(keys, counts);
    return "go";
  }

  /** The right password: that account and address's run ends; other counts stand. */
  succeeded(account: string, address: string): void {
    this.#settle(account, address, "succeeded");
  }

  /** A wrong password: the failure stands, and a pause counts from now. */
  failed(account: string, address: string): void {
    this.#settle(account, address, "failed");
  }

  /** No such account: a failure for the address's ceiling alone. */
  unknownAccount(account: string, address: string): void {
    this.#settle(account, address, "unknown-account");
  }

  /** Not checked after all (the checks refused it, the store failed): it counts nowhere. */
  abandoned(account: string, address: string): void {
    this.#settle(account, address, "abandoned");
  }

  #settle(account: string, address: string, how: Settlement): void {
    const keys = this.#keys(account, address);
    const nowMs = this.#now();
    const counts = settleTry(this.#read(keys), how, nowMs, this.limits);
    // Only "failed" may add a record (its run expired while it was checked); never past the cap.
    if (counts.run !== undefined && !this.#runs.has(keys.run)) {
      if (!this.#room(this.#runs, (run) => currentRun(run, nowMs, this.limits))) return;
    }
    this.#write(keys, counts);
  }

  #keys(account: string, address: string): Keys {
    const addr = addressKey(address);
    return { run: `${account}\n${addr}`, account, address: addr };
  }

  #read(keys: Keys): Counts {
    return {
      run: this.#runs.get(keys.run),
      account: this.#accounts.get(keys.account),
      address: this.#addresses.get(keys.address),
    };
  }

  #write(keys: Keys, counts: Counts): void {
    // Delete, then set: a map's order stays the order of last change, oldest first, for pruning.
    store(this.#runs, keys.run, counts.run);
    store(this.#accounts, keys.account, counts.account);
    store(this.#addresses, keys.address, counts.address);
  }

  #roomFor(keys: Keys, nowMs: number): boolean {
    const limits = this.limits;
    const { accountCeiling, addressCeiling } = limits;
    return (this.#runs.has(keys.run) ||
      this.#room(this.#runs, (run) => currentRun(run, nowMs, limits))) &&
      (this.#accounts.has(keys.account) ||
        this.#room(this.#accounts, (l) => currentLevel(l, accountCeiling, nowMs, limits))) &&
      (this.#addresses.has(keys.address) ||
        this.#room(this.#addresses, (l) => currentLevel(l, addressCeiling, nowMs, limits)));
  }

  /** True when `map` has room for one more record, after dropping up to `look` expired ones. */
  #room<T>(map: Map<string, T>, live: (value: T) => unknown): boolean {
    if (map.size < this.maxEntries) return true;
    prune(map, live, PRUNE_WHEN_FULL);
    return map.size < this.maxEntries;
  }

  #pruneAll(look: number, nowMs: number): void {
    const limits = this.limits;
    prune(this.#runs, (run) => currentRun(run, nowMs, limits), look);
    prune(this.#accounts, (l) => currentLevel(l, limits.accountCeiling, nowMs, limits), look);
    prune(this.#addresses, (l) => currentLevel(l, limits.addressCeiling, nowMs, limits), look);
  }
}

function store<T>(map: Map<string, T>, key: string, value: T | undefined): void {
  map.delete(key);
  if (value !== undefined) map.set(key, value);
}

/** Drops the expired among the `look` oldest-changed records of `map`. */
function prune<T>(map: Map<string, T>, live: (value: T) => unknown, look: number): void {
  let looked = 0;
  for (const [key, value] of map) {
    if (looked++ >= look) break;
    if (live(value) === undefined) map.delete(key);
  }
}
