/**
 * IRCv3's `CHATHISTORY` (draft/chathistory): its parameters read into the
 * hub's {@linkcode HistoryAsk}, or the `FAIL` it gets; and the hub's
 * history replies as IRC words them: a `chathistory` batch of `PRIVMSG`s
 * (the replay on `JOIN` too), or a `draft/chathistory-targets` batch. Pure.
 *
 * Message references map onto the store's ids (`<ms>-<seq>`), whose order
 * is the history's: `msgid=<id>` is that id; `timestamp=T` is every id of
 * the millisecond T, so a bound at T leaves out all of T's messages, as the
 * specification's "excluding" asks of both ends.
 *
 * @module
 */
import { idMs } from "../history/message_id.ts";
import type { StoredMessage } from "../history/store.ts";
import { canonicalId, type HistoryAsk, MAX_HISTORY } from "../protocol.ts";
import type { HistoryBlock } from "../wire.ts";
import { BATCH, isoTime, SERVER_TIME, tagsOf } from "./irc_caps.ts";
import { nameOfNick, nickOf, sameNick } from "./irc_nick.ts";
import { nameKey } from "../names.ts";
import { fitLine, ircText, shown } from "./irc_text.ts";

/** What `CHATHISTORY` asked for, or the `FAIL CHATHISTORY …` words that refuse it. */
export type ChatHistoryRequest =
  | { readonly ask: HistoryAsk; readonly fail?: undefined }
  | { readonly fail: string };

/** Messages replayed on `JOIN` to a client that did not negotiate `draft/chathistory`. */
export const REPLAY_LINES = 20;

/** The highest `seq` an id may have: with it, a millisecond's last possible id. */
const LAST_SEQ = Number.MAX_SAFE_INTEGER;

/** A message reference: an id, a millisecond, or `*` (LATEST's "no bound"). */
type Ref =
  | { readonly kind: "msgid"; readonly id: string }
  | { readonly kind: "timestamp"; readonly ms: number }
  | { readonly kind: "*" };

/** Parameters after the subcommand: the target (none for TARGETS), references, the limit. */
const ARITY: Readonly<Record<string, number>> = {
  BEFORE: 3,
  AFTER: 3,
  LATEST: 3,
  AROUND: 3,
  BETWEEN: 4,
  TARGETS: 3,
};

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;

/**
 * `CHATHISTORY <subcommand> …` for the one channel `channel`, or a nick (the
 * direct messages with it, for an account); `params` are the command's.
 */
export function parseChatHistory(params: readonly string[], channel: string): ChatHistoryRequest {
  if (params.length === 0) return { fail: "INVALID_PARAMS :Insufficient parameters" };
  const sub = params[0]!.toUpperCase();
  const arity = ARITY[sub];
  if (arity === undefined) return { fail: `UNKNOWN_COMMAND ${safe(params[0]!)} :Unknown command` };
  const rest = params.slice(1);
  if (rest.length < arity) return { fail: `INVALID_PARAMS ${sub} :Insufficient parameters` };
  if (rest.length > arity) return { fail: `INVALID_PARAMS ${sub} :Too many parameters` };
  const words = sub === "TARGETS" ? rest : rest.slice(1);
  const limitWord = words.at(-1)!;
  const refs: Ref[] = [];
  for (const word of words.slice(0, -1)) {
    const ref = parseRef(word);
    const allowed = ref !== undefined &&
      (ref.kind !== "*" || sub === "LATEST") && (ref.kind === "timestamp" || sub !== "TARGETS");
    if (!allowed) {
      // Well formed, but not a kind this subcommand takes: a reference, not its writing, is wrong.
      const why = ref === undefined ? refError(word) : "Invalid message reference";
      return { fail: `INVALID_PARAMS ${sub} ${safe(word)} :${why}` };
    }
    refs.push(ref);
  }
  const limit = /^\d{1,9}$/.test(limitWord) ? Number(limitWord) : 0;
  if (limit < 1) return { fail: `INVALID_PARAMS ${sub} ${safe(limitWord)} :Invalid limit` };
  const count = Math.min(limit, MAX_HISTORY);
  if (sub === "TARGETS") return { ask: targetsAsk(refs[0]!, refs[1]!, channel) };
  const target = rest[0]!;
  const invalid = `INVALID_TARGET ${sub} ${safe(target)} :Messages could not be retrieved`;
  if (sameNick(target, channel)) {
    return { ask: { ...rangeOf(sub, refs, count), form: "chathistory", target: channel } };
  }
  // A nick: the direct messages with it, kept only for an account (a guest gets `invalid`).
  // `*` (every conversation) and other channels are not kept.
  const peer = target.startsWith("#") ? undefined : nameOfNick(target);
  if (peer === undefined) return { fail: invalid };
  return {
    ask: {
      ...rangeOf(sub, refs, count),
      with: peer,
      form: "chathistory",
      target,
      refusal: invalid,
    },
  };
}

