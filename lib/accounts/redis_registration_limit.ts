/**
 * The registration limit of a server with `--redis-url`: the leaky bucket of
 * `RegistrationLimit`, counted in Redis by one script
 * (`ALLOW_REGISTRATION`, lib/redis/throttle_scripts.ts), so registrations
 * from one address spread over every instance meet one instance's limit.
 * `allow` is asynchronous; a registration Redis cannot decide is refused.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { RunScript } from "../redis/connections.ts";
import { KEYS } from "../redis/keys.ts";
import { ALLOW_REGISTRATION } from "../redis/throttle_scripts.ts";
import { RedisFailures } from "./redis_failures.ts";
import {
  REGISTRATION_WINDOW_MS,
  type Registrations,
  REGISTRATIONS_PER_ADDRESS,
} from "./registration_limit.ts";
import { addressKey } from "./throttle_rules.ts";

/** What a {@linkcode RedisRegistrationLimit} needs. */
export interface RedisRegistrationLimitOptions {
  /** Key prefix (the cluster's). */
  readonly prefix: string;
  /** Runs a script on the cluster's publishing connection. */
  readonly run: RunScript;
  /** Where a Redis failure is logged. */
  readonly log: Logger;
  /** Where failures are counted, for `/metrics` (default: a count of its own). */
  readonly failures?: RedisFailures;
  /** Registrations per window (default {@linkcode REGISTRATIONS_PER_ADDRESS}). */
  readonly ceiling?: number;
  /** The clock, in ms; tests move it. */
  readonly now?: () => number;
}

/** Counts registrations per address in Redis, shared by every instance; memory bounded by TTLs. */
export class RedisRegistrationLimit implements Registrations {
  readonly #options: RedisRegistrationLimitOptions;
  readonly #now: () => number;
  readonly #ceiling: number;
  readonly #failures: RedisFailures;

  /** A limit over `options.run`; nothing is sent until a registration starts. */
  constructor(options: RedisRegistrationLimitOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#ceiling = options.ceiling ?? REGISTRATIONS_PER_ADDRESS;
    this.#failures = options.failures ?? new RedisFailures();
  }

  /** True, and counted, when `address` may start one more registration now; false when Redis cannot say. Never rejects. */
  async allow(address: string): Promise<boolean> {
    const { prefix, run, log } = this.#options;
    try {
      const reply = await run(ALLOW_REGISTRATION, {
        keys: [KEYS.registrations(prefix, addressKey(address))],
        arguments: [String(this.#now()), String(this.#ceiling), String(REGISTRATION_WINDOW_MS)],
      });
      return reply === 1;
    } catch (error) {
      this.#failures.report(log, "registration limit: redis failed", "allow", error);
      return false;
    }
  }
}
