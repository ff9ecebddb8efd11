/**
 * What the page draws from the state: the conversation's entries, the
 * Online list, the status line, and the name box and buttons. The two
 * histories live here too, as the conversation's earlier parts.
 *
 * @module
 */
import { DirectHistory } from "./dm_history.js";
import { element, makeEntry, regroup } from "./entries.js";
import { ConversationHistory } from "./history.js";
import { isMe, sendLine, state, ui } from "./page_state.js";
import { StatusLine } from "./status_line.js";

/** Sends a history request's line and a `PING` after it; its reply goes to `request`. */
function askHistory(line, request) {
  state.pending.push(request);
  sendLine(line);
  sendLine("PING");
}

/** The conversation's earlier messages (history.js). */
export const chatHistory = new ConversationHistory(ui.log, { ask: askHistory, isMe, showError });
/** An account's direct conversations after a reload (dm_history.js). */
export const dmHistory = new DirectHistory(ui.log, { ask: askHistory, isMe });

/**
 * Adds one entry to the end of the conversation (see entries.js's `makeEntry`),
 * following it if the reader was at the end or sent it.
 */
export function addEntry(kind, content = {}) {
  const log = ui.log;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  const entry = makeEntry(kind, content);
  log.append(entry);
  regroup(entry);
  chatHistory.trim(atBottom);
  if (atBottom || kind === "own" || kind === "dm-out") log.scrollTop = log.scrollHeight;
  if (document.hidden && (kind === "msg" || kind === "dm-in")) {
    state.unread += 1;
    document.title = `(${state.unread}) Chat`;
  }
  return entry;
}

/** Adds a note: something the page says. */
export function note(text) {
  return addEntry("note", { text });
}

/** Adds an error: something that went wrong, in words. */
export function showError(text) {
  return addEntry("error", { text });
}

/** Marks a sent message as not delivered, with why. */
export function markFailed(entry, why) {
  entry.classList.remove("pending");
  entry.classList.add("failed");
  entry.append(element("span", "why", why));
}

/** Draws the Online list from `state.online`, sorted as a reader looks for a name. */
export function renderOnline() {
  const names = [...state.online.values()].sort((a, b) =>
    a.localeCompare(b, undefined, { sensitivity: "base" })
  );
  ui.online.replaceChildren(...names.map((name) => element("li", isMe(name) ? "me" : "", name)));
  ui.onlineCount.textContent = names.length > 0 ? String(names.length) : "";
}

const statusLine = new StatusLine(ui);

/** Sets and shows the connection's phase (see `state.phase`). */
export function setPhase(phase) {
  state.phase = phase;
  statusLine.show(phase, state.retryAt);
}

/** Shows whether the name box is a choice still to make or the name in use. */
export function renderSession() {
  const named = state.name !== "";
  ui.name.readOnly = named;
  ui.send.textContent = named ? "Send" : "Join";
  ui.leave.hidden = !named;
  ui.message.placeholder = named
    ? "Message everyone, or /msg name text"
    : "Choose a name, then write here";
  document.body.classList.toggle("joined", state.loggedIn);
}
