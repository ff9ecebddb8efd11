/**
 * What the hub sends, as IRC: chat messages as channel `PRIVMSG`s, DMs as
 * private ones, logins as `JOIN`s, departures as `QUIT`s, each from
 * `nick!nick@<server>` (never a client's address), and the hub's replies as
 * numerics. One wire per set of IRCv3 capabilities: those that negotiated
 * the same tags share a slot, so a broadcast is encoded once per kind of
 * tagged line into the shared arena.
 *
 * @module
 */
import { idMs } from "../history/message_id.ts";
import { type HistoryAsk, type Listing, MAX_HISTORY } from "../protocol.ts";
import type { Stamp, UserDetails, Wire } from "../wire.ts";
import { nameKey } from "../names.ts";
import { phaseReplies, PHASES, type ReplyWords } from "./irc_account_replies.ts";
import {
  ACCOUNT_TAG,
  CHATHISTORY,
  ECHO_MESSAGE,
  MESSAGE_TAGS,
  SERVER_TIME,
  tagsOf,
} from "./irc_caps.ts";
import { historyBlock, REPLAY_LINES } from "./irc_chathistory.ts";
import { nameOfNick, nickOf } from "./irc_nick.ts";
import { fitLine, IRC_LINE_BYTES, ircText, shown } from "./irc_text.ts";

/** Who the server is on IRC, and its one channel. */
export interface IrcIdentity {
  /** The server's name: the source of numerics, and the host in every user's prefix. */
  readonly server: string;
  /** The chat's channel, `#` and all. */
  readonly channel: string;
}

/** The name in the source of lines from users, and in `005 NETWORK`. */
export const NETWORK = "chat";
/** The longest nick a name can become: 32 code points, each escaped as `|10ffff|`. */
export const NICKLEN = 32 * 8;
/**
 * The longest user part of a prefix: the nick, cut. A prefix of a nick of
 * long escapes then leaves a channel line room for text within 512 bytes.
 */
export const USERLEN = 32;
/** Targets one `PRIVMSG` or `NOTICE` may name (`005 TARGMAX`). */
export const MAX_TARGETS = 4;
/** The version of the chat protocol the server speaks, named in 003, 004 and 351. */
export const PROTOCOL_VERSION = 3;

const encoder = new TextEncoder();

/** `nick!user@server`, the user part being the nick cut to {@linkcode USERLEN}. */
export function prefixOf(name: string, server: string): string {
  const nick = nickOf(name);
  return `${nick}!${cutUser(nick)}@${server}`;
}

/** A nick cut to {@linkcode USERLEN}: the user part of its prefix. */
export function cutUser(nick: string): string {
  return nick.length > USERLEN ? nick.slice(0, USERLEN) : nick;
}

/** The first slot of IRC wires; the tags a line carries pick one of eight from it. */
const FIRST_SLOT = 2;

/**
 * The hub's lines for IRC clients of one server, one wire per set of
 * capabilities (a bit set of `irc_caps.ts`, with at most one phase bit of
 * `irc_account_replies.ts`), made when first asked for.
 */
export function ircWires(identity: IrcIdentity): (caps: number) => Wire {
  const wires: Wire[] = [];
  let batches = 0;
  // Unique on every connection, so never one in use: batches never nest or overlap.
  const nextBatch = () => (++batches).toString(36);
  return (caps) => wires[caps] ??= ircWire(identity, caps, nextBatch);
}

