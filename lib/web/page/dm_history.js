/**
 * Direct messages again after a reload, for an account (docs/protocol.md,
 * "The browser page and the history"): the names of the people this page's
 * account wrote with are kept in the tab's sessionStorage (names only: never
 * a message, never a password); after a login to an account, once per page
 * load, the page asks `HISTORY @<name>` for each and draws the replies by
 * time among what it shows, as earlier messages. A direct message heard
 * live since the login and also in the reply is shown once, from the reply.
 *
 * @module
 */
import { makeEntry, regroup } from "./entries.js";
import { heardInReply, parseHist } from "./history_lines.js";
import { nameKey } from "./name_key.js";

/** Where the names are kept: `{ owner: <name key>, peers: [<name>, …] }`. */
const STORAGE_KEY = "chat.dm-peers";
/** The most recent names kept; an older one is asked for no more. */
const MAX_PEERS = 20;

const isDm = (entry) => entry.dataset.kind === "dm-in" || entry.dataset.kind === "dm-out";

/** The names kept for `owner`'s key, most recent last. */
function peersOf(owner) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
    if (saved?.owner === owner && Array.isArray(saved.peers)) {
      return saved.peers.filter((peer) => typeof peer === "string" && peer !== "");
    }
  } catch {
    // Unreadable (written by another version): start again.
  }
  return [];
}

/**
 * The direct-message side of the conversation `log`. `ask(line, request)`
 * sends a `HISTORY` line and a `PING` after it (as for the chat's history);
 * `isMe(name)` tells this page's name.
 */
export class DirectHistory {
  #log;
  #ask;
  #isMe;
  /** Asked already on this page load: a reconnect's login keeps what is shown. */
  #asked = false;

  constructor(log, { ask, isMe }) {
    this.#log = log;
    this.#ask = ask;
    this.#isMe = isMe;
  }

  /** `owner`, logged in to an account, wrote with `peer` (either way): kept for the next reload. */
  remember(owner, peer) {
    const key = nameKey(peer);
    const peers = peersOf(nameKey(owner)).filter((name) => nameKey(name) !== key);
    peers.push(peer);
    const saved = { owner: nameKey(owner), peers: peers.slice(-MAX_PEERS) };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
  }

  /** Forgets every name (the user left the chat). */
  forget() {
    sessionStorage.removeItem(STORAGE_KEY);
  }

  /** `owner` is logged in to an account: the first time on this page, its conversations are asked for. */
  loggedIn(owner) {
    if (this.#asked) return;
    this.#asked = true;
    for (const peer of peersOf(nameKey(owner))) {
      const shown = new Set(this.#log.children);
      const request = { kind: "history", dm: peer, messages: [], ended: false, shown };
      this.#ask(`HISTORY @${peer}`, request);
    }
  }

  /** One `HIST` line (`rest` follows the word), answering `request`. */
  line(request, rest) {
    const parsed = parseHist(rest);
    if (parsed === undefined || request.ended) return;
    if (parsed !== "end") request.messages.push(parsed);
    else {
      request.ended = true;
      this.#draw(request);
    }
  }

  /** The request was refused or went unanswered (the account is gone): nothing to draw. */
  settled(request) {
    request.ended = true;
  }

  /** The reply's messages, each placed by its time; live ones it holds as well are replaced. */
  #draw({ dm: peer, messages, shown }) {
    if (messages.length === 0) return;
    const key = nameKey(peer);
    const withPeer = (entry) => isDm(entry) && nameKey(entry.dataset.from ?? "") === key;
    const live = [...this.#log.children].filter((e) => !shown.has(e) && withPeer(e));
    const senderOf = (e) => e.dataset.kind === "dm-out" ? "" : key;
    const heard = heardInReply(
      live.map((e) => ({ sender: senderOf(e), text: e.querySelector(".text").textContent })),
      messages.map((m) => ({
        sender: this.#isMe(m.sender) ? "" : nameKey(m.sender),
        text: m.text,
      })),
    );
    live.forEach((entry, i) => heard[i] && entry.remove());
    // The peer's name as it was shown, when it wrote; else as it was typed.
    const name = messages.find((m) => !this.#isMe(m.sender))?.sender ?? peer;
    for (const { sender, text, at } of messages) {
      const mine = this.#isMe(sender);
      const entry = makeEntry(mine ? "dm-out" : "dm-in", { from: mine ? name : sender, text, at });
      entry.dataset.earlier = "true";
      this.#place(entry, at);
    }
  }

  /** Puts `entry` before the first entry said after `at` (notes without a time are passed over). */
  #place(entry, at) {
    let next = null;
    for (const e of this.#log.children) {
      const when = Number(e.dataset.at);
      if (!Number.isNaN(when) && e.dataset.edge === undefined && when > at) {
        next = e;
        break;
      }
    }
    this.#log.insertBefore(entry, next);
    regroup(entry);
    regroup(entry.nextElementSibling);
  }
}
