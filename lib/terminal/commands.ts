/**
 * What the user typed, as an action: a slash command or a message to
 * everyone. Pure.
 *
 * @module
 */
import type { AccountCommand } from "./account_prompts.ts";

/** What one typed line asks for. */
export type Action =
  | { readonly kind: "say"; readonly text: string }
  | { readonly kind: "dm"; readonly to: string; readonly text: string }
  | { readonly kind: "who" }
  /** `/history [n]`: the latest `limit` chat messages again. */
  | { readonly kind: "history"; readonly limit: number }
  /** `/register`, `/password`, `/unregister`: the client asks for the passwords. */
  | { readonly kind: "account"; readonly command: AccountCommand }
  | { readonly kind: "quit" }
  | { readonly kind: "help" }
  /** A command used wrongly: show `text`, send nothing. */
  | { readonly kind: "misuse"; readonly text: string }
  /** A blank line: nothing to do. */
  | { readonly kind: "none" };

/** Chat messages shown on connect, and by `/history` without a count. */
export const DEFAULT_HISTORY = 20;

/** The most `/history` asks for (the server's cap); a larger count asks for this many. */
export const MAX_HISTORY = 1000;

/** The commands, for `/help`: one line each. */
export const HELP: readonly string[] = [
  "/msg <name> <text>  send a private message to one user",
  "/who                list who is online",
  `/history [n]        show the latest n messages again (default ${DEFAULT_HISTORY}, at most ${MAX_HISTORY})`,
  `                    as [HH:MM] <name> text (local time); the latest ${DEFAULT_HISTORY} show on connect`,
  "/register           make your name an account: asks for a new password, twice",
  "/password           change the account's password: asks for the current one, then the new",
  "/unregister         delete your account (you stay, as a guest): asks for its password",
  "                    passwords are typed at a prompt that shows nothing",
  "/quit               leave (also Ctrl-C, or Ctrl-D on an empty line)",
  "/help               this list",
  "Anything else goes to everyone; start it with // to send a line that begins with /.",
];

const NONE: Action = { kind: "none" };

/** Reads one typed line (without its end). */
export function parseInput(line: string): Action {
  // The server ignores a text of spaces; so does the client, and tells nobody.
  if (line.trim() === "") return NONE;
  if (!line.startsWith("/")) return { kind: "say", text: line };
  if (line.startsWith("//")) return { kind: "say", text: line.slice(1) };
  const space = line.indexOf(" ");
  const command = (space === -1 ? line : line.slice(0, space)).toLowerCase();
  const rest = space === -1 ? "" : line.slice(space + 1);
  switch (command) {
    case "/msg": {
      const to = rest.trimStart().split(" ", 1)[0] ?? "";
      const text = rest.trimStart().slice(to.length + 1);
      if (to === "" || text.trim() === "") {
        return { kind: "misuse", text: "Usage: /msg <name> <text>" };
      }
      return { kind: "dm", to, text };
    }
    case "/who":
      return { kind: "who" };
    case "/history":
      return historyAction(rest.trim());
    case "/register":
    case "/password":
    case "/unregister":
      // A password typed on the line would be on screen: only the prompt takes it, and the
      // words typed after the command are not repeated back.
      if (rest.trim() !== "") {
        return {
          kind: "misuse",
          text:
            `Usage: ${command}, alone; the client then asks for the password. Nothing was sent.`,
        };
      }
      return { kind: "account", command: command.slice(1) as AccountCommand };
    case "/quit":
      return { kind: "quit" };
    case "/help":
      return { kind: "help" };
    default:
      return {
        kind: "misuse",
        text:
          `Unknown command ${command}; /help lists the commands (// sends a line starting with /).`,
      };
  }
}

const HISTORY_USAGE: Action = {
  kind: "misuse",
  text: `Usage: /history [n], n a whole number from 1 to ${MAX_HISTORY}`,
};

/** `/history`'s count: none for the default, a whole number from 1 (more than the cap asks for the cap). */
function historyAction(count: string): Action {
  if (count === "") return { kind: "history", limit: DEFAULT_HISTORY };
  if (!/^\d+$/.test(count) || Number(count) < 1) return HISTORY_USAGE;
  return { kind: "history", limit: Math.min(Number(count), MAX_HISTORY) };
}
