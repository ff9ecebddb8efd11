/**
 * The seam between the chat and where its history is kept: one interface,
 * one module per store (memory, SQLite, Redis), chosen at startup. The hub
 * never speaks SQL or Redis; it asks its `ChatHistory`, which asks a store.
 *
 * @module
 */

/** One stored message: its id (`<ms>-<seq>`), who wrote it, and its text as delivered. */
export interface StoredMessage {
  /** The message id; its milliseconds are when it was stored. */
  readonly id: string;
  /** The sender's name as shown. */
  readonly sender: string;
  /** The text as it was delivered. */
  readonly text: string;
}

/** The chat's own conversation: messages to everyone. */
export const CHAT = "chat";

/** A message on its way to a store, with the conversation it belongs to. */
export interface Entry {
  /** {@linkcode CHAT}, or a direct-message conversation's key. */
  readonly conversation: string;
  /** The sender's name as shown. */
  readonly sender: string;
  /** The text as delivered. */
  readonly text: string;
  /** Its id: given before the write, or by the store (Redis) once written. */
  id: string | undefined;
}

/**
 * Which messages of one conversation a read asks for: the `limit` latest
 * (or earliest) whose ids lie strictly between `after` and `before`.
 */
export interface Range {
  /** {@linkcode CHAT}, or a direct-message conversation's key. */
  readonly conversation: string;
  /** Messages at most, 1 or more. */
  readonly limit: number;
  /** The newest ones (paging back) or the oldest ones (paging forward). */
  readonly from: "latest" | "earliest";
  /** Only ids greater than this one. */
  readonly after?: string;
  /** Only ids lower than this one. */
  readonly before?: string;
  /**
   * Only the conversation's latest `keep` stored messages, when fewer than
   * its `lines`: the rest of its lines are newer ones still waiting to be
   * written. Set only for a store that does not give ids.
   */
  readonly keep?: number;
  /**
   * A store that keeps direct messages itself ({@linkcode HistoryStore.keepDm}):
   * what other instances wrote is read only up to this id, the cut (their
   * live delivery reaches this instance in the order of ids); `before` is
   * the reader's own.
   */
  readonly ownAbove?: string;
}

/** One copy of a direct message: account `account`'s, in its conversation with the name key `peer`. */
export interface DmCopy {
  /** The account that keeps it. */
  readonly account: number;
  /** The other party's name key. */
  readonly peer: string;
}

/** How much history a store keeps: the protocol's `--history-lines` and `--history-days`. */
export interface Retention {
  /** Messages kept per conversation, the oldest dropped first; 1 or more. */
  readonly lines: number;
  /** Messages older than this many milliseconds are dropped. */
  readonly maxAgeMs: number;
}

/**
 * Where messages are kept. Reads enforce the {@linkcode Retention} exactly,
 * whatever the store's own trimming keeps. A store that answers at once
 * returns arrays; one in another thread or across the network, promises.
 */
export interface HistoryStore {
  /** What the store is, for the startup log line and `/metrics`: `memory`, `sqlite`, `redis`. */
  readonly kind: string;
  /** True when the store gives the ids (Redis): `append` resolves to them, in order. */
  readonly assignsIds: boolean;
  /** The latest id stored when it opened, so new ids follow it; undefined for an empty store. */
  readonly lastId: string | undefined;
  /** Writes a batch, all or nothing; rejects when the store failed. */
  append(entries: readonly Entry[]): void | Promise<void | readonly string[]>;
  /**
   * Keeps a direct message's copies itself, at once and in the order of its
   * reads (Redis, where the sender's instance writes every copy); a store
   * without it is handed them in `append`, as conversations of `dm_keys.ts`.
   */
  keepDm?(copies: readonly DmCopy[], sender: string, text: string): void;
  /** The messages in `range`, oldest first. */
  read(range: Range): readonly StoredMessage[] | Promise<readonly StoredMessage[]>;
  /** Writes what it holds and lets go of its file or connection. */
  close(): Promise<void>;
}

/** The oldest id still within `maxAgeMs` at `nowMs`: what a read may return at the least. */
export function oldestKeptId(nowMs: number, maxAgeMs: number): string {
  return `${Math.max(0, Math.ceil(nowMs - maxAgeMs))}-0`;
}
