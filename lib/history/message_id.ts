/**
 * Message ids, as Redis stream ids are written: `<ms>-<seq>`, the store's
 * clock in milliseconds and a whole number that orders messages of the same
 * millisecond. Pure: parsing, ordering, and a clock that never goes back.
 *
 * @module
 */

/** One id's two parts, both safe whole numbers. */
export interface IdParts {
  /** Milliseconds since the Unix epoch. */
  readonly ms: number;
  /** Order within the millisecond. */
  readonly seq: number;
}

const ID = /^(\d{1,16})-(\d{1,16})$/;

/** The parts of a well-formed id, or undefined (the whole text must be `<digits>-<digits>`). */
export function parseId(text: string): IdParts | undefined {
  const match = ID.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return undefined;
  return { ms, seq };
}

/** An id written canonically (no leading zeros). */
export function formatId(parts: IdParts): string {
  return `${parts.ms}-${parts.seq}`;
}

/** Negative, zero or positive as `a` is before, the same as, or after `b`; both well-formed. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const dashA = a.indexOf("-");
  const dashB = b.indexOf("-");
  const msA = Number(a.slice(0, dashA));
  const msB = Number(b.slice(0, dashB));
  if (msA !== msB) return msA - msB;
  return Number(a.slice(dashA + 1)) - Number(b.slice(dashB + 1));
}

/** The milliseconds of a well-formed id. */
export function idMs(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}

/**
 * Hands out ids from a clock that may go back (NTP, a restored host): the
 * milliseconds never go below the last id's, and a second id in the same
 * millisecond takes the next `seq`.
 */
export class IdClock {
  #ms = 0;
  #seq = -1;

  /** A clock whose ids follow `last` (the latest stored), if given. */
  constructor(last?: string) {
    if (last !== undefined) this.raiseTo(last);
  }

  /** The next id at `nowMs`. */
  next(nowMs: number): string {
    const ms = Math.floor(nowMs);
    if (ms > this.#ms) {
      this.#ms = ms;
      this.#seq = 0;
    } else {
      this.#seq++;
    }
    return `${this.#ms}-${this.#seq}`;
  }

  /** Makes every later id greater than `id` (one read back from a store). */
  raiseTo(id: string): void {
    const parts = parseId(id);
    if (parts === undefined) return;
    if (parts.ms > this.#ms || (parts.ms === this.#ms && parts.seq > this.#seq)) {
      this.#ms = parts.ms;
      this.#seq = parts.seq;
    }
  }
}
