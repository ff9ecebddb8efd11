/**
 * What the hub sends, in the encoding of one kind of client. Each door has
 * one {@linkcode Wire}; the hub's delivery encodes a broadcast at most once
 * per wire (a broadcast's encodings are kept by {@linkcode Wire.slot}), so a
 * chat of TCP and browser clients costs two encodings per message, not one
 * per receiver.
 *
 * @module
 */
import type { StoredMessage } from "./history/store.ts";
import type { LineArena } from "./line_arena.ts";
import type { HistoryAsk, Listing } from "./protocol.ts";
import {
  encodeLine,
  formatConnected,
  formatDisconnected,
  formatDm,
  formatHist,
  formatMsg,
  formatUserList,
  HIST_END,
  REPLY,
} from "./protocol.ts";

/** A reply that never changes: `OK`, `PONG`, or one of the `ERR` lines. */
export type Reply = keyof typeof REPLY;

/**
 * The largest {@linkcode Wire.slot} plus one: how many kinds of client a
 * broadcast may meet (v1 lines, WebSocket frames, and IRC's eight: with or
 * without `time` tags, `msgid` tags, `account` tags).
 */
export const WIRE_SLOTS = 10;

/** What a chat message is, beyond its words: its id (when known as it is delivered) and its time. */
export interface Stamp {
  /** The message id; undefined while the store (Redis) has not given it yet. */
  readonly id: string | undefined;
  /** When it was delivered, ms since the epoch. */
  readonly at: number;
  /** True when its sender is logged in to an account (its name is the account's): IRC's `account` tag. */
  readonly account?: boolean;
}

/** What an IRC client said of itself at registration (`USER`): shown in `WHO` and `WHOIS`. */
export interface Ident {
  /** Its username, cleaned and cut. */
  readonly user: string;
  /** Its real name, cleaned and cut. */
  readonly realname: string;
}

/** What `WHO` and `WHOIS` show of one user beyond its name; what is missing takes the defaults. */
export interface UserDetails {
  /** What its client said of itself, if it is an IRC client of this instance. */
  readonly ident?: Ident | undefined;
  /** True when it is logged in to an account (named as the user is). */
  readonly account?: boolean;
}

/** A history reply in one door's words: its lines, oldest first, between an opening and a closing. */
export interface HistoryBlock {
  /** What comes before the lines (IRC's `BATCH +`), if anything. */
  readonly start?: Uint8Array;
  /** One entry per message, oldest first: the hub leaves out the oldest to keep the reply within budget. */
  readonly lines: readonly Uint8Array[];
  /** What ends the reply (`HIST END`), if anything. */
  readonly end?: Uint8Array;
}

/** One kind of client's encoding of every line the hub sends. */
export interface Wire {
  /** Where this kind's encoding of a broadcast is kept: a small number unique per wire. */
  readonly slot: number;
  /** True when a client of this kind hears the chat once logged in; false: only once it asks (IRC's `JOIN`). */
  readonly hearsChatAtLogin: boolean;
  /**
   * A fixed reply to the client `to` (its name once logged in). `detail` is
   * what the reply is about, for doors that say it: the name asked for
   * (`usernameTaken`, `invalidUsername`), a DM's target (`userNotFound`), a
   * `PING`'s token (`pong`).
   */
  reply(reply: Reply, to: string | undefined, detail?: string): Uint8Array;
  /**
   * The logged-in names in login order, as one block, answering `listing`;
   * `about` is the one nick an IRC `WHO` or `WHOIS` asked about, and
   * `details` what is known of a user beyond its name, for doors that show it.
   */
  userList(
    names: readonly string[],
    to: string,
    listing: Listing,
    about?: string,
    details?: (name: string) => UserDetails | undefined,
  ): Uint8Array;
  /**
   * A `DM` from `sender` to the member `to` (an IRC `NOTICE` when
   * `notice`); `account`: the sender is logged in to an account.
   */
  dm(sender: string, text: string, to: string, notice: boolean, account?: boolean): Uint8Array;
  /**
   * The member `to` stopped hearing the chat (IRC's `PART`, with the
   * `reason` it gave); undefined where that cannot happen.
   */
  parted(to: string, reason?: string): Uint8Array | undefined;
  /**
   * `name`, still logged in, stopped hearing the chat (IRC's `PART`), for
   * the other members that hear it: encoded in `arena`. Absent where a
   * client cannot tell (they still see `name` logged in).
   */
  left?(name: string, reason: string | undefined, arena: LineArena): Uint8Array;
  /** `name` hears the chat again after a `PART` (IRC's `JOIN`), as {@linkcode Wire.left}. */
  rejoined?(name: string, arena: LineArena): Uint8Array;
  /**
   * A chat message from `sender`, for every receiver of this kind: encoded
   * in `arena`. `stamp` is its id and time, for doors that tag messages.
   */
  msg(sender: string, text: string, notice: boolean, arena: LineArena, stamp?: Stamp): Uint8Array;
  /** Stored messages, oldest first, answering `ask` for the member `to`. */
  history(messages: readonly StoredMessage[], to: string, ask: HistoryAsk): HistoryBlock;
  /**
   * True when a member of this kind hears its own chat messages back (IRC's
   * `echo-message`); false for the v1 protocol, where a sender never does.
   */
  readonly echoes?: boolean;
  /**
   * What a member of this kind is replayed when it joins the chat (IRC's
   * latest messages on `JOIN`, for a client that did not negotiate
   * `draft/chathistory`), after the user list; undefined: nothing.
   */
  readonly replay?: HistoryAsk;
  /** `name` logged in, for watchers: encoded in `arena`. */
  connected(name: string, arena: LineArena): Uint8Array;
  /** `name` left (`why`: in IRC's words, for doors that say it): encoded in `arena`. */
  disconnected(name: string, arena: LineArena, why?: string): Uint8Array;
}

const HIST_END_LINE = encodeLine(HIST_END);

/** A history reply as v1 lines: `HIST <id> <sender> <text>` each, then `HIST END`. */
function histLines(messages: readonly StoredMessage[]): HistoryBlock {
  return {
    lines: messages.map((m) => encodeLine(formatHist(m.id, m.sender, m.text))),
    end: HIST_END_LINE,
  };
}

/** The v1 line protocol: each line ends in `\n`; broadcasts share the arena's bytes. */
export const LINE_WIRE: Wire = {
  slot: 0,
  hearsChatAtLogin: true,
  reply: (reply) => REPLY[reply],
  userList: formatUserList,
  dm: (sender, text) => formatDm(sender, text),
  parted: () => undefined,
  msg: (sender, text, _notice, arena) => formatMsg(sender, text, (line) => arena.encode(line)),
  connected: (name, arena) => formatConnected(name, (line) => arena.encode(line)),
  disconnected: (name, arena) => formatDisconnected(name, (line) => arena.encode(line)),
  history: histLines,
};
