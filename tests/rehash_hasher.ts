/**
 * A hasher for tests of the rehash at login: the real PBKDF2 at a cost of
 * 2,000 iterations taken as "current" (anything else, scrypt or 600,000
 * iterations, is older and made again), and a hash that can be held at one
 * password, so a test can act between a login's check and its rehash's write.
 *
 * @module
 */
import type { PasswordHasher } from "../lib/accounts/password_checks.ts";
import { hashPassword, verifyPassword } from "../lib/accounts/password_hash.ts";

/** The cost these tests take as current. */
export const CURRENT = { iterations: 2000 };

/** True for a hash made at {@linkcode CURRENT}. */
export function isCurrent(stored: string): boolean {
  return stored.startsWith(`pbkdf2-sha256$${CURRENT.iterations}$`);
}

/** Holds the hash of one password until opened, and says when one has reached it. */
export class HeldHash {
  #open!: () => void;
  #reached!: () => void;
  /** Resolves once opened. */
  readonly opened = new Promise<void>((resolve) => this.#open = resolve);
  /** Resolves once a hash of the password has started. */
  readonly reached = new Promise<void>((resolve) => this.#reached = resolve);

  /** Holds hashes of `password`, none other. */
  constructor(readonly password: string) {}

  /** Waits, for the held password, until opened. */
  async pass(password: string): Promise<void> {
    if (password !== this.password) return;
    this.#reached();
    await this.opened;
  }

  /** Lets the held hash go on; idempotent. */
  open(): void {
    this.#open();
  }
}

/** The hasher; each hash first passes whatever `held()` holds then. */
export function rehashHasher(held: () => HeldHash | undefined = () => undefined): PasswordHasher {
  return {
    hash: async (password) => {
      await held()?.pass(password);
      return await hashPassword(password, CURRENT);
    },
    verify: verifyPassword,
    needsRehash: (stored) => !isCurrent(stored),
  };
}
