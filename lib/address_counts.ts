/**
 * Open connections counted per address, for `--max-clients-per-ip`.
 *
 * @module
 */

/** What counting one more connection from an address came to. */
export type AddressCount =
  /** Counted: uncount it when the connection ends. */
  | "counted"
  /** Not counted: there is no limit, or the address is exempt from it. */
  | "uncounted"
  /** Not counted: the address already has as many open as the limit allows. */
  | "full";

/** Open connections by address, against a limit; exempt addresses are never counted. */
export class AddressCounts {
  /** Open connections from one address at most; 0: no limit. */
  readonly limit: number;
  readonly #exempt: ((ip: string) => boolean) | undefined;
  readonly #open = new Map<string, number>();

  /** Counts against `limit` (0: no limit), except for addresses `exempt` says yes to. */
  constructor(limit: number, exempt?: (ip: string) => boolean) {
    this.limit = limit;
    this.#exempt = exempt;
  }

  /** Counts one more connection from `ip`, unless the limit does not apply or is reached. */
  add(ip: string): AddressCount {
    // With no limit there is nothing to be exempt from: skip the CIDR match.
    if (this.limit <= 0 || (this.#exempt?.(ip) ?? false)) return "uncounted";
    const open = this.#open.get(ip) ?? 0;
    if (open >= this.limit) return "full";
    this.#open.set(ip, open + 1);
    return "counted";
  }

  /** Uncounts one connection from `ip`, which {@linkcode AddressCounts.add} counted. */
  remove(ip: string): void {
    const open = (this.#open.get(ip) ?? 0) - 1;
    if (open <= 0) this.#open.delete(ip);
    else this.#open.set(ip, open);
  }

  /** Connections counted for `ip` now. */
  count(ip: string): number {
    return this.#open.get(ip) ?? 0;
  }

  /** Forgets every count (every connection has been closed at once). */
  clear(): void {
    this.#open.clear();
  }
}
