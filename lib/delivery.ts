/**
 * The hub's one way out to its clients: every byte the hub sends leaves
 * through a {@linkcode Delivery}.
 *
 * @module
 */
import { LineArena } from "./line_arena.ts";
import type { Logger } from "./log.ts";
import { formatDisconnected, formatMsg } from "./protocol.ts";
import type { Session } from "./session.ts";
import type { Stats } from "./stats.ts";

/** Sessions that could not take what they were sent, to be dropped once the event is applied. */
export interface Failures {
  /** Their outbox would have passed its byte budget. */
  readonly overflowed: Session[];
  /** Their link threw. */
  readonly faulty: Session[];
}

/**
 * Sends replies to one session and broadcasts to every logged-in one. A
 * broadcast is encoded once, into a shared arena, and the same bytes go to
 * every receiver. A session that cannot take its bytes is never dropped
 * here, in the middle of a loop over the sessions: it is remembered, and the
 * hub takes the {@linkcode Delivery.failures} once the event is applied.
 */
export class Delivery {
  readonly #members: ReadonlyMap<string, Session>;
  readonly #stats: Stats;
  readonly #log: Logger;
  /** Broadcasts are encoded here, back to back, so outboxes can merge them without copying. */
  readonly #arena = new LineArena();
  readonly #encodeShared = (text: string) => this.#arena.encode(text);
  #overflowed: Session[] = [];
  #faulty: Session[] = [];

  /** Broadcasts to `members` (the logged-in sessions), counting in `stats`. */
  constructor(members: ReadonlyMap<string, Session>, stats: Stats, log: Logger) {
    this.#members = members;
    this.#stats = stats;
    this.#log = log;
  }

  /** Sends `bytes` (holding `lines` lines) to one session. */
  reply(session: Session, bytes: Uint8Array, lines = 1): void {
    if (this.#send(session, bytes)) this.#stats.linesDelivered += lines;
  }

  /** `MSG <sender> <text>` to every logged-in session but `except`. */
  broadcastMsg(sender: string, text: string, except: Session | undefined): void {
    this.#broadcast(formatMsg(sender, text, this.#encodeShared), except);
  }

  /** `INFO <name> disconnected` to every logged-in session. */
  broadcastDisconnected(name: string): void {
    this.#broadcast(formatDisconnected(name, this.#encodeShared), undefined);
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

  /** Sends the same bytes to every logged-in session but `except`. */
  #broadcast(bytes: Uint8Array, except: Session | undefined): void {
    let delivered = 0;
    for (const session of this.#members.values()) {
      if (session !== except && this.#send(session, bytes)) delivered++;
    }
    this.#stats.linesDelivered += delivered;
  }

  /** Hands bytes to one link; an overflow or a throw marks that session alone for dropping. */
  #send(session: Session, bytes: Uint8Array): boolean {
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
