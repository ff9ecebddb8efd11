/**
 * A log line that would repeat many times a second (every failed accept
 * while out of descriptors), written at most once an interval with how many
 * times it happened.
 *
 * @module
 */

/** Counts occurrences and says when one should be logged, with the count since the last line. */
export class LogThrottle {
  readonly #intervalMs: number;
  #unlogged = 0;
  #loggedAt = -Infinity;

  /** At most one line every `intervalMs`. */
  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Counts one; returns how many to report now (this one and those held back), or 0 to stay quiet. */
  count(now = performance.now()): number {
    this.#unlogged++;
    if (now - this.#loggedAt < this.#intervalMs) return 0;
    this.#loggedAt = now;
    const count = this.#unlogged;
    this.#unlogged = 0;
    return count;
  }
}
