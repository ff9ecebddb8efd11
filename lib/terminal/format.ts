/**
 * What the user sees: chat events as one line each, in words, with names
 * coloured when colour is wanted. Every string that came from the network is
 * neutralised here, the one place lines are made for the screen. Pure.
 *
 * @module
 */
import { nameHash } from "../web/page/name_key.js";
import { neutralize } from "./text.ts";

/** Something to show the user: from the server, or the client's own doing. */
export type ChatEvent =
  /** A message to everyone; `own` when this client sent it. */
  | {
    readonly kind: "message";
    readonly from: string;
    readonly text: string;
    readonly own: boolean;
  }
  /** A message from the history, sent at `time` (`HH:MM`, local): shown dimmed. */
  | {
    readonly kind: "earlier";
    readonly time: string;
    readonly from: string;
    readonly text: string;
  }
  | { readonly kind: "dm-in"; readonly from: string; readonly text: string }
  /** A DM this client sent, once the server took it. */
  | { readonly kind: "dm-out"; readonly to: string; readonly text: string }
  | { readonly kind: "joined"; readonly name: string }
  | { readonly kind: "left"; readonly name: string }
  /** The answer to `/who`. */
  | { readonly kind: "online"; readonly names: readonly string[] }
  /** An `ERR` from the server; `target` names the user a failed DM was for. */
  | { readonly kind: "error"; readonly code: string; readonly target?: string }
  /** A problem the client itself reports (a bad command, a lost connection). */
  | { readonly kind: "warning"; readonly text: string }
  /** Information from the client (connection state, help). */
  | { readonly kind: "notice"; readonly text: string }
  /** A server line this client does not know, shown as it came. */
  | { readonly kind: "unknown"; readonly line: string };

/** Each `ERR` code in words a person understands. */
const ERROR_WORDS: Readonly<Record<string, string>> = {
  "username-taken": "That name is taken: someone online is using it.",
  "invalid-username":
    "That name is not allowed: use 1 to 32 characters, without spaces or control characters.",
  "already-logged-in": "You are already logged in.",
  "login-required": "You are not logged in yet; that line was not sent.",
  "user-not-found": "No such user is online; your message was not delivered.",
  "line-too-long": "That line was too long for the server; it was not delivered.",
  "cluster-unavailable":
    "The server cannot reach the rest of its cluster right now; users on other servers are out of reach.",
  "idle-timeout": "The server closed the connection: nothing was received from you for too long.",
  "slow-consumer": "The server dropped the connection: this client was not reading fast enough.",
  "server-shutdown": "The server is shutting down.",
  "server-full": "The server is full.",
  "too-many-connections": "Too many connections from your address.",
  "excess-flood": "The server dropped the connection: you sent too much too fast.",
  "invalid-history": "The server did not understand that history request.",
  "account-required": "That needs an account: log in to one first.",
  "password-required": "That name is an account: its password is needed.",
  "bad-password": "Wrong password.",
  "unknown-account": "There is no account of that name.",
  "login-throttled": "Too many failed logins: wait 10 seconds, then try again.",
  "weak-password": "The server refused that password: use 8 to 128 characters, without spaces.",
  "already-registered": "That name is already an account.",
  "accounts-off": "This server keeps no accounts.",
  "session-replaced":
    "Another session logged in to this account with its password; this one was closed.",
};

/** An `ERR` code in words; `target` names the user of a DM that could not be delivered. */
export function describeError(code: string, target?: string): string {
  if (code === "user-not-found" && target !== undefined) {
    return `${target} is not online; your message was not delivered.`;
  }
  return ERROR_WORDS[code] ?? `The server says: ${code}`;
}

/** True for the `ERR` codes this client knows how to say. */
export function isKnownError(code: string): boolean {
  return Object.hasOwn(ERROR_WORDS, code);
}

// Foreground colours that read on both dark and light backgrounds: no black,
// white or grey, which vanish on one of them.
const NAME_COLOURS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96] as const;

/**
 * The SGR colour for `name`: the same for a name on every screen and every
 * run, in any case (the page picks its hue by the same hash).
 */
export function nameColour(name: string): number {
  return NAME_COLOURS[nameHash(name) % NAME_COLOURS.length]!;
}

/** How lines are made: with colour sequences (a colour terminal) or as plain text. */
export interface Style {
  readonly colour: boolean;
}

function sgr(style: Style, codes: string, text: string): string {
  return style.colour ? `\x1b[${codes}m${text}\x1b[0m` : text;
}

function name(style: Style, raw: string, own = false): string {
  const safe = neutralize(raw);
  return sgr(style, own ? `1;${nameColour(raw)}` : String(nameColour(raw)), safe);
}

/** `HH:MM` of the instant `ms` (since the Unix epoch) on a clock `offsetMinutes` behind UTC (`Date`'s sign). */
export function clockTime(ms: number, offsetMinutes: number): string {
  const minutes = Math.floor((ms - offsetMinutes * 60_000) / 60_000);
  const ofDay = ((minutes % 1440) + 1440) % 1440;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(ofDay / 60))}:${two(ofDay % 60)}`;
}

/** `HH:MM` of the instant `ms` in this machine's time zone (`TZ`). */
export function localTime(ms: number): string {
  return clockTime(ms, new Date(ms).getTimezoneOffset());
}

/**
 * One event as one line, without its line end. Plain style makes lines a
 * script can match: `<a> hi`, `[12:34] <a> hi` for a message from the history,
 * `[DM from a] hi`, `[DM to a] hi`, `* a joined`,
 * `* a left`, `* online: a, b`, `! words` for errors, `* words` for notices.
 */
export function formatEvent(event: ChatEvent, style: Style): string {
  switch (event.kind) {
    case "message":
      return `<${name(style, event.from, event.own)}> ${neutralize(event.text)}`;
    case "earlier": {
      // Dim throughout; the name keeps its colour (39 ends the colour, not the dimming).
      const from = style.colour
        ? `\x1b[${nameColour(event.from)}m${neutralize(event.from)}\x1b[39m`
        : neutralize(event.from);
      return sgr(style, "2", `[${event.time}] <${from}> ${neutralize(event.text)}`);
    }
    case "dm-in":
      return `${sgr(style, "1", "[DM from ")}${name(style, event.from)}${sgr(style, "1", "]")} ${
        neutralize(event.text)
      }`;
    case "dm-out":
      return `${sgr(style, "2", "[DM to ")}${name(style, event.to)}${sgr(style, "2", "]")} ${
        neutralize(event.text)
      }`;
    case "joined":
      return `${sgr(style, "2", "*")} ${name(style, event.name)} ${sgr(style, "2", "joined")}`;
    case "left":
      return `${sgr(style, "2", "*")} ${name(style, event.name)} ${sgr(style, "2", "left")}`;
    case "online":
      return `${sgr(style, "2", "* online:")} ${event.names.map((n) => name(style, n)).join(", ")}`;
    case "error":
      return sgr(style, "31", `! ${neutralize(describeError(event.code, event.target))}`);
    case "warning":
      return sgr(style, "31", `! ${neutralize(event.text)}`);
    case "notice":
      return sgr(style, "2", `* ${neutralize(event.text)}`);
    case "unknown":
      return sgr(style, "2", `* server: ${neutralize(event.line)}`);
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}
