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
import { conversationOf, packMessage, unpackMessages } from "./packed_entries.ts";
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

/**
 * The rows that write a packed batch (see `packed_entries.ts`) when it is
 * the usual one: every entry of one conversation, ids well-formed and
 * growing. Then each row's body is a slice of `packed` with the
 * conversation cut from each line, no entry made: at full speed the worker
 * spent 2 µs a message unpacking and repacking. Undefined otherwise: the
 * caller unpacks and uses {@linkcode batchRows}, which sorts things out.
 */
export function packedRows(
  packed: string,
  newest: (conversation: string) => Key | undefined,
  maxCount: number,
): BatchRow[] | undefined {
  const tab = packed.indexOf("\t");
  if (tab <= 0) return packed.length === 0 ? [] : undefined;
  const prefix = packed.slice(0, tab + 1);
  const conversation = conversationOf(packed.slice(0, tab));
  const stored = newest(conversation);
  const rows: BatchRow[] = [];
  let previous: Key | undefined;
  let start = -1;
  let first: Key | undefined;
  let count = 0;
  const flush = (end: number) => {
    if (start === -1) return;
    // Text holds no line feed, so "\n<conversation>\t" is only ever a line's start.
    const body = packed.slice(start + prefix.length, end).replaceAll(`\n${prefix}`, "\n");
    rows.push({ conversation, first: first!, last: previous!, count, body });
    start = -1;
    count = 0;
  };
  for (let at = 0; at < packed.length;) {
    if (!packed.startsWith(prefix, at)) return undefined;
    const end = packed.indexOf("\n", at);
    const key = idAt(packed, at + prefix.length);
    if (end === -1 || key === undefined) return undefined;
    if (previous !== undefined && compareKeys(key, previous) <= 0) return undefined;
    previous = key;
    if (stored === undefined || compareKeys(key, stored) > 0) {
      if (start === -1) {
        start = at;
        first = key;
      }
      if (++count === maxCount) flush(end + 1);
    }
    at = end + 1;
  }
  flush(packed.length);
  return rows;
}

/** The id written at `at`, up to a TAB: its key, or undefined unless well-formed. */
function idAt(text: string, at: number): Key | undefined {
  let ms = 0;
  let i = at;
  for (let c = text.charCodeAt(i); c !== 45; c = text.charCodeAt(++i)) {
    if (!(c >= 48 && c <= 57) || i - at >= 16) return undefined;
    ms = ms * 10 + c - 48;
  }
  if (i === at) return undefined;
  const dash = ++i;
  let seq = 0;
  for (let c = text.charCodeAt(i); c !== 9; c = text.charCodeAt(++i)) {
    if (!(c >= 48 && c <= 57) || i - dash >= 16) return undefined;
    seq = seq * 10 + c - 48;
  }
  if (i === dash || !Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return undefined;
  return [ms, seq];
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
