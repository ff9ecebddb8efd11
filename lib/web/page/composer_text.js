/**
 * What the message box's text asks for: a message to everyone, a direct
 * message (`/msg name text`), help, or a mistake to explain. Pure: app.js
 * sends and shows.
 *
 * @module
 */

/** What the page can do from the message box, in words. */
export const HELP = "Write a message and press Enter to send it to everyone. " +
  "/msg name text sends a direct message only that person sees. " +
  "Start a message with // to send one that begins with /.";

/** Control characters other than TAB: the server turns each into U+FFFD. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** Splits `text` at its first space. */
export function splitFirst(text) {
  const space = text.indexOf(" ");
  return space === -1 ? [text, ""] : [text.slice(0, space), text.slice(space + 1)];
}

/** The message box's text, as the server will relay it. */
export function asRelayed(text) {
  return text.replace(CONTROL, "\uFFFD");
}

/**
 * Reads `raw` (not blank): `{ to, text }` to send (`to` is "" for everyone),
 * `{ help }` to show, or `{ error }` to explain.
 */
export function readComposed(raw) {
  if (raw.startsWith("//")) return { to: "", text: raw.slice(1) };
  if (!raw.startsWith("/")) return { to: "", text: raw };
  const [command, rest] = splitFirst(raw);
  switch (command.toLowerCase()) {
    case "/msg": {
      const [target, body] = splitFirst(rest.trimStart());
      if (target === "" || body.trim() === "") {
        return { error: "To send a direct message, write /msg, a name, and your message." };
      }
      return { to: target, text: body };
    }
    case "/help":
      return { help: HELP };
    case "/me":
      return { to: "", text: raw };
    default:
      return { error: `There is no command ${command}. ${HELP}` };
  }
}
