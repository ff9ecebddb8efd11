/**
 * What the hub sends, as IRC: chat messages as channel `PRIVMSG`s, DMs as
 * private ones, logins as `JOIN`s, departures as `QUIT`s, each from
 * `nick!nick@<server>` (never a client's address), and the hub's replies as
 * numerics. Broadcasts are encoded once into the shared arena. Pure.
 *
 * @module
 */
import type { Listing } from "../protocol.ts";
import type { Reply, Wire } from "../wire.ts";
import { nickOf } from "./irc_nick.ts";
import { fitLine, IRC_LINE_BYTES, ircText } from "./irc_text.ts";

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

const encoder = new TextEncoder();

/** The hub's lines for IRC clients of one server. */
export function ircWire({ server, channel }: IrcIdentity): Wire {
  const source = (name: string) => {
    const nick = nickOf(name);
    return `:${nick}!${nick}@${server}`;
  };
  const numeric = (code: string, to: string | undefined, rest: string) =>
    `:${server} ${code} ${to === undefined ? "*" : nickOf(to)} ${rest}\r\n`;
  const bytes = (text: string) => encoder.encode(text);

  const replies: Record<Reply, (to: string | undefined, detail: string | undefined) => string> = {
    ok: (to) => welcome(server, to!),
    pong: (_to, token) => `:${server} PONG ${server} :${token ?? server}\r\n`,
    usernameTaken: (to, name) =>
      numeric("433", to, `${nickOf(name ?? "")} :Nickname is already in use`),
    invalidUsername: (to, name) => numeric("432", to, `${nickOf(name ?? "")} :Erroneous nickname`),
    alreadyLoggedIn: (to) =>
      numeric("447", to, ":Cannot change nickname: a name is kept for the session"),
    loginRequired: (to) => numeric("451", to, ":You have not registered"),
    userNotFound: (to, target) =>
      numeric("401", to, `${nickOf(target ?? "")} :No such nick/channel`),
    lineTooLong: (to) => numeric("417", to, ":Input line was too long"),
    clusterUnavailable: (to) =>
      `:${server} NOTICE ${
        to === undefined ? "*" : nickOf(to)
      } :The chat cannot reach its other servers; try again\r\n`,
  };

  const names = (list: readonly string[], to: string): string => {
    const nick = nickOf(to);
    const head = `:${server} 353 ${nick} = ${channel} :`;
    let text = "";
    let line = "";
    for (const name of list) {
      const entry = nickOf(name);
      if (line !== "" && head.length + line.length + entry.length + 3 > IRC_LINE_BYTES) {
        text += `${head}${line}\r\n`;
        line = "";
      }
      line = line === "" ? entry : `${line} ${entry}`;
    }
    if (line !== "") text += `${head}${line}\r\n`;
    return text + `:${server} 366 ${nick} ${channel} :End of /NAMES list.\r\n`;
  };

  const who = (list: readonly string[], to: string): string => {
    const nick = nickOf(to);
    let text = "";
    for (const name of list) {
      const entry = nickOf(name);
      text +=
        `:${server} 352 ${nick} ${channel} ${entry} ${server} ${server} ${entry} H :0 ${entry}\r\n`;
    }
    return text + `:${server} 315 ${nick} ${channel} :End of /WHO list.\r\n`;
  };

  const userLists: Record<Listing, (list: readonly string[], to: string) => string> = {
    who,
    names,
    join: (list, to) =>
      `${source(to)} JOIN ${channel}\r\n:${server} 331 ${
        nickOf(to)
      } ${channel} :No topic is set\r\n` +
      names(list, to),
  };

  return {
    slot: 2,
    hearsChatAtLogin: false,
    reply: (reply, to, detail) => bytes(replies[reply](to, detail)),
    userList: (list, to, listing) => bytes(userLists[listing](list, to)),
    dm: (sender, text, to, notice) =>
      bytes(
        fitLine(
          `${source(sender)} ${notice ? "NOTICE" : "PRIVMSG"} ${nickOf(to)} :`,
          ircText(text),
        ),
      ),
    parted: (to) => bytes(`${source(to)} PART ${channel}\r\n`),
    msg: (sender, text, notice, arena) =>
      arena.encode(
        fitLine(`${source(sender)} ${notice ? "NOTICE" : "PRIVMSG"} ${channel} :`, ircText(text)),
      ),
    connected: (name, arena) => arena.encode(`${source(name)} JOIN ${channel}\r\n`),
    disconnected: (name, arena) => arena.encode(`${source(name)} QUIT :Quit\r\n`),
  };
}

/** The burst that ends registration: 001 to 005, and 422 for the missing MOTD. */
function welcome(server: string, name: string): string {
  const nick = nickOf(name);
  const tokens = [
    "CASEMAPPING=ascii",
    "CHANTYPES=#",
    "PREFIX=(ov)@+",
    `NICKLEN=${NICKLEN}`,
    "CHANNELLEN=50",
    `NETWORK=${NETWORK}`,
    "CHANMODES=b,,,nt",
    "CHANLIMIT=#:1",
  ];
  return [
    `001 ${nick} :Welcome to the ${NETWORK} network, ${nick}`,
    `002 ${nick} :Your host is ${server}, running chat`,
    `003 ${nick} :This server speaks the chat protocol, version 2`,
    `004 ${nick} ${server} chat-2 i bnt`,
    `005 ${nick} ${tokens.join(" ")} :are supported by this server`,
    `422 ${nick} :MOTD File is missing`,
  ].map((line) => `:${server} ${line}\r\n`).join("");
}
