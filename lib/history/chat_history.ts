/**
 * The hub's side of the history: gives each delivered message its id,
 * groups writes into batches that leave the hub's turn, bounds what waits
 * to be written, and answers reads at the cut the protocol defines (what
 * this instance delivered before the read, written or still waiting).
 * Owned by the hub's single thread of control; the store may be elsewhere.
 *
 * @module
 */
import { type Logger, SILENT_LOGGER } from "../log.ts";
import { LogThrottle } from "../log_throttle.ts";
import { compareIds, IdClock, parseId } from "./message_id.ts";
import { dmConversation } from "./dm_keys.ts";
import {
  CHAT,
  type DmCopy,
  type Entry,
  type HistoryStore,
  type Range,
  type StoredMessage,
} from "./store.ts";

/** Messages waiting to be written at most; past it the oldest waiting are dropped (and counted). */
export const MAX_PENDING_ENTRIES = 100_000;
/** Longest a read may wait for its store before it is answered from what this instance holds. */
export const READ_TIMEOUT_MS = 1000;
/** Pause before a failed batch is written again. */
const RETRY_MS = 1000;
/** At most one log line a minute about a failing store. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/** What a history reader asks for: a {@linkcode Range}, or the messages around one id. */
export type HistoryRequest =
  | Range
  | {
    readonly conversation: string;
    readonly limit: number;
    /** Half the messages up to and including this id, half after it. */
    readonly around: string;
  };

/** What the history counts, for `/metrics`. */
export interface HistoryCounts {
  /** Messages written to the store. */
  written: number;
  /** Batches the store failed to write (each tried again until dropped). */
  writeFailures: number;
  /** Messages dropped unwritten: too many waited while the store failed or lagged. */
  dropped: number;
  /** Reads that failed or timed out, answered from what this instance held. */
  readFailures: number;
}

/** What a {@linkcode ChatHistory} works with. */
export interface ChatHistoryOptions {
  /** Where messages go; undefined: `--history-lines 0`, no history at all. */
  readonly store: HistoryStore | undefined;
  /** The wall clock, ms since the epoch (ids are made of it). */
  readonly now?: () => number;
  /** Where a failing store is reported, at most once a minute. */
  readonly log?: Logger;
  /** Messages allowed to wait for the store; tests make it small. */
  readonly maxPending?: number;
  /** Longest wait for a read; tests make it short. */
  readonly readTimeoutMs?: number;
  /** Least time between the starts of two batches (0: each turn's batch at once). */
  readonly minBatchIntervalMs?: number;
  /**
   * The store's `--history-lines`, for a store that does not give ids and
   * keeps messages waiting (SQLite): a read then counts those waiting
   * within each conversation's lines.
   */
  readonly lines?: number;
}

/** Assigns ids, writes in batches off the hub's turn, and reads with the merge that makes replies exact. */
export class ChatHistory {
  /** Counters for `/metrics`. */
  readonly counts: HistoryCounts = { written: 0, writeFailures: 0, dropped: 0, readFailures: 0 };
  readonly #store: HistoryStore | undefined;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #maxPending: number;
  readonly #readTimeoutMs: number;
  readonly #clock: IdClock;
  readonly #failures = new LogThrottle(FAILURE_LOG_INTERVAL_MS);
  /** Entries waiting for the next batch. */
  #queue: Entry[] = [];
  /** The batch being written, if any. */
  #writing: readonly Entry[] | undefined;
  #flushQueued = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the last batch began (`performance.now()`). */
  #lastBatchAt = -Infinity;
  readonly #minBatchIntervalMs: number;
  readonly #lines: number | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The latest id of the one order this instance has delivered up to: the cut of a read. */
  #cut: string | undefined;
  #closed = false;
  /** Settles when the batch being written settles. */
  #written: Promise<void> = Promise.resolve();
  readonly #one: Entry[] = [];
  /** Own messages a store that gives ids (Redis) has written, not yet seen in the one order. */
  #unobserved: Entry[] = [];

