/**
 * One connection as the hub holds it, and where it stands with its login:
 * anonymous, claiming a name (its next lines held back until the cluster
 * answers), or a member of the chat. Each standing carries only what is true
 * in it, so the compiler checks every use of a name or a held-back line.
 *
 * @module
 */
import type { ClientLink } from "./client_link.ts";
import type { LocalUser } from "./cluster.ts";
import type { Command } from "./protocol.ts";

/** Lines a client may send while its `LOGIN` waits for the cluster; one more and it is dropped. */
export const MAX_LINES_WHILE_CLAIMING = 1000;
/** Characters of text a client may send while its `LOGIN` waits; past them it is dropped. */
export const MAX_CHARS_WHILE_CLAIMING = 64 * 1024;

/** Not logged in, and no `LOGIN` waiting. */
export interface Anonymous {
  /** The standing. */
  readonly kind: "anonymous";
}

/** Commands held back behind one that waits for an answer, applied in order once it comes. */
export interface Backlog {
  /** Commands received since, in order. */
  readonly waiting: Command[];
  /** The characters of text in {@linkcode Backlog.waiting}. */
  chars: number;
}

/** A `LOGIN` waits for the cluster's answer; the lines sent behind it wait with it. */
export interface Claiming extends Backlog {
  /** The standing. */
  readonly kind: "claiming";
  /** The name asked for, as typed: a refusal names it. */
  readonly name: string;
  /** The account logged in to, once the name is had; undefined for a guest. */
  readonly account: number | undefined;
}

/**
 * A history read waits for its store: the member's later commands wait
 * behind it, and so do the lines sent to it meanwhile, so that nothing
 * interleaves the reply and nothing delivered after the read comes before it.
 */
export interface Held extends Backlog {
  /** Lines for the client, in order, to send after the reply. */
  readonly lines: Uint8Array[];
  /** Their bytes: past the client's queue budget it is a slow consumer. */
  bytes: number;
}

/** A fresh hold: nothing waits yet. */
export function startHold(): Held {
  return { waiting: [], chars: 0, lines: [], bytes: 0 };
}

/**
 * Logged in; a member stays one until its session ends. It is the
 * {@linkcode LocalUser} the cluster knows, too: one object per member, not two.
 */
export interface Member extends LocalUser {
  /** The standing. */
  readonly kind: "member";
  /** The id of the account it is logged in to; undefined for a guest (`REGISTER` and `UNREGISTER` change it). */
  account: number | undefined;
  /** True once it parted the channel (IRC's `PART`): its next `JOIN` is news to the others. */
  parted?: boolean;
}

/** Where a session stands with its login. */
export type SessionState = Anonymous | Claiming | Member;

/** The one anonymous standing every new session starts in; it carries nothing, so it is shared. */
export const ANONYMOUS: Anonymous = Object.freeze({ kind: "anonymous" });

/** One open connection, logged in or not. */
export interface Session<S extends SessionState = SessionState> {
  /** The client. */
  readonly link: ClientLink;
  /** When it connected, by the hub's clock. */
  readonly connectedAt: number;
  /** The address counted against the per-address limit, or undefined when not counted. */
  readonly countedIp: string | undefined;
  /** When its last complete line arrived, by the hub's clock. */
  lastSeen: number;
  /** Where it stands with its login. */
  state: S;
  /** What it hears once logged in ({@linkcode HEARS_MESSAGES}, {@linkcode HEARS_DEPARTURES}). */
  hears: number;
  /** Set while a history read waits for its store; undefined otherwise. */
  held: Held | undefined;
}

/** A member hears the chat's messages. */
export const HEARS_MESSAGES = 1;
/** A member hears that users left. */
export const HEARS_DEPARTURES = 2;
/** What a new session will hear once logged in: a v1 client hears everything but arrivals. */
export const HEARS_CHAT = HEARS_MESSAGES | HEARS_DEPARTURES;

/** A session that is logged in. */
export type MemberSession = Session<Member>;

/** True when `session` is logged in. */
export function isMember(session: Session): session is MemberSession {
  return session.state.kind === "member";
}

/**
 * Makes `session` the member `name` (`key`, login number `seq`, logged in to
 * `account` or a guest): the same object, typed as what it now is.
 */
export function makeMember(
  session: Session,
  name: string,
  key: string,
  seq: number,
  account?: number,
): MemberSession {
  const state: Member = { kind: "member", name, key, seq, account };
  // Object.assign rather than a cast: its type shows the compiler that the state is a Member now.
  return Object.assign(session, { state });
}

/** Starts a claim (for `account`, or a guest): the lines that follow wait for its answer. */
export function startClaim(name: string, account?: number): Claiming {
  return { kind: "claiming", name, account, waiting: [], chars: 0 };
}

/**
 * Holds `command` back until the claim is answered. False, holding nothing,
 * once the client has sent more than a claim may keep waiting: it must be
 * dropped rather than buffered without end.
 */
export function holdBack(backlog: Backlog, command: Command): boolean {
  backlog.chars += commandChars(command);
  if (backlog.waiting.length >= MAX_LINES_WHILE_CLAIMING) return false;
  if (backlog.chars > MAX_CHARS_WHILE_CLAIMING) return false;
  backlog.waiting.push(command);
  return true;
}

/** The text a command holds, in characters: what holding it back costs. */
function commandChars(command: Command): number {
  switch (command.kind) {
    case "login":
      return command.name.length;
    case "msg":
      return command.text.length;
    case "dm":
      return command.target.length + command.text.length;
    case "history":
      return command.ask?.with?.length ?? 0;
    case "register":
    case "unregister":
      return command.password.length;
    case "password":
      return command.old.length + command.next.length;
    case "who":
    case "ping":
    case "quit":
    case "watch":
    case "join":
    case "part":
    case "ignored":
    case "answered":
      return 0;
    default:
      return command satisfies never;
  }
}
