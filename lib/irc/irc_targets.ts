/**
 * The IRC door's commands about targets, once registered: `PRIVMSG` and
 * `NOTICE` (to the channel, to nicks, or to NickServ, whose text goes no
 * further than the accounts), `NAMES` and `WHO`. Each puts hub commands and
 * answers made here on an {@linkcode IrcOut}, in order.
 *
 * @module
 */
import type { Command } from "../protocol.ts";
import { type Answer, memberNumeric } from "./irc_answers.ts";
import { nameOfNick, sameNick } from "./irc_nick.ts";
import { NICKSERV } from "./irc_nickserv.ts";
import { chatText, shown } from "./irc_text.ts";
import { type IrcIdentity, MAX_TARGETS, NICKLEN } from "./irc_wire.ts";

/** Where a door's handler puts what a line comes to, in order. */
export interface IrcOut {
  /** The server's identity. */
  readonly identity: IrcIdentity;
  /** A command for the hub. */
  emit(command: Command): void;
  /** Lines answered here, in their turn. */
  answer(answer: Answer): void;
  /** Text sent to NickServ (never relayed). */
  nickServ(text: string): void;
}

/** Same channel name, ASCII case aside (`CASEMAPPING=ascii`). */
export function isOurs(out: IrcOut, channel: string): boolean {
  return sameNick(channel, out.identity.channel);
}

/** A numeric to a member (451 if the hub refused its login). */
export function sayMember(out: IrcOut, code: string, rest: string): void {
  out.answer(memberNumeric(out.identity.server, code, rest));
}

/** `PRIVMSG` or `NOTICE` (`notice`) with `params`, from a client that has `joined` the channel or not. */
export function message(
  out: IrcOut,
  notice: boolean,
  params: readonly string[],
  joined: boolean,
): void {
  const targets = params[0];
  if (targets === undefined || targets === "") {
    return fail(out, notice, "411", `:No recipient given (${notice ? "NOTICE" : "PRIVMSG"})`);
  }
  const raw = params[1];
  if (raw === undefined || raw === "") return fail(out, notice, "412", ":No text to send");
  const list = targets.split(",");
  if (list.some((target) => sameNick(target, NICKSERV))) {
    // A password goes to NickServ alone; a NOTICE to it is dropped, as services ignore them.
    if (list.length > 1) return fail(out, notice, "407", `${NICKSERV} :Too many targets`);
    return notice ? undefined : out.nickServ(raw);
  }
  const text = chatText(raw);
  // Other CTCP messages are dropped rather than relayed as replacement characters.
  if (text === undefined) return;
  for (let i = 0; i < list.length; i++) {
    if (i === MAX_TARGETS) {
      return fail(out, notice, "407", `${shown(list[i]!)} :Too many targets`);
    }
    messageTo(out, list[i]!, text, notice, joined);
  }
}

function messageTo(out: IrcOut, target: string, text: string, notice: boolean, joined: boolean) {
  if (isOurs(out, target)) {
    if (joined) return out.emit({ kind: "msg", text, notice });
    return fail(out, notice, "404", `${out.identity.channel} :Cannot send to channel`);
  }
  // Any other channel, or what is no nick, is nobody: only a name's own nick reaches it.
  const name = target.length <= NICKLEN ? nameOfNick(target) : undefined;
  if (name === undefined) {
    return fail(out, notice, "401", `${shown(target)} :No such nick/channel`);
  }
  out.emit({ kind: "dm", target: name, text, notice });
}

/** A `NOTICE` is never answered, not even with an error. */
function fail(out: IrcOut, notice: boolean, code: string, rest: string): void {
  if (!notice) sayMember(out, code, rest);
}

/** `NAMES [<channels>]`. */
export function names(out: IrcOut, channels: string | undefined): void {
  if (channels === undefined || channels === "") {
    return out.emit({ kind: "who", listing: "names" });
  }
  let listed = false;
  for (const channel of channels.split(",")) {
    if (!isOurs(out, channel)) sayMember(out, "366", `${shown(channel)} :End of /NAMES list.`);
    else if (!listed) {
      listed = true;
      out.emit({ kind: "who", listing: "names" });
    }
  }
}

/** `WHO [<mask>]`. */
export function who(out: IrcOut, mask: string | undefined): void {
  // Another channel has nobody; a nick is that user alone; our channel, `*` or none, everyone.
  if (mask !== undefined && mask.startsWith("#") && !isOurs(out, mask)) {
    return sayMember(out, "315", `${shown(mask)} :End of /WHO list.`);
  }
  const everyone = mask === undefined || mask === "*" || mask === "0" || isOurs(out, mask);
  out.emit(
    everyone ? { kind: "who", listing: "who" } : { kind: "who", listing: "who", about: mask },
  );
}
