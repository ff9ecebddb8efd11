/**
 * Flood control, as ergo's fakelag: a client over its rate is slowed, not
 * kicked. A token bucket meters messages; input that arrives while the
 * client is held back waits in a bounded backlog (so that a hang-up is still
 * seen at once); a client whose backlog stays full anyway is an excess flood.
 * Independent of any door: it drives a {@linkcode Framer}.
 *
 * @module
 */
import type { Framer } from "./door.ts";

/** Bytes a held-back client may have read ahead of its rate before reading stops. */
const BACKLOG_BYTES = 64 * 1024;

/** Input a held-back client sent ahead of its rate, and the clocks that watch it. */
class Backlog {
  /** Bytes read but not yet framed, oldest first. */
  readonly chunks: Uint8Array[] = [];
  /** Their length, in bytes. */
  bytes = 0;
  /** Since when the backlog has been full (until it drains to half). */
  fullSince: number | undefined;
  excessTimer: ReturnType<typeof setTimeout> | undefined;
  /** Wakes the reader waiting for room. */
  wake: (() => void) | undefined;
}

/** Limits of flood control, shared by every connection. */
export interface FloodOptions {
  /** Messages a second, on average; 0: no flood control. */
  readonly rate: number;
  /** Messages at once before the rate applies. */
  readonly burst: number;
  /**
   * How long a client's backlog may stay full, its socket unread, before it
   * is dropped: past that, a hang-up could go unseen for as long as its
   * backlog takes to drain.
   */
  readonly excessFloodMs: number;
  /** The longest message a framer must hold whole, its end included: the backlog holds at least that. */
  readonly maxMessageBytes: number;
  /** Counts the times a client ran out of tokens. */
  readonly stats: { throttled: number };
  /** The clock, in milliseconds; `performance.now` unless a test injects one. */
  readonly now?: () => number;
}

/** What flood control tells the connection it serves. */
export interface FloodClient {
  /** The backlog stayed full for `excessFloodMs`: the client floods past anything this can absorb. */
  excessFlood(): void;
  /** Framing held-back input threw, outside the read loop: this client alone ends. */
  framingFailed(error: unknown): void;
}

const defaultNow = performance.now.bind(performance);

/** The limits of a token bucket; one object serves every bucket. */
export type BucketLimits = Pick<FloodOptions, "rate" | "burst" | "now">;

/**
 * A token bucket, refilled at `rate` a second up to `burst`, read from an
 * injected clock. Every connection has one, so it keeps only a reference to
 * the shared limits and two numbers.
 */
export class TokenBucket {
  readonly #limits: BucketLimits;
  #tokens: number;
  #refilledAt = 0;

  /** A full bucket; `rate` 0 never runs out. */
  constructor(limits: BucketLimits) {
    this.#limits = limits;
    this.#tokens = limits.burst;
  }

