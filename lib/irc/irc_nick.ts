/**
 * Names as IRC nicks, both ways. A name that is already a valid nick under
 * `CASEMAPPING=ascii` is its own nick; any other character (and a leading
 * digit or `-`) is written `|<hex>|`, its code point in lower-case hex, and
 * a literal `|` is escaped too. The mapping is one-to-one, so two names that
 * differ are two nicks that differ (ASCII case aside, which names ignore
 * too): uniqueness in the chat is uniqueness on IRC, on every door and
 * every instance, with no second table. Pure.
 *
 * @module
 */

/** What a nick character is: may stand as itself anywhere, or anywhere but first. */
const ANYWHERE = 1;
const NOT_FIRST = 2;

/**
 * By ASCII code: RFC 2812's letters and specials may stand anywhere, digits
 * and `-` not first; `|` is kept for escapes. A table, not a regular
 * expression: {@linkcode nickOf} runs for every broadcast's sender.
 */
const PLAIN = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const char = String.fromCharCode(code);
  if (/[A-Za-z[\]\\`_^{}]/.test(char)) PLAIN[code] = ANYWHERE;
  else if (/[0-9-]/.test(char)) PLAIN[code] = NOT_FIRST;
}

/** The nick that shows `name` on IRC. */
export function nickOf(name: string): string {
  // Most names are their own nick: no new string for them.
  let plainUpTo = 0;
  while (plainUpTo < name.length && isPlain(name.charCodeAt(plainUpTo), plainUpTo === 0)) {
    plainUpTo++;
  }
  if (plainUpTo === name.length) return name;
  let nick = name.slice(0, plainUpTo);
  for (let at = plainUpTo; at < name.length;) {
    const code = name.codePointAt(at)!;
    nick += isPlain(code, at === 0) ? name[at] : `|${code.toString(16)}|`;
    at += code > 0xffff ? 2 : 1;
  }
  return nick;
}

function isPlain(code: number, first: boolean): boolean {
  const kind = code < 128 ? PLAIN[code]! : 0;
  return kind === ANYWHERE || (kind === NOT_FIRST && !first);
}

/**
 * The name a nick stands for, escapes decoded (their hex in either case,
 * as ASCII case does not tell nicks apart). Undefined when the nick is
 * empty, holds a malformed escape, or is not the form {@linkcode nickOf}
 * gives (a character that needs an escape, an escaped letter, leading
 * zeros): every name has one nick, so `|61|` is not `a`. No regular
 * expression: a DM's target goes through here.
 */
export function nameOfNick(nick: string): string | undefined {
  if (nick === "") return undefined;
  let name = "";
  let at = 0;
  while (at < nick.length) {
    const bar = nick.indexOf("|", at);
    if (bar === -1) {
      name += nick.slice(at);
      break;
    }
    name += nick.slice(at, bar);
    const close = nick.indexOf("|", bar + 1);
    const code = close === -1 || close - bar > 7 ? -1 : parseHex(nick, bar + 1, close);
    if (code < 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    name += String.fromCodePoint(code);
    at = close + 1;
  }
  // What was not escaped and should have been, or was and should not: not this name's nick.
  return sameNick(nickOf(name), nick) ? name : undefined;
}

/** The number written in hex in `text` from `start` to `end`; -1 when empty or not hex. */
function parseHex(text: string, start: number, end: number): number {
  if (start === end) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i) | 0x20;
    const digit = code >= 0x30 && code <= 0x39
      ? code - 0x30
      : code >= 0x61 && code <= 0x66
      ? code - 0x61 + 10
      : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** True when two nicks (or channel names) are the same under `CASEMAPPING=ascii`. */
export function sameNick(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y && (x | 0x20) !== (y | 0x20)) return false;
    // Only letters fold: `@` and `` ` ``, `[` and `{` differ by 0x20 too.
    if (x !== y && !((x | 0x20) >= 0x61 && (x | 0x20) <= 0x7a)) return false;
  }
  return true;
}