function parseRef(word: string): Ref | undefined {
  if (word === "*") return { kind: "*" };
  if (word.startsWith("msgid=")) {
    // Only an id as this server writes them: no other string was ever a msgid here.
    const id = word.slice("msgid=".length);
    return canonicalId(id) === id ? { kind: "msgid", id } : undefined;
  }
  if (!word.startsWith("timestamp=")) return undefined;
  const match = TIMESTAMP.exec(word.slice("timestamp=".length));
  if (match === null) return undefined;
  const [year, month, day, hours, minutes, seconds, ms] = match.slice(1).map(Number) as number[];
  const at = Date.UTC(year!, month! - 1, day!, hours!, minutes!, seconds!, ms!);
  // A date that does not exist (February 30th, 25:00) comes back as another one.
  return isoTime(at) === match[0] ? { kind: "timestamp", ms: at } : undefined;
}

function refError(word: string): string {
  if (word.startsWith("timestamp=")) return "Invalid timestamp";
  if (word.startsWith("msgid=")) return "Invalid msgid";
  return "Invalid message reference";
}

/** Only ids above this bound: a msgid, or a millisecond and all its ids. */
function lower(ref: Ref): string | undefined {
  if (ref.kind === "msgid") return ref.id;
  return ref.kind === "timestamp" ? `${ref.ms}-${LAST_SEQ}` : undefined;
}

/** Only ids below this bound: a msgid, or a millisecond and all its ids. */
function upper(ref: Ref): string | undefined {
  if (ref.kind === "msgid") return ref.id;
  return ref.kind === "timestamp" ? `${ref.ms}-0` : undefined;
}

/** Where a reference stands in the history's order, to tell which way BETWEEN goes. */
function point(ref: Ref): [number, number] {
  if (ref.kind === "msgid") {
    const dash = ref.id.indexOf("-");
    return [Number(ref.id.slice(0, dash)), Number(ref.id.slice(dash + 1))];
  }
  return [ref.kind === "timestamp" ? ref.ms : 0, 0];
}

function bounds(after: string | undefined, before: string | undefined) {
  return {
    ...(after === undefined ? {} : { after }),
    ...(before === undefined ? {} : { before }),
  };
}

/** The subcommand as a range of the store, with `limit`. */
function rangeOf(sub: string, refs: readonly Ref[], limit: number) {
  const [first, second] = refs as [Ref, Ref | undefined];
  switch (sub) {
    case "BEFORE":
      return { limit, from: "latest" as const, ...bounds(undefined, upper(first)) };
    case "AFTER":
      return { limit, from: "earliest" as const, ...bounds(lower(first), undefined) };
    case "LATEST":
      return { limit, from: "latest" as const, ...bounds(lower(first), undefined) };
    case "AROUND":
      // Half up to the reference (a timestamp's first id), half after it.
      return { limit, from: "latest" as const, around: upper(first)! };
    default: {
      // BETWEEN counts from the first reference towards the second, either way in time.
      const [a, b] = [point(first), point(second!)];
      const forward = a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);
      return forward
        ? { limit, from: "earliest" as const, ...bounds(lower(first), upper(second!)) }
        : { limit, from: "latest" as const, ...bounds(lower(second!), upper(first)) };
    }
  }
}

