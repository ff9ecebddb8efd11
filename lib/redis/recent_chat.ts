/**
 * The chat's latest messages as this instance has seen them go into the
 * Redis stream, kept so that a read of recent history (the page's first 50,
 * a reconnect, an IRC client's replay on `JOIN`, `HISTORY 1000`) is answered
 * without a round trip through Redis. Pure: no I/O.
 *
 * It answers only for what it knows to be whole: every message of the
 * stream after `coveredAfter`. That holds from a join on: the join's mark
 * comes on the subscription, in order, with where the stream stood, and
 * everything written after it comes to this instance too, other instances'
 * messages on the shared channel and its own in the answers to its writes.
 * Whatever breaks it moves `coveredAfter` up (another instance's messages
 * written without being published, then marked; the oldest pushed out) or
 * unsets it until the next join (the connection lost). A read it cannot
 * answer whole goes to Redis.
 *
 * @module
 */
import { compareIds, idMs } from "../history/message_id.ts";
import type { Range, Retention, StoredMessage } from "../history/store.ts";

/** Below every id: where a stream that was empty at the join begins. */
const BEGINNING = "0-0";

/** The most messages kept, whatever `--history-lines` allows: about 2.4 MB at 240 bytes each. */
export const MAX_RECENT_MESSAGES = 10_000;

/**
 * Reads that would return a message within this much of the age bound go
 * to Redis: the bound is Redis's clock, and this instance's may differ.
 */
export const AGE_MARGIN_MS = 60_000;

/**
 * The first index in `[low, high)` of `messages` (ids ascending) whose id is
 * after `id`, or at it too when `orAt`; `high` when there is none. A binary
 * search: a read runs in the hub's turn, over up to 10,000 messages.
 */
function firstAfter(
  messages: readonly StoredMessage[],
  low: number,
  high: number,
  id: string,
  orAt: boolean,
): number {
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = compareIds(messages[middle]!.id, id);
    if (order > 0 || (orAt && order === 0)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The chat's latest messages, oldest first, and how far back they are whole. */
export class RecentChat {
  readonly #capacity: number;
  readonly #retention: Retention;
  /** Oldest first; `#start` is the oldest still kept (the ones before it are gone). */
  #messages: StoredMessage[] = [];
  #start = 0;
  /** Every message of the stream after this id is kept here; undefined: nothing is known whole. */
  #coveredAfter: string | undefined;

  /** Keeps at most `min(retention.lines, MAX_RECENT_MESSAGES)` messages. */
  constructor(retention: Retention, capacity = MAX_RECENT_MESSAGES) {
    this.#retention = retention;
    this.#capacity = Math.min(retention.lines, capacity);
  }

  /** How many messages are kept. */
  get size(): number {
    return this.#messages.length - this.#start;
  }

  /** The id after which every message is kept, if any. */
  get coveredAfter(): string | undefined {
    return this.#coveredAfter;
  }

  /**
   * From now on every message after `after` is whole here: the join's mark,
   * or the last of messages another instance wrote without publishing them.
   * Kept messages up to it go; later ones stay (this instance's own, whose
   * answers may come before the mark does).
   */
  reset(after: string): void {
    const messages = this.#messages;
    this.#messages = messages.slice(
      firstAfter(messages, this.#start, messages.length, after, false),
    );
    this.#start = 0;
    this.#coveredAfter = this.#capacity > 0 ? after : undefined;
  }

  /**
   * Nothing is known whole until the next {@linkcode reset}: the connection
   * was lost, and messages went by unseen. What is kept stays for now.
   */
  uncover(): void {
    this.#coveredAfter = undefined;
  }

  /** A message of the stream, by its id; one already kept, or from before the coverage, is left out. */
  add(id: string, sender: string, text: string): void {
    if (this.#capacity === 0) return;
    // Kept while nothing is whole too: a message written just before the join's mark arrives is
    // after the mark, and would not come again.
    const after = this.#coveredAfter;
    if (after !== undefined && compareIds(id, after) <= 0) return;
    const messages = this.#messages;
    // Nearly always the newest: a message of this instance's, answered late, goes a few places back.
    let at = messages.length;
    while (at > this.#start) {
      const order = compareIds(messages[at - 1]!.id, id);
      if (order === 0) return;
      if (order < 0) break;
      at--;
    }
    if (at === messages.length) messages.push({ id, sender, text });
    else messages.splice(at, 0, { id, sender, text });
    if (this.size > this.#capacity) {
      // The oldest goes, and with it the claim to know what came before the next one.
      if (this.#coveredAfter !== undefined) this.#coveredAfter = messages[this.#start]!.id;
      messages[this.#start++] = undefined as unknown as StoredMessage;
      if (this.#start >= this.#capacity) {
        this.#messages = messages.slice(this.#start);
        this.#start = 0;
      }
    }
  }

  /**
   * The messages of `range` (the chat's), oldest first, as a read of the
   * stream would return them at `nowMs`, or undefined when what is kept
   * cannot tell: the range reaches before the coverage, or near the age bound.
   */
  answer(range: Range, nowMs: number): StoredMessage[] | undefined {
    const covered = this.#coveredAfter;
    if (covered === undefined || range.limit < 1) return undefined;
    const messages = this.#messages;
    // The kept messages inside the range: [low, high).
    let low = this.#start;
    let high = messages.length;
    if (range.before !== undefined) high = firstAfter(messages, low, high, range.before, true);
    if (range.after !== undefined) low = firstAfter(messages, low, high, range.after, false);
    // Whole unless the range reaches past the coverage and what is kept falls short of the limit.
    // A range from the start is inside when the coverage is from the start (the stream was empty).
    const startsInside = compareIds(range.after ?? BEGINNING, covered) >= 0;
    if (high - low < range.limit && !startsInside) return undefined;
    if (range.from === "latest") low = Math.max(low, high - range.limit);
    else high = Math.min(high, low + range.limit);
    if (range.from === "earliest" && !startsInside) return undefined;
    const found = messages.slice(low, high);
    if (found.length > 0) {
      const oldest = nowMs - this.#retention.maxAgeMs + AGE_MARGIN_MS;
      if (idMs(found[0]!.id) < oldest) return undefined;
    }
    return found;
  }
}
