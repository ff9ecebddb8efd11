/**
 * Bytes to lines, with a cap on the bytes held for one unfinished line.
 *
 * The framer owns its read buffer so that a socket reads straight into it:
 * no copy per read, and one UTF-8 decode per complete line.
 *
 * @module
 */

const LF = 0x0a;
const CR = 0x0d;

/** The smallest read buffer; an idle connection holds only this much. */
export const MIN_READ_BYTES = 512;
/** The largest read buffer a busy connection grows to. */
export const MAX_READ_BYTES = 65536;

/** Where a framer delivers what it finds; called synchronously from {@linkcode LineFramer.commit}. */
export interface LineSink {
  /**
   * A complete line, its `\n` or `\r\n` removed, decoded as UTF-8 (invalid
   * bytes as U+FFFD). Returns false to pause the framer before the next line.
   */
  line(text: string): boolean;
  /** The unfinished line just passed the cap; its bytes are being dropped. */
  lineTooLong(): void;
  /** The `\n` of a line that was too long arrived; returns false to pause, as {@linkcode line}. */
  tooLongLineEnded(): boolean;
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Splits a byte stream into lines ending in `\n` (a `\r` before it is
 * dropped). Never holds more than `maxLineBytes + 1` bytes of one line: past
 * that the line is reported once as too long and skipped up to its `\n`.
 */
export class LineFramer {
  readonly #maxLineBytes: number;
  #buffer: Uint8Array;
  /** Bytes of the unfinished line at the front of the buffer. */
  #held = 0;
  /** True while skipping the rest of a line that passed the cap. */
  #skipping = false;
  /** True when the sink asked to pause; the lines after {@linkcode #start} wait for {@linkcode resume}. */
  #paused = false;
  #start = 0;
  #end = 0;
  #count = 0;

  /** A framer for lines of at most `maxLineBytes` bytes, without their end. */
  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
    this.#buffer = new Uint8Array(MIN_READ_BYTES);
  }

  /** Bytes of the unfinished line now held. */
  get heldBytes(): number {
    return this.#held;
  }

  /** True when the sink paused the framer: call {@linkcode resume}, not another read. */
  get paused(): boolean {
    return this.#paused;
  }

  /** The free part of the buffer: read into it, then call {@linkcode commit}. Not while paused. */
  space(): Uint8Array {
    return this.#buffer.subarray(this.#held);
  }

  /** Takes `count` bytes just written into {@linkcode space} and reports the lines they end. */
  commit(count: number, sink: LineSink): void {
    this.#run(0, this.#held, this.#held + count, count, sink);
  }

  /** Goes on with the lines a pause held back. */
  resume(sink: LineSink): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#run(this.#start, this.#start, this.#end, this.#count, sink);
  }

  #run(start: number, scanFrom: number, end: number, count: number, sink: LineSink): void {
    const buffer = this.#buffer;
    while (true) {
      const lf = buffer.indexOf(LF, scanFrom);
      if (lf === -1 || lf >= end) break;
      let more: boolean;
      if (this.#skipping) {
        this.#skipping = false;
        more = sink.tooLongLineEnded();
      } else {
        const stop = lf > start && buffer[lf - 1] === CR ? lf - 1 : lf;
        if (stop - start > this.#maxLineBytes) {
          // The whole over-long line arrived in one read: report it as it would have streamed.
          sink.lineTooLong();
          more = sink.tooLongLineEnded();
        } else {
          more = sink.line(decoder.decode(buffer.subarray(start, stop)));
        }
      }
      start = lf + 1;
      scanFrom = start;
      if (!more) {
        this.#paused = true;
        this.#start = start;
        this.#end = end;
        this.#count = count;
        return;
      }
    }
    this.#keepUnfinished(start, end, count, sink);
  }

  /** Moves the unfinished tail to the front, enforcing the cap, and sizes the next read. */
  #keepUnfinished(start: number, end: number, count: number, sink: LineSink): void {
    let held = end - start;
    if (this.#skipping) {
      held = 0;
    } else if (held > this.#maxLineBytes && !this.#mayStillFit(start, end)) {
      this.#skipping = true;
      held = 0;
      sink.lineTooLong();
    }
    const filled = end === this.#buffer.length;
    if (held > 0 && start > 0) this.#buffer.copyWithin(0, start, end);
    this.#held = held;
    this.#resize(filled, count);
  }

  /** A line one byte over the cap still fits if that byte is a `\r` whose `\n` is coming. */
  #mayStillFit(start: number, end: number): boolean {
    return end - start === this.#maxLineBytes + 1 && this.#buffer[end - 1] === CR;
  }

  /**
   * Grows the buffer when a read filled it (a busy sender, or a long line that
   * must fit whole), and shrinks it back once the connection goes quiet, so
   * an idle connection costs {@linkcode MIN_READ_BYTES}.
   */
  #resize(filled: boolean, count: number): void {
    const size = this.#buffer.length;
    // Room for the longest line plus its `\r\n`, or a full read, whichever is larger.
    const ceiling = Math.max(MAX_READ_BYTES, this.#maxLineBytes + 2);
    let wanted = size;
    if (filled || this.#buffer.length - this.#held < MIN_READ_BYTES / 4) {
      wanted = Math.min(size * 2, ceiling);
      if (this.#held + 1 >= wanted) wanted = Math.min(this.#held * 2 + 2, ceiling);
    } else if (this.#held === 0 && size > MIN_READ_BYTES && count < MIN_READ_BYTES) {
      wanted = MIN_READ_BYTES;
    }
    if (wanted === size) return;
    const next = new Uint8Array(wanted);
    next.set(this.#buffer.subarray(0, this.#held));
    this.#buffer = next;
  }
}
