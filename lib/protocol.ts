/**
 * The wire protocol: client lines parsed into commands, server lines
 * formatted as bytes. Pure: no I/O, no state.
 *
 * @module
 */
import { formatId, parseId } from "./history/message_id.ts";

/** What one client line asks for. `ignored` lines only count as activity. */
export type Command =
  | { readonly kind: "login"; readonly name: string }
  | { readonly kind: "msg"; readonly text: string; readonly notice?: boolean }
  | {
    readonly kind: "who";
    readonly listing?: Listing;
    /** IRC's `WHO <nick>` and `WHOIS <nick>`: the one nick asked about. */
    readonly about?: string;
  }
  | {
    readonly kind: "dm";
    readonly target: string;
    readonly text: string;
    readonly notice?: boolean;
  }
  | { readonly kind: "ping"; readonly token?: string }
  /** `QUIT`; `reason`: what an IRC client gave (cleaned), relayed to IRC users. */
  | { readonly kind: "quit"; readonly reason?: string }
  | { readonly kind: "watch" }
  /** IRC's `JOIN` of the chat's channel: hear the chat again, and get the user list. */
  | { readonly kind: "join" }
  /** IRC's `PART` (with the `reason` it gave, cleaned): stay logged in, but hear nothing but DMs. */
  | { readonly kind: "part"; readonly reason?: string }
  /**
   * A line its door answered itself (IRC's `CAP`, `MODE`, …): the hub sends the answer in turn,
   * made for the session's name then (undefined before login), which only the hub knows.
   */
  | { readonly kind: "answered"; readonly answer: (to: string | undefined) => Uint8Array }
  /** `HISTORY` (or IRC's `CHATHISTORY`, or its replay on `JOIN`); undefined: malformed. */
  | { readonly kind: "history"; readonly ask: HistoryAsk | undefined }
  /** `REGISTER <password>`: the guest's name becomes an account. */
  | { readonly kind: "register"; readonly password: string }
  /** `PASSWORD <old> <new>`; `next` is everything after the old one's first run of spaces. */
  | { readonly kind: "password"; readonly old: string; readonly next: string }
  /** `UNREGISTER <password>`: the account is deleted, its holder stays on as a guest. */
  | { readonly kind: "unregister"; readonly password: string }
  | { readonly kind: "ignored" };

/** How a history reply is worded: v1's `HIST` lines, IRC's replay on `JOIN`, or a `CHATHISTORY` batch. */
export type HistoryForm = "hist" | "replay" | "chathistory" | "targets";

/** What a history command asks for, as its door parsed it. */
export interface HistoryAsk {
  /** The other side of a direct-message conversation, as typed; undefined: the chat. */
  readonly with?: string;
  /** Messages at most, 1 to {@linkcode MAX_HISTORY}. */
  readonly limit: number;
  /** The latest (paging back) or the earliest (paging forward) within the bounds. */
  readonly from: "latest" | "earliest";
  /** Only ids lower than this one. */
  readonly before?: string;
  /** Only ids greater than this one. */
  readonly after?: string;
  /** Half the messages up to this id, half after it (IRC's `AROUND`); `from` is then unused. */
  readonly around?: string;
  /** How the reply is worded. */
  readonly form: HistoryForm;
  /** The target as the client wrote it, for doors that echo it (IRC). */
  readonly target?: string;
  /** A door's own words for `ERR account-required` to this ask (IRC's `FAIL` echoes it). */
  readonly refusal?: string;
}

/** `HISTORY` without a count: the latest this many. */
export const DEFAULT_HISTORY = 50;
/** The most messages one history reply holds; more asked counts as this many. */
export const MAX_HISTORY = 1000;

/** What a user list answers: `WHO` (v1, or IRC's `WHO`), or IRC's `NAMES`, `JOIN` or `WHOIS`. */
export type Listing = "who" | "names" | "join" | "whois";

/** Why a connection ended; each transport says it in its own words. */
export type CloseReason =
  | "quit"
  | "eof"
  | "reset"
  | "idle"
  | "slow-consumer"
  | "shutdown"
  | "server-full"
  | "too-many-connections"
  | "excess-flood"
  | "name-conflict"
  | "protocol-error"
  | "served"
  | "session-replaced"
  | "error";