/** The hub's lines for IRC clients of one server that negotiated `caps`. */
function ircWire({ server, channel }: IrcIdentity, caps: number, nextBatch: () => string): Wire {
  // Lines come in runs from one sender: its prefix is made once for the run.
  let lastSender = "";
  let lastSource = "";
  const source = (name: string) => {
    if (name !== lastSender) {
      lastSender = name;
      lastSource = `:${prefixOf(name, server)}`;
    }
    return lastSource;
  };
  const target = (to: string | undefined) => to === undefined ? "*" : nickOf(to);
  const numeric = (code: string, to: string | undefined, rest: string) =>
    `:${server} ${code} ${target(to)} ${rest}\r\n`;
  const bytes = (text: string) => encoder.encode(text);
  const welcomeTokens = welcome005();
  // A user's line is tagged with the time it is sent; a chat message with its own (its id's).
  const tagged = (stamp?: Stamp, sender?: string) => {
    if ((caps & (SERVER_TIME | MESSAGE_TAGS | ACCOUNT_TAG)) === 0) return "";
    const at = stamp === undefined
      ? Date.now()
      : stamp.id === undefined
      ? stamp.at
      : idMs(stamp.id);
    // A tag value escapes `\`, which a nick may hold (`;` and spaces it cannot).
    const account = stamp?.account === true && sender !== undefined
      ? nickOf(sender).replaceAll("\\", "\\\\")
      : undefined;
    return tagsOf(caps, at, stamp?.id, undefined, account);
  };
  const replay: HistoryAsk | undefined = (caps & CHATHISTORY) !== 0
    ? undefined
    : { limit: REPLAY_LINES, from: "latest", form: "replay", target: channel };

  const notice = (to: string | undefined, text: string): string =>
    `:${server} NOTICE ${target(to)} :${text}\r\n`;
  const base: ReplyWords = {
    ok: (to) => welcome(server, to!, welcomeTokens),
    pong: (_to, token) => fitLine(`:${server} PONG ${server} :`, token ?? server),
    usernameTaken: (to, name) =>
      numeric("433", to, `${nickOf(name ?? "")} :Nickname is already in use`),
    invalidUsername: (to, name) =>
      numeric("432", to, `${shown(nickOf(name ?? ""))} :Erroneous nickname`),
    alreadyLoggedIn: (to) =>
      numeric("447", to, ":Cannot change nickname: a name is kept for the session"),
    loginRequired: (to) => numeric("451", to, ":You have not registered"),
    userNotFound: (to, name) => numeric("401", to, `${nickOf(name ?? "")} :No such nick/channel`),
    lineTooLong: (to) => numeric("417", to, ":Input line was too long"),
    clusterUnavailable: (to) =>
      `:${server} NOTICE ${target(to)} :The chat cannot reach its other servers; try again\r\n`,
    invalidHistory: () => `:${server} FAIL CHATHISTORY INVALID_PARAMS :Invalid parameters\r\n`,
    // With `refusal`, a guest's CHATHISTORY of a nick: the FAIL it would get for any other target.
    accountRequired: (_to, refusal) =>
      `:${server} FAIL CHATHISTORY ${
        refusal ?? "INVALID_TARGET :Direct-message history needs an account"
      }\r\n`,
    // Outside a phase (irc_account_replies.ts), these answer registration's login (PASS).
    passwordRequired: (to, name) =>
      numeric("433", to, `${nickOf(name ?? "")} :Nickname is registered to an account`),
    loginThrottled: (to) => notice(to, "Too many login attempts; try again later"),
    registered: (to) => notice(to, "Registered"),
    passwordChanged: (to) => notice(to, "Password changed"),
    unregistered: (to) => notice(to, "Unregistered"),
    accountsOff: (to) => notice(to, "Accounts are off on this server"),
    alreadyRegistered: (to) => notice(to, "This nick is already registered"),
    weakPassword: (to) => notice(to, "Passwords are 8 to 128 characters, without spaces"),
    badPassword: (to) => numeric("464", to, ":Password incorrect"),
    unknownAccount: (to) => numeric("464", to, ":Password incorrect: no account has this nick"),
  };
  const replies = phaseReplies(server, caps & PHASES, base, (name) => prefixOf(name, server));

  const names = (list: readonly string[], to: string): string => {
    const nick = nickOf(to);
    const head = `:${server} 353 ${nick} = ${channel} :`;
    // Nicks are ASCII; the channel may not be.
    const room = IRC_LINE_BYTES - 2 - encoder.encode(head).length;
    let text = "";
    let line = "";
    for (const name of list) {
      const entry = nickOf(name);
      if (line !== "" && line.length + 1 + entry.length > room) {
        text += `${head}${line}\r\n`;
        line = "";
      }
      line = line === "" ? entry : `${line} ${entry}`;
    }
    if (line !== "") text += `${head}${line}\r\n`;
    return text + `:${server} 366 ${nick} ${channel} :End of /NAMES list.\r\n`;
  };

  type Details = ((name: string) => UserDetails | undefined) | undefined;
  const who = (list: readonly string[], to: string, about?: string, details?: Details): string => {
    const head = `:${server} 352 ${nickOf(to)} ${channel} `;
    let text = "";
    for (const name of list) {
      const nick = nickOf(name);
      if (about !== undefined && !isNamed(name, about)) continue;
      const { user, realname } = shownIdent(name, nick, details?.(name));
      text += fitLine(`${head}${user} ${server} ${server} ${nick} H :`, `0 ${realname}`);
    }
    const mask = about === undefined ? channel : shown(about);
    return text + `:${server} 315 ${nickOf(to)} ${mask} :End of /WHO list.\r\n`;
  };

  /** `WHOIS <nick>`: 311 for a user of the chat (all on the one channel), 401 otherwise; then 318. */
  const whois = (list: readonly string[], to: string, about = "", details?: Details): string => {
    const asker = nickOf(to);
    const name = list.find((name) => isNamed(name, about));
    const asked = shown(about);
    let text: string;
    if (name === undefined) text = `:${server} 401 ${asker} ${asked} :No such nick/channel\r\n`;
    else {
      const nick = nickOf(name);
      const known = details?.(name);
      const { user, realname } = shownIdent(name, nick, known);
      text = fitLine(`:${server} 311 ${asker} ${nick} ${user} ${server} * :`, realname) +
        `:${server} 319 ${asker} ${nick} :${channel}\r\n` +
        `:${server} 312 ${asker} ${nick} ${server} :chat\r\n`;
      // An account is named as its holder is.
      if (known?.account === true) {
        text += `:${server} 330 ${asker} ${nick} ${nick} :is logged in as\r\n`;
      }
    }
    return text + `:${server} 318 ${asker} ${asked} :End of /WHOIS list.\r\n`;
  };

  const userLists: Record<
    Listing,
    (list: readonly string[], to: string, about?: string, details?: Details) => string
  > = {
    who,
    names,
    whois,
    // No topic, so nothing about one: modern IRC sends 332 only when there is a topic.
    join: (list, to) => `${tagged()}${source(to)} JOIN ${channel}\r\n` + names(list, to),
  };

  // No reason, no trailing parameter, as ircds send it.
  const partLine = (from: string, reason: string | undefined) =>
    reason === undefined
      ? `${from} PART ${channel}\r\n`
      : fitLine(`${from} PART ${channel} :`, reason);

  const wording = { caps, server, channel, source, nextBatch };
  return {
    // The tags a broadcast carries are all that tells its encodings apart.
    slot: FIRST_SLOT + (caps & (SERVER_TIME | MESSAGE_TAGS)) + ((caps & ACCOUNT_TAG) === 0 ? 0 : 4),
    hearsChatAtLogin: false,
    echoes: (caps & ECHO_MESSAGE) !== 0,
    ...(replay === undefined ? {} : { replay }),
    reply: (reply, to, detail) => bytes(replies[reply](to, detail)),
    userList: (list, to, listing, about, details) =>
      bytes(userLists[listing](list, to, about, details)),
    dm: (sender, text, to, notice, account) =>
      bytes(
        tagged(account === true ? { id: undefined, at: Date.now(), account } : undefined, sender) +
          fitLine(
            `${source(sender)} ${notice ? "NOTICE" : "PRIVMSG"} ${nickOf(to)} :`,
            ircText(text),
          ),
      ),
    parted: (to, reason) => bytes(tagged() + partLine(source(to), reason)),
    left: (name, reason, arena) => arena.encode(tagged() + partLine(source(name), reason)),
    rejoined: (name, arena) => arena.encode(`${tagged()}${source(name)} JOIN ${channel}\r\n`),
    msg: (sender, text, notice, arena, stamp) =>
      arena.encode(
        tagged(stamp, sender) +
          fitLine(`${source(sender)} ${notice ? "NOTICE" : "PRIVMSG"} ${channel} :`, ircText(text)),
      ),
    history: (messages, to, ask) => historyBlock(messages, ask, wording, to),
    connected: (name, arena) => arena.encode(`${tagged()}${source(name)} JOIN ${channel}\r\n`),
    disconnected: (name, arena, why = "Quit") =>
      arena.encode(tagged() + fitLine(`${source(name)} QUIT :`, why)),
  };
}

