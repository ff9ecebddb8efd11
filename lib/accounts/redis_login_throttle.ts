/**
 * The login throttle of a server with `--redis-url`: the same rules as
 * {@linkcode LoginThrottle}, counted in Redis by the scripts of
 * lib/redis/throttle_scripts.ts, so a guesser spread over every instance
 * gets the tries one instance would give. `begin` is asynchronous; a try
 * Redis cannot decide is throttled (a check that could not be made).
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { RunScript } from "../redis/connections.ts";
import { KEYS } from "../redis/keys.ts";
import { RedisFailures } from "./redis_failures.ts";
import { BEGIN_TRY, limitArguments, SETTLE_TRY } from "../redis/throttle_scripts.ts";
import {
  addressKey,
  DEFAULT_LIMITS,
  type Settlement,
  type ThrottleLimits,
} from "./throttle_rules.ts";

/** What a {@linkcode RedisLoginThrottle} needs. */
export interface RedisLoginThrottleOptions {
  /** Key prefix (the cluster's). */
  readonly prefix: string;
  /** Runs a script on the cluster's publishing connection. */
  readonly run: RunScript;
  /** Where a Redis failure is logged (its message only: no password ever reaches a script). */
  readonly log: Logger;
  /** Where failures are counted, for `/metrics` (default: a count of this throttle's own). */
  readonly failures?: RedisFailures;
  /** The rules' numbers (default {@linkcode DEFAULT_LIMITS}). */
  readonly limits?: ThrottleLimits;
  /** The clock, in ms; tests move it. Instances' clocks should agree within a second or so. */
  readonly now?: () => number;
}

/**
 * Counts login tries in Redis, shared by every instance. Call
 * {@linkcode RedisLoginThrottle.begin} before checking a password and, when
 * it said `"go"`, exactly one of the settling methods once the check has ended
 * (their promises never reject; the hub need not wait for them).
 */
export class RedisLoginThrottle {
  /** The rules' numbers. */
  readonly limits: ThrottleLimits;
  readonly #options: RedisLoginThrottleOptions;
  readonly #now: () => number;
  readonly #failures: RedisFailures;

  /** A throttle over `options.run`; nothing is sent until a try begins. */
  constructor(options: RedisLoginThrottleOptions) {
    this.#options = options;
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.#now = options.now ?? Date.now;
    this.#failures = options.failures ?? new RedisFailures();
  }

  /** `"go"` (counted as a failure until settled) or `"throttled"`; never rejects. */
  async begin(account: string, address: string): Promise<"go" | "throttled"> {
    try {
      const reply = await this.#options.run(BEGIN_TRY, this.#args(account, address, []));
      return reply === "go" ? "go" : "throttled";
    } catch (error) {
      this.#failed("begin", error);
      return "throttled";
    }
  }

  /** The right password: the run ends. */
  succeeded(account: string, address: string): Promise<void> {
    return this.#settle(account, address, "succeeded");
  }

  /** A wrong password: the failure stands, and a pause counts from now. */
  failed(account: string, address: string): Promise<void> {
    return this.#settle(account, address, "failed");
  }

  /** No such account: a failure for the address's ceiling alone. */
  unknownAccount(account: string, address: string): Promise<void> {
    return this.#settle(account, address, "unknown-account");
  }

  /** Not checked after all: it counts nowhere. */
  abandoned(account: string, address: string): Promise<void> {
    return this.#settle(account, address, "abandoned");
  }

  /** Never rejects, so the hub may drop it: a settlement Redis misses leaves the provisional failure to expire. */
  async #settle(account: string, address: string, how: Settlement): Promise<void> {
    try {
      await this.#options.run(SETTLE_TRY, this.#args(account, address, [how]));
    } catch (error) {
      this.#failed("settle", error);
    }
  }

  #args(account: string, address: string, more: string[]) {
    const { prefix } = this.#options;
    const addr = addressKey(address);
    return {
      keys: [
        KEYS.throttleRun(prefix, account, addr),
        KEYS.throttleAccount(prefix, account),
        KEYS.throttleAddress(prefix, addr),
      ],
      arguments: [String(this.#now()), ...limitArguments(this.limits), ...more],
    };
  }

  #failed(operation: string, error: unknown): void {
    this.#failures.report(this.#options.log, "login throttle: redis failed", operation, error);
  }
}
