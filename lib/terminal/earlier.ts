/**
 * Earlier messages: the chat's history as this client shows it. It collects
 * the `HIST` lines of a reply, holds live lines back while the history asked
 * on connect is on its way (so the screen reads in order: earlier messages,
 * then live ones), and remembers what it has shown, so that after a
 * reconnect only the messages the user has not seen come again. Pure: what
 * to show goes to a callback.
 *
 * Live `MSG` lines carry no id, so a message seen live is recognised in a
 * later reply by its sender and text: the messages of a reply newer than the
 * newest id shown start with the last ones seen live (they were delivered
 * before the reply's cut), then come the ones missed while away. When in
 * doubt a message is shown twice, never left out.
 *
 * @module
 */
import { DEFAULT_HISTORY } from "./commands.ts";
import { type ChatEvent, localTime } from "./format.ts";

/** One message of a history reply (`HIST <id> <sender> <text>`). */
export interface EarlierMessage {
  readonly id: string;
  readonly from: string;
  readonly text: string;
}

/** A chat message as a live `MSG` shows it: no id. */
export interface Said {
  readonly from: string;
  readonly text: string;
}

/** Live messages remembered for a reconnect: the history asked then holds no more than this many. */
export const LIVE_KEPT = DEFAULT_HISTORY;

/** Negative, zero or positive as id `a` (`<ms>-<seq>`) is before, the same as, or after `b`. */
export function compareIds(a: string, b: string): number {
  const [msA = 0, seqA = 0] = a.split("-").map(Number);
  const [msB = 0, seqB = 0] = b.split("-").map(Number);
  return msA !== msB ? msA - msB : seqA - seqB;
}

/** The milliseconds of an id, when the message was stored. */
export function idMs(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}

const same = (a: Said, b: Said) => a.from === b.from && a.text === b.text;

/** How many of `messages`, from the first, are the last ones of `log` in the same order (the most that are). */
export function seenPrefix(log: readonly Said[], messages: readonly Said[]): number {
  for (let m = Math.min(log.length, messages.length); m > 0; m--) {
    const start = log.length - m;
    if (messages.slice(0, m).every((message, i) => same(message, log[start + i]!))) return m;
  }
  return 0;
}

/** How many of `messages`, from the last, are the last ones of `live` in the same order (the most that are). */
export function liveSuffix(messages: readonly Said[], live: readonly Said[]): number {
  for (let m = Math.min(live.length, messages.length); m > 0; m--) {
    const offset = messages.length - m;
    const liveOffset = live.length - m;
    if (live.slice(liveOffset).every((said, i) => same(said, messages[offset + i]!))) return m;
  }
  return 0;
}

/** What this client has shown of the chat: the newest id, and the messages seen live after it. */
export class ShownMessages {
  #newest: string | undefined;
  #live: Said[] = [];

