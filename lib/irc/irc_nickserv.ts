/**
 * What a `PRIVMSG NickServ :<text>` asks: `REGISTER <password>` (the
 * current nick becomes an account), `PASSWD <old> <new>`, `DROP
 * <password>` (also `UNREGISTER`), `IDENTIFY` (answered: log in when
 * connecting, with SASL or PASS) and `HELP`. The text is never relayed and
 * never logged: it becomes a hub command or NickServ's NOTICE. Pure.
 *
 * @module
 */
import type { Command } from "../protocol.ts";
import type { Answer } from "./irc_answers.ts";
import { nickServLine } from "./irc_account_replies.ts";

/** The nick of the accounts' service, as IRC users know it. */
export const NICKSERV = "NickServ";

/** A command for the hub, or NickServ's answer made here. */
export type NickServWork =
  | { readonly command: Command }
  | { readonly answer: Answer };

const HELP = [
  "REGISTER <password>: your nick becomes your account",
  "PASSWD <old> <new>: changes your account's password",
  "DROP <password>: deletes your account; you stay on as a guest",
  "Log in when you connect: SASL PLAIN, or PASS <password> with your nick",
];

/** What `text`, sent to NickServ, comes to. */
export function nickServ(text: string): NickServWork {
  const words = text.trim().split(/ +/);
  const verb = words[0]!.toUpperCase();
  const [first, second] = [words[1], words[2]];
  switch (verb) {
    case "REGISTER":
      // Other services take an email after the password: not needed here, and not kept.
      if (first === undefined) return say("Syntax: REGISTER <password>");
      return { command: { kind: "register", password: first } };
    case "PASSWD":
      if (first === undefined || second === undefined) return say("Syntax: PASSWD <old> <new>");
      return { command: { kind: "password", old: first, next: words.slice(2).join(" ") } };
    case "DROP":
    case "UNREGISTER":
      if (first === undefined) return say(`Syntax: ${verb} <password>`);
      return { command: { kind: "unregister", password: first } };
    case "IDENTIFY":
      return say("Log in when you connect: SASL PLAIN, or PASS <password> with your nick");
    case "HELP":
      return { answer: (nick) => HELP.map((line) => nickServLine(nick, line)).join("") };
    default:
      return say("Unknown command; try HELP");
  }
}

function say(text: string): NickServWork {
  return { answer: (nick) => nickServLine(nick, text) };
}