const WHO: Command = { kind: "who" };
const PING: Command = { kind: "ping" };
const QUIT: Command = { kind: "quit" };
const WATCH: Command = { kind: "watch" };
/** A line the protocol ignores: empty, unknown, or the end of one dropped as too long. */
export const IGNORED: Command = { kind: "ignored" };

/**
 * Parses one line (its end already removed). The command word is everything
 * before the first space and is case-sensitive; unknown words are ignored.
 * `MSG` and `DM` text has its control characters replaced; an empty text is
 * kept empty so that the hub can check login before dropping it.
 */
export function parseLine(line: string): Command {
  const space = line.indexOf(" ");
  const word = space === -1 ? line : line.slice(0, space);
  const rest = space === -1 ? "" : line.slice(space + 1);
  switch (word) {
    case "MSG":
      return { kind: "msg", text: sanitizeText(rest) };
    case "DM": {
      const gap = rest.indexOf(" ");
      if (gap === -1) return { kind: "dm", target: rest, text: "" };
      return { kind: "dm", target: rest.slice(0, gap), text: sanitizeText(rest.slice(gap + 1)) };
    }
    case "LOGIN":
      return { kind: "login", name: rest };
    case "WHO":
      return WHO;
    case "PING":
      return PING;
    case "QUIT":
      return QUIT;
    case "WATCH":
      return WATCH;
    case "HISTORY":
      return { kind: "history", ask: parseHistory(rest) };
    case "REGISTER":
      return { kind: "register", password: rest.trim() };
    case "PASSWORD": {
      const [old, next] = splitFirst(rest);
      return { kind: "password", old, next };
    }
    case "UNREGISTER":
      return { kind: "unregister", password: rest.trim() };
    default:
      return IGNORED;
  }
}

/**
 * `text` trimmed and split at its first run of spaces: the word before and
 * everything after (empty when there is no space). `LOGIN`'s rest with accounts on, and `PASSWORD`'s.
 */
export function splitFirst(text: string): [string, string] {
  const trimmed = text.trim();
  const gap = trimmed.indexOf(" ");
  if (gap === -1) return [trimmed, ""];
  return [trimmed.slice(0, gap), trimmed.slice(gap).trimStart()];
}

const WHOLE_NUMBER = /^\d+$/;

/**
 * `HISTORY`'s arguments: `[@<name>] [<n> [<before>]]`, separated by spaces.
 * Undefined for anything else: a count that is not a whole number from 1, a
 * malformed id, an empty name, or more words.
 */
export function parseHistory(rest: string): HistoryAsk | undefined {
  const words = rest.split(" ").filter((word) => word !== "");
  let with_: string | undefined;
  if (words[0]?.startsWith("@")) {
    with_ = words.shift()!.slice(1);
    if (with_ === "") return undefined;
  }
  if (words.length > 2) return undefined;
  let limit = DEFAULT_HISTORY;
  if (words.length > 0) {
    const count = words[0]!;
    if (!WHOLE_NUMBER.test(count)) return undefined;
    const value = Number(count);
    if (value < 1) return undefined;
    limit = Math.min(value, MAX_HISTORY);
  }
  let before: string | undefined;
  if (words.length > 1) {
    before = canonicalId(words[1]!);
    if (before === undefined) return undefined;
  }
  return {
    ...(with_ === undefined ? {} : { with: with_ }),
    limit,
    from: "latest",
    ...(before === undefined ? {} : { before }),
    form: "hist",
  };
}

/** A message id written `<ms>-<seq>` with both parts safe whole numbers, without leading zeros; else undefined. */
export function canonicalId(text: string): string | undefined {
  const parts = parseId(text);
  return parts === undefined ? undefined : formatId(parts);
}

// Cc but TAB: C0, DEL and C1, anything that could end a line or drive a terminal.
const CONTROL = /[^\P{Cc}\t]/u;
const CONTROL_ALL = /[^\P{Cc}\t]/gu;

/** Replaces control characters other than TAB with U+FFFD. */
export function sanitizeText(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROL_ALL, "\uFFFD") : text;
}

/** True when a `MSG` or `DM` text carries nothing: empty, or only spaces. */
export function isBlankText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== 0x20) return false;
  }
  return true;
}

