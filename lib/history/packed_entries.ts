/**
 * Entries and messages as lines of text, for the SQLite store: a batch
 * posted to its worker as one string (posting one string copies its
 * characters, where posting objects clones each one in the hub's thread:
 * 12 % of that thread at full speed, measured), and the body of one stored
 * batch. Pure.
 *
 * An entry is one line: conversation, id, sender and text, separated by
 * TABs; a stored message the same without its conversation. Names and ids
 * hold no TAB or line feed; the text holds no line feed (control characters
 * are replaced on the way in) and may hold TABs, so it is last and takes
 * the rest of its line. A conversation's key is made by the server, maybe
 * of several names joined by a line feed: one that holds a TAB, a line feed
 * or a `%` is escaped (`%09`, `%0A`, `%25`).
 *
 * @module
 */
import type { Entry, StoredMessage } from "./store.ts";

/** `entries` (ids given) as lines; an entry without an id is left out. */
export function packEntries(entries: readonly Entry[]): string {
  let packed = "";
  // Nearly every entry is the chat's: its key is checked once, not once an entry.
  let conversation: string | undefined;
  let escaped = "";
  for (const e of entries) {
    if (e.id === undefined) continue;
    if (e.conversation !== conversation) {
      conversation = e.conversation;
      escaped = UNSAFE.test(conversation)
        ? conversation.replace(UNSAFE_ALL, escapeOne)
        : conversation;
    }
    packed += `${escaped}\t${e.id}\t${e.sender}\t${e.text}\n`;
  }
  return packed;
}

const UNSAFE = /[\t\n%]/;
const UNSAFE_ALL = /[\t\n%]/g;
const ESCAPED_ALL = /%(09|0A|25)/g;

function escapeOne(char: string): string {
  return char === "\t" ? "%09" : char === "\n" ? "%0A" : "%25";
}

function unescapeOne(_: string, hex: string): string {
  return hex === "09" ? "\t" : hex === "0A" ? "\n" : "%";
}

/** A conversation's key as {@linkcode packEntries} wrote it, unescaped. */
export function conversationOf(packed: string): string {
  return packed.includes("%") ? packed.replace(ESCAPED_ALL, unescapeOne) : packed;
}

/** The entries {@linkcode packEntries} packed, in order. */
export function unpackEntries(packed: string): Entry[] {
  const entries: Entry[] = [];
  let at = 0;
  while (at < packed.length) {
    const end = lineEnd(packed, at);
    const a = packed.indexOf("\t", at);
    const b = packed.indexOf("\t", a + 1);
    const c = packed.indexOf("\t", b + 1);
    entries.push({
      conversation: conversationOf(packed.slice(at, a)),
      id: packed.slice(a + 1, b),
      sender: packed.slice(b + 1, c),
      text: packed.slice(c + 1, end),
    });
    at = end + 1;
  }
  return entries;
}

/** One stored message as a line of a batch's body. */
export function packMessage(id: string, sender: string, text: string): string {
  return `${id}\t${sender}\t${text}\n`;
}

/** The messages of a body made of {@linkcode packMessage} lines, in order. */
export function unpackMessages(body: string): StoredMessage[] {
  const messages: StoredMessage[] = [];
  let at = 0;
  while (at < body.length) {
    const end = lineEnd(body, at);
    const a = body.indexOf("\t", at);
    const b = body.indexOf("\t", a + 1);
    messages.push({
      id: body.slice(at, a),
      sender: body.slice(a + 1, b),
      text: body.slice(b + 1, end),
    });
    at = end + 1;
  }
  return messages;
}

/** Where the line at `at` ends: its line feed, or the end of the text (never loops forever). */
function lineEnd(text: string, at: number): number {
  const end = text.indexOf("\n", at);
  return end === -1 ? text.length : end;
}
