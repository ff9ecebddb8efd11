/**
 * How one entry of the conversation looks: a chat message, a direct message,
 * a join or leave notice, a note, an error, or the line between the earlier
 * messages and the new ones. Builds elements only: where they go, and what
 * the page keeps, is for app.js and history.js to say.
 *
 * User text only ever reaches the page through `textContent`.
 *
 * @module
 */
import { nameHash } from "./name_key.js";

/** Consecutive messages from one sender within this time share one heading. */
const GROUP_MS = 3 * 60_000;

/** Hues far enough apart to tell speakers apart. */
const HUES = [215, 340, 28, 165, 275, 0, 190, 95, 305, 45];

/** Kinds of entry that carry a heading with a name and a time. */
const SPOKEN = new Set(["msg", "own", "dm-in", "dm-out"]);

const CLOCK = { hour: "2-digit", minute: "2-digit" };
const CLOCK_FORMAT = new Intl.DateTimeFormat([], CLOCK);
const DAY_FORMAT = new Intl.DateTimeFormat([], { ...CLOCK, month: "short", day: "numeric" });
const YEAR_FORMAT = new Intl.DateTimeFormat([], {
  ...CLOCK,
  year: "numeric",
  month: "short",
  day: "numeric",
});
const FULL_FORMAT = new Intl.DateTimeFormat([], { dateStyle: "full", timeStyle: "medium" });

/** Creates `tag` with a class and, as plain text, its content. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A name in its own stable colour, so each speaker is easy to follow. */
export function nameTag(name) {
  const node = element("b", "name", name);
  node.style.setProperty("--hue", String(HUES[nameHash(name) % HUES.length]));
  return node;
}

/** `at` in local time: hours and minutes today, with the day before them otherwise (and the year, if not this one). */
export function timeLabel(at, now = new Date()) {
  const date = new Date(at);
  if (date.toDateString() === now.toDateString()) return CLOCK_FORMAT.format(date);
  return (date.getFullYear() === now.getFullYear() ? DAY_FORMAT : YEAR_FORMAT).format(date);
}

/**
 * One entry, not yet in the page. `kind` is one of msg, own, dm-in, dm-out,
 * join, leave, error, note; `from` the other party, if any; `at` when it was
 * said (ms since the epoch); `id` its message id, for one from the history.
 */
export function makeEntry(kind, { from = "", text = "", parts = null, at = Date.now(), id = "" }) {
  const entry = element("li", `entry ${kind}`);
  entry.dataset.kind = kind;
  if (from) entry.dataset.from = from;
  if (id) entry.dataset.id = id;
  entry.dataset.at = String(at);

  if (SPOKEN.has(kind)) {
    const meta = element("div", "meta");
    if (kind === "own") meta.append(element("b", "name me", "You"));
    else if (kind === "dm-out") meta.append(element("span", "", "You → "), nameTag(from));
    else meta.append(nameTag(from));
    if (kind === "dm-in" || kind === "dm-out") meta.append(element("span", "tag", "DM"));
    const time = element("time", "", timeLabel(at));
    time.dateTime = new Date(at).toISOString();
    time.title = FULL_FORMAT.format(at);
    meta.append(time);
    entry.append(meta);
  }
  const body = element("span", "text");
  if (parts) body.append(...parts);
  else body.textContent = text;
  entry.append(body);
  return entry;
}

/** The line under the earlier messages, above what comes live. */
export function makeSeparator() {
  const entry = element("li", "entry separator");
  entry.dataset.kind = "separator";
  entry.setAttribute("role", "separator");
  entry.append(element("span", "text", "New messages"));
  return entry;
}

/** Hides `entry`'s heading when it follows a message of the same kind from the same sender, shortly before. */
export function regroup(entry) {
  if (entry === null) return;
  const previous = entry.previousElementSibling;
  const from = entry.dataset.from;
  entry.classList.toggle(
    "follows",
    Boolean(
      from && previous && previous.dataset.kind === entry.dataset.kind &&
        previous.dataset.from === from &&
        Math.abs(Number(entry.dataset.at) - Number(previous.dataset.at)) < GROUP_MS,
    ),
  );
}