const encoder = new TextEncoder();

/** Turns server text into bytes; the hub passes a shared arena's encoder for broadcasts. */
export type Encode = (text: string) => Uint8Array;

const encodeFresh: Encode = (text) => encoder.encode(text);

/** Encodes one server line, adding its `\n`. */
export function encodeLine(line: string): Uint8Array {
  return encoder.encode(line + "\n");
}

/** `MSG <sender> <text>`, as bytes. */
export function formatMsg(sender: string, text: string, encode = encodeFresh): Uint8Array {
  return encode(`MSG ${sender} ${text}\n`);
}

/** `DM <sender> <text>`, as bytes. */
export function formatDm(sender: string, text: string, encode = encodeFresh): Uint8Array {
  return encode(`DM ${sender} ${text}\n`);
}

/** `INFO <name> connected`, as bytes: a join notice, for connections that sent `WATCH`. */
export function formatConnected(name: string, encode = encodeFresh): Uint8Array {
  return encode(`INFO ${name} connected\n`);
}

/** `INFO <name> disconnected`, as bytes. */
export function formatDisconnected(name: string, encode = encodeFresh): Uint8Array {
  return encode(`INFO ${name} disconnected\n`);
}

/** The `WHO` reply: one `USER <name>` line per name, as one block of bytes. */
export function formatUserList(names: readonly string[]): Uint8Array {
  let text = "";
  for (const name of names) text += `USER ${name}\n`;
  return encoder.encode(text);
}

/** One `HIST <id> <sender> <text>` line of a history reply. */
export function formatHist(id: string, sender: string, text: string): string {
  return `HIST ${id} ${sender} ${text}`;
}

/** The line that ends a history reply. */
export const HIST_END = "HIST END";

/** Replies that never change, encoded once. */
export const REPLY = {
  ok: encodeLine("OK"),
  pong: encodeLine("PONG"),
  usernameTaken: encodeLine("ERR username-taken"),
  invalidUsername: encodeLine("ERR invalid-username"),
  alreadyLoggedIn: encodeLine("ERR already-logged-in"),
  loginRequired: encodeLine("ERR login-required"),
  userNotFound: encodeLine("ERR user-not-found"),
  lineTooLong: encodeLine("ERR line-too-long"),
  clusterUnavailable: encodeLine("ERR cluster-unavailable"),
  invalidHistory: encodeLine("ERR invalid-history"),
  accountRequired: encodeLine("ERR account-required"),
  registered: encodeLine("OK registered"),
  passwordChanged: encodeLine("OK password-changed"),
  unregistered: encodeLine("OK unregistered"),
  accountsOff: encodeLine("ERR accounts-off"),
  alreadyRegistered: encodeLine("ERR already-registered"),
  weakPassword: encodeLine("ERR weak-password"),
  badPassword: encodeLine("ERR bad-password"),
  unknownAccount: encodeLine("ERR unknown-account"),
  loginThrottled: encodeLine("ERR login-throttled"),
  passwordRequired: encodeLine("ERR password-required"),
} as const;

const CLOSING_LINES: Readonly<Record<CloseReason, Uint8Array | undefined>> = {
  quit: undefined,
  eof: undefined,
  reset: undefined,
  error: undefined,
  idle: encodeLine("ERR idle-timeout"),
  "slow-consumer": encodeLine("ERR slow-consumer"),
  shutdown: encodeLine("ERR server-shutdown"),
  "server-full": encodeLine("ERR server-full"),
  "too-many-connections": encodeLine("ERR too-many-connections"),
  "excess-flood": encodeLine("ERR excess-flood"),
  // Another instance's user holds the name now (it was freed during a partition): as if taken.
  "name-conflict": encodeLine("ERR username-taken"),
  // The account's holder logged in again elsewhere, with its password.
  "session-replaced": encodeLine("ERR session-replaced"),
  // Only the web door ends connections for these, in its own words.
  "protocol-error": undefined,
  served: undefined,
};

/** The last line a client is sent when closed for `reason`, if any. */
export function closingLine(reason: CloseReason): Uint8Array | undefined {
  return CLOSING_LINES[reason];
}