  /** Spends a token for the message just taken; true while another may follow at once. */
  take(): boolean {
    const { rate, burst } = this.#limits;
    if (rate === 0) return true;
    const now = this.now();
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refilledAt) * rate) / 1000);
    this.#refilledAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 1;
  }

  /** Milliseconds, whole, until the bucket holds a whole token again, as of the last take. */
  msUntilToken(): number {
    return Math.ceil(((1 - this.#tokens) * 1000) / this.#limits.rate);
  }

  /** The bucket's clock, in milliseconds. */
  now(): number {
    return (this.#limits.now ?? defaultNow)();
  }
}

/**
 * One client's flood control: its token bucket (which it extends, so that a
 * connection holds one object for both), its backlog, and the timers that
 * resume its framer and catch an excess flood. Allocates nothing more for a
 * client that keeps to its rate.
 */
export class FloodControl extends TokenBucket {
  readonly #options: FloodOptions;
  readonly #framer: Framer;
  readonly #client: FloodClient;
  #stopped = false;
  #refillTimer: ReturnType<typeof setTimeout> | undefined;
  /** Input read ahead of the rate; undefined while there is none, which is nearly always. */
  #backlog: Backlog | undefined;

  /** Flood control over `framer`, reporting to `client`. */
  constructor(options: FloodOptions, framer: Framer, client: FloodClient) {
    super(options);
    this.#options = options;
    this.#framer = framer;
    this.#client = client;
  }

  /** Bytes waiting in the backlog; while any do, new input goes behind them. */
  get heldBytes(): number {
    return this.#backlog === undefined ? 0 : this.#backlog.bytes;
  }

  /** True when the backlog may take no more: stop reading and {@linkcode roomInBacklog}. */
  get full(): boolean {
    return this.heldBytes >= this.#backlogLimit();
  }

  /** Spends a token for one message; false (and counted) once the framer must pause before the next. */
  override take(): boolean {
    if (super.take()) return true;
    this.#options.stats.throttled++;
    return false;
  }

  /** Queues bytes read ahead of the rate (or after a PROXY header); {@linkcode feed} frames them. */
  hold(bytes: Uint8Array): void {
    const backlog = this.#backlog ??= new Backlog();
    backlog.chunks.push(bytes);
    backlog.bytes += bytes.length;
  }

  /**
   * Frames backlog bytes while the client may send, and schedules the next
   * refill when it may not. A client whose backlog has stayed full (refilled
   * by every read, never below half) for `excessFloodMs` is reported.
   */
  feed(): void {
    const backlog = this.#backlog;
    if (backlog === undefined) {
      if (this.#framer.paused) this.scheduleResume();
      return;
    }
    const framer = this.#framer;
    const chunks = backlog.chunks;
    while (chunks.length > 0 && !framer.paused) {
      if (this.#stopped) return;
      const chunk = chunks[0]!;
      const space = framer.space();
      const count = Math.min(space.length, chunk.length);
      space.set(chunk.subarray(0, count));
      if (count === chunk.length) chunks.shift();
      else chunks[0] = chunk.subarray(count);
      backlog.bytes -= count;
      framer.commit(count);
    }
    if (backlog.bytes < this.#backlogLimit() / 2) {
      backlog.fullSince = undefined;
      clearTimeout(backlog.excessTimer);
      // Nothing of it is needed any more once it is empty and no reader waits for room.
      if (chunks.length === 0 && backlog.wake === undefined && this.#backlog === backlog) {
        this.#backlog = undefined;
      }
    } else if (
      backlog.fullSince !== undefined &&
      this.now() - backlog.fullSince > this.#options.excessFloodMs
    ) {
      this.#client.excessFlood();
      return;
    }
    if (framer.paused) this.scheduleResume();
    this.#wakeReader(backlog);
  }

  /**
   * Resolves once the full backlog has room again (or flood control stops).
   * The excess-flood clock starts with the first wait; refills may be far
   * apart at a low rate, so it is checked on a timer of its own as well.
   */
  roomInBacklog(): Promise<void> {
    const backlog = this.#backlog ??= new Backlog();
    if (backlog.fullSince === undefined) {
      backlog.fullSince = this.now();
      backlog.excessTimer = setTimeout(() => this.feedGuarded(), this.#options.excessFloodMs + 1);
    }
    return new Promise<void>((resolve) => backlog.wake = resolve);
  }

  /** Resumes the framer once the bucket holds a whole token again. */
  scheduleResume(): void {
    if (this.#refillTimer !== undefined || this.#stopped) return;
    this.#refillTimer = setTimeout(() => {
      this.#refillTimer = undefined;
      if (this.#stopped) return;
      this.feedGuarded(true);
    }, this.msUntilToken());
  }

  /** Forgets the backlog: the client hung up, and the messages it was not yet allowed are dropped. */
  drop(): void {
    const backlog = this.#backlog;
    if (backlog === undefined) return;
    backlog.chunks.length = 0;
    backlog.bytes = 0;
  }

  /** Stops for good: clears the timers and wakes a reader waiting for room. Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#refillTimer);
    this.#refillTimer = undefined;
    const backlog = this.#backlog;
    if (backlog === undefined) return;
    clearTimeout(backlog.excessTimer);
    this.#wakeReader(backlog);
  }

  /**
   * {@linkcode feed} (after resuming the framer, when `resume`) for callers
   * outside the read loop's own try: a fault ends this client alone.
   */
  feedGuarded(resume = false): void {
    try {
      if (resume) this.#framer.resume();
      this.feed();
    } catch (error) {
      this.#client.framingFailed(error);
    }
  }

  #wakeReader(backlog: Backlog): void {
    const wake = backlog.wake;
    backlog.wake = undefined;
    wake?.();
  }

  #backlogLimit(): number {
    return Math.max(BACKLOG_BYTES, this.#options.maxMessageBytes);
  }
}
