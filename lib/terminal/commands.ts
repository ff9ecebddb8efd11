/**
 * What the user typed, as an action: a slash command or a message to
 * everyone. Pure.
 *
 * @module
 */

/** What one typed line asks for. */
export type Action =
  | { readonly kind: "say"; readonly text: string }
  | { readonly kind: "dm"; readonly to: string; readonly text: string }
  | { readonly kind: "who" }
  | { readonly kind: "quit" }
  | { readonly kind: "help" }
  /** A command used wrongly: show `text`, send nothing. */
  | { readonly kind: "misuse"; readonly text: string }
  /** A blank line: nothing to do. */
  | { readonly kind: "none" };

/** The commands, for `/help`: one line each. */
export const HELP: readonly string[] = [
  "/msg <name> <text>  send a private message to one user",
  "/who                list who is online",
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
