/**
 * The hub's one way out to its clients: every byte the hub sends leaves
 * through a {@linkcode Delivery}, in the encoding of each client's door.
 *
 * @module
 */
import { LineArena } from "./line_arena.ts";
import type { Logger } from "./log.ts";
import type { StoredMessage } from "./history/store.ts";
import type { HistoryAsk, Listing } from "./protocol.ts";
import {
  HEARS_DEPARTURES,
  HEARS_MESSAGES,
  isMember,
  type MemberSession,
  type Session,
} from "./session.ts";
import type { Stats } from "./stats.ts";
import type { Reply, Stamp, UserDetails, Wire } from "./wire.ts";

/** Sessions that could not take what they were sent, to be dropped once the event is applied. */
export interface Failures {
  /** Their outbox would have passed its byte budget. */
  readonly overflowed: Session[];
  /** Their link threw. */
  readonly faulty: Session[];
}

/** A broadcast's encodings so far, by `Wire.slot`. */
type Encodings = (Uint8Array | undefined)[];

/**
 * Sends replies to one session and broadcasts to many. A broadcast is
 * encoded at most once per kind of client (per `Wire`), into a
 * shared arena, and the same bytes go to every receiver of that kind. A
 * session that cannot take its bytes is never dropped here, in the middle of
 * a loop over the sessions: it is remembered, and the hub takes the
 * {@linkcode Delivery.failures} once the event is applied.
 */
export class Delivery {
  readonly #members: ReadonlyMap<string, Session>;
  readonly #watchers: ReadonlySet<Session>;
  readonly #stats: Stats;
  readonly #log: Logger;
  /** A history reply's bytes at most (half a client's queue), and a hold's. */
  readonly #maxQueueBytes: number;
  /** Broadcasts are encoded here, back to back, so outboxes can merge them without copying. */
  readonly #arena = new LineArena();
  #overflowed: Session[] = [];
  #faulty: Session[] = [];

  /**
   * Broadcasts to `members` (the logged-in sessions) and, for comings and
   * goings, to `watchers` (the sessions that sent `WATCH`), counting in `stats`.
   */
  constructor(
    members: ReadonlyMap<string, Session>,
    watchers: ReadonlySet<Session>,
    stats: Stats,
    log: Logger,
    maxQueueBytes = Infinity,
  ) {
    this.#maxQueueBytes = maxQueueBytes;
    this.#members = members;
    this.#watchers = watchers;
    this.#stats = stats;
    this.#log = log;
  }

  /** A fixed reply (`OK`, `PONG`, an `ERR` line) to one session; `detail` is what it is about. */
  reply(session: Session, reply: Reply, detail?: string): void {
    this.#deliver(session, session.link.wire.reply(reply, nameOf(session), detail), 1);
  }

  /** The user list to one member, answering `listing` (about one nick, and with `details`, for IRC). */
  userList(
    member: MemberSession,
    names: readonly string[],
    listing: Listing,
    about?: string,
    details?: (name: string) => UserDetails | undefined,
  ): void {
    const bytes = member.link.wire.userList(names, member.state.name, listing, about, details);
    this.#deliver(member, bytes, names.length);
  }

  /** A `DM` from `sender` (`account`: logged in to an account) to one member. */
  dm(
    recipient: MemberSession,
    sender: string,
    text: string,
    notice = false,
    account = false,
  ): void {
    const bytes = recipient.link.wire.dm(sender, text, recipient.state.name, notice, account);
    this.#deliver(recipient, bytes, 1);
  }

  /** A member's own `DM` to `target`, back to it where its door echoes (IRC's `echo-message`). */
  echoDm(member: MemberSession, target: string, text: string, notice: boolean): void {
    const wire = member.link.wire;
    if (wire.echoes !== true) return;
    const account = member.state.account !== undefined;
    this.#deliver(member, wire.dm(member.state.name, text, target, notice, account), 1);
  }

  /** Bytes a door makes for its own client, for its name now, in their turn among the hub's replies. */
  answer(session: Session, answer: (to: string | undefined) => Uint8Array): void {
    const bytes = answer(nameOf(session));
    if (bytes.length > 0) this.#deliver(session, bytes, 1);
  }

  /** Tells a member it no longer hears the chat (with the `reason` it gave), where its door says so. */
  parted(member: MemberSession, reason?: string): void {
    const bytes = member.link.wire.parted(member.state.name, reason);
    if (bytes !== undefined) this.#deliver(member, bytes, 1);
  }

  /**
   * Stored messages answering `ask`, as one block: the oldest are left out
   * rather than pass half the client's queue budget.
   */
  history(member: MemberSession, messages: readonly StoredMessage[], ask: HistoryAsk): void {
    const block = member.link.wire.history(messages, member.state.name, ask);
    const budget = this.#maxQueueBytes / 2;
    let bytes = (block.start?.length ?? 0) + (block.end?.length ?? 0);
    let first = block.lines.length;
    while (first > 0 && bytes + block.lines[first - 1]!.length <= budget) {
      bytes += block.lines[--first]!.length;
    }
    // A door that says nothing for nothing found (IRC's replay on JOIN).
    if (bytes === 0) return;
    const reply = new Uint8Array(bytes);
    let at = 0;
    for (const part of [block.start, ...block.lines.slice(first), block.end]) {
      if (part === undefined) continue;
      reply.set(part, at);
      at += part.length;
    }
    this.#deliver(member, reply, block.lines.length - first + (block.end === undefined ? 0 : 1));
  }

