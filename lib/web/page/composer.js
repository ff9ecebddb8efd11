/**
 * The message box: sending what it holds as `MSG` or `DM` (see
 * composer_text.js for what it asks), and the arrow keys that bring back
 * lines sent before.
 *
 * @module
 */
import { addEntry, dmHistory, note, showError } from "./chat_view.js";
import { asRelayed, readComposed } from "./composer_text.js";
import { sendLine, state, ui } from "./page_state.js";

/** Lines sent, kept for the arrow keys. */
const MAX_RECALLED = 100;

function remember(raw) {
  if (state.sentLines.at(-1) !== raw) state.sentLines.push(raw);
  if (state.sentLines.length > MAX_RECALLED) state.sentLines.shift();
  state.recalledAt = state.sentLines.length;
}

/** Sends `MSG` or `DM` and shows it as pending until the server has handled it. */
function deliver(to, text) {
  const entry = to === ""
    ? addEntry("own", { from: state.name, text: asRelayed(text) })
    : addEntry("dm-out", { from: to, text: asRelayed(text) });
  entry.classList.add("pending");
  if (to !== "" && state.registered) dmHistory.remember(state.name, to);
  state.pending.push({ kind: "send", entry, to });
  sendLine(to === "" ? `MSG ${text}` : `DM ${to} ${text}`);
  sendLine("PING");
}

/** Sends what the message box holds, once logged in; a line the page cannot send stays in it. */
export function sendMessage() {
  const raw = ui.message.value;
  if (raw.trim() === "") return;
  if (!state.loggedIn) {
    note("Not connected yet: your message stays in the box until you can send it.");
    return;
  }
  const composed = readComposed(raw);
  if ("error" in composed) {
    showError(composed.error);
    return;
  }
  if ("help" in composed) {
    note(composed.help);
    ui.message.value = "";
    return;
  }
  remember(raw);
  ui.message.value = "";
  deliver(composed.to, composed.text);
}

/** Arrow up and down in the message box: the lines sent before, oldest at the top. */
export function recallSent(event) {
  if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
  if (event.isComposing || state.sentLines.length === 0) return;
  const step = event.key === "ArrowUp" ? -1 : 1;
  const at = Math.min(state.sentLines.length, Math.max(0, state.recalledAt + step));
  if (at === state.recalledAt) return;
  event.preventDefault();
  state.recalledAt = at;
  ui.message.value = state.sentLines[at] ?? "";
}
