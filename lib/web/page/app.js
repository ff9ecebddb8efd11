/**
 * The browser chat client: one WebSocket to `/ws` on the page's own host,
 * each text frame one line of the chat protocol (docs/protocol.md). It logs
 * in, asks for join notices (`WATCH`), keeps the Online list from `WHO` and
 * `INFO`, and reconnects with backoff, logging in again under the same name.
 *
 * Every reply comes back in the order its command was sent, so each `MSG`,
 * `DM`, `WHO` and `HISTORY` is followed by a `PING`: its `PONG` says the
 * server has handled the command (a sent message stops looking pending, a
 * `WHO` list is complete), and an `ERR` before it belongs to that command.
 * The conversation's earlier messages are history.js's; the direct ones an
 * account sees again after a reload, dm_history.js's.
 *
 * This module owns the session: the socket and its reconnects, logging in,
 * the account's steps, joining and leaving, and the page's wiring. The
 * shared state is page_state.js's, the drawing chat_view.js's, the server's
 * lines are sorted by replies.js, and the message box is composer.js's.
 *
 * User text only ever reaches the page through `textContent`.
 *
 * @module
 */
import { AccountForms } from "./account_forms.js";
import {
  addEntry,
  chatHistory,
  dmHistory,
  markFailed,
  note,
  renderOnline,
  renderSession,
  setPhase,
  showError,
} from "./chat_view.js";
import { recallSent, sendMessage } from "./composer.js";
import { nameTag } from "./entries.js";
import { nameKey } from "./name_key.js";
import { isOpen, sendLine, state, STORAGE_KEY, ui } from "./page_state.js";
import { MAX_NAME_CHARS, REASONS } from "./reasons.js";
import { onLine } from "./replies.js";

/** First reconnect delay; it doubles after each failed attempt. */
const RETRY_BASE_MS = 1000;
/** Longest wait between two reconnect attempts. */
const RETRY_MAX_MS = 30_000;
/** A connection that stayed open this long starts the backoff over. */
const STABLE_MS = 10_000;
/** How long a rejoin waits for the server to give up the old session's name. */
const NAME_WAIT_MS = 10_000;
/** Between two `LOGIN`s while the old session's name is being given up. */
const NAME_RETRY_MS = 1000;
/** Between two `LOGIN`s while the cluster cannot check names. */
const CLUSTER_RETRY_MS = 3000;

// ------------------------------------------------------------ the socket

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

function clearTimers() {
  clearTimeout(state.retryTimer);
  clearTimeout(state.loginTimer);
  state.retryTimer = 0;
  state.loginTimer = 0;
}

function connect() {
  clearTimers();
  state.leaving = false;
  state.replaced = false;
  setPhase("connecting");
  const socket = new WebSocket(socketUrl());
  state.socket = socket;
  socket.addEventListener("open", () => {
    if (socket !== state.socket) return;
    state.openedAt = Date.now();
    state.lossReported = false;
    setPhase("connected");
    if (state.name !== "") login();
  });
  socket.addEventListener("message", (event) => {
    if (socket === state.socket && typeof event.data === "string") onLine(event.data, session);
  });
  socket.addEventListener("close", () => {
    if (socket === state.socket) onClosed();
  });
}

function onClosed() {
  const wasLoggedIn = state.loggedIn;
  state.socket = null;
  state.loggedIn = false;
  state.loggingIn = false;
  clearTimers();
  for (const waiting of state.pending) {
    if (waiting.kind === "send") markFailed(waiting.entry, "Not sent: the connection was lost.");
  }
  state.pending = [];
  state.online.clear();
  renderOnline();
  chatHistory.reset();
  if (wasLoggedIn) {
    state.rejoin = true;
    state.rejoinRefusedAt = 0;
  }
  const reason = state.closeReason;
  state.closeReason = "";
  if (state.registering !== null) {
    state.registering = null;
    accountForms.keepFailed("The connection was lost before the name was kept. Try again.");
  }
  offerKeep();
  if (reason === "session-replaced") {
    // Reconnecting would take the name back from the other window, which would take it back…
    state.replaced = true;
    state.lossReported = true;
    showError(REASONS[reason]);
    setPhase("offline");
    renderSession();
    return;
  }

  if (state.leaving) {
    state.leaving = false;
    setPhase("offline");
    renderSession();
    return;
  }
  const wasOpen = state.openedAt !== 0;
  if (wasOpen && Date.now() - state.openedAt > STABLE_MS) state.attempts = 0;
  state.openedAt = 0;
  if (!state.lossReported) {
    state.lossReported = true;
    const why = REASONS[reason] ??
      (wasOpen ? "The connection to the server was lost." : "The server cannot be reached.");
    if (reason) showError(`${why} Reconnecting…`);
    else note(`${why} Reconnecting…`);
  }
  renderSession();
  if (navigator.onLine === false) {
    setPhase("offline");
    return;
  }
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** state.attempts);
  state.attempts += 1;
  const delay = ceiling / 2 + Math.random() * ceiling / 2;
  state.retryAt = Date.now() + delay;
  state.retryTimer = setTimeout(connect, delay);
  setPhase("waiting");
}

