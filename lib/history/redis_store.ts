/**
 * History kept in Redis, shared by every instance: one stream for the chat,
 * whose ids (Redis's) are the message ids, so that every instance serves the
 * same history in the same order. The store of an instance with
 * `--redis-url`; it works through the cluster's connection and writes (the
 * `ChatStream` of `lib/redis/`), and is loaded only with it.
 *
 * This instance's own messages are written by the cluster as it publishes
 * them, in one script each batch: the stream's order is the order in which
 * every instance receives them, which is what makes a read's cut exact (see
 * docs/protocol.md). A batch `ChatHistory` hands over is paired with those
 * writes, and its messages that were not published (Redis was away or
 * lagging) are written now, unpublished. Reads of recent chat history are
 * answered from the messages the stream holds in memory when those are
 * whole (`RecentChat`), the others by Redis. Direct messages are written
 * and read apart (`RedisDms`), at once, by the sender's instance.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { ChatStream } from "../redis/chat_stream.ts";
import {
  CHAT,
  type DmCopy,
  type Entry,
  type HistoryStore,
  type Range,
  type StoredMessage,
} from "./store.ts";

/** Writes through the cluster's stream; reads wait for this instance's own writes before them. */
export class RedisHistoryStore implements HistoryStore {
  readonly kind = "redis";
  readonly assignsIds = true;
  /**
   * Below every id: until this instance has seen where the chat's order
   * stands (the mark it gets on joining), a read returns nothing stored, for
   * anything stored may still be on its way to it live.
   */
  readonly lastId = "0-0";
  readonly #stream: ChatStream;
  readonly #log: Logger;
  /** Batches being answered (see {@linkcode append}). */
  #appending = 0;
  #mismatchesLogged = 0;

  /** A store over `stream`, the cluster's. */
  constructor(stream: ChatStream, log: Logger) {
    this.#stream = stream;
    this.#log = log;
  }

  /**
   * The ids of a batch, in order: those the cluster's writes gave, and those
   * of the messages written now because they were not published.
   */
  append(entries: readonly Entry[]): Promise<readonly string[]> {
    const written = this.#append(entries);
    this.#appending++;
    // ChatHistory hands over its next batch in its reaction to this one's answer, registered after
    // this function returns, so after the one below: counting this batch done one microtask later
    // still keeps a read waiting (see read) until the next batch is in.
    const done = () =>
      queueMicrotask(() => {
        this.#appending--;
        this.#stream.slots.notify();
      });
    written.then(done, done);
    return written;
  }

  /**
   * The messages of `range`, oldest first, once this instance's own
   * messages delivered before the call have their ids: their writes went out
   * before the read on the same connection, so their answers come first.
   * From memory when the recent messages hold the whole range.
   */
  read(range: Range): Promise<readonly StoredMessage[]> {
    if (range.conversation !== CHAT) {
      // Direct messages are written at once, never through the slots: what went out before is in.
      return this.#stream.dms.read(range);
    }
    const slots = this.#stream.slots;
    const mark = slots.next;
    const recent = this.#stream.recent;
    if (range.conversation === CHAT && recent.coveredAfter !== undefined) {
      // Recent messages are answered here once this instance's own before the read are in (their
      // ids come with their answers); the rest, and whatever is not whole here, from Redis.
      return this.#ownWritten(mark).then(() =>
        recent.answer(range, Date.now()) ?? this.#stream.read(range)
      );
    }
    return this.#stream.read(range).then(async (messages) => {
      await this.#ownWritten(mark);
      return messages;
    });
  }

  /** A direct message's copies, written now by this instance (see `redis_dms.ts`). */
  keepDm(copies: readonly DmCopy[], sender: string, text: string): void {
    void this.#stream.dms.keep(copies, sender, text);
  }

  /** The cluster's connections may go now. */
  close(): Promise<void> {
    return this.#stream.close();
  }

  /** Resolves once this instance's messages delivered before `mark` was the next slot have ids. */
  async #ownWritten(mark: number): Promise<void> {
    const slots = this.#stream.slots;
    while (slots.blocks(mark, this.#appending > 0)) await slots.changed();
  }

  async #append(entries: readonly Entry[]): Promise<readonly string[]> {
    const slots = this.#stream.slots;
    const paired = slots.pair(entries);
    if (slots.mismatches > this.#mismatchesLogged) {
      this.#log.error("history batch out of step with the cluster's writes", {
        mismatches: slots.mismatches - this.#mismatchesLogged,
      });
      this.#mismatchesLogged = slots.mismatches;
    }
    try {
      await slots.settled(paired);
      const unwritten = paired.filter((slot) => slot.state !== "written");
      if (unwritten.length > 0) await this.#stream.backfill(unwritten);
    } catch (error) {
      slots.failed(paired);
      throw error;
    }
    return paired.map((slot) => slot.id!);
  }
}
