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
 * User text only ever reaches the page through `textContent`.
 *
 * @module
 */
import { AccountForms } from "./account_forms.js";
import { CLOSING_ERRORS } from "./closing_errors.js";
import { asRelayed, readComposed, splitFirst } from "./composer_text.js";
import { DirectHistory } from "./dm_history.js";
import { element, makeEntry, nameTag, regroup } from "./entries.js";
import { ConversationHistory } from "./history.js";
import { nameKey } from "./name_key.js";
import { MAX_NAME_CHARS, REASONS } from "./reasons.js";
import { StatusLine } from "./status_line.js";

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
/** Lines sent, kept for the arrow keys. */
const MAX_RECALLED = 100;
const STORAGE_KEY = "chat.name";

const byId = (id) => document.getElementById(id);
const ui = {
  status: byId("status"),
  statusText: byId("status-text"),
  statusCount: byId("status-count"),
  retry: byId("retry"),
  leave: byId("leave"),
  log: byId("log"),
  online: byId("online"),
  onlineCount: byId("online-count"),
  form: byId("composer"),
  name: byId("name"),
  message: byId("message"),
  send: byId("send"),
};

const state = {
  /** @type {WebSocket | null} */
  socket: null,
  /** connecting, connected, waiting (to reconnect) or offline */
  phase: "connecting",
  /** The name to be logged in as, kept across reconnects; "" for none. */
  name: "",
  loggedIn: false,
  /** A `LOGIN` is on its way and has no reply yet. */
  loggingIn: false,
  /**
   * The account's password, for logging in again after a drop: in memory
   * only, never stored, so a reload asks for it again.
   */
  password: "",
  /** Logged in to an account (with the password above, or since `OK registered`). */
  registered: false,
  /** A `REGISTER` is on its way: the password it carries, until its reply. */
  registering: null,
  /** The server said `ERR accounts-off`: no more offering to keep the name. */
  accountsOff: false,
  /** The name was taken over elsewhere (`ERR session-replaced`): no reconnecting on our own. */
  replaced: false,
  /** The name was ours before the connection dropped: `username-taken` may be our old session. */
  rejoin: false,
  /** When the first `username-taken` of this rejoin came. */
  rejoinRefusedAt: 0,
  /** Send the message box once logged in (Enter was pressed in it before joining). */
  sendOnJoin: false,
  /** Leave was pressed and the socket is closing: do not reconnect. */
  leaving: false,
  /** The user left and has not joined again: stay offline. */
  left: false,
  /** A lost connection was already reported; failed attempts stay quiet until one opens. */
  lossReported: false,
  /** The reason of the last closing `ERR`, for the report of the close that follows. */
  closeReason: "",
  attempts: 0,
  openedAt: 0,
  retryAt: 0,
  retryTimer: 0,
  loginTimer: 0,
  /**
   * One per `PING` sent, oldest first: `{ kind: "send", entry }`, `{ kind: "who", users, after }`
   * or a history request (`{ kind: "history", … }`, see history.js).
   */
  pending: [],
  /** Online users: the comparison key to the name as its owner typed it. */
  online: new Map(),
  /** Lines sent, for the arrow keys to recall. */
  sentLines: [],
  recalledAt: 0,
  unread: 0,
};

/** `name` is the one this page logs in as, compared as the server compares names. */
function isMe(name) {
  return state.name !== "" && nameKey(name) === nameKey(state.name);
}

// ---------------------------------------------------------------- the view

/** Sends a history request's line and a `PING` after it; its reply goes to `request`. */
function askHistory(line, request) {
  state.pending.push(request);
  sendLine(line);
  sendLine("PING");
}

const chatHistory = new ConversationHistory(ui.log, { ask: askHistory, isMe, showError });
const dmHistory = new DirectHistory(ui.log, { ask: askHistory, isMe });

/**
 * Adds one entry to the end of the conversation (see entries.js's `makeEntry`),
 * following it if the reader was at the end or sent it.
 */
function addEntry(kind, content = {}) {
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

function note(text) {
  return addEntry("note", { text });
}

function showError(text) {
  return addEntry("error", { text });
}

/** Marks a sent message as not delivered, with why. */
function markFailed(entry, why) {
  entry.classList.remove("pending");
  entry.classList.add("failed");
  entry.append(element("span", "why", why));
}

function renderOnline() {
  const names = [...state.online.values()].sort((a, b) =>
    a.localeCompare(b, undefined, { sensitivity: "base" })
  );
  ui.online.replaceChildren(...names.map((name) => element("li", isMe(name) ? "me" : "", name)));
  ui.onlineCount.textContent = names.length > 0 ? String(names.length) : "";
}

const statusLine = new StatusLine(ui);

function setPhase(phase) {
  state.phase = phase;
  statusLine.show(phase, state.retryAt);
}

/** Shows whether the name box is a choice still to make or the name in use. */
function renderSession() {
  const named = state.name !== "";
  ui.name.readOnly = named;
  ui.send.textContent = named ? "Send" : "Join";
  ui.leave.hidden = !named;
  ui.message.placeholder = named
    ? "Message everyone, or /msg name text"
    : "Choose a name, then write here";
  document.body.classList.toggle("joined", state.loggedIn);
}

// ------------------------------------------------------------ the socket

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

function isOpen() {
  return state.socket !== null && state.socket.readyState === WebSocket.OPEN;
}

function sendLine(line) {
  if (isOpen()) state.socket.send(line);
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
    if (socket === state.socket && typeof event.data === "string") onLine(event.data);
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

/** The `ERR`s a `HISTORY` may get, `login-required` behind a refused `LOGIN` included. */
const HISTORY_ERRORS = new Set(["invalid-history", "account-required", "login-required"]);

function onError(reason) {
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
    onLoginRefused(reason);
    return;
  }
  if (reason === "already-logged-in") {
    state.loggingIn = false;
    return;
  }
  if (state.loggingIn && LOGIN_REFUSALS.has(reason)) {
    onPasswordRefused(reason);
    return;
  }
  if (state.registering !== null && REGISTER_REFUSALS.has(reason)) {
    onRegisterRefused(reason);
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

function onLine(line) {
  const [word, rest] = splitFirst(line);
  switch (word) {
    case "OK":
      if (rest === "registered" && state.registering !== null) onRegistered();
      else if (state.loggingIn) onLoggedIn();
      break;
    case "ERR":
      onError(rest);
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

function sendMessage() {
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

ui.message.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
  if (event.isComposing || state.sentLines.length === 0) return;
  const step = event.key === "ArrowUp" ? -1 : 1;
  const at = Math.min(state.sentLines.length, Math.max(0, state.recalledAt + step));
  if (at === state.recalledAt) return;
  event.preventDefault();
  state.recalledAt = at;
  ui.message.value = state.sentLines[at] ?? "";
});

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
