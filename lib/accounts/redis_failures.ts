/**
 * The Redis failures of the account checks counted in Redis (the login
 * throttle, the registration limit): each logged and counted, so an operator
 * sees on `/metrics` (`chat_account_redis_errors_total`) that tries are being
 * refused because Redis could not decide them, not because of guessers.
 *
 * @module
 */
import type { Logger } from "../log.ts";

/** Counts failures as they are logged; one per server, shared by the checks that use Redis. */
export class RedisFailures {
  #count = 0;

  /** Failures so far. */
  get count(): number {
    return this.#count;
  }

  /** Logs `message` with the error's message (no password ever reaches a script) and counts it. */
  report(log: Logger, message: string, operation: string, error: unknown): void {
    this.#count++;
    log.warn(message, { operation, error: error instanceof Error ? error.message : String(error) });
  }
}