// ------------------------------------------------------- the conversation

function login() {
  clearTimeout(state.loginTimer);
  state.loginTimer = 0;
  if (!isOpen() || state.name === "" || state.loggedIn) return;
  state.loggingIn = true;
  renderSession();
  sendLine(state.password === "" ? `LOGIN ${state.name}` : `LOGIN ${state.name} ${state.password}`);
  chatHistory.askLatest();
}

function requestWho() {
  state.pending.push({ kind: "who", users: [], after: [] });
  sendLine("WHO");
  sendLine("PING");
}

function onLoggedIn() {
  const rejoined = state.rejoin;
  state.loggedIn = true;
  state.loggingIn = false;
  state.rejoin = false;
  state.rejoinRefusedAt = 0;
  state.attempts = 0;
  state.registered = state.password !== "";
  // The name only: the password stays in memory (see `state.password`).
  sessionStorage.setItem(STORAGE_KEY, state.name);
  accountForms.hideSignIn();
  offerKeep();
  chatHistory.loggedIn();
  if (state.registered) dmHistory.loggedIn(state.name);
  sendLine("WATCH");
  state.online.set(nameKey(state.name), state.name);
  renderOnline();
  requestWho();
  renderSession();
  addEntry("note", {
    parts: [rejoined ? "Back in the chat as " : "You joined as ", nameTag(state.name), "."],
  });
  if (document.activeElement === ui.name || document.activeElement === ui.send) {
    ui.message.focus();
  }
  if (state.sendOnJoin) {
    state.sendOnJoin = false;
    sendMessage();
  }
}

/** Gives up the name: the user chooses another. */
function askForName(why) {
  forgetAccount();
  state.name = "";
  state.rejoin = false;
  state.sendOnJoin = false;
  sessionStorage.removeItem(STORAGE_KEY);
  renderSession();
  if (why) showError(why);
  ui.name.focus();
  ui.name.select();
}

function onLoginRefused(reason) {
  state.loggingIn = false;
  if (reason === "cluster-unavailable") {
    showError(REASONS[reason]);
    state.loginTimer = setTimeout(login, CLUSTER_RETRY_MS);
    renderSession();
    return;
  }
  if (reason === "username-taken" && state.rejoin) {
    const now = Date.now();
    if (state.rejoinRefusedAt === 0) {
      state.rejoinRefusedAt = now;
      note(`Waiting for the server to let go of the name ${state.name}…`);
    }
    if (now - state.rejoinRefusedAt < NAME_WAIT_MS) {
      state.loginTimer = setTimeout(login, NAME_RETRY_MS);
      renderSession();
      return;
    }
    askForName(
      `The name ${state.name} is still in use, perhaps in another window. ` +
        "Choose another one.",
    );
    return;
  }
  askForName(REASONS[reason]);
}

// ----------------------------------------------------------- accounts

const accountForms = new AccountForms({
  signIn(name, password) {
    state.name = name;
    ui.name.value = name;
    state.password = password;
    state.rejoin = false;
    state.left = false;
    if (isOpen()) login();
    else if (state.socket === null) connect();
  },
  register(password) {
    if (!state.loggedIn) {
      accountForms.keepFailed("Not connected right now: try again once back in the chat.");
      return;
    }
    state.registering = password;
    sendLine(`REGISTER ${password}`);
  },
  otherName: () => askForName(""),
  closed: () => ui.message.focus(),
});

