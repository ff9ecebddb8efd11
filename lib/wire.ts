/**
 * What the hub sends, in the encoding of one kind of client. Each door has
 * one {@linkcode Wire}; the hub's delivery encodes a broadcast at most once
 * per wire (a broadcast's encodings are kept by {@linkcode Wire.slot}), so a
 * chat of TCP and browser clients costs two encodings per message, not one
 * per receiver.
 *
 * @module
 */
import type { LineArena } from "./line_arena.ts";
import type { Listing } from "./protocol.ts";
import {
  formatConnected,
  formatDisconnected,
  formatDm,
  formatMsg,
  formatUserList,
  REPLY,
} from "./protocol.ts";

/** A reply that never changes: `OK`, `PONG`, or one of the `ERR` lines. */
export type Reply = keyof typeof REPLY;

/** The largest {@linkcode Wire.slot} plus one: how many kinds of client a broadcast may meet. */
export const WIRE_SLOTS = 4;

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
   * `about` is the one nick an IRC `WHO` or `WHOIS` asked about.
   */
  userList(names: readonly string[], to: string, listing: Listing, about?: string): Uint8Array;
  /** A `DM` from `sender` to the member `to` (an IRC `NOTICE` when `notice`). */
  dm(sender: string, text: string, to: string, notice: boolean): Uint8Array;
  /** The member `to` stopped hearing the chat (IRC's `PART`); undefined where that cannot happen. */
  parted(to: string): Uint8Array | undefined;
  /** A chat message from `sender`, for every receiver of this kind: encoded in `arena`. */
  msg(sender: string, text: string, notice: boolean, arena: LineArena): Uint8Array;
  /** `name` logged in, for watchers: encoded in `arena`. */
  connected(name: string, arena: LineArena): Uint8Array;
  /** `name` left: encoded in `arena`. */
  disconnected(name: string, arena: LineArena): Uint8Array;
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
};
