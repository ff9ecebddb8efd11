// @ts-check
/**
 * The pure part of the page's history: reading a `HIST` line, and telling
 * which messages the page shows already. Plain JavaScript with JSDoc types:
 * the browser loads it as it is, and the unit tests import it.
 *
 * @module
 */

/**
 * A chat message from the history: its id, its time (the id's milliseconds),
 * who wrote it and what.
 *
 * @typedef {{ id: string, at: number, sender: string, text: string }} Stored
 */

/**
 * A message the page sent: what, and when (ms since the epoch, by the page's clock).
 *
 * @typedef {{ text: string, at: number }} Sent
 */

/** `<ms>-<seq>`, as the server writes ids. */
const ID = /^(\d{1,16})-\d{1,16}$/;

/**
 * How far apart the page's clock and the server's may be for a message the
 * page could not confirm to count as the one the history holds.
 */
const CLOCK_SLACK_MS = 2 * 60_000;

/**
 * What follows `HIST `: a stored message, `"end"` for `HIST END`, or
 * undefined for a line this page cannot read (ignored, as an unknown line is).
 *
 * @param {string} rest
 * @returns {Stored | "end" | undefined}
 */
export function parseHist(rest) {
  if (rest === "END") return "end";
  const first = rest.indexOf(" ");
  const second = rest.indexOf(" ", first + 1);
  if (first === -1 || second === -1) return undefined;
  const id = rest.slice(0, first);
  const ms = ID.exec(id);
  if (ms === null) return undefined;
  return {
    id,
    at: Number(ms[1]),
    sender: rest.slice(first + 1, second),
    text: rest.slice(second + 1),
  };
}

/**
 * Which of the messages that came live just before a history reply the reply
 * holds as well (the protocol allows it: they were delivered before the
 * cut). Live lines carry no id, so they are matched by sender and text, from
 * the newest back, each reply message at most once and in the same order.
 *
 * @param {readonly { sender: string, text: string }[]} live oldest first
 * @param {readonly { sender: string, text: string }[]} reply oldest first
 * @returns {boolean[]} one per live message: true when the reply holds it
 */
export function heardInReply(live, reply) {
  const found = live.map(() => false);
  let next = reply.length - 1;
  for (let i = live.length - 1; i >= 0; i--) {
    const { sender, text } = /** @type {{ sender: string, text: string }} */ (live[i]);
    for (let j = next; j >= 0; j--) {
      const stored = /** @type {{ sender: string, text: string }} */ (reply[j]);
      if (stored.sender === sender && stored.text === text) {
        found[i] = true;
        next = j - 1;
        break;
      }
    }
  }
  return found;
}

/**
 * Which of the messages this page sent without hearing that the server took
 * them (the connection dropped first) the history holds: the same text from
 * this page's name, within a couple of minutes of when it was sent. Each
 * stored message confirms one sent message at most.
 *
 * @param {readonly Sent[]} sent
 * @param {readonly Stored[]} reply
 * @param {(name: string) => boolean} isMe
 * @returns {boolean[]} one per sent message
 */
export function storedAfterAll(sent, reply, isMe) {
  const used = new Set();
  return sent.map(({ text, at }) => {
    const index = reply.findIndex((stored, j) =>
      !used.has(j) && stored.text === text && isMe(stored.sender) &&
      Math.abs(stored.at - at) <= CLOCK_SLACK_MS
    );
    if (index === -1) return false;
    used.add(index);
    return true;
  });
}

/**
 * `a` and `b`, each in time order, as one list in time order; of two at the
 * same time, `a`'s comes first.
 *
 * @template A, B
 * @param {readonly A[]} a
 * @param {readonly B[]} b
 * @param {(item: A | B) => number} atOf
 * @returns {(A | B)[]}
 */
export function mergeByTime(a, b, atOf) {
  /** @type {(A | B)[]} */
  const merged = [];
  let j = 0;
  for (const item of a) {
    while (j < b.length && atOf(/** @type {B} */ (b[j])) < atOf(item)) {
      merged.push(/** @type {B} */ (b[j++]));
    }
    merged.push(item);
  }
  while (j < b.length) merged.push(/** @type {B} */ (b[j++]));
  return merged;
}