/** Offers "Keep this name" to a guest logged in, while the server may keep accounts. */
function offerKeep() {
  const guest = state.loggedIn && !state.registered && !state.accountsOff;
  accountForms.offerKeep(guest ? state.name : "");
}

/** Drops the password and closes the account forms (the name is given up). */
function forgetAccount() {
  state.password = "";
  state.registered = false;
  state.registering = null;
  accountForms.hideSignIn();
  accountForms.offerKeep("");
}

function onPasswordRefused(reason) {
  state.loggingIn = false;
  const typed = accountForms.askingPassword || state.password === "";
  if (reason === "login-throttled" && !typed) {
    // A login again after a drop, with the password kept: the check could not be made now.
    showError(REASONS[reason]);
    state.loginTimer = setTimeout(login, CLUSTER_RETRY_MS);
    return;
  }
  state.password = "";
  accountForms.askPassword(state.name, reason === "password-required" ? "" : REASONS[reason]);
  renderSession();
}

function onRegistered() {
  state.password = state.registering;
  state.registering = null;
  state.registered = true;
  accountForms.hideKeep();
  offerKeep();
  addEntry("note", {
    parts: [
      "The name ",
      nameTag(state.name),
      " is yours now: it asks for your password next time.",
    ],
  });
  ui.message.focus();
}

function onRegisterRefused(reason) {
  state.registering = null;
  if (reason === "accounts-off") {
    state.accountsOff = true;
    offerKeep();
    showError(REASONS[reason]);
    return;
  }
  accountForms.keepFailed(REASONS[reason]);
}

/** What a server's line may set off in the session (see replies.js). */
const session = {
  loggedIn: onLoggedIn,
  loginRefused: onLoginRefused,
  passwordRefused: onPasswordRefused,
  registered: onRegistered,
  registerRefused: onRegisterRefused,
};

function join() {
  const name = ui.name.value.trim();
  if (name === "") {
    showError("Choose a name first, then press Enter.");
    ui.name.focus();
    return;
  }
  if ([...name].length > MAX_NAME_CHARS || /\s/.test(name)) {
    showError(REASONS["invalid-username"]);
    ui.name.focus();
    return;
  }
  state.name = name;
  state.rejoin = false;
  state.left = false;
  if (isOpen()) login();
  else if (state.socket === null) connect();
  renderSession();
}

function leave() {
  const name = state.name;
  state.name = "";
  state.rejoin = false;
  state.sendOnJoin = false;
  state.left = true;
  forgetAccount();
  sessionStorage.removeItem(STORAGE_KEY);
  dmHistory.forget();
  if (name !== "") note("You left the chat.");
  if (state.socket !== null) {
    state.leaving = true;
    if (isOpen()) sendLine("QUIT");
    else state.socket.close();
  } else {
    clearTimers();
    setPhase("offline");
  }
  renderSession();
  ui.name.focus();
}

// --------------------------------------------------------------- wiring

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (state.loggedIn) {
    sendMessage();
    return;
  }
  const wantsToSend = document.activeElement === ui.message && ui.message.value.trim() !== "";
  if (state.name === "") {
    state.sendOnJoin = wantsToSend;
    join();
    return;
  }
  // On the way back in (connecting, waiting to reconnect, or waiting for the name).
  if (wantsToSend && !state.sendOnJoin) {
    state.sendOnJoin = true;
    note("Not connected yet: your message will be sent as soon as you are back in.");
  }
  if (state.socket === null) connect();
});

ui.message.addEventListener("keydown", recallSent);

ui.retry.addEventListener("click", () => connect());
ui.leave.addEventListener("click", () => leave());

globalThis.addEventListener("online", () => {
  if (state.socket === null && !state.left && !state.replaced) connect();
});

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  state.unread = 0;
  document.title = "Chat";
});

const saved = sessionStorage.getItem(STORAGE_KEY) ?? "";
if (saved !== "") {
  state.name = saved;
  state.rejoin = true;
  ui.name.value = saved;
}
renderSession();
connect();
(saved === "" ? ui.name : ui.message).focus();
