/**
 * What the IRC door answers itself: numerics about the one channel, the
 * client's own modes, and commands this chat has no use for. An answer is
 * made only once the hub knows who the client is then (its nick, `*` before
 * login, and whether it is logged in), as it goes out in its turn among the
 * hub's replies; and the `ERROR` line a client is closed with. Pure.
 *
 * @module
 */
import type { CloseReason } from "../protocol.ts";
import { nickOf, sameNick } from "./irc_nick.ts";
import { shown } from "./irc_text.ts";
import { cutUser, type IrcIdentity, PROTOCOL_VERSION } from "./irc_wire.ts";

/** A line answered by the door, made for the client's nick and standing once the hub sends it. */
export type Answer = (nick: string, member: boolean) => string;

const encoder = new TextEncoder();

/** Words of the `ERROR` line a client is closed with, by reason. */
const CLOSING_WORDS: Readonly<Record<CloseReason, string | undefined>> = {
  quit: "Quit",
  eof: undefined,
  reset: undefined,
  error: "Internal error",
  idle: "Ping timeout",
  "slow-consumer": "SendQ exceeded",
  shutdown: "Server shutting down",
  "server-full": "Server full",
  "too-many-connections": "Too many connections from your address",
  "excess-flood": "Excess flood",
  "name-conflict": "Nickname taken on another server",
  "session-replaced": "Logged in again elsewhere",
  "protocol-error": "Protocol error",
  served: undefined,
};

/** The `ERROR` line a client is closed with, by reason (none where the peer left first). */
export function closingLines(): Record<CloseReason, Uint8Array | undefined> {
  return Object.fromEntries(
    Object.entries(CLOSING_WORDS).map(([reason, words]) => [
      reason,
      words === undefined ? undefined : encoder.encode(`ERROR :Closing link: ${words}\r\n`),
    ]),
  ) as Record<CloseReason, Uint8Array | undefined>;
}

/** A numeric to anyone. */
export function numeric(server: string, code: string, rest: string): Answer {
  return (nick) => `:${server} ${code} ${nick} ${rest}\r\n`;
}

/** A numeric for members only: the hub may yet have refused the login (then 451). */
export function memberNumeric(server: string, code: string, rest: string): Answer {
  return (nick, member) =>
    member ? `:${server} ${code} ${nick} ${rest}\r\n` : notRegistered(server, nick);
}

/** A line without the nick in it (a `FAIL`), for members only: 451 if the hub refused the login. */
export function memberLine(server: string, line: string): Answer {
  return (nick, member) => member ? `:${server} ${line}\r\n` : notRegistered(server, nick);
}

function notRegistered(server: string, nick: string): string {
  return `:${server} 451 ${nick} :You have not registered\r\n`;
}

/** The bytes of `answers` for the client known to the hub as `to` (undefined before login). */
export function render(answers: readonly Answer[]): (to: string | undefined) => Uint8Array {
  return (to: string | undefined): Uint8Array => {
    const nick = to === undefined ? "*" : nickOf(to);
    let text = "";
    for (const answer of answers) text += answer(nick, to !== undefined);
    return encoder.encode(text);
  };
}

/**
 * The answer to a command that changes nothing, from a client that sent its
 * login: `MODE`, `TOPIC`, `MOTD`, `USERHOST`, `ISON`, `WHOIS`, `AWAY`, and
 * 421 for anything else.
 */
export function answerQuery(
  { server, channel }: IrcIdentity,
  command: string,
  params: readonly string[],
): Answer {
  const member = (code: string, rest: string) => memberNumeric(server, code, rest);
  switch (command) {
    case "MODE":
      return mode(server, channel, params);
    case "TOPIC":
      if (params[0] === undefined) return member("461", "TOPIC :Not enough parameters");
      if (!sameNick(params[0], channel)) {
        return member("403", `${shown(params[0])} :No such channel`);
      }
      if (params[1] === undefined) return member("331", `${channel} :No topic is set`);
      return member("482", `${channel} :You're not channel operator`);
    case "MOTD":
      return member("422", ":MOTD File is missing");
    case "USERHOST":
    case "ISON":
      return whoIsOn(server, command, params);
    case "VERSION":
      return member(
        "351",
        `chat-${PROTOCOL_VERSION} ${server} :the chat server, version ${PROTOCOL_VERSION}`,
      );
    case "AWAY":
      if (params[0] === undefined || params[0] === "") {
        return member("305", ":You are no longer marked as being away");
      }
      return member("306", ":You have been marked as being away");
    default:
      return numeric(server, "421", `${shown(command)} :Unknown command`);
  }
}

function mode(server: string, channel: string, params: readonly string[]): Answer {
  const [target, modes] = params;
  const member = (code: string, rest: string) => memberNumeric(server, code, rest);
  if (target === undefined) return member("461", "MODE :Not enough parameters");
  if (sameNick(target, channel)) {
    if (modes === undefined) return member("324", `${channel} +nt`);
    // The ban list, asked for (irssi waits for its end): always empty.
    if ((modes === "b" || modes === "+b") && params[2] === undefined) {
      return member("368", `${channel} :End of channel ban list`);
    }
    return member("482", `${channel} :You're not channel operator`);
  }
  if (target.startsWith("#")) return member("403", `${shown(target)} :No such channel`);
  return (nick, isMember) => {
    if (!isMember) return notRegistered(server, nick);
    if (!sameNick(target, nick)) {
      return `:${server} 502 ${nick} :Can't change mode for other users\r\n`;
    }
    // Its own modes: +i, which nothing changes (irssi asks for it at connect; no news to tell).
    return modes === undefined ? `:${server} 221 ${nick} +i\r\n` : "";
  };
}

/** `USERHOST` and `ISON` know the asker alone: who else is on is the hub's to say. */
function whoIsOn(server: string, command: "USERHOST" | "ISON", params: readonly string[]): Answer {
  const asked = command === "ISON" ? params.join(" ").split(" ") : params;
  return (nick, member) => {
    if (!member) return notRegistered(server, nick);
    const self = asked.some((name) => sameNick(name, nick));
    if (command === "ISON") return `:${server} 303 ${nick} :${self ? nick : ""}\r\n`;
    return `:${server} 302 ${nick} :${self ? `${nick}=+${cutUser(nick)}@${server}` : ""}\r\n`;
  };
}
