/**
 * Password hashes and checks, a bounded number at once behind a bounded
 * queue: each holds a core for a tenth of a second (PBKDF2; an old scrypt
 * hash, 128 MiB and most of a second), so a burst of `LOGIN`s must wait its
 * turn or be refused, never pile up.
 *
 * @module
 */
import { hashPassword, needsRehash, verifyPassword } from "./password_hash.ts";

/** What hashes and verifies; the real one by default, a cheaper one in tests. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
  /** True when a stored hash is not what `hash` makes now: made again after a right password. */
  needsRehash?(stored: string): boolean;
}

/** The hasher of `password_hash.ts`, at its current cost. */
export const DEFAULT_HASHER: PasswordHasher = {
  hash: hashPassword,
  verify: verifyPassword,
  needsRehash,
};

/** How a {@linkcode PasswordChecks} is bounded. */
export interface PasswordChecksOptions {
  /** Hashes running at once: 1 (the default) or 2. */
  readonly concurrency?: number;
  /** Requests waiting for a turn at most (default {@linkcode DEFAULT_QUEUE}); one past it is refused. */
  readonly queue?: number;
  /** What does the work (default {@linkcode DEFAULT_HASHER}). */
  readonly hasher?: PasswordHasher;
}

/** Requests that wait for a turn by default: about 8 × 0.7 s of work behind the running one. */
export const DEFAULT_QUEUE = 8;

/** A request that was not run: the queue was full, or the checks were closed. Answer `ERR login-throttled`. */
export type Refused = { readonly kind: "refused" };

/** What {@linkcode PasswordChecks.hash} came to. */
export type HashOutcome = { readonly kind: "hashed"; readonly hash: string } | Refused;

/** What {@linkcode PasswordChecks.verify} came to. */
export type VerifyOutcome = { readonly kind: "match" } | { readonly kind: "mismatch" } | Refused;

const REFUSED: Refused = { kind: "refused" };

interface Job {
  /** The work; never rejects. */
  readonly work: () => Promise<unknown>;
  /** Settles the request with the work's outcome, or refused. */
  readonly settle: (outcome: unknown) => void;
}

/** Runs password hashes and checks at most `concurrency` at once, at most `queue` waiting. */
export class PasswordChecks {
  /** Hashes running at once at most. */
  readonly concurrency: number;
  /** Requests waiting for a turn at most. */
  readonly queueLimit: number;
  readonly #hasher: PasswordHasher;
  readonly #waiting: Job[] = [];
  readonly #running = new Set<Promise<void>>();
  #closed = false;

  /** Checks bounded by `options`; throws a `RangeError` for a bound out of range. */
  constructor(options: PasswordChecksOptions = {}) {
    this.concurrency = options.concurrency ?? 1;
    this.queueLimit = options.queue ?? DEFAULT_QUEUE;
    if (![1, 2].includes(this.concurrency)) {
      throw new RangeError(`Cannot check passwords: concurrency ${this.concurrency} is not 1 or 2`);
    }
    if (!Number.isInteger(this.queueLimit) || this.queueLimit < 0) {
      throw new RangeError(
        `Cannot check passwords: queue ${this.queueLimit} is not a whole number`,
      );
    }
    this.#hasher = options.hasher ?? DEFAULT_HASHER;
  }

  /** Requests running now. */
  get running(): number {
    return this.#running.size;
  }

  /** Requests waiting for a turn now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** A new hash of `password` (for `REGISTER`, `PASSWORD`), or refused. Never rejects. */
  hash(password: string): Promise<HashOutcome> {
    return this.#submit<HashOutcome>(async () => {
      try {
        return { kind: "hashed", hash: await this.#hasher.hash(password) };
      } catch {
        // The hasher's error is dropped whole: nothing that saw the password leaves here.
        return REFUSED;
      }
    });
  }

  /** Whether `password` matches `stored`, or refused. Never rejects. */
  verify(password: string, stored: string): Promise<VerifyOutcome> {
    return this.#submit<VerifyOutcome>(async () => {
      try {
        const match = await this.#hasher.verify(password, stored);
        return { kind: match ? "match" : "mismatch" };
      } catch {
        return REFUSED;
      }
    });
  }

  /** True when `stored` should be made again with the current hash (after a right password). */
  needsRehash(stored: string): boolean {
    return this.#hasher.needsRehash?.(stored) ?? false;
  }

  /**
   * Refuses every request still waiting and every later one, then resolves
   * once those running have finished (a hash under way cannot be
   * stopped). Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) job.settle(REFUSED);
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  #submit<T>(work: () => Promise<T | Refused>): Promise<T | Refused> {
    if (this.#closed) return Promise.resolve(REFUSED);
    if (this.#running.size >= this.concurrency && this.#waiting.length >= this.queueLimit) {
      return Promise.resolve(REFUSED);
    }
    return new Promise((resolve) => {
      const job: Job = { work, settle: resolve as (outcome: unknown) => void };
      if (this.#running.size < this.concurrency) this.#start(job);
      else this.#waiting.push(job);
    });
  }

  #start(job: Job): void {
    const done: Promise<void> = job.work().then((outcome) => {
      // The next starts before this one's caller hears back, so a turn is never left idle.
      this.#running.delete(done);
      const next = this.#waiting.shift();
      if (next !== undefined) this.#start(next);
      job.settle(outcome);
    });
    this.#running.add(done);
  }
}
