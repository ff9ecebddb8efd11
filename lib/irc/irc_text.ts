/**
 * IRC lines, both ways: parsing a client's line into a command and its
 * parameters, turning message text into the chat's (formatting stripped,
 * control characters replaced, CTCP `ACTION` as `/me `) and back, and
 * fitting a relayed line into IRC's 512 bytes on a UTF-8 boundary, and
 * what `USER` says cleaned. Pure.
 *
 * @module
 */
import { sanitizeText } from "../protocol.ts";
import type { Ident } from "../wire.ts";

/** A client's line: the command in upper case, and its parameters (the trailing one included). */
export interface IrcMessage {
  readonly command: string;
  readonly params: readonly string[];
}

/** The longest IRC line, its `\r\n` included. */
export const IRC_LINE_BYTES = 512;

/** Parses one line (its end removed); undefined for an empty one. Tags and a prefix are skipped. */
export function parseIrcLine(line: string): IrcMessage | undefined {
  let at = 0;
  const skipWord = () => {
    const space = line.indexOf(" ", at);
    at = space === -1 ? line.length : space;
  };
  const skipSpaces = () => {
    while (line[at] === " ") at++;
  };
  skipSpaces();
  if (line[at] === "@") {
    skipWord();
    skipSpaces();
  }
  if (line[at] === ":") {
    skipWord();
    skipSpaces();
  }
  const start = at;
  skipWord();
  const command = line.slice(start, at).toUpperCase();
  if (command === "") return undefined;
  const params: string[] = [];
  while (true) {
    skipSpaces();
    if (at >= line.length) break;
    if (line[at] === ":") {
      params.push(line.slice(at + 1));
      break;
    }
    const from = at;
    skipWord();
    params.push(line.slice(from, at));
  }
  return { command, params };
}

/**
 * In one pass: IRC's formatting codes (colour and hex colour with their
 * digits, then bold, reset, monospace, reverse, italics, strike, underline)
 * and every other control character but TAB (C0, DEL, C1), as the chat's
 * `sanitizeText` has them.
 */
const CONTROL =
  // deno-lint-ignore no-control-regex -- IRC's formatting codes are control characters.
  /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/** Codes below 0x20 that format text (`\x03` and `\x04` come with their arguments). */
const FORMATS = new Set([0x02, 0x03, 0x04, 0x0f, 0x11, 0x16, 0x1d, 0x1e, 0x1f]);

/** Formatting goes; any other control character becomes U+FFFD, so none reaches a terminal. */
const replaceControl = (match: string) => FORMATS.has(match.charCodeAt(0)) ? "" : "\uFFFD";

/**
 * A `PRIVMSG` or `NOTICE` text as the chat's: formatting stripped, other
 * control characters as U+FFFD, CTCP `ACTION` as `/me <text>`; undefined
 * for any other CTCP message (a request, or a reply in a `NOTICE`), which
 * is not relayed. One regular expression pass, the only one a message costs.
 */
export function chatText(text: string): string | undefined {
  if (text.charCodeAt(0) !== 0x01) return text.replace(CONTROL, replaceControl);
  const body = text.slice(1, text.endsWith("\x01") && text.length > 1 ? -1 : text.length);
  if (!body.startsWith("ACTION ")) return undefined;
  return `/me ${body.slice("ACTION ".length).replace(CONTROL, replaceControl)}`;
}

/**
 * The chat's text as IRC shows it: `/me <text>` as CTCP `ACTION`. `lead`
 * goes in front of the words (inside an `ACTION`, so it stays one).
 */
export function ircText(text: string, lead = ""): string {
  return text.startsWith("/me ") ? `\x01ACTION ${lead}${text.slice(4)}\x01` : lead + text;
}

/** A parameter echoed back (a command, a channel, a nick): controls replaced, at most 64 characters. */
export function shown(param: string): string {
  let cut = param;
  if (param.length > 64) {
    // Not between the halves of a surrogate pair.
    const high = param.charCodeAt(63) >= 0xd800 && param.charCodeAt(63) < 0xdc00;
    cut = param.slice(0, high ? 63 : 64);
  }
  return cut.replace(CONTROL, "\uFFFD");
}

/** Fewest bytes of text a relayed line keeps, even behind a head too long to leave room. */
const MIN_TEXT_BYTES = 64;

const encoder = new TextEncoder();
/** Where {@linkcode fitLine} measures a line: as many bytes as a line may have before its end. */
const scratch = new Uint8Array(IRC_LINE_BYTES - 2);

/**
 * `head` + `text` + `\r\n`, cut so that the whole is at most 512 bytes: the
 * text loses its end on a UTF-8 boundary, and a CTCP `ACTION` keeps its
 * closing `\x01`. The head is never cut: behind one that leaves no room
 * (two nicks of long escapes), the text keeps its first 64 bytes and the
 * line passes 512.
 */
export function fitLine(head: string, text: string): string {
  const line = head + text;
  // Three bytes per UTF-16 unit at most: short lines need no measuring.
  if (line.length * 3 <= scratch.length) return line + "\r\n";
  const action = text.startsWith("\x01ACTION ") && text.endsWith("\x01");
  const room = action ? scratch.subarray(0, scratch.length - 1) : scratch;
  // encodeInto stops before a character that does not fit whole: `read` ends on a boundary.
  const { read } = encoder.encodeInto(line, room);
  if (read === line.length) return line + "\r\n";
  let end = read;
  if (end < head.length + 1) {
    const { read: kept } = encoder.encodeInto(text, scratch.subarray(0, MIN_TEXT_BYTES));
    end = head.length + kept;
  }
  return line.slice(0, end) + (action ? "\x01" : "") + "\r\n";
}

/** The longest username kept from `USER`, as ircds' `USERLEN`. */
export const IDENT_USERLEN = 10;
/** The longest real name kept from `USER`, in code points (the line cuts it further to 512 bytes). */
export const REALNAME_CHARS = 150;

/**
 * What `USER <username> <mode> <unused> :<realname>` says, fit to show: the
 * username keeps printable ASCII but `@`, `!` and `:` (it sits in a prefix
 * and a middle parameter), cut to {@linkcode IDENT_USERLEN}; the real name
 * has its control characters replaced, cut to {@linkcode REALNAME_CHARS}.
 * Either may end up empty: `WHO` then shows the default.
 */
export function cleanIdent(username: string, realname: string): Ident {
  const user = username.replace(/[^\x21-\x7e]|[@!:]/g, "").slice(0, IDENT_USERLEN);
  const real = [...sanitizeText(realname)].slice(0, REALNAME_CHARS).join("").trim();
  return { user, realname: real };
}
