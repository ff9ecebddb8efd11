/** Unit tests of the terminal client's earlier messages: history replies, held live lines, each message once. */
import { assertEquals } from "@std/assert";
import {
  compareIds,
  Earlier,
  type EarlierMessage,
  idMs,
  LIVE_KEPT,
  liveSuffix,
  seenPrefix,
  ShownMessages,
} from "../lib/terminal/earlier.ts";
import { type ChatEvent, localTime } from "../lib/terminal/format.ts";

const said = (text: string, from = "bob") => ({ from, text });

/** A history message whose id's milliseconds are `ms`. */
const hist = (ms: number, text: string, from = "bob"): EarlierMessage => ({
  id: `${ms}-0`,
  from,
  text,
});

const earlierEvent = (message: EarlierMessage): ChatEvent => ({
  kind: "earlier",
  time: localTime(idMs(message.id)),
  from: message.from,
  text: message.text,
});

const live = (text: string, from = "bob"): ChatEvent => ({
  kind: "message",
  from,
  text,
  own: false,
});

/** An Earlier whose batches are recorded, each as the list of events shown together. */
function recorder(): { earlier: Earlier; batches: ChatEvent[][] } {
  const batches: ChatEvent[][] = [];
  return { earlier: new Earlier((events) => batches.push([...events])), batches };
}

Deno.test("compareIds orders ids by milliseconds, then by sequence, as numbers", () => {
  assertEquals(Math.sign(compareIds("9-0", "10-0")), -1);
  assertEquals(Math.sign(compareIds("10-2", "10-10")), -1);
  assertEquals(Math.sign(compareIds("1764999000123-1", "1764999000123-0")), 1);
  assertEquals(compareIds("5-5", "5-5"), 0);
  assertEquals(idMs("1764999000123-7"), 1764999000123);
});

Deno.test("seenPrefix and liveSuffix find the longest run shared at the joint, in order", () => {
  const log = [said("a"), said("b"), said("c")];
  assertEquals(seenPrefix(log, [said("b"), said("c"), said("d")]), 2);
  assertEquals(seenPrefix(log, [said("c"), said("d")]), 1);
  assertEquals(seenPrefix(log, [said("a"), said("b")]), 0, "not the end of the log");
  assertEquals(seenPrefix(log, [said("c", "eve")]), 0, "the sender counts");
  assertEquals(seenPrefix([], [said("a")]), 0);
  assertEquals(liveSuffix([said("a"), said("b"), said("c")], [said("b"), said("c")]), 2);
  assertEquals(liveSuffix([said("c")], [said("b"), said("c")]), 1);
  assertEquals(liveSuffix([said("a"), said("b")], [said("b"), said("x")]), 0);
  assertEquals(liveSuffix([said("a")], []), 0);
});

Deno.test("ShownMessages leaves out what was shown by id, what was seen live, and what comes live next", () => {
  const shown = new ShownMessages();
  const first = [hist(1, "one"), hist(2, "two"), hist(3, "three")];
  // On the first connect nothing is shown yet; "three" came live before the reply.
  assertEquals(shown.fresh(first, [said("three")]), [hist(1, "one"), hist(2, "two")]);
  // Seen live later: four and this client's own five; then the connection dropped.
  shown.live(said("four"));
  shown.live(said("five", "me"));
  const again = [
    hist(2, "two"),
    hist(3, "three"),
    hist(4, "four"),
    hist(5, "five", "me"),
    hist(6, "six"),
    hist(7, "seven"),
  ];
  assertEquals(shown.fresh(again, []), [hist(6, "six"), hist(7, "seven")]);
  // Nothing new since: nothing to show.
  assertEquals(shown.fresh(again, []), []);
});

Deno.test("ShownMessages shows a message twice rather than lose one it cannot place", () => {
  const shown = new ShownMessages();
  shown.fresh([hist(1, "one")], []);
  // This client's line never reached the server: the live log no longer lines up.
  shown.live(said("two"));
  shown.live(said("lost", "me"));
  assertEquals(shown.fresh([hist(2, "two"), hist(3, "three")], []), [
    hist(2, "two"),
    hist(3, "three"),
  ]);
});