  /** Lines held back while a history read waited, sent now in their order. */
  release(session: Session, lines: readonly Uint8Array[]): void {
    for (const bytes of lines) {
      if (!this.#send(session, bytes)) return;
    }
  }

  /** `sender`'s message to every member that hears messages but `except` (unless its door echoes). */
  broadcastMsg(
    sender: string,
    text: string,
    except: Session | undefined,
    notice = false,
    stamp?: Stamp,
  ): void {
    const encoded: Encodings = [];
    let delivered = 0;
    for (const session of this.#members.values()) {
      if ((session.hears & HEARS_MESSAGES) === 0) continue;
      const wire = session.link.wire;
      if (session === except && wire.echoes !== true) continue;
      const bytes = encoded[wire.slot] ??= wire.msg(sender, text, notice, this.#arena, stamp);
      if (this.#send(session, bytes)) delivered++;
    }
    this.#stats.linesDelivered += delivered;
  }

  /** `name` logged in: told to every watcher but `except` (the one logging in). */
  broadcastConnected(name: string, except: Session | undefined): void {
    const encoded: Encodings = [];
    let delivered = 0;
    for (const session of this.#watchers) {
      if (session === except) continue;
      const wire = session.link.wire;
      const bytes = encoded[wire.slot] ??= wire.connected(name, this.#arena);
      if (this.#send(session, bytes)) delivered++;
    }
    this.#stats.linesDelivered += delivered;
  }

  /**
   * `name` left (`why`: in IRC's words): told to every member that hears
   * departures, and to every watcher not logged in.
   */
  broadcastDisconnected(name: string, why?: string): void {
    const encoded: Encodings = [];
    let delivered = 0;
    for (const session of this.#members.values()) {
      if ((session.hears & HEARS_DEPARTURES) === 0) continue;
      const wire = session.link.wire;
      const bytes = encoded[wire.slot] ??= wire.disconnected(name, this.#arena, why);
      if (this.#send(session, bytes)) delivered++;
    }
    for (const session of this.#watchers) {
      if (isMember(session)) continue;
      const wire = session.link.wire;
      const bytes = encoded[wire.slot] ??= wire.disconnected(name, this.#arena, why);
      if (this.#send(session, bytes)) delivered++;
    }
    this.#stats.linesDelivered += delivered;
  }

  /**
   * `name` parted the channel (with `reason`): told to every member but
   * `except` that hears the chat, where its door says so (IRC's `PART`).
   */
  broadcastLeft(name: string, reason: string | undefined, except: Session | undefined): void {
    this.#toChannel(except, (wire) => wire.left?.(name, reason, this.#arena));
  }

  /** `name` joined the channel again after a part: as {@linkcode Delivery.broadcastLeft}, a `JOIN`. */
  broadcastRejoined(name: string, except: Session | undefined): void {
    this.#toChannel(except, (wire) => wire.rejoined?.(name, this.#arena));
  }

  /** A line made once per wire, for every member but `except` that hears the chat and whose door has it. */
  #toChannel(except: Session | undefined, encode: (wire: Wire) => Uint8Array | undefined): void {
    const encoded: Encodings = [];
    let delivered = 0;
    for (const session of this.#members.values()) {
      if ((session.hears & HEARS_MESSAGES) === 0 || session === except) continue;
      const wire = session.link.wire;
      const bytes = encoded[wire.slot] ??= encode(wire);
      if (bytes !== undefined && this.#send(session, bytes)) delivered++;
    }
    this.#stats.linesDelivered += delivered;
  }

  /** True when a session has failed to take its bytes since the failures were last taken. */
  get failed(): boolean {
    return this.#overflowed.length > 0 || this.#faulty.length > 0;
  }

  /** The sessions that failed since the last call, and forgets them. */
  takeFailures(): Failures {
    const failures = { overflowed: this.#overflowed, faulty: this.#faulty };
    this.clear();
    return failures;
  }

  /** Forgets every failure: their sessions are gone already. */
  clear(): void {
    this.#overflowed = [];
    this.#faulty = [];
  }

  #deliver(session: Session, bytes: Uint8Array, lines: number): void {
    if (this.#send(session, bytes)) this.#stats.linesDelivered += lines;
  }

  /** Hands bytes to one link; an overflow or a throw marks that session alone for dropping. */
  #send(session: Session, bytes: Uint8Array): boolean {
    const held = session.held;
    if (held !== undefined) {
      // Its history reply is on its way: what comes meanwhile waits behind it, within the queue budget.
      if (held.bytes + bytes.length > this.#maxQueueBytes) {
        this.#overflowed.push(session);
        return false;
      }
      held.lines.push(bytes);
      held.bytes += bytes.length;
      return true;
    }
    try {
      if (session.link.send(bytes)) return true;
      this.#overflowed.push(session);
    } catch (error) {
      this.#log.error("send failed", { address: session.link.remote, error: String(error) });
      this.#faulty.push(session);
    }
    return false;
  }
}

/** A session's name once logged in. */
function nameOf(session: Session): string | undefined {
  const state = session.state;
  return state.kind === "member" ? state.name : undefined;
}
