/**
 * What this instance publishes for the others: events batched per hub turn,
 * and a cap on what Redis has not yet acknowledged, so that a Redis that does
 * not keep up costs lines for other instances, never this one's memory or pace.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { encodeBatch, encodeEvent, isPresenceLine, type WireEvent } from "./cluster_wire.ts";

/**
 * Characters (UTF-16 code units) published but not yet acknowledged by Redis,
 * past which lines for other instances are dropped; presence is always sent.
 */
const MAX_UNACKED_PUBLISH_CHARS = 8 * 1024 * 1024;
/** A batch is published once it holds this many characters, without waiting for the hub's turn. */
const BATCH_CHARS = 64 * 1024;
/** While Redis lags, a warning at every this-many-th dropped batch since start, the first included. */
const DROPS_PER_WARNING = 1000;

/** Publishes a payload on a channel; settles when Redis has answered (either way). */
export type Publish = (channel: string, payload: string) => Promise<unknown>;

/** What a {@linkcode Publisher} needs. */
export interface PublisherOptions {
  /** This instance's id, at the head of every batch. */
  readonly from: string;
  /** Sends one batch. */
  readonly publish: Publish;
  /** Where dropped batches are reported. */
  readonly log: Logger;
  /** Unacknowledged characters past which chat lines are dropped (tests make it small). */
  readonly maxUnackedChars?: number;
  /** Characters at which a batch goes out before the turn ends (tests make it small). */
  readonly batchChars?: number;
}

/** Lines for one channel, waiting for the end of the hub's turn. */
interface Batch {
  readonly channel: string;
  readonly lines: string[];
  chars: number;
}

/** Open with the batch being filled (if any), or closed for good. */
type PublisherState =
  | { readonly kind: "open"; batch: Batch | undefined }
  | { readonly kind: "closed" };

/** Batches events per channel and publishes them in order, within the unacknowledged cap. */
export class Publisher {
  readonly #options: PublisherOptions;
  readonly #maxUnackedChars: number;
  readonly #batchChars: number;
  #state: PublisherState = { kind: "open", batch: undefined };
  #unackedChars = 0;
  #droppedBatches = 0;

  /** A publisher that sends nothing until the first {@linkcode append}. */
  constructor(options: PublisherOptions) {
    this.#options = options;
    this.#maxUnackedChars = options.maxUnackedChars ?? MAX_UNACKED_PUBLISH_CHARS;
    this.#batchChars = options.batchChars ?? BATCH_CHARS;
  }

  /** Batches dropped so far because Redis did not keep up. */
  get droppedBatches(): number {
    return this.#droppedBatches;
  }

  /** Characters published and not yet acknowledged. */
  get unackedChars(): number {
    return this.#unackedChars;
  }

  /** Queues an event for `channel`; a change of channel publishes what came before, keeping order. */
  append(channel: string, event: WireEvent): void {
    const state = this.#state;
    if (state.kind === "closed") return;
    if (state.batch !== undefined && state.batch.channel !== channel) this.flush();
    let batch = state.batch;
    if (batch === undefined) {
      batch = { channel, lines: [], chars: 0 };
      state.batch = batch;
      const started = batch;
      // After the hub's current batch of events: one publish carries a whole turn's lines.
      queueMicrotask(() => {
        if (state.batch === started) this.flush();
      });
    }
    const line = encodeEvent(event);
    batch.lines.push(line);
    batch.chars += line.length;
    if (batch.chars >= this.#batchChars) this.flush();
  }

  /** Publishes the batch being filled, if any. */
  flush(): void {
    const state = this.#state;
    if (state.kind === "closed" || state.batch === undefined) return;
    const { channel } = state.batch;
    let lines = state.batch.lines;
    state.batch = undefined;
    // Comings and goings still go, or other instances would show ghosts.
    if (this.#unackedChars > this.#maxUnackedChars) {
      if (this.#droppedBatches++ % DROPS_PER_WARNING === 0) {
        this.#options.log.warn("cluster publish dropped: Redis is not keeping up", {
          unackedChars: this.#unackedChars,
          droppedBatches: this.#droppedBatches,
        });
      }
      lines = lines.filter(isPresenceLine);
      if (lines.length === 0) return;
    }
    const payload = encodeBatch(this.#options.from, lines);
    const size = payload.length;
    this.#unackedChars += size;
    const done = () => this.#unackedChars -= size;
    this.#options.publish(channel, payload).then(done, done);
  }

  /** Publishes what is batched, then publishes nothing more. Idempotent. */
  close(): void {
    this.flush();
    this.#state = { kind: "closed" };
  }
}
