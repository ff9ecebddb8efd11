/**
 * What the page says for each `ERR` reason of the chat protocol
 * (docs/protocol.md), in words a reader acts on.
 *
 * @module
 */

/** The longest name the server accepts, in code points. */
export const MAX_NAME_CHARS = 32;

/** The password rule of version 3's accounts, as the page tells it. */
export const PASSWORD_RULE = "A password is 8 to 128 characters, without spaces.";

/** Each `ERR` reason, in words. */
export const REASONS = {
  "username-taken": "That name is taken. Choose another one.",
  "invalid-username": `A name is 1 to ${MAX_NAME_CHARS} characters, ` +
    "without spaces or invisible characters.",
  "already-logged-in": "You are already in the chat.",
  "login-required": "Join the chat first: choose a name.",
  "user-not-found": "No one by that name is online.",
  "line-too-long": "That message is too long to send.",
  "cluster-unavailable": "The chat cannot check names right now. Trying again…",
  "idle-timeout": "The server closed the connection after a long silence.",
  "slow-consumer": "The connection could not keep up with the chat, so the server closed it.",
  "server-shutdown": "The server is restarting.",
  "server-full": "The server is full right now.",
  "too-many-connections": "There are too many connections from your network.",
  "excess-flood": "Messages were sent too quickly, so the server closed the connection.",
  "session-replaced": "This name was signed in elsewhere, so this page went offline. " +
    "Press Send to sign in here again.",
  "bad-password": "That password is not right. Try again.",
  "login-throttled": "Too many tries, or the server is busy: wait a few seconds and try again.",
  "weak-password": `That password cannot be used. ${PASSWORD_RULE}`,
  "already-registered": "This name is already kept with a password.",
  "unknown-account": "There is no account by that name: it was deleted, or the name is mistyped.",
  "accounts-off": "This server keeps no accounts, so a name cannot be kept here.",
};