/** What `005` says the server supports: what clients read to know how to talk to it. */
function welcome005(): string {
  return [
    "CASEMAPPING=ascii",
    "CHANTYPES=#",
    "PREFIX=(ov)@+",
    `NICKLEN=${NICKLEN}`,
    // As long as --irc-channel may be.
    "CHANNELLEN=50",
    `NETWORK=${NETWORK}`,
    "CHANMODES=b,,,nt",
    "CHANLIMIT=#:1",
    `TARGMAX=PRIVMSG:${MAX_TARGETS},NOTICE:${MAX_TARGETS}`,
    `CHATHISTORY=${MAX_HISTORY}`,
    "MSGREFTYPES=timestamp,msgid",
  ].join(" ");
}

/** The burst that ends registration: 001 to 005, and 422 for the missing MOTD. */
function welcome(server: string, name: string, tokens: string): string {
  const nick = nickOf(name);
  return [
    `001 ${nick} :Welcome to the ${NETWORK} network, ${nick}`,
    `002 ${nick} :Your host is ${server}, running chat`,
    `003 ${nick} :This server speaks the chat protocol, version ${PROTOCOL_VERSION}`,
    `004 ${nick} ${server} chat-${PROTOCOL_VERSION} i bnt`,
    `005 ${nick} ${tokens} :are supported by this server`,
    `422 ${nick} :MOTD File is missing`,
  ].map((line) => `:${server} ${line}\r\n`).join("");
}

/**
 * The username and real name `WHO` and `WHOIS` show: what an IRC client of
 * this instance gave in `USER`; for anyone else the nick (cut) and the name
 * as its owner typed it (WHO shows what an escape stands for).
 */
function shownIdent(
  name: string,
  nick: string,
  details: UserDetails | undefined,
): { user: string; realname: string } {
  const ident = details?.ident;
  const user = ident === undefined || ident.user === "" ? cutUser(nick) : ident.user;
  return { user, realname: ident === undefined || ident.realname === "" ? name : ident.realname };
}

/** True when `nick` stands for `name` as names compare (NFC, any case), as a DM to it would find it. */
function isNamed(name: string, nick: string): boolean {
  const asked = nameOfNick(nick);
  return asked !== undefined && nameKey(asked) === nameKey(name);
}
