/**
 * Append-only buffers that broadcast lines are encoded into, one after
 * another, so that an outbox receiving consecutive broadcasts holds one
 * contiguous range of memory and writes it without copying.
 *
 * @module
 */

/**
 * Bytes of one arena buffer. An outbox whose queue spans two buffers is
 * copied into one before it is written; with many receivers each holding a
 * long queue, 64 KB buffers made that copy 14 % of the server's time (IRC,
 * 1,000 receivers), so buffers are large enough that a queue rarely spans
 * two. Untouched pages cost no memory, and a buffer is freed once no outbox
 * holds a view of it: the queues' byte budget bounds how many stay alive.
 */
export const ARENA_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/**
 * Writes a frame's header for a payload of `payloadBytes` at `buffer[at]`
 * and returns the header's length: at most the `maxHeader` it was asked with.
 */
export type WriteHeader = (buffer: Uint8Array, at: number, payloadBytes: number) => number;

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
    const start = this.#reserve(worstCase);
    const { written } = encoder.encodeInto(text, this.#buffer.subarray(start));
    this.#used = start + written;
    return this.#buffer.subarray(start, this.#used);
  }

  /**
   * The UTF-8 bytes of `text` behind a header that depends on their length
   * (a WebSocket frame's), as one view; `writeHeader` writes at most
   * `maxHeader` bytes.
   */
  encodeFramed(text: string, maxHeader: number, writeHeader: WriteHeader): Uint8Array {
    const worstCase = maxHeader + text.length * 3;
    const own = worstCase > ARENA_BYTES / 8;
    const buffer = own ? new Uint8Array(worstCase) : this.#buffer;
    const start = own ? 0 : this.#reserve(worstCase);
    const { written } = encoder.encodeInto(text, buffer.subarray(start + maxHeader));
    const headerBytes = writeHeader(buffer, start, written);
    // The length was only known once encoded: close the gap a shorter header left.
    if (headerBytes < maxHeader) {
      buffer.copyWithin(start + headerBytes, start + maxHeader, start + maxHeader + written);
    }
    const end = start + headerBytes + written;
    if (!own) this.#used = end;
    return buffer.subarray(start, end);
  }

  /** Where `bytes` more fit in the current buffer, starting a fresh one when they do not. */
  #reserve(bytes: number): number {
    if (this.#used + bytes > ARENA_BYTES) {
      this.#buffer = new Uint8Array(ARENA_BYTES);
      this.#used = 0;
    }
    return this.#used;
  }
}
