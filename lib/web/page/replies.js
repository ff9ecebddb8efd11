/**
 * The server's lines, each sent where it belongs: a `PONG` settles the
 * oldest command waiting (see `state.pending`), an `ERR` goes to the command
 * or the login it answers, `MSG`, `DM` and `INFO` become entries. What a
 * reply means for logging in and for accounts is app.js's: it comes in as
 * `session`'s callbacks.
 *
 * @module
 */
import { CLOSING_ERRORS } from "./closing_errors.js";
import { splitFirst } from "./composer_text.js";
import {
  addEntry,
  chatHistory,
  dmHistory,
  markFailed,
  renderOnline,
  showError,
} from "./chat_view.js";
import { nameTag } from "./entries.js";
import { nameKey } from "./name_key.js";
import { isMe, state } from "./page_state.js";
import { REASONS } from "./reasons.js";

/** The `ERR`s a `LOGIN` with or for a password may get. */
const LOGIN_REFUSALS = new Set([
  "password-required",
  "bad-password",
  "unknown-account",
  "login-throttled",
]);
/** The `ERR`s a `REGISTER` may get. */
const REGISTER_REFUSALS = new Set([
  "accounts-off",
  "already-registered",
  "weak-password",
  "login-throttled",
  "login-required",
]);

/** The `ERR`s a `HISTORY` may get, `login-required` behind a refused `LOGIN` included. */
const HISTORY_ERRORS = new Set(["invalid-history", "account-required", "login-required"]);
function onError(reason, session) {
  const head = state.pending[0];
  if (head?.kind === "history" && HISTORY_ERRORS.has(reason)) {
    // A direct conversation refused: the account is gone; nothing to say, nothing to draw.
    if (head.dm !== undefined) dmHistory.settled(head);
    else chatHistory.refused(head, reason, state.loggedIn);
    return;
  }
  if (
    state.loggingIn &&
    (reason === "username-taken" || reason === "invalid-username" ||
      reason === "cluster-unavailable")
  ) {
    session.loginRefused(reason);
    return;
  }
  if (reason === "already-logged-in") {
    state.loggingIn = false;
    return;
  }
  if (state.loggingIn && LOGIN_REFUSALS.has(reason)) {
    session.passwordRefused(reason);
    return;
  }
  if (state.registering !== null && REGISTER_REFUSALS.has(reason)) {
    session.registerRefused(reason);
    return;
  }
  if (CLOSING_ERRORS.has(reason)) {
    state.closeReason = reason;
    return;
  }
  if (head !== undefined && head.kind === "send") {
    if (reason === "user-not-found" && head.to) {
      markFailed(head.entry, `Not delivered: no one called ${head.to} is online.`);
      return;
    }
    if (reason === "line-too-long") {
      markFailed(head.entry, "Not sent: this message is too long.");
      return;
    }
  }
  showError(REASONS[reason] ?? `The server reported an error (${reason}).`);
}

function onInfo(rest) {
  const space = rest.lastIndexOf(" ");
  if (space === -1) return;
  const name = rest.slice(0, space);
  const event = rest.slice(space + 1);
  if (event !== "connected" && event !== "disconnected") return;
  if (isMe(name) && state.loggedIn) return;
  const head = state.pending[0];
  if (head !== undefined && head.kind === "who" && head.users.length > 0) {
    head.after.push([name, event]);
  }
  applyInfo(name, event);
  addEntry(event === "connected" ? "join" : "leave", {
    parts: [nameTag(name), event === "connected" ? " joined" : " left"],
  });
}

function applyInfo(name, event) {
  if (event === "connected") state.online.set(nameKey(name), name);
  else state.online.delete(nameKey(name));
  renderOnline();
}

function onPong() {
  const done = state.pending.shift();
  if (done === undefined) return;
  if (done.kind === "send") {
    done.entry.classList.remove("pending");
    return;
  }
  if (done.kind === "history") {
    if (done.dm !== undefined) dmHistory.settled(done);
    else chatHistory.settled(done);
    return;
  }
  state.online = new Map(done.users.map((name) => [nameKey(name), name]));
  for (const [name, event] of done.after) {
    if (event === "connected") state.online.set(nameKey(name), name);
    else state.online.delete(nameKey(name));
  }
  renderOnline();
}

/**
 * Handles one line from the server. `session` is app.js's: `loggedIn()`,
 * `loginRefused(reason)`, `passwordRefused(reason)`, `registered()` and
 * `registerRefused(reason)`.
 */
export function onLine(line, session) {
  const [word, rest] = splitFirst(line);
  switch (word) {
    case "OK":
      if (rest === "registered" && state.registering !== null) session.registered();
      else if (state.loggingIn) session.loggedIn();
      break;
    case "ERR":
      onError(rest, session);
      break;
    case "HIST": {
      const head = state.pending[0];
      if (head?.kind === "history") {
        (head.dm === undefined ? chatHistory : dmHistory).line(head, rest);
      }
      break;
    }
    case "USER": {
      const head = state.pending[0];
      if (head !== undefined && head.kind === "who") head.users.push(rest);
      break;
    }
    case "MSG": {
      const [from, text] = splitFirst(rest);
      addEntry("msg", { from, text });
      break;
    }
    case "DM": {
      const [from, text] = splitFirst(rest);
      if (state.registered) dmHistory.remember(state.name, from);
      addEntry("dm-in", { from, text });
      break;
    }
    case "INFO":
      onInfo(rest);
      break;
    case "PONG":
      onPong();
      break;
    default:
      // A line this page does not know: a later version of the protocol.
      break;
  }
}