  /** A history over `options.store`, or none. */
  constructor(options: ChatHistoryOptions) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? SILENT_LOGGER;
    this.#maxPending = options.maxPending ?? MAX_PENDING_ENTRIES;
    this.#readTimeoutMs = options.readTimeoutMs ?? READ_TIMEOUT_MS;
    this.#minBatchIntervalMs = options.minBatchIntervalMs ?? 0;
    this.#lines = options.store?.assignsIds ? undefined : options.lines;
    this.#clock = new IdClock(options.store?.lastId);
    this.#cut = options.store?.lastId;
  }

  /** The wall clock ids are made of, in ms since the epoch: what a delivered message is stamped with. */
  now(): number {
    return this.#now();
  }

  /** The store's kind (`memory`, `sqlite`, `redis`), or undefined when nothing is kept. */
  get storeKind(): string | undefined {
    return this.#store?.kind;
  }

  /** True when messages are kept at all. */
  get enabled(): boolean {
    return this.#store !== undefined;
  }

  /** Entries accepted and not yet known to be written. */
  get pending(): number {
    return this.#queue.length + (this.#writing?.length ?? 0);
  }

  /**
   * A message delivered now by this instance (`at`, by the wall clock, when
   * the caller has read it already), to keep: returns its id when the id is
   * known at once (it is, unless the store gives ids).
   */
  record(conversation: string, sender: string, text: string, at?: number): string | undefined {
    const store = this.#store;
    if (store === undefined || this.#closed) return undefined;
    const id = store.assignsIds ? undefined : this.#clock.next(at ?? this.#now());
    const entry: Entry = { conversation, sender, text, id };
    if (id !== undefined) this.#cut = id;
    if (store.kind === "memory") {
      // Kept at once and in place: no batch, no copy, nothing waits.
      this.#one[0] = entry;
      store.append(this.#one);
      this.counts.written++;
      return id;
    }
    if (this.pending >= this.#maxPending) {
      // The store is slower than the chat: the oldest waiting message goes, counted.
      if (this.#queue.shift() !== undefined) this.counts.dropped++;
    }
    this.#queue.push(entry);
    this.#schedule();
    return id;
  }

  /** A direct message delivered now: keeps `copies` (by the store itself when it can). */
  keepDm(copies: readonly DmCopy[], sender: string, text: string): void {
    const store = this.#store;
    if (store === undefined || this.#closed) return;
    if (store.keepDm !== undefined) return store.keepDm(copies, sender, text);
    const at = this.#now();
    for (const copy of copies) {
      this.record(dmConversation(copy.account, copy.peer), sender, text, at);
    }
  }

  /** An id of the one order delivered here (Redis: seen on the shared channel): reads cut after it. */
  observe(id: string): void {
    if (this.#cut === undefined || compareIds(id, this.#cut) > 0) this.#cut = id;
    // No clock to raise: ids are observed only from a store that gives them, and then this
    // history makes none (parsing each remote id for it showed in a Redis profile).
    // Own messages written but not yet seen in the order stay in replies until the cut passes them.
    while (this.#unobserved.length > 0 && compareIds(this.#unobserved[0]!.id!, this.#cut) <= 0) {
      this.#unobserved.shift();
    }
  }

  /**
   * The messages `request` asks for, oldest first, as of now: what was
   * delivered here before this call, stored or still waiting, and nothing
   * delivered after it. An array when the store answers at once; otherwise
   * a promise that settles within the read timeout, never rejecting.
   */
  read(request: HistoryRequest): readonly StoredMessage[] | Promise<readonly StoredMessage[]> {
    const store = this.#store;
    if (store === undefined || request.limit < 1) return [];
    if ("around" in request) return this.#readAround(request);
    const cut = this.#cut;
    if (store.keepDm !== undefined && request.conversation !== CHAT) {
      // Written by the store itself, nothing waits here: others' messages up to the cut, its own all.
      return this.#withTimeout(this.#readStore({ ...request, ownAbove: cut ?? "0-0" }));
    }
    let range = cutRange(request, cut);
    if (range === undefined) return [];
    const unwritten = this.#unwritten(request.conversation);
    let extra = unwritten.entries;
    const lines = this.#lines;
    if (lines !== undefined && extra.length > 0) {
      // The waiting messages are the conversation's newest: the latest of its `lines` are
      // theirs, and the store may give only the rest (those being written it counts itself).
      extra = extra.slice(-lines);
      const keep = lines - unwritten.queued;
      if (keep <= 0) return merge([], extra, request);
      range = { ...range, keep };
    }
    let stored: ReturnType<HistoryStore["read"]>;
    try {
      stored = store.read(range);
    } catch (error) {
      this.#readFailed(error);
      stored = [];
    }
    if (Array.isArray(stored)) return merge(stored as StoredMessage[], extra, request);
    return this.#withTimeout(stored as Promise<readonly StoredMessage[]>)
      .then((messages) => merge(messages, extra, request));
  }

  /** Writes what waits (within the shutdown's time), then closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#retryTimer = undefined;
    await this.#written;
    if (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        await this.#store!.append(batch);
        this.counts.written += batch.length;
      } catch (error) {
        this.#log.error("history not written at shutdown", {
          messages: batch.length,
          error: describe(error),
        });
      }
    }
    await this.#store?.close();
  }

  #readAround(request: Extract<HistoryRequest, { around: string }>) {
    const parts = parseId(request.around)!;
    const before = Math.ceil(request.limit / 2);
    const upTo = this.read({
      conversation: request.conversation,
      limit: before,
      from: "latest",
      before: `${parts.ms}-${parts.seq + 1}`,
    });
    const after = this.read({
      conversation: request.conversation,
      limit: request.limit - before,
      from: "earliest",
      after: request.around,
    });
    if (Array.isArray(upTo) && Array.isArray(after)) return [...upTo, ...after];
    return Promise.all([upTo, after]).then(([a, b]) => [...a, ...b]);
  }

  /**
   * Entries of `conversation` accepted here and not yet known to be written, oldest first, and how
   * many of them are not yet handed to the store.
   */
  #unwritten(conversation: string): { entries: readonly Entry[]; queued: number } {
    if (this.#store?.kind === "memory") return { entries: [], queued: 0 };
    const entries: Entry[] = [];
    for (const entry of this.#unobserved) {
      if (entry.conversation === conversation) entries.push(entry);
    }
    for (const entry of this.#writing ?? []) {
      if (entry.conversation === conversation) entries.push(entry);
    }
    // The queue's entries come last: those not yet handed to the store.
    const handed = entries.length;
    for (const entry of this.#queue) if (entry.conversation === conversation) entries.push(entry);
    return { entries, queued: entries.length - handed };
  }

  /**
   * Flushes after the hub's current turn (one batch carries the whole turn's
   * messages), and no sooner than `minBatchIntervalMs` after the last batch
   * began: a store that writes a transaction per batch then writes fewer,
   * larger ones under load.
   */
  #schedule(): void {
    if (this.#flushQueued || this.#writing !== undefined || this.#retryTimer !== undefined) return;
    this.#flushQueued = true;
    const wait = this.#lastBatchAt + this.#minBatchIntervalMs - performance.now();
    if (wait <= 0) {
      queueMicrotask(() => this.#flush());
      return;
    }
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, wait);
  }

  #flush(): void {
    this.#flushQueued = false;
    this.#lastBatchAt = performance.now();
    if (this.#writing !== undefined || this.#queue.length === 0 || this.#closed) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#writing = batch;
    let result;
    try {
      result = Promise.resolve(this.#store!.append(batch));
    } catch (error) {
      result = Promise.reject(error);
    }
    this.#written = result.then(
      (ids) => this.#batchWritten(batch, ids ?? undefined),
      (error) => this.#batchFailed(batch, error),
    );
  }

  #batchWritten(batch: readonly Entry[], ids: readonly string[] | undefined): void {
    if (ids !== undefined) {
      for (let i = 0; i < batch.length && i < ids.length; i++) {
        const entry = batch[i]!;
        entry.id = ids[i];
        if (this.#cut === undefined || compareIds(ids[i]!, this.#cut) > 0) {
          this.#unobserved.push(entry);
        }
      }
      if (this.#unobserved.length > this.#maxPending) {
        this.#unobserved = this.#unobserved.slice(-this.#maxPending);
      }
    }
    this.counts.written += batch.length;
    this.#writing = undefined;
    if (this.#queue.length > 0) this.#schedule();
  }

  #batchFailed(batch: readonly Entry[], error: unknown): void {
    this.counts.writeFailures++;
    const failures = this.#failures.count();
    if (failures > 0) {
      this.#log.error("history write failed; retrying", {
        store: this.#store!.kind,
        failures,
        waiting: this.pending,
        error: describe(error),
      });
    }
    // The failed batch goes back in front, so the order stays the store's order; the bound still holds.
    this.#writing = undefined;
    const waiting = [...batch, ...this.#queue];
    const excess = waiting.length - this.#maxPending;
    if (excess > 0) this.counts.dropped += excess;
    this.#queue = excess > 0 ? waiting.slice(excess) : waiting;
    if (this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#flush();
    }, RETRY_MS);
  }

  #readFailed(error: unknown): void {
    this.counts.readFailures++;
    const failures = this.#failures.count();
    if (failures > 0) {
      this.#log.error("history read failed", {
        store: this.#store!.kind,
        failures,
        error: describe(error),
      });
    }
  }

  /** The store's answer to `range`, a promise even when it failed at once. */
  async #readStore(range: Range): Promise<readonly StoredMessage[]> {
    return await this.#store!.read(range);
  }

  /** The store's answer, or nothing once the read timeout has passed or the read failed. */
  #withTimeout(
    reading: Promise<readonly StoredMessage[]>,
  ): Promise<readonly StoredMessage[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<readonly StoredMessage[]>((resolve) => {
      timer = setTimeout(() => {
        this.#readFailed(new Error(`no answer within ${this.#readTimeoutMs} ms`));
        resolve([]);
      }, this.#readTimeoutMs);
    });
    const answered = reading.catch((error) => {
      this.#readFailed(error);
      return [] as readonly StoredMessage[];
    });
    return Promise.race([answered, timeout]).finally(() => clearTimeout(timer));
  }
}

