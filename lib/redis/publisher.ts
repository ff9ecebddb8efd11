/**
 * What this instance publishes for the others: events batched per hub turn,
 * and a cap on what Redis has not yet acknowledged, so that a Redis that does
 * not keep up costs lines for other instances, never this one's memory or pace.
 * With history on, a batch holding messages for the history goes out through
 * the history's script, which writes them and publishes the batch in one step,
 * still in order with everything else.
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
/** What a kept message's line adds to its sender and text: `H `, an id and two spaces, about. */
const KEPT_LINE_CHARS = 28;
/** While Redis lags, a warning at every this-many-th dropped batch since start, the first included. */
const DROPS_PER_WARNING = 1000;

/** Publishes a payload on a channel; settles when Redis has answered (either way). */
export type Publish = (channel: string, payload: string) => Promise<unknown>;

/** A `MSG` for the chat's history too: published with the id Redis gives it as it is written. */
export interface KeptMessage {
  /** The sender's name as shown. */
  readonly sender: string;
  /** The text as delivered. */
  readonly text: string;
}

/** What a batch holds: lines made by `encodeEvent`, and kept messages. */
export type BatchItem<K extends KeptMessage> = string | K;

/** What a {@linkcode Publisher} needs. */
export interface PublisherOptions<K extends KeptMessage = KeptMessage> {
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
  /** Writes a batch's kept messages and publishes the batch, in one step; settles when Redis answered. */
  readonly publishKept?: (channel: string, items: readonly BatchItem<K>[]) => Promise<unknown>;
  /** A kept message that will not be published (Redis lags, or the publisher has closed). */
  readonly unpublished?: (message: K) => void;
}

/** Lines for one channel, waiting for the end of the hub's turn. */
interface Batch<K extends KeptMessage> {
  readonly channel: string;
  readonly items: BatchItem<K>[];
  chars: number;
  /** Whether any item is a kept message. */
  kept: boolean;
}

/** Open with the batch being filled (if any), or closed for good. */
type PublisherState<K extends KeptMessage> =
  | { readonly kind: "open"; batch: Batch<K> | undefined }
  | { readonly kind: "closed" };

/** Batches events per channel and publishes them in order, within the unacknowledged cap. */
export class Publisher<K extends KeptMessage = KeptMessage> {
  readonly #options: PublisherOptions<K>;
  readonly #maxUnackedChars: number;
  readonly #batchChars: number;
  #state: PublisherState<K> = { kind: "open", batch: undefined };
  #unackedChars = 0;
  #droppedBatches = 0;

  /** A publisher that sends nothing until the first {@linkcode append}. */
  constructor(options: PublisherOptions<K>) {
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
    const line = encodeEvent(event);
    this.#add(channel, line, line.length);
  }

  /**
   * Queues a message for the history too, in order with the events: its
   * batch goes out through `publishKept`. A closed publisher hands it back.
   */
  appendKept(channel: string, message: K): void {
    if (this.#state.kind === "closed") this.#options.unpublished?.(message);
    else this.#add(channel, message, message.sender.length + message.text.length + KEPT_LINE_CHARS);
  }

  /** Publishes the batch being filled, if any. */
  flush(): void {
    const state = this.#state;
    if (state.kind === "closed" || state.batch === undefined) return;
    const { channel } = state.batch;
    let { items, chars, kept } = state.batch;
    state.batch = undefined;
    // Comings and goings still go, or other instances would show ghosts.
    if (this.#unackedChars > this.#maxUnackedChars) {
      if (this.#droppedBatches++ % DROPS_PER_WARNING === 0) {
        this.#options.log.warn("cluster publish dropped: Redis is not keeping up", {
          unackedChars: this.#unackedChars,
          droppedBatches: this.#droppedBatches,
        });
      }
      const presence: string[] = [];
      for (const item of items) {
        if (typeof item !== "string") this.#options.unpublished?.(item);
        else if (isPresenceLine(item)) presence.push(item);
      }
      if (presence.length === 0) return;
      items = presence;
      chars = presence.reduce((sum, line) => sum + line.length, 0);
      kept = false;
    }
    const from = this.#options.from;
    // The payload's length: the instance, then a line feed before each line.
    const size = from.length + items.length + chars;
    this.#unackedChars += size;
    const done = () => this.#unackedChars -= size;
    const sent = kept && this.#options.publishKept !== undefined
      ? this.#options.publishKept(channel, items)
      : this.#options.publish(channel, encodeBatch(from, items as string[]));
    sent.then(done, done);
  }

  #add(channel: string, item: BatchItem<K>, chars: number): void {
    const state = this.#state;
    if (state.kind === "closed") return;
    if (state.batch !== undefined && state.batch.channel !== channel) this.flush();
    let batch = state.batch;
    if (batch === undefined) {
      batch = { channel, items: [], chars: 0, kept: false };
      state.batch = batch;
      const started = batch;
      // After the hub's current batch of events: one publish carries a whole turn's lines.
      queueMicrotask(() => {
        if (state.batch === started) this.flush();
      });
    }
    batch.items.push(item);
    batch.chars += chars;
    if (typeof item !== "string") batch.kept = true;
    if (batch.chars >= this.#batchChars) this.flush();
  }

  /** Publishes what is batched, then publishes nothing more. Idempotent. */
  close(): void {
    this.flush();
    this.#state = { kind: "closed" };
  }
}
