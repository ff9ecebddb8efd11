/**
 * An unbounded single-consumer queue read as an async iterator of batches.
 *
 * @module
 */

/**
 * Producers {@linkcode Inbox.push} items from anywhere; the one consumer
 * iterates it and receives every item queued since its last turn as one
 * batch, so that it can apply a whole read's worth of events before any
 * writer runs. Order is kept.
 */
export class Inbox<T> implements AsyncIterable<readonly T[]> {
  #items: T[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  /** Queues one item; ignored after {@linkcode close}. */
  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      wake();
    }
  }

  /** Ends the iteration once the items already queued have been taken. Idempotent. */
  close(): void {
    this.#closed = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Yields the queued items in batches, in order, until closed and empty. */
  async *[Symbol.asyncIterator](): AsyncIterator<readonly T[]> {
    while (true) {
      if (this.#items.length > 0) {
        const batch = this.#items;
        this.#items = [];
        yield batch;
      } else if (this.#closed) {
        return;
      } else {
        await new Promise<void>((resolve) => this.#wake = resolve);
      }
    }
  }
}
