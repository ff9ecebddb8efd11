/**
 * Append-only buffers that broadcast lines are encoded into, one after
 * another, so that an outbox receiving consecutive broadcasts holds one
 * contiguous range of memory and writes it without copying.
 *
 * @module
 */

/** Bytes of one arena buffer. */
export const ARENA_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/**
 * Encodes lines into shared append-only buffers. Bytes once handed out are
 * never written again: a full buffer is left to the garbage collector once
 * no outbox holds a view of it, and a fresh one is started.
 */
export class LineArena {
  #buffer = new Uint8Array(ARENA_BYTES);
  #used = 0;

  /** The UTF-8 bytes of `text`, as a view into the current buffer. */
  encode(text: string): Uint8Array {
    const worstCase = text.length * 3;
    // A long line would waste most of a buffer; it gets bytes of its own.
    if (worstCase > ARENA_BYTES / 8) return encoder.encode(text);
    if (this.#used + worstCase > ARENA_BYTES) {
      this.#buffer = new Uint8Array(ARENA_BYTES);
      this.#used = 0;
    }
    const start = this.#used;
    const { written } = encoder.encodeInto(text, this.#buffer.subarray(start));
    this.#used = start + written;
    return this.#buffer.subarray(start, this.#used);
  }
}