/** TARGETS: the channel, when it has a message between the two times (either order), is the one target. */
function targetsAsk(a: Ref, b: Ref, channel: string): HistoryAsk {
  const [early, late] = point(a)[0] <= point(b)[0] ? [a, b] : [b, a];
  return {
    limit: 1,
    from: "latest",
    ...bounds(lower(early), upper(late)),
    form: "targets",
    target: channel,
  };
}

/** A parameter echoed in a `FAIL`: cleaned, and never one that would end the line's middle. */
function safe(word: string): string {
  return word === "" || word.includes(" ") || word.startsWith(":") ? "*" : shown(word);
}

/** How one kind of IRC client is sent history. */
export interface HistoryWording {
  /** The capabilities it negotiated. */
  readonly caps: number;
  /** The server's name, the source of `BATCH` lines. */
  readonly server: string;
  /** The chat's channel. */
  readonly channel: string;
  /** `:nick!user@server` of a sender. */
  readonly source: (name: string) => string;
  /** A batch reference not in use on any connection. */
  readonly nextBatch: () => string;
}

/**
 * Stored messages as IRC words them for `ask`. Each carries its time: the
 * `time` tag with server-time, else `[HH:MM] ` (UTC) in front of its text
 * (inside an ACTION); its `msgid` with message-tags; all in a batch with
 * `batch`. TARGETS names the channel with its latest message's time.
 */
export function historyBlock(
  messages: readonly StoredMessage[],
  ask: HistoryAsk,
  wording: HistoryWording,
  to?: string,
): HistoryBlock {
  const { caps, server, channel, source } = wording;
  // Nothing to replay on JOIN is nothing at all; an empty batch answers only a question asked.
  if (ask.form === "replay" && messages.length === 0) return { lines: [] };
  const batch = (caps & BATCH) === 0 ? undefined : wording.nextBatch();
  const encode = (text: string) => encoder.encode(text);
  const frame = (type: string) =>
    batch === undefined ? {} : {
      start: encode(`:${server} BATCH +${batch} ${type}\r\n`),
      end: encode(`:${server} BATCH -${batch}\r\n`),
    };
  if (ask.form === "targets") {
    const latest = messages.at(-1);
    const tags = batch === undefined ? "" : `@batch=${batch} `;
    const line = latest === undefined ? [] : [
      encode(`${tags}:${server} CHATHISTORY TARGETS ${channel} ${isoTime(idMs(latest.id))}\r\n`),
    ];
    return { ...frame("draft/chathistory-targets"), lines: line };
  }
  const timed = (caps & SERVER_TIME) !== 0;
  // A direct-message conversation: each line to whoever received it, as it was delivered.
  const peer = ask.with === undefined ? undefined : ask.target!;
  const mine = to === undefined ? "" : nameKey(to);
  const me = to === undefined ? "*" : nickOf(to);
  const receiver = (sender: string) =>
    peer === undefined ? channel : nameKey(sender) === mine ? peer : me;
  return {
    ...frame(`chathistory ${peer ?? channel}`),
    lines: messages.map((m) => {
      const ms = idMs(m.id);
      const text = timed ? ircText(m.text) : ircText(m.text, `[${isoTime(ms).slice(11, 16)}] `);
      const line = `${source(m.sender)} PRIVMSG ${receiver(m.sender)} :`;
      return encode(tagsOf(caps, ms, m.id, batch) + fitLine(line, text));
    }),
  };
}

const encoder = new TextEncoder();
