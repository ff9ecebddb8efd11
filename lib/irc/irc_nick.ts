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

/** What may stand in a nick as itself (RFC 2812's letters, digits and specials, `|` aside). */
const PLAIN = /^[A-Za-z0-9[\]\\`_^{}-]$/;
/** What may not start a nick. */
const NOT_FIRST = /^[0-9-]$/;
/** A valid nick: letters, digits, specials and `-`, not starting with a digit or `-`. */
const NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;

/** The nick that shows `name` on IRC. */
export function nickOf(name: string): string {
  let nick = "";
  let first = true;
  for (const char of name) {
    if (PLAIN.test(char) && !(first && NOT_FIRST.test(char))) nick += char;
    else nick += `|${char.codePointAt(0)!.toString(16)}|`;
    first = false;
  }
  return nick;
}

/**
 * The name a nick stands for, escapes decoded (in either case); undefined
 * when it is not a valid nick or holds a malformed escape.
 */
export function nameOfNick(nick: string): string | undefined {
  if (!NICK.test(nick)) return undefined;
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
    const hex = close === -1 ? "" : nick.slice(bar + 1, close);
    if (!/^[0-9a-fA-F]{1,6}$/.test(hex)) return undefined;
    const code = parseInt(hex, 16);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    name += String.fromCodePoint(code);
    at = close + 1;
  }
  return name;
}