Deno.test("ShownMessages: a message said again while away is not taken for the one seen live", () => {
  const shown = new ShownMessages();
  shown.fresh([hist(1, "ok")], []);
  // Seen live after the reply: bob's second "ok" (id 2). Then, while away, a third (id 3).
  shown.live(said("ok"));
  // Id 1 is left out by its id, id 2 as the one seen live; id 3 is new.
  const reply = [hist(1, "ok"), hist(2, "ok"), hist(3, "ok")];
  assertEquals(shown.fresh(reply, []), [hist(3, "ok")]);
});

Deno.test(`ShownMessages keeps the last ${LIVE_KEPT} live messages, enough for a reply of that many`, () => {
  const shown = new ShownMessages();
  for (let i = 0; i < 50; i++) shown.live(said(`m${i}`));
  const reply = Array.from({ length: LIVE_KEPT }, (_, i) => hist(100 + i, `m${30 + i}`));
  assertEquals(shown.fresh(reply, []), []);
});

Deno.test("Earlier holds live lines back until the history on connect, then shows both in one batch", () => {
  const { earlier, batches } = recorder();
  earlier.asked(true);
  earlier.event(live("during"));
  earlier.event({ kind: "joined", name: "eve" });
  assertEquals(batches, []);
  const old = hist(1_700_000_000_000, "old");
  assertEquals(earlier.hist(old), true);
  assertEquals(earlier.hist(hist(1_700_000_060_000, "during")), true);
  assertEquals(earlier.end(), true);
  // "during" came live before the reply's cut: shown once, live, after the earlier ones.
  assertEquals(batches, [[earlierEvent(old), live("during"), { kind: "joined", name: "eve" }]]);
  earlier.event(live("after"));
  earlier.answered();
  assertEquals(batches.length, 2);
  assertEquals(batches[1], [live("after")]);
});

Deno.test("Earlier shows all of a /history reply, or says it is empty", () => {
  const { earlier, batches } = recorder();
  earlier.event(live("a"));
  earlier.asked(false);
  earlier.hist(hist(1, "a"));
  earlier.end();
  earlier.answered();
  earlier.asked(false);
  earlier.end();
  earlier.answered();
  assertEquals(batches, [
    [live("a")],
    [earlierEvent(hist(1, "a"))],
    [{ kind: "notice", text: "No messages in the history yet." }],
  ]);
});

Deno.test("Earlier: a server that ignores HISTORY answers only PONG", () => {
  const { earlier, batches } = recorder();
  earlier.asked(true);
  earlier.event(live("held"));
  earlier.answered();
  // On connect nothing is said; the held line comes out.
  assertEquals(batches, [[live("held")]]);
  earlier.asked(false);
  earlier.answered();
  assertEquals(batches[1], [{ kind: "warning", text: "This server keeps no history." }]);
  // An ERR while it is awaited says what went wrong; no second word about it.
  earlier.asked(false);
  earlier.event({ kind: "error", code: "invalid-history" });
  earlier.answered();
  assertEquals(batches.slice(2), [[{ kind: "error", code: "invalid-history" }]]);
});

Deno.test("Earlier refuses HIST lines nobody asked for, and shows what it held when the connection drops", () => {
  const { earlier, batches } = recorder();
  assertEquals(earlier.hist(hist(1, "x")), false);
  assertEquals(earlier.end(), false);
  earlier.asked(true);
  earlier.end();
  assertEquals(earlier.end(), false, "a second HIST END");
  assertEquals(earlier.hist(hist(2, "y")), false, "a HIST line after the end");
  earlier.answered();
  earlier.asked(true);
  earlier.event(live("held"));
  earlier.hist(hist(3, "z"));
  earlier.reset();
  assertEquals(batches, [[live("held")]]);
  assertEquals(earlier.end(), false);
});

Deno.test("Earlier released before a late history shows the live lines, then only the earlier ones", () => {
  const { earlier, batches } = recorder();
  earlier.asked(true);
  earlier.event(live("held"));
  earlier.release();
  earlier.event(live("shown"));
  assertEquals(batches, [[live("held")], [live("shown")]]);
  const old = hist(1, "old");
  earlier.hist(old);
  earlier.hist(hist(2, "held"));
  earlier.hist(hist(3, "shown"));
  earlier.end();
  earlier.answered();
  assertEquals(batches.slice(2), [[earlierEvent(old)]]);
});
