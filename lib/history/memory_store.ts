/**
 * History kept in memory: one bounded ring per conversation, lost at
 * restart, no file touched. The store of a lone server without `--data-dir`.
 *
 * @module
 */
import { compareIds, idMs } from "./message_id.ts";
import type { Entry, HistoryStore, Range, Retention, StoredMessage } from "./store.ts";

/** A conversation's latest messages, oldest first, in a ring that overwrites the oldest. */
class Ring {
  readonly #slots: (StoredMessage | undefined)[];
  /** Where the oldest message is. */
  #start = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#slots = new Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(message: StoredMessage): void {
    const capacity = this.#slots.length;
    if (this.#size < capacity) {
      this.#slots[(this.#start + this.#size++) % capacity] = message;
    } else {
      this.#slots[this.#start] = message;
      this.#start = (this.#start + 1) % capacity;
    }
  }

  /** The `i`th oldest message, 0 ≤ i < size. */
  at(i: number): StoredMessage {
    return this.#slots[(this.#start + i) % this.#slots.length]!;
  }

  /** The number of messages whose id is lower than `id`, or at most `id` when `inclusive` (ids only grow). */
  count(id: string, inclusive: boolean): number {
    let low = 0;
    let high = this.#size;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = compareIds(this.at(middle).id, id);
      if (order < 0 || (inclusive && order === 0)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Drops the oldest messages stored before `ms`. */
  dropBefore(ms: number): void {
    while (this.#size > 0 && idMs(this.at(0).id) < ms) {
      this.#slots[this.#start] = undefined;
      this.#start = (this.#start + 1) % this.#slots.length;
      this.#size--;
    }
  }
}

/** Rings by conversation, bounded by {@linkcode Retention}; answers at once. */
export class MemoryStore implements HistoryStore {
  readonly kind = "memory";
  readonly assignsIds = false;
  readonly lastId = undefined;
  readonly #retention: Retention;
  readonly #now: () => number;
  readonly #rings = new Map<string, Ring>();

  /** A store keeping what `retention` allows, its age measured by `now` (ms since the epoch). */
  constructor(retention: Retention, now: () => number = Date.now) {
    this.#retention = retention;
    this.#now = now;
  }

  /** Keeps each message (ids given, in order). */
  append(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.id === undefined) continue;
      let ring = this.#rings.get(entry.conversation);
      if (ring === undefined) {
        ring = new Ring(this.#retention.lines);
        this.#rings.set(entry.conversation, ring);
      }
      // The entry itself is kept (its id is set): one object per message, not two.
      ring.push(entry as StoredMessage);
    }
  }

  /** The messages of `range` still kept, oldest first. */
  read(range: Range): readonly StoredMessage[] {
    const ring = this.#rings.get(range.conversation);
    if (ring === undefined) return [];
    ring.dropBefore(this.#now() - this.#retention.maxAgeMs);
    const low = range.after === undefined ? 0 : ring.count(range.after, true);
    const high = range.before === undefined ? ring.size : ring.count(range.before, false);
    if (high <= low) return [];
    const first = range.from === "latest" ? Math.max(low, high - range.limit) : low;
    const end = range.from === "latest" ? high : Math.min(high, low + range.limit);
    const messages: StoredMessage[] = [];
    for (let i = first; i < end; i++) messages.push(ring.at(i));
    return messages;
  }

  /** Nothing to write: memory is lost at exit by design. */
  close(): Promise<void> {
    this.#rings.clear();
    return Promise.resolve();
  }
}
