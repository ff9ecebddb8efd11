/**
 * The conversation's earlier messages (docs/protocol.md, "The browser
 * page"): the latest ones asked for with the `LOGIN`, drawn once it is
 * answered, older pages asked for as the reader scrolls up, until the
 * history has no more.
 *
 * Live lines carry no id, so a login's history reply redraws rather than
 * merges: what the page showed before it is replaced by the reply, except
 * what the history cannot hold (direct messages, and messages this page sent
 * that the server never took), which stays, placed by its time. Every live
 * line after `HIST END` is newer than the reply; a chat message heard live
 * between the `OK` and the reply may be in the reply too, and is then shown
 * once, from the reply.
 *
 * @module
 */
import { makeEntry, makeSeparator, regroup } from "./entries.js";
import { heardInReply, mergeByTime, parseHist, storedAfterAll } from "./history_lines.js";

/** Messages asked for in one page: what `HISTORY` without a count answers. */
const PAGE = 50;
/** The next older page is asked for when the reader is this close to the top. */
const LOAD_MARGIN_PX = 400;
/** Entries kept in the conversation while the reader follows its end. */
const MAX_ENTRIES = 1000;
/** Entries kept at most, even while the reader is scrolled up. */
const MAX_ENTRIES_SCROLLED = 3 * MAX_ENTRIES;

/** What the note at the top of the conversation says, when it says anything. */
const EDGE_TEXT = {
  loading: "Loading earlier messages…",
  beginning: "This is the beginning of the conversation.",
  trimmed: "Earlier messages are no longer shown here. Reload the page to see them.",
};

/** Each `ERR` a history request may get, in words. */
const REFUSALS = {
  "invalid-history": "The server did not understand the page's request for earlier messages.",
  "account-required": "Earlier direct messages are shown only to an account.",
  "login-required": "Join the chat first: choose a name.",
};

const atOf = (entry) => Number(entry.dataset.at);

/** Runs `change`, then scrolls `log` so that `anchor` stays where the reader saw it. */
function steady(log, anchor, change) {
  if (anchor === null || !anchor.isConnected) {
    change();
    return;
  }
  const before = anchor.getBoundingClientRect().top;
  change();
  log.scrollTop += anchor.getBoundingClientRect().top - before;
}

/**
 * The history side of the conversation `log` (the `<ol>` that scrolls).
 * `ask(line, request)` sends a `HISTORY` line and a `PING` after it, with
 * `request` waiting for that `PONG`; `isMe(name)` tells this page's name;
 * `showError(text)` adds an error to the conversation.
 */
export class ConversationHistory {
  #log;
  #ask;
  #isMe;
  #showError;
  /** The request whose reply redraws the conversation; null when none is awaited. */
  #latest = null;
  /** The request for an older page on its way, if any. */
  #older = null;
  /** Paging back: "more" (older messages may exist), "none" (the beginning is shown) or "off". */
  #back = "off";
  /** What the page showed when the login was answered: the latest reply replaces it. */
  #before = new Set();
  /** The note at the top, if any. */
  #edge = null;

