/**
 * The page's elements and the one state object its modules share: what the
 * page knows of its connection, its name and account, and the commands
 * waiting for their `PONG`. app.js and the modules it wires read and change
 * it; nothing else does.
 *
 * @module
 */
import { nameKey } from "./name_key.js";

/** Where the name is kept across reloads (the name only, never the password). */
export const STORAGE_KEY = "chat.name";

const byId = (id) => document.getElementById(id);
/** The page's elements, by what they are for. */
export const ui = {
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

/** The page's state: one object, so every module sees the same. */
export const state = {
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
export function isMe(name) {
  return state.name !== "" && nameKey(name) === nameKey(state.name);
}

/** The socket is there and open. */
export function isOpen() {
  return state.socket !== null && state.socket.readyState === WebSocket.OPEN;
}

/** Sends `line` when the socket is open; otherwise the line is dropped (a reconnect logs in anew). */
export function sendLine(line) {
  if (isOpen()) state.socket.send(line);
}
