/**
 * Registrations per address, so that one client cannot take every free name
 * (nor fill the store, nor keep the password checks busy hashing): a leaky
 * bucket per address (IPv6 by its /64), counted when a `REGISTER` starts.
 * Synchronous and cheap, for the hub's turn; memory bounded.
 *
 * @module
 */
import {
  addressKey,
  currentLevel,
  DEFAULT_LIMITS,
  type Level,
  type ThrottleLimits,
} from "./throttle_rules.ts";

/** Registrations an address may start within {@linkcode REGISTRATION_WINDOW_MS}. */
export const REGISTRATIONS_PER_ADDRESS = 10;
/** The window: after a burst of 10, one more every 6 minutes. */
export const REGISTRATION_WINDOW_MS = 60 * 60_000;
/** Addresses remembered at most (about 100 bytes each); a full map refuses new addresses. */
export const MAX_REGISTRATION_ADDRESSES = 100_000;

/**
 * A registration limit: the in-process {@linkcode RegistrationLimit}
 * (synchronous) or, with `--redis-url`, Redis's (a promise that never rejects).
 */
export interface Registrations {
  /** True, and counted, when `address` may start one more registration now. */
  allow(address: string): boolean | Promise<boolean>;
}

/** Counts registrations per address and says whether one more may start. */
export class RegistrationLimit implements Registrations {
  readonly #levels = new Map<string, Level>();
  readonly #now: () => number;
  readonly #ceiling: number;
  readonly #maxEntries: number;
  readonly #limits: ThrottleLimits;
  /** When a full map was last swept: at most once a second, so a flood of addresses stays cheap. */
  #prunedAt = -Infinity;

  /** `now` in ms (tests move it); `ceiling` per window; at most `maxEntries` addresses. */
  constructor(
    now: () => number = Date.now,
    ceiling = REGISTRATIONS_PER_ADDRESS,
    maxEntries = MAX_REGISTRATION_ADDRESSES,
  ) {
    this.#now = now;
    this.#ceiling = ceiling;
    this.#maxEntries = maxEntries;
    this.#limits = { ...DEFAULT_LIMITS, ceilingWindowMs: REGISTRATION_WINDOW_MS };
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#levels.size;
  }

  /** True, and counted, when `address` may start one more registration now. */
  allow(address: string): boolean {
    const key = addressKey(address);
    const now = this.#now();
    const level = currentLevel(this.#levels.get(key), this.#ceiling, now, this.#limits);
    if (level === undefined) this.#levels.delete(key);
    if ((level?.level ?? 0) + 1 > this.#ceiling) return false;
    if (level === undefined && this.#levels.size >= this.#maxEntries && !this.#prune(now)) {
      // Refused rather than forgetting a busy address's count.
      return false;
    }
    this.#levels.set(key, { level: (level?.level ?? 0) + 1, atMs: now });
    return true;
  }

  /** Drops addresses whose bucket has leaked empty; true when that made room. */
  #prune(now: number): boolean {
    if (now - this.#prunedAt >= 1000) {
      this.#prunedAt = now;
      for (const [key, level] of this.#levels) {
        if (currentLevel(level, this.#ceiling, now, this.#limits) === undefined) {
          this.#levels.delete(key);
        }
      }
    }
    return this.#levels.size < this.#maxEntries;
  }
}