  /** A message was shown live (someone's `MSG`, or this client's own line). */
  live(said: Said): void {
    this.#live.push({ from: said.from, text: said.text });
    if (this.#live.length > LIVE_KEPT) this.#live.shift();
  }

  /**
   * The messages of a reply not shown yet, oldest first. `beforeCut` are the
   * live messages that arrived before the reply: they end it too, and are
   * shown live right after it, so they are left out here. From now on the
   * whole reply counts as shown.
   */
  fresh(messages: readonly EarlierMessage[], beforeCut: readonly Said[]): EarlierMessage[] {
    const newest = this.#newest;
    const newer = newest === undefined
      ? messages
      : messages.filter((message) => compareIds(message.id, newest) > 0);
    const unseen = newer.slice(seenPrefix(this.#live, newer));
    this.shown(messages);
    return unseen.slice(0, unseen.length - liveSuffix(unseen, beforeCut));
  }

  /** The whole reply was shown (or counts as shown). */
  shown(messages: readonly EarlierMessage[]): void {
    const last = messages.at(-1);
    if (last === undefined) return;
    // Every live message so far came before the reply's cut, so before `last` or with it.
    if (this.#newest === undefined || compareIds(last.id, this.#newest) > 0) this.#newest = last.id;
    this.#live = [];
  }
}

/** The reply to the `HISTORY` in flight. */
interface Reply {
  /** The one asked on connect (only messages not shown yet), or the user's `/history`. */
  readonly onConnect: boolean;
  readonly messages: EarlierMessage[];
  /** Live messages that came before the reply began. */
  readonly beforeCut: Said[];
  ended: boolean;
  /** An `ERR` came while it was awaited: that said what went wrong. */
  failed: boolean;
}

/** The client's history requests, one at a time, and the live events around them. */
export class Earlier {
  readonly #show: (events: readonly ChatEvent[]) => void;
  readonly #shown = new ShownMessages();
  #reply: Reply | undefined;
  /** Live events held back until the history asked on connect is shown. */
  #held: ChatEvent[] | undefined;

  /** Earlier messages for a client that shows events with `show`, a batch at a time. */
  constructor(show: (events: readonly ChatEvent[]) => void) {
    this.#show = show;
  }

  /** `HISTORY` was sent (then `PING`); `onConnect` holds live events back until it is answered. */
  asked(onConnect: boolean): void {
    this.#reply = { onConnect, messages: [], beforeCut: [], ended: false, failed: false };
    if (onConnect) this.#held ??= [];
  }

  /** A live event (from the server, or this client's own line): shown now, or held back. */
  event(event: ChatEvent): void {
    const reply = this.#reply;
    if (reply !== undefined && !reply.ended) {
      if (event.kind === "error") reply.failed = true;
      // A reply is one block: a live line before its end came before it, so before its cut.
      if (event.kind === "message") reply.beforeCut.push(event);
    }
    if (this.#held !== undefined) {
      this.#held.push(event);
      return;
    }
    // While the history on connect is awaited a live message counts among those before its cut.
    const awaited = reply !== undefined && reply.onConnect && !reply.ended;
    if (event.kind === "message" && !awaited) this.#shown.live(event);
    this.#show([event]);
  }

  /** A `HIST` line; false when no reply is awaited (a line this client did not ask for). */
  hist(message: EarlierMessage): boolean {
    const reply = this.#reply;
    if (reply === undefined || reply.ended) return false;
    reply.messages.push(message);
    return true;
  }

  /** `HIST END`; false when no reply is awaited. */
  end(): boolean {
    const reply = this.#reply;
    if (reply === undefined || reply.ended) return false;
    reply.ended = true;
    if (reply.onConnect) {
      const fresh = this.#shown.fresh(reply.messages, reply.beforeCut);
      this.#release(fresh.map(earlier));
    } else {
      this.#shown.shown(reply.messages);
      this.#show(
        reply.messages.length > 0
          ? reply.messages.map(earlier)
          : [{ kind: "notice", text: "No messages in the history yet." }],
      );
    }
    return true;
  }

  /** The `PONG` after the `HISTORY`: without `HIST END` before it, the server keeps no history. */
  answered(): void {
    const reply = this.#reply;
    this.#reply = undefined;
    if (reply === undefined || reply.ended) return;
    if (reply.onConnect) {
      // A server older than version 3 ignores HISTORY: nothing to show, nothing to say.
      this.#release([]);
    } else if (!reply.failed) {
      this.#show([{ kind: "warning", text: "This server keeps no history." }]);
    }
  }

  /**
   * Stops holding live events back (the history on connect is late): they are
   * shown now, and the earlier messages when they come, still each once.
   */
  release(): void {
    this.#release([]);
  }

  /** The connection is gone: what was held back is shown; the request is forgotten. */
  reset(): void {
    this.#reply = undefined;
    this.#release([]);
  }

  /** Shows `first`, then the events held back, in one batch. */
  #release(first: readonly ChatEvent[]): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    if (first.length + held.length > 0) this.#show([...first, ...held]);
  }
}

/** A history message as an event to show. */
function earlier(message: EarlierMessage): ChatEvent {
  return {
    kind: "earlier",
    time: localTime(idMs(message.id)),
    from: message.from,
    text: message.text,
  };
}
