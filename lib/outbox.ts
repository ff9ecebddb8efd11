/**
 * One client's outbound queue: bounded in bytes, drained by its own writer.
 *
 * @module
 */

/** Where an outbox writes: a socket, or a fake in tests. */
export interface ByteWriter {
  /** Writes some of `bytes`, resolving with how many the kernel took. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Who hears that a write failed: the connection itself, so no closure is kept per client. */
export interface WriteFailureListener {
  /** A write failed; the outbox has discarded everything and takes nothing more. */
  writeFailed(error: unknown): void;
}

/**
 * Queues byte chunks for one client and writes them in order. Everything
 * queued while a write is under way goes out in the next single write, so a
 * busy client gets few large writes. Chunks are never copied on the way in:
 * a broadcast's bytes are shared by every outbox, and a chunk that starts
 * where the previous one ended in the same buffer (consecutive broadcasts
 * from the hub's line arena) only extends it, so a run of broadcasts is
 * written from shared memory without a copy.
 */
export class Outbox {
  readonly #writer: ByteWriter;
  readonly #maxBytes: number;
  readonly #owner: WriteFailureListener;
  readonly #counter: { bytesOut: number } | undefined;
  /** Queued chunks before the tail; allocated only once something queued is not contiguous. */
  #chunks: Uint8Array[] | undefined;
  /** The last queued chunk, kept as a range so that contiguous chunks extend it for free. */
  #tailBuffer: ArrayBufferLike | undefined;
  #tailStart = 0;
  #tailEnd = 0;
  #queuedBytes = 0;
  #inFlightBytes = 0;
  #draining = false;
  #ended = false;
  #failed = false;
  #drained: (() => void) | undefined;

  /**
   * An outbox holding at most `maxBytes` unwritten bytes. `owner` hears a
   * failed write once; the outbox then discards everything. `counter.bytesOut`,
   * when given, grows by every byte the writer took.
   */
  constructor(
    writer: ByteWriter,
    maxBytes: number,
    owner: WriteFailureListener,
    counter?: { bytesOut: number },
  ) {
    this.#writer = writer;
    this.#maxBytes = maxBytes;
    this.#owner = owner;
    this.#counter = counter;
  }

  /** Bytes held and not yet handed to the kernel, including a write under way. */
  get pendingBytes(): number {
    return this.#queuedBytes + this.#inFlightBytes;
  }

  /**
   * Queues `bytes`. Returns false, queueing nothing, when that would pass the
   * byte budget: the caller decides what a slow consumer deserves. An empty
   * outbox takes any one chunk, however large. After
   * {@linkcode end} or a failed write, bytes are dropped and true returned.
   */
  push(bytes: Uint8Array): boolean {
    if (this.#ended || this.#failed) return true;
    const pending = this.#queuedBytes + this.#inFlightBytes;
    // One reply larger than the whole budget (a big WHO) still goes to a client that keeps up.
    if (pending > 0 && pending + bytes.length > this.#maxBytes) return false;
    this.#enqueue(bytes);
    return true;
  }

  #enqueue(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    const start = bytes.byteOffset;
    if (buffer === this.#tailBuffer && start === this.#tailEnd) {
      this.#tailEnd += bytes.byteLength;
    } else {
      this.#sealTail();
      this.#tailBuffer = buffer;
      this.#tailStart = start;
      this.#tailEnd = start + bytes.byteLength;
    }
    this.#queuedBytes += bytes.byteLength;
    if (!this.#draining) {
      this.#draining = true;
      // Start after the current task, so everything queued by it goes out in one write.
      queueMicrotask(() => this.#drain());
    }
  }

  /**
   * Accepts nothing more, queues `lastLine` (after the queued bytes, or in
   * their place when `discardQueued`), and resolves once all is written or
   * the writer failed. A write under way is never cut short.
   */
  end(lastLine: Uint8Array | undefined, discardQueued: boolean): Promise<void> {
    if (this.#ended) return Promise.resolve();
    if (discardQueued) this.#discardQueued();
    // The last line is small and final: it may pass the budget.
    if (lastLine !== undefined && !this.#failed) this.#enqueue(lastLine);
    this.#ended = true;
    if (!this.#draining || this.#failed) return Promise.resolve();
    return new Promise((resolve) => this.#drained = resolve);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queuedBytes > 0 && !this.#failed) {
        const bytes = this.#takeAll();
        let written = 0;
        while (written < bytes.length) {
          const count = await this.#writer.write(written === 0 ? bytes : bytes.subarray(written));
          written += count;
          this.#inFlightBytes -= count;
          if (this.#counter !== undefined) this.#counter.bytesOut += count;
        }
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#draining = false;
      const drained = this.#drained;
      this.#drained = undefined;
      drained?.();
    }
  }

  #sealTail(): void {
    if (this.#tailBuffer === undefined) return;
    (this.#chunks ??= []).push(this.#takeTail()!);
  }

  /** The tail as a view, now no longer the tail; undefined when there is none. */
  #takeTail(): Uint8Array | undefined {
    const buffer = this.#tailBuffer;
    if (buffer === undefined) return undefined;
    this.#tailBuffer = undefined;
    return new Uint8Array(buffer, this.#tailStart, this.#tailEnd - this.#tailStart);
  }

  /** Everything queued as one chunk (a copy only when it is not contiguous), now in flight. */
  #takeAll(): Uint8Array {
    const total = this.#queuedBytes;
    this.#queuedBytes = 0;
    this.#inFlightBytes = total;
    const tail = this.#takeTail();
    const chunks = this.#chunks;
    // The common case, a run of contiguous broadcasts: one view, and no array for it.
    if (chunks === undefined || chunks.length === 0) return tail!;
    if (tail !== undefined) chunks.push(tail);
    if (chunks.length === 1) {
      const only = chunks[0]!;
      chunks.length = 0;
      return only;
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    chunks.length = 0;
    return bytes;
  }

  #discardQueued(): void {
    if (this.#chunks !== undefined) this.#chunks.length = 0;
    this.#tailBuffer = undefined;
    this.#queuedBytes = 0;
  }

  #fail(error: unknown): void {
    this.#failed = true;
    this.#discardQueued();
    this.#inFlightBytes = 0;
    this.#owner.writeFailed(error);
  }
}