  constructor(log, { ask, isMe, showError }) {
    this.#log = log;
    this.#ask = ask;
    this.#isMe = isMe;
    this.#showError = showError;
    log.addEventListener("scroll", () => this.#maybeOlder(), { passive: true });
  }

  /** Asks for the latest messages; sent right behind the `LOGIN`, so nothing live comes between. */
  askLatest() {
    const request = { kind: "history", latest: true, messages: [], ended: false, failed: false };
    this.#latest = request;
    this.#ask("HISTORY", request);
  }

  /** The login was answered: what the page shows now is what the latest reply will replace. */
  loggedIn() {
    this.#before = new Set(this.#log.children);
  }

  /** The connection is gone, and every request on it. */
  reset() {
    this.#latest = null;
    this.#older = null;
    this.#back = "off";
    if (this.#edge?.dataset.edge === "loading") this.#setEdge("");
  }

  /** One `HIST` line (`rest` follows the word), answering `request`. */
  line(request, rest) {
    const parsed = parseHist(rest);
    if (parsed === undefined || request.ended) return;
    if (parsed !== "end") {
      request.messages.push(parsed);
      return;
    }
    request.ended = true;
    if (request === this.#latest) this.#redraw(request.messages);
    else if (request === this.#older) this.#prepend(request.messages);
  }

  /**
   * An `ERR` answered `request`. A `login-required` behind a refused `LOGIN`
   * is expected and said by the login's own error; anything else is said.
   */
  refused(request, reason, loggedIn) {
    this.#fail(request);
    if (!loggedIn && reason === "login-required") return;
    this.#showError(REFUSALS[reason] ?? `The server refused the earlier messages (${reason}).`);
  }

  /** The `PONG` after `request` came: without a reply, the server keeps no history (an older version). */
  settled(request) {
    if (!request.ended && !request.failed) this.#fail(request);
  }

  /**
   * Drops the oldest entries past the limit: always past {@linkcode MAX_ENTRIES}
   * while the reader follows the end (`atBottom`), else only past
   * {@linkcode MAX_ENTRIES_SCROLLED}, keeping what the reader sees in place.
   */
  trim(atBottom) {
    const log = this.#log;
    const count = () => log.childElementCount - (this.#edge === null ? 0 : 1);
    if (count() <= (atBottom ? MAX_ENTRIES : MAX_ENTRIES_SCROLLED)) return;
    steady(log, log.lastElementChild, () => {
      while (count() > MAX_ENTRIES) this.#first()?.remove();
      regroup(this.#first());
    });
    if (this.#back === "off") return;
    if (log.querySelector("[data-id]") !== null) {
      this.#back = "more";
      if (this.#edge?.dataset.edge === "beginning") this.#setEdge("");
    } else {
      // Only live lines are left, and they have no id to page back from.
      this.#back = "off";
      this.#setEdge("trimmed");
    }
  }

  #fail(request) {
    request.failed = true;
    if (request === this.#latest) {
      this.#latest = null;
    } else if (request === this.#older) {
      this.#older = null;
      this.#setEdge("");
    } else {
      return; // One sent behind a refused LOGIN, and replaced since.
    }
    // No more asking: a refused request would only be refused again.
    this.#back = "off";
  }

  /** The first entry below the note at the top. */
  #first() {
    const first = this.#log.firstElementChild;
    return first !== null && first === this.#edge ? first.nextElementSibling : first;
  }

  #setEdge(state) {
    steady(this.#log, this.#first(), () => {
      if (state === "") {
        this.#edge?.remove();
        this.#edge = null;
        return;
      }
      if (this.#edge === null || !this.#edge.isConnected) {
        this.#edge = makeEntry("note", { text: "" });
        this.#log.prepend(this.#edge);
      }
      this.#edge.dataset.edge = state;
      this.#edge.querySelector(".text").textContent = EDGE_TEXT[state];
    });
  }

  #entryOf(message) {
    const { id, at, sender, text } = message;
    return makeEntry(this.#isMe(sender) ? "own" : "msg", { from: sender, text, at, id });
  }

  /** The latest messages, in place of what the page showed before the login. */
  #redraw(messages) {
    this.#latest = null;
    const shown = this.#before;
    this.#before = new Set();
    const before = [...shown].filter((entry) => entry.isConnected);
    // An empty history (off, or lost by a restart) leaves the conversation as it was.
    if (messages.length === 0) return;

    const log = this.#log;
    log.setAttribute("aria-busy", "true");
    const dms = before.filter((e) => e.dataset.kind === "dm-in" || e.dataset.kind === "dm-out");
    const unsent = before.filter((e) => e.dataset.kind === "own" && e.classList.contains("failed"));
    const stored = storedAfterAll(
      unsent.map((entry) => ({ text: entry.querySelector(".text").textContent, at: atOf(entry) })),
      messages,
      this.#isMe,
    );
    const kept = [...dms, ...unsent.filter((_, i) => !stored[i])].sort((a, b) => atOf(a) - atOf(b));

    const heardLive = [...log.children].filter((e) =>
      !shown.has(e) && e.dataset.kind === "msg" && e.dataset.id === undefined
    );
    const heard = heardInReply(
      heardLive.map((e) => ({
        sender: e.dataset.from,
        text: e.querySelector(".text").textContent,
      })),
      messages,
    );
    heardLive.forEach((entry, i) => heard[i] && entry.remove());
    for (const entry of before) entry.remove();
    this.#edge?.remove();
    this.#edge = null;

    const drawn = mergeByTime(messages.map((m) => this.#entryOf(m)), kept, atOf);
    const separator = makeSeparator();
    log.prepend(...drawn, separator);
    for (const entry of drawn) regroup(entry);
    regroup(separator.nextElementSibling);
    log.setAttribute("aria-busy", "false");

    this.#back = "more";
    log.scrollTop = log.scrollHeight;
    this.#maybeOlder();
  }

  /** An older page, above what is shown, with the reader's view held still. */
  #prepend(messages) {
    this.#older = null;
    if (messages.length === 0) {
      this.#back = "none";
      this.#setEdge("beginning");
      return;
    }
    const log = this.#log;
    const oldest = log.querySelector("[data-id]");
    if (oldest === null) return;
    // What stands above the oldest message (direct messages kept by time) joins the page by time.
    const above = [];
    for (let e = this.#first(); e !== null && e !== oldest; e = e.nextElementSibling) above.push(e);
    const drawn = mergeByTime(messages.map((m) => this.#entryOf(m)), above, atOf);
    log.setAttribute("aria-busy", "true");
    // Grouped before the view is held still: a heading that hides changes the heights above.
    steady(log, oldest, () => {
      this.#setEdge("");
      log.prepend(...drawn);
      for (const entry of drawn) regroup(entry);
      regroup(oldest);
    });
    log.setAttribute("aria-busy", "false");
    this.#maybeOlder();
  }

  /** Asks for the page before the oldest message shown, when the reader is near the top. */
  #maybeOlder() {
    if (this.#back !== "more" || this.#older !== null || this.#latest !== null) return;
    if (this.#log.scrollTop > LOAD_MARGIN_PX) return;
    const oldest = this.#log.querySelector("[data-id]")?.dataset.id;
    if (oldest === undefined) return;
    this.#older = { kind: "history", latest: false, messages: [], ended: false, failed: false };
    this.#setEdge("loading");
    this.#ask(`HISTORY ${PAGE} ${oldest}`, this.#older);
  }
}
