/**
 * The SQLite store's rows, one per batch of one conversation: how a batch
 * of entries becomes rows (in id order, each id once, none already stored),
 * and how rows read back become messages within a range. Pure; the SQL is
 * in `sqlite_file.ts`.
 *
 * A conversation's rows never overlap: ids only grow (one clock, batches
 * written in order, one at a time), so a row holds ids above every row
 * before it, and the rows in key order hold the messages in id order.
 *
 * @module
 */
import { compareIds, parseId } from "./message_id.ts";
import { packMessage, unpackMessages } from "./packed_entries.ts";
import type { Entry, StoredMessage } from "./store.ts";

/** A position in one conversation's order: an id's two parts. */
export type Key = readonly [ms: number, seq: number];

/** An id above every real one: the upper end of a read without `before`. */
export const TOP: Key = [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];

/** One row to write: a run of one conversation's messages, oldest first. */
export interface BatchRow {
  /** Whose messages. */
  readonly conversation: string;
  /** The first message's id. */
  readonly first: Key;
  /** The last message's id: the row's key within its conversation. */
  readonly last: Key;
  /** Messages in the body. */
  readonly count: number;
  /** The messages, {@linkcode packMessage} lines. */
  readonly body: string;
}

/** Negative, zero or positive as `a` is before, the same as, or after `b`. */
export function compareKeys(a: Key, b: Key): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** The later of two keys. */
export function later(a: Key, b: Key): Key {
  return compareKeys(a, b) >= 0 ? a : b;
}

/** The key of a well-formed id, or undefined. */
export function keyOf(id: string): Key | undefined {
  const parts = parseId(id);
  return parts === undefined ? undefined : [parts.ms, parts.seq];
}

interface Keyed {
  readonly key: Key;
  readonly entry: Entry;
}

/**
 * The rows that write `entries`: per conversation, in id order, at most
 * `maxCount` messages a row. An entry without a well-formed id, an id twice,
 * and an id at or below its conversation's `newest` stored one (a retried
 * batch's, written already) are left out.
 */
export function batchRows(
  entries: readonly Entry[],
  newest: (conversation: string) => Key | undefined,
  maxCount: number,
): BatchRow[] {
  const byConversation = new Map<string, Keyed[]>();
  for (const entry of entries) {
    const key = entry.id === undefined ? undefined : keyOf(entry.id);
    if (key === undefined) continue;
    let list = byConversation.get(entry.conversation);
    if (list === undefined) byConversation.set(entry.conversation, list = []);
    list.push({ key, entry });
  }
  const rows: BatchRow[] = [];
  for (const [conversation, list] of byConversation) {
    if (!inOrder(list)) list.sort((a, b) => compareKeys(a.key, b.key));
    let previous = newest(conversation);
    let run: Keyed[] = [];
    for (const item of list) {
      if (previous !== undefined && compareKeys(item.key, previous) <= 0) continue;
      previous = item.key;
      run.push(item);
      if (run.length === maxCount) {
        rows.push(rowOf(conversation, run));
        run = [];
      }
    }
    if (run.length > 0) rows.push(rowOf(conversation, run));
  }
  return rows;
}

function inOrder(list: readonly Keyed[]): boolean {
  for (let i = 1; i < list.length; i++) {
    if (compareKeys(list[i - 1]!.key, list[i]!.key) > 0) return false;
  }
  return true;
}

function rowOf(conversation: string, run: readonly Keyed[]): BatchRow {
  let body = "";
  for (const { entry } of run) body += packMessage(entry.id!, entry.sender, entry.text);
  return {
    conversation,
    first: run[0]!.key,
    last: run[run.length - 1]!.key,
    count: run.length,
    body,
  };
}

/** The messages of one row's `body` from `low` (inclusive) to `high` (exclusive), in order. */
export function messagesWithin(body: string, low: Key, high: Key): StoredMessage[] {
  const within: StoredMessage[] = [];
  for (const message of unpackMessages(body)) {
    const dash = message.id.indexOf("-");
    const key: Key = [Number(message.id.slice(0, dash)), Number(message.id.slice(dash + 1))];
    if (compareKeys(key, low) >= 0 && compareKeys(key, high) < 0) within.push(message);
  }
  return within;
}

/**
 * Rows' messages (each run in order, the runs oldest first) as one list in
 * id order, each id once: the runs never overlap, so this only checks, unless
 * a file written otherwise breaks that.
 */
export function ordered(runs: readonly StoredMessage[][]): StoredMessage[] {
  const all = runs.length === 1 ? runs[0]! : runs.flat();
  for (let i = 1; i < all.length; i++) {
    if (compareIds(all[i - 1]!.id, all[i]!.id) >= 0) return sortedOnce(all);
  }
  return all;
}

function sortedOnce(messages: readonly StoredMessage[]): StoredMessage[] {
  const sorted = [...messages].sort((a, b) => compareIds(a.id, b.id));
  return sorted.filter((message, i) => i === 0 || sorted[i - 1]!.id !== message.id);
}
