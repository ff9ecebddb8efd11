/**
 * IRC lines, both ways: parsing a client's line into a command and its
 * parameters, turning message text into the chat's (formatting stripped,
 * CTCP `ACTION` as `/me `) and back, and fitting a relayed line into IRC's
 * 512 bytes on a UTF-8 boundary. Pure.
 *
 * @module
 */

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

// Bold, colour (with its digits), hex colour, reset, monospace, reverse, italics, strike, underline.
const FORMATTING =
  // deno-lint-ignore no-control-regex -- IRC's formatting codes are control characters.
  /\x02|\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x0f\x11\x16\x1d\x1e\x1f]/g;

/**
 * A `PRIVMSG` or `NOTICE` text as the chat's: formatting stripped, CTCP
 * `ACTION` as `/me <text>`; undefined for any other CTCP request, which is
 * not relayed.
 */
export function chatText(text: string): string | undefined {
  let plain = text.replace(FORMATTING, "");
  if (plain.startsWith("\x01")) {
    const body = plain.endsWith("\x01") && plain.length > 1 ? plain.slice(1, -1) : plain.slice(1);
    if (!body.startsWith("ACTION ")) return undefined;
    plain = `/me ${body.slice("ACTION ".length)}`;
  }
  return plain;
}

/** The chat's text as IRC shows it: `/me <text>` as CTCP `ACTION`. */
export function ircText(text: string): string {
  return text.startsWith("/me ") ? `\x01ACTION ${text.slice(4)}\x01` : text;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `head` + `text` + `\r\n`, cut so that the whole is at most 512 bytes: the
 * text loses its end on a UTF-8 boundary, and a CTCP `ACTION` keeps its
 * closing `\x01`.
 */
export function fitLine(head: string, text: string): string {
  const line = head + text;
  if (line.length * 3 + 2 <= IRC_LINE_BYTES) return line + "\r\n";
  const bytes = encoder.encode(line);
  if (bytes.length + 2 <= IRC_LINE_BYTES) return line + "\r\n";
  const action = text.startsWith("\x01ACTION ") && text.endsWith("\x01");
  let cut = IRC_LINE_BYTES - 2 - (action ? 1 : 0);
  // Back off continuation bytes (10xxxxxx) to the start of the character cut through.
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return decoder.decode(bytes.subarray(0, cut)) + (action ? "\x01" : "") + "\r\n";
}
