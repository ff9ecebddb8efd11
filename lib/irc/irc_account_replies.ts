/**
 * How the hub's account replies read on IRC in each phase of a client: the
 * wire of a client in the middle of SASL (`900`/`903` for a login, `904`
 * for any failure), the wire that ends registration after SASL (the welcome
 * for an `alreadyLoggedIn`, SASL's login having come first), and the wire
 * of a command sent to NickServ (its NOTICEs). The door switches a client's
 * wire in the hub's turn, around the command whose replies these are. Pure.
 *
 * @module
 */
import type { Reply } from "../wire.ts";
import { nickOf } from "./irc_nick.ts";

/** The words of every reply, for the client known as `to` (undefined before login). */
export type ReplyWords = Record<
  Reply,
  (to: string | undefined, detail: string | undefined) => string
>;

/** Wire bit, beyond the capabilities: the door sent the login an `AUTHENTICATE PLAIN` carried. */
export const SASL_PHASE = 128;
/** Wire bit: the door sent registration's login after a SASL try, which may already have logged in. */
export const REGISTER_PHASE = 256;
/** Wire bit: the door sent a command given to NickServ. */
export const NICKSERV_PHASE = 512;
/** Every phase bit. */
export const PHASES = SASL_PHASE | REGISTER_PHASE | NICKSERV_PHASE;

/** A NOTICE from NickServ to `nick`. */
export function nickServLine(nick: string, text: string): string {
  return `:NickServ!NickServ@services NOTICE ${nick} :${text}\r\n`;
}

function nickServNotice(to: string | undefined, text: string): string {
  return nickServLine(to === undefined ? "*" : nickOf(to), text);
}

/**
 * The replies that read otherwise in `phase` (one of the phase bits), over
 * `base`; `source` is `nick!user@server` for a name.
 */
export function phaseReplies(
  server: string,
  phase: number,
  base: ReplyWords,
  source: (name: string) => string,
): ReplyWords {
  const target = (to: string | undefined) => to === undefined ? "*" : nickOf(to);
  const failed = (to: string | undefined) =>
    `:${server} 904 ${target(to)} :SASL authentication failed\r\n`;
  switch (phase) {
    case SASL_PHASE:
      return {
        ...base,
        ok: (to) => {
          const nick = target(to);
          return `:${server} 900 ${nick} ${
            source(to!)
          } ${nick} :You are now logged in as ${nick}\r\n` +
            `:${server} 903 ${nick} :SASL authentication successful\r\n`;
        },
        alreadyLoggedIn: (to) =>
          `:${server} 907 ${target(to)} :You have already authenticated using SASL\r\n`,
        badPassword: failed,
        unknownAccount: failed,
        invalidUsername: failed,
        usernameTaken: failed,
        passwordRequired: failed,
        loginThrottled: failed,
        clusterUnavailable: failed,
      };
    case REGISTER_PHASE:
      // SASL logged the client in already: registration ends with the welcome all the same.
      return { ...base, alreadyLoggedIn: base.ok };
    case NICKSERV_PHASE: {
      const say = (text: string) => (to: string | undefined) => nickServNotice(to, text);
      return {
        ...base,
        registered: (to) =>
          nickServNotice(to, `${target(to)} is registered to you now; log in with SASL or PASS`),
        passwordChanged: say("Password changed"),
        unregistered: (to) =>
          nickServNotice(to, `${target(to)} is no longer registered; you are a guest now`),
        accountsOff: say("Accounts are off on this server"),
        alreadyRegistered: (to) => nickServNotice(to, `${target(to)} is already registered`),
        weakPassword: say("Passwords are 8 to 128 characters, without spaces"),
        badPassword: say("Wrong password"),
        loginThrottled: say("Too many tries; try again later"),
        accountRequired: say("You are not logged in to an account"),
      };
    }
    default:
      return base;
  }
}