/** `request` bounded above by the cut: no message delivered after the read started. */
function cutRange(request: Range, cut: string | undefined): Range | undefined {
  if (cut === undefined) return request;
  const parts = parseId(cut)!;
  const afterCut = `${parts.ms}-${parts.seq + 1}`;
  if (request.before !== undefined && compareIds(request.before, afterCut) <= 0) return request;
  return { ...request, before: afterCut };
}

/** The stored messages and the unwritten ones in `range`, each once, oldest first, at most its limit. */
function merge(
  stored: readonly StoredMessage[],
  extra: readonly Entry[],
  range: Range,
): readonly StoredMessage[] {
  let wanted = extra.filter((entry) => entry.id !== undefined && inRange(entry.id, range));
  if (wanted.length === 0) return stored;
  const seen = new Set(stored.map((message) => message.id));
  wanted = wanted.filter((entry) => !seen.has(entry.id!));
  const all = [...stored, ...wanted as StoredMessage[]].sort((a, b) => compareIds(a.id, b.id));
  if (all.length <= range.limit) return all;
  return range.from === "latest" ? all.slice(all.length - range.limit) : all.slice(0, range.limit);
}

function inRange(id: string, range: Range): boolean {
  return (range.after === undefined || compareIds(id, range.after) > 0) &&
    (range.before === undefined || compareIds(id, range.before) < 0);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
