/**
 * This instance's chat messages on their way into the Redis stream, from the
 * moment the hub accepts one until Redis has given it its id: where the
 * cluster, which publishes each message in order with everything else this
 * instance sends, meets the history store, to which `ChatHistory` hands the
 * same messages later, in batches of its own. Pure: no I/O.
 *
 * They meet by order. The hub records a `MSG` in its history and broadcasts
 * it at once, so the cluster opens one slot per recorded entry, in the same
 * order. A batch that `ChatHistory` hands over holds every entry it has not
 * seen written (it takes its whole queue, a failed batch back in front), the
 * entries never handed over before come last, and it drops only its oldest
 * entries: so a batch's k new entries are the k newest open slots, and an
 * older open slot belongs to an entry that was dropped.
 *
 * @module
 */
import { MAX_PENDING_ENTRIES } from "../history/chat_history.ts";
import { CHAT, type Entry } from "../history/store.ts";

/**
 * Where a message stands: `pending` on its way through the publisher (the
 * script that writes and publishes it not yet answered), `written` with its
 * id, `unwritten` when it is not known to be in Redis (never sent: Redis was
 * away or lagging; or sent without an answer) and must be appended later.
 */
export type SlotState = "pending" | "written" | "unwritten";

/** One message of this instance on its way into the stream. */
export interface Slot {
  /** Opening order; also this instance's number for it in its entry's origin (see `history_scripts.ts`). */
  readonly seq: number;
  /** The sender's name as shown. */
  readonly sender: string;
  /** The text as delivered. */
  readonly text: string;
  /** Where it stands. */
  state: SlotState;
  /** Its id, once written. */
  id: string | undefined;
  /** The history's entry for it, once `ChatHistory` has handed it over. */
  entry: Entry | undefined;
  /**
   * The highest id this instance had seen when its write first went out:
   * if that write's answer was lost, it is among the entries after this one.
   */
  sentAfter?: string;
}

/** Open slots kept at most: beyond it the oldest go (only entries `ChatHistory` dropped get that far). */
const MAX_OPEN_SLOTS = 2 * MAX_PENDING_ENTRIES;

/** Slots opened by the cluster, paired with the history's entries, and settled by Redis's answers. */
export class SlotBook {
  #next = 1;
  /** Slots not yet paired with an entry, oldest first. */
  #open: Slot[] = [];
  /** Paired slots whose write is still on its way. */
  readonly #pairedPending = new Set<Slot>();
  /** The entries of the batch that failed last, with their slots: the next batch starts with them. */
  #retry = new Map<Entry, Slot>();
  #changed: PromiseWithResolvers<void> | undefined;
  readonly #maxOpen: number;
  /** Entries that met an open slot of another message: a broken pairing, counted (a bug if ever > 0). */
  mismatches = 0;

  /** An empty book; `maxOpen` bounds the open slots (tests make it small). */
  constructor(maxOpen = MAX_OPEN_SLOTS) {
    this.#maxOpen = maxOpen;
  }

  /** The seq the next slot gets: a read made now waits for every slot below it (see {@linkcode blocks}). */
  get next(): number {
    return this.#next;
  }

  /** Slots not yet paired. */
  get openCount(): number {
    return this.#open.length;
  }

  /** A message the hub just recorded in its history: `pending` when it is being published, else `unwritten`. */
  open(sender: string, text: string, state: "pending" | "unwritten"): Slot {
    const slot: Slot = { seq: this.#next++, sender, text, state, id: undefined, entry: undefined };
    this.#open.push(slot);
    if (this.#open.length > this.#maxOpen) this.#open.shift();
    return slot;
  }

  /** Redis gave `slot` its id; its entry (if paired) carries it from now on. */
  written(slot: Slot, id: string): void {
    slot.state = "written";
    slot.id = id;
    if (slot.entry !== undefined) slot.entry.id = id;
    this.#pairedPending.delete(slot);
    this.notify();
  }

  /** `slot` is not known to be in Redis (never sent, or no answer): it is appended later. */
  unwritten(slot: Slot): void {
    if (slot.state !== "pending") return;
    slot.state = "unwritten";
    this.#pairedPending.delete(slot);
    this.notify();
  }

  /**
   * The slot of each entry of a batch `ChatHistory` hands over, in order:
   * the one it had (a batch tried again: see {@linkcode failed}), the open
   * slot of the same message for a chat entry new to the store, or a new
   * `unwritten` slot (a direct-message entry, or one no open slot matches).
   */
  pair(entries: readonly Entry[]): Slot[] {
    const retry = this.#retry;
    const slots: (Slot | undefined)[] = retry.size === 0
      ? new Array<Slot | undefined>(entries.length).fill(undefined)
      : entries.map((entry) => retry.get(entry));
    // A failed batch's entries not in this one were dropped: they will never be handed over again.
    if (retry.size > 0) this.#retry = new Map();
    const fresh: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      if (slots[i] === undefined && entries[i]!.conversation === CHAT) fresh.push(i);
    }
    // The newest open slots are the new entries'; any older one's entry was dropped unwritten.
    const open = this.#open;
    this.#open = [];
    const skip = Math.max(0, fresh.length - open.length);
    if (skip > 0) this.mismatches += skip;
    for (let j = skip; j < fresh.length; j++) {
      const i = fresh[j]!;
      const entry = entries[i]!;
      const slot = open[open.length - fresh.length + j]!;
      if (slot.sender !== entry.sender || slot.text !== entry.text) {
        this.mismatches++;
        continue;
      }
      slots[i] = slot;
      slot.entry = entry;
      if (slot.id !== undefined) entry.id = slot.id;
      if (slot.state === "pending") this.#pairedPending.add(slot);
    }
    const paired = slots.map((slot, i) => slot ?? this.#own(entries[i]!));
    this.notify();
    return paired;
  }

  /** A slot for an entry no published message matches: written by the store. */
  #own(entry: Entry): Slot {
    const { sender, text } = entry;
    return { seq: this.#next++, sender, text, state: "unwritten", id: undefined, entry };
  }

  /** A batch failed: `ChatHistory` hands its entries over again, first in its next batch. */
  failed(slots: readonly Slot[]): void {
    for (const slot of slots) if (slot.entry !== undefined) this.#retry.set(slot.entry, slot);
  }

  /** Resolves once none of `slots` is `pending`. */
  async settled(slots: readonly Slot[]): Promise<void> {
    // Answers come in the order the slots were opened: one pass, waiting where it must.
    for (let i = 0; i < slots.length; i++) {
      while (slots[i]!.state === "pending") await this.changed();
    }
  }

  /**
   * True while a read made when {@linkcode next} was `mark` must wait for
   * this instance's own messages delivered before it: one still `pending`
   * (its answer is due before the read's, on the same connection), or one
   * `written` whose entry `ChatHistory` is about to hand over (`appending`: a
   * batch of the store's is being answered, and the next follows it at once).
   */
  blocks(mark: number, appending: boolean): boolean {
    for (const slot of this.#pairedPending) if (slot.seq < mark) return true;
    for (const slot of this.#open) {
      if (slot.seq >= mark) break;
      if (slot.state === "pending" || (slot.state === "written" && appending)) return true;
    }
    return false;
  }

  /** Resolves at the next change: a slot settled, a batch paired, or {@linkcode notify}. */
  changed(): Promise<void> {
    return (this.#changed ??= Promise.withResolvers<void>()).promise;
  }

  /** Wakes whoever waits on {@linkcode changed}. */
  notify(): void {
    const changed = this.#changed;
    this.#changed = undefined;
    changed?.resolve();
  }
}
