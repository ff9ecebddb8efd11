/**
 * What each client command does, as a table in the manner of ergo's
 * `commands.go`: command kind → `{ needsLogin, handle }`. The checks every
 * command shares (held back behind a waiting `LOGIN`, login required) are
 * made once, in {@linkcode runCommand}, before the handler runs. Handlers
 * change the hub only through a {@linkcode CommandContext}; the hub keeps the
 * state, and every byte leaves through its {@linkcode Delivery}.
 *
 * @module
 */
import {
  type AccountContext,
  accountLogin,
  changePassword,
  register,
  unregister,
} from "./accounts/account_commands.ts";
import type { Cluster, ClusterUser } from "./cluster.ts";
import type { Delivery } from "./delivery.ts";
import type { ChatHistory, HistoryRequest } from "./history/chat_history.ts";
import { dmHistoryOf, recordDm } from "./history/dm_history.ts";
import { CHAT } from "./history/store.ts";
import { nameKey, RESERVED_KEYS, validateName } from "./names.ts";
import { type CloseReason, type Command, type HistoryAsk, isBlankText } from "./protocol.ts";
import { HEARS_CHAT, holdBack, isMember, type MemberSession, type Session } from "./session.ts";
import type { UserDetails } from "./wire.ts";

/** What a command handler may see of the hub, and ask of it. */
export interface CommandContext extends AccountContext {
  /** This instance's logged-in sessions by name key; insertion order is login order. */
  readonly users: ReadonlyMap<string, MemberSession>;
  /** Users elsewhere. */
  readonly cluster: Cluster;
  /** The way out to this instance's clients. */
  readonly delivery: Delivery;
  /** Where the chat's messages are kept. */
  readonly history: ChatHistory;
  /** Answers a history request now, or holds the member's lines until its store answers. */
  readHistory(member: MemberSession, request: HistoryRequest, ask: HistoryAsk): void;
  /** Claims a valid name no local user holds (for `account`, or a guest); the session is a member or claiming after it. */
  claim(session: Session, name: string, key: string, account?: number): void;
  /** Ends a session for `reason` (`said`: its `QUIT`'s words), telling the others if it was logged in. */
  disconnect(session: Session, reason: CloseReason, said?: string): void;
  /** From now on `session` hears of every login, and of departures even before it logs in. */
  watch(session: Session): void;
  /** `session` no longer hears of logins (IRC's `PART`). */
  unwatch(session: Session): void;
}

type CommandOf<K extends Command["kind"]> = Extract<Command, { readonly kind: K }>;

/** How the hub handles one kind of command: anyone may send it, or members only. */
type CommandSpec<K extends Command["kind"]> =
  | {
    readonly needsLogin: false;
    readonly handle: (hub: CommandContext, session: Session, command: CommandOf<K>) => void;
  }
  | {
    readonly needsLogin: true;
    readonly handle: (hub: CommandContext, member: MemberSession, command: CommandOf<K>) => void;
  };

// Every kind of command must have an entry: a new one fails `deno check` until it is handled.
const COMMANDS: { readonly [K in Command["kind"]]: CommandSpec<K> } = {
  ping: {
    needsLogin: false,
    handle: (hub, session, { token }) => hub.delivery.reply(session, "pong", token),
  },
  watch: { needsLogin: false, handle: (hub, session) => hub.watch(session) },
  quit: {
    needsLogin: false,
    handle: (hub, session, { reason }) => hub.disconnect(session, "quit", reason),
  },
  ignored: { needsLogin: false, handle: () => {} },
  answered: {
    needsLogin: false,
    handle: (hub, session, { answer }) => hub.delivery.answer(session, answer),
  },
  login: { needsLogin: false, handle: login },
  msg: { needsLogin: true, handle: msg },
  who: { needsLogin: true, handle: who },
  dm: { needsLogin: true, handle: dm },
  join: { needsLogin: true, handle: join },
  part: { needsLogin: true, handle: part },
  history: { needsLogin: true, handle: history },
  register: { needsLogin: true, handle: register },
  password: { needsLogin: true, handle: changePassword },
  unregister: { needsLogin: true, handle: unregister },
};

/**
 * Applies one command from `session`. Lines sent behind a `LOGIN` that waits
 * for the cluster are held back (a client that sends too many is dropped);
 * a members-only command from anyone else gets `ERR login-required`, before
 * anything else is checked.
 */
export function runCommand(hub: CommandContext, session: Session, command: Command): void {
  const state = session.state;
  // Pipelined lines keep their order: answered after the LOGIN (or the history read) before them.
  const backlog = state.kind === "claiming" ? state : session.held;
  if (backlog !== undefined) {
    if (!holdBack(backlog, command)) hub.disconnect(session, "excess-flood");
    return;
  }
  dispatch(hub, session, command.kind, command);
}

// The kind comes apart from the command so that the compiler can tie the table's entry to it.
function dispatch<K extends Command["kind"]>(
  hub: CommandContext,
  session: Session,
  kind: K,
  command: CommandOf<K>,
): void {
  const spec: CommandSpec<K> = COMMANDS[kind];
  if (!spec.needsLogin) spec.handle(hub, session, command);
  else if (isMember(session)) spec.handle(hub, session, command);
  // A NOTICE is never answered, not even to say that it needs a login.
  else if (!("notice" in command && command.notice === true)) {
    hub.delivery.reply(session, "loginRequired");
  }
}

