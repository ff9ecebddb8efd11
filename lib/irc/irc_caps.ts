/**
 * IRCv3 capabilities and message tags: the capabilities this server offers
 * (`CAP LS`), what a `CAP REQ` asks for (all of it or none), the tags a
 * line carries for a client that negotiated them (`time`, `msgid`,
 * `batch`, `account`), and the size rule for a client's own tags. A client's set of
 * capabilities is a bit set: each combination is one kind of IRC client,
 * with one wire. Pure.
 *
 * @module
 */
import { IRC_LINE_BYTES } from "./irc_text.ts";

/** `@time=` on the lines of users (messages, joins, quits) and history. */
export const SERVER_TIME = 1;
/** `@msgid=` on chat messages whose id is known; client tags accepted (and dropped). */
export const MESSAGE_TAGS = 2;
/** History replies (and the replay on `JOIN`) wrapped in `BATCH`. */
export const BATCH = 4;
/** The sender hears its own `PRIVMSG` and `NOTICE` back. */
export const ECHO_MESSAGE = 8;
/** `CHATHISTORY` is the client's to ask: no replay on `JOIN`. */
export const CHATHISTORY = 16;
/** `AUTHENTICATE PLAIN` is offered (it is answered without it too, as IRC servers do). */
export const SASL = 32;
/** `@account=` on the messages of users logged in to an account. */
export const ACCOUNT_TAG = 64;

/** Every capability offered, by name, in the order `CAP LS` lists them. */
const CAPABILITIES: ReadonlyMap<string, number> = new Map([
  ["server-time", SERVER_TIME],
  ["message-tags", MESSAGE_TAGS],
  ["batch", BATCH],
  ["echo-message", ECHO_MESSAGE],
  ["draft/chathistory", CHATHISTORY],
  ["sasl", SASL],
  ["account-tag", ACCOUNT_TAG],
]);

/** Every capability's bit. */
export const ALL_CAPS = [...CAPABILITIES.values()].reduce((all, bit) => all | bit, 0);
/** The capabilities offered only where accounts are on. */
export const ACCOUNT_CAPS = SASL | ACCOUNT_TAG;

/**
 * What `CAP LS` offers of `allowed`, in order: `sasl` with its mechanisms
 * as a value for `CAP LS 302` (`v302`), none with a value before it.
 */
export function offered(allowed: number, v302: boolean): string {
  return [...CAPABILITIES]
    .filter(([, bit]) => (allowed & bit) !== 0)
    .map(([name, bit]) => bit === SASL && v302 ? "sasl=PLAIN" : name)
    .join(" ");
}

/** The names of the capabilities in `caps`, as `CAP LIST` says them. */
export function capabilityNames(caps: number): string {
  return [...CAPABILITIES].filter(([, bit]) => (caps & bit) !== 0).map(([name]) => name).join(" ");
}

/**
 * The set after `CAP REQ :<asked>` on `caps`: each name turns its
 * capability on, `-name` off. Undefined when any name is not offered (in
 * `allowed`): the whole request is refused, as the specification asks (`NAK`).
 */
export function requestCaps(caps: number, asked: string, allowed = ALL_CAPS): number | undefined {
  let next = caps;
  for (const word of asked.split(" ")) {
    if (word === "") continue;
    const off = word.startsWith("-");
    const bit = CAPABILITIES.get(off ? word.slice(1) : word);
    if (bit === undefined || (bit & allowed) === 0) return undefined;
    next = off ? next & ~bit : next | bit;
  }
  return next;
}

/** `YYYY-MM-DDThh:mm:ss.sssZ`, in UTC: server-time's form, and CHATHISTORY's timestamps. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The tags a line carries for a client with `caps`, `@…;…` and a space, or
 * nothing: `batch` (with {@linkcode BATCH}), `time` (with
 * {@linkcode SERVER_TIME}), `msgid` (with {@linkcode MESSAGE_TAGS}, when
 * the id is known), `account` (with {@linkcode ACCOUNT_TAG}, when the
 * sender has one: its nick, names being accounts). Ids, batch references
 * and nicks need no escaping.
 */
export function tagsOf(
  caps: number,
  ms: number,
  id?: string,
  batch?: string,
  account?: string,
): string {
  let tags = "";
  if (batch !== undefined && (caps & BATCH) !== 0) tags = `batch=${batch}`;
  if ((caps & SERVER_TIME) !== 0) tags += `${tags === "" ? "" : ";"}time=${isoTime(ms)}`;
  if (id !== undefined && (caps & MESSAGE_TAGS) !== 0) {
    tags += `${tags === "" ? "" : ";"}msgid=${id}`;
  }
  if (account !== undefined && (caps & ACCOUNT_TAG) !== 0) {
    tags += `${tags === "" ? "" : ";"}account=${account}`;
  }
  return tags === "" ? "" : `@${tags} `;
}

/** The most bytes of tags a client may send, `@` and the space after them included. */
export const MAX_CLIENT_TAG_BYTES = 4094;
/** The longest line a client may send: its tags, then an IRC line of 512 bytes with its end. */
export const MAX_CLIENT_LINE_BYTES = MAX_CLIENT_TAG_BYTES + IRC_LINE_BYTES;

/**
 * True when a client's line (its end removed) keeps IRCv3's two bounds:
 * its tags at most 4094 bytes, and the rest at most 510 (512 with its
 * end). A U+FFFD counts one byte: it may stand for one invalid byte (a
 * Latin-1 letter), and a line is never refused for what decoding made of it.
 */
export function fitsIrcBounds(line: string): boolean {
  // Three bytes per UTF-16 unit at most: a short line needs no counting.
  if (line.length * 3 <= IRC_LINE_BYTES - 2) return true;
  let rest = 0;
  if (line.charCodeAt(0) === 0x40) {
    const space = line.indexOf(" ");
    // Tags alone, with no command after them: the whole line is tags.
    const end = space === -1 ? line.length : space + 1;
    if (utf8Bytes(line, 0, end) > MAX_CLIENT_TAG_BYTES) return false;
    rest = end;
    while (line.charCodeAt(rest) === 0x20) rest++;
  }
  return utf8Bytes(line, rest, line.length) <= IRC_LINE_BYTES - 2;
}

/** UTF-8 bytes of `text` from `start` to `end`, U+FFFD counted as one. */
function utf8Bytes(text: string, start: number, end: number): number {
  let bytes = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80 || code === 0xfffd) bytes += 1;
    else if (code < 0x800) bytes += 2;
    // A surrogate pair is four bytes: two for each half.
    else if (code >= 0xd800 && code < 0xe000) bytes += 2;
    else bytes += 3;
  }
  return bytes;
}