function login(hub: CommandContext, session: Session, { name: raw }: CommandOf<"login">): void {
  if (session.state.kind === "member") {
    hub.delivery.reply(session, "alreadyLoggedIn");
    return;
  }
  // With accounts on, the rest is a name and perhaps a password: see account_commands.ts.
  if (hub.desk !== undefined) {
    accountLogin(hub, hub.desk, session, raw);
    return;
  }
  const name = validateName(raw);
  if (name === undefined) {
    hub.delivery.reply(session, "invalidUsername", raw);
    return;
  }
  const key = nameKey(name);
  if (hub.users.has(key) || RESERVED_KEYS.has(key)) {
    hub.delivery.reply(session, "usernameTaken", name);
    return;
  }
  hub.claim(session, name, key);
}

function msg(
  hub: CommandContext,
  member: MemberSession,
  { text, notice = false }: CommandOf<"msg">,
): void {
  if (isBlankText(text)) return;
  const sender = member.state.name;
  // A NOTICE is an automated line: not history, as IRC servers keep it.
  const kept = !notice && hub.history.enabled;
  const at = hub.history.now();
  const id = kept ? hub.history.record(CHAT, sender, text, at) : undefined;
  const account = member.state.account !== undefined;
  hub.delivery.broadcastMsg(sender, text, member, notice, { id, at, account });
  hub.cluster.broadcast(sender, text, kept);
}

/** `HISTORY`: malformed is answered at once; a direct-message history needs an account. */
function history(hub: CommandContext, member: MemberSession, { ask }: CommandOf<"history">): void {
  const account = member.state.account;
  if (ask === undefined) hub.delivery.reply(member, "invalidHistory");
  else if (ask.with === undefined) hub.readHistory(member, requestOf(CHAT, ask), ask);
  // A guest's direct messages are kept nowhere.
  else if (account === undefined) hub.delivery.reply(member, "accountRequired", ask.refusal);
  else hub.readHistory(member, requestOf(dmHistoryOf(account, ask.with), ask), ask);
}

/** What the store is asked, for `ask` about `conversation`. */
function requestOf(conversation: string, ask: HistoryAsk): HistoryRequest {
  const { limit, from, before, after, around } = ask;
  if (around !== undefined) return { conversation, limit, around };
  return {
    conversation,
    limit,
    from,
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { after }),
  };
}

function who(
  hub: CommandContext,
  member: MemberSession,
  { listing, about }: CommandOf<"who">,
): void {
  const names = chatWideNames(hub.users.values(), hub.cluster.remoteUsers());
  hub.delivery.userList(member, names, listing ?? "who", about, (name) => detailsOf(hub, name));
}

/** What `WHO` and `WHOIS` show of a user of this instance beyond its name; nothing of one elsewhere. */
function detailsOf(hub: CommandContext, name: string): UserDetails | undefined {
  const user = hub.users.get(nameKey(name));
  if (user === undefined) return undefined;
  return { ident: user.link.ident, account: user.state.account !== undefined };
}

/**
 * IRC's `JOIN`: the member hears the chat, logins included, and gets the
 * user list, then the latest messages where its door replays them (read at
 * the cut, as `HISTORY` is: what comes after is live, never in the replay).
 */
function join(hub: CommandContext, member: MemberSession): void {
  member.hears = HEARS_CHAT;
  hub.watch(member);
  // Its first JOIN is no news: the others saw it join when it logged in.
  if (member.state.parted === true) {
    member.state.parted = false;
    hub.delivery.broadcastRejoined(member.state.name, member);
    hub.cluster.rejoin(member.state.name);
  }
  const names = chatWideNames(hub.users.values(), hub.cluster.remoteUsers());
  hub.delivery.userList(member, names, "join");
  const replay = member.link.wire.replay;
  if (replay !== undefined) hub.readHistory(member, requestOf(CHAT, replay), replay);
}

/** IRC's `PART`: the member stays logged in, and hears only its DMs; the channel's others see it go. */
function part(hub: CommandContext, member: MemberSession, { reason }: CommandOf<"part">): void {
  member.hears = 0;
  member.state.parted = true;
  hub.unwatch(member);
  hub.delivery.parted(member, reason);
  hub.delivery.broadcastLeft(member.state.name, reason, member);
  hub.cluster.part(member.state.name, reason);
}

function dm(
  hub: CommandContext,
  member: MemberSession,
  { target, text, notice = false }: CommandOf<"dm">,
): void {
  if (isBlankText(text)) return;
  const sender = member.state.name;
  const key = nameKey(target);
  const recipient = hub.users.get(key);
  if (recipient !== undefined) {
    hub.delivery.dm(recipient, sender, text, notice, member.state.account !== undefined);
    // A DM to oneself arrives once, echo or not.
    if (recipient !== member) hub.delivery.echoDm(member, recipient.state.name, text, notice);
    // As for the chat, a NOTICE is not history.
    if (!notice) recordDm(hub.history, member.state, recipient.state, text);
    return;
  }
  // Kept by this instance, the sender's, for both parties (the receiver's account is Redis's).
  const keep = notice || !hub.history.enabled ? undefined : member.state;
  const delivery = hub.cluster.directMessage(sender, key, text, keep);
  if (delivery === "sent") hub.delivery.echoDm(member, target, text, notice);
  // A NOTICE is never answered, not even to say it went nowhere.
  if (notice) return;
  switch (delivery) {
    case "not-found":
      hub.delivery.reply(member, "userNotFound", target);
      return;
    case "unavailable":
      hub.delivery.reply(member, "clusterUnavailable");
      return;
    case "sent":
      return;
    default:
      delivery satisfies never;
  }
}

/** Every logged-in name in the chat, this instance's and the others', merged by login number. */
function chatWideNames(
  local: Iterable<MemberSession>,
  remote: readonly ClusterUser[],
): string[] {
  const names: string[] = [];
  let r = 0;
  for (const { state: user } of local) {
    while (r < remote.length && remote[r]!.seq < user.seq) names.push(remote[r++]!.name);
    names.push(user.name);
  }
  while (r < remote.length) names.push(remote[r++]!.name);
  return names;
}
