/**
 * The pure parts of the browser page's history, as the browser loads them:
 * reading `HIST` lines, telling which messages the page shows already, and
 * the time shown for a stored message.
 *
 * @module
 */
import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { timeLabel } from "../lib/web/page/entries.js";
import {
  heardInReply,
  mergeByTime,
  parseHist,
  storedAfterAll,
} from "../lib/web/page/history_lines.js";

Deno.test("parseHist reads a message with spaces kept, HIST END, and nothing else", () => {
  assertEquals(parseHist("1764999000123-0 alice hi  there "), {
    id: "1764999000123-0",
    at: 1764999000123,
    sender: "alice",
    text: "hi  there ",
  });
  assertEquals(parseHist("END"), "end");
  assertEquals(parseHist("1764999000123-7 bob  "), {
    id: "1764999000123-7",
    at: 1764999000123,
    sender: "bob",
    text: " ",
  });
  for (const bad of ["", "end", "1-0", "1-0 alice", "x-0 alice hi", "1 alice hi", "-1-0 a b"]) {
    assertEquals(parseHist(bad), undefined, bad);
  }
});

const m = (sender: string, text: string) => ({ sender, text });

Deno.test("heardInReply matches live messages to the reply's newest, in order, each once", () => {
  const reply = [m("a", "hi"), m("b", "x"), m("a", "hi"), m("c", "y")];
  // Both heard live: the newest "hi" and "y".
  assertEquals(heardInReply([m("a", "hi"), m("c", "y")], reply), [true, true]);
  // Two live "hi"s match the two stored ones; a third one is not in the reply.
  assertEquals(heardInReply([m("a", "hi"), m("a", "hi"), m("a", "hi")], reply), [
    false,
    true,
    true,
  ]);
  // Out of order in the reply: the later one only.
  assertEquals(heardInReply([m("c", "y"), m("b", "x")], reply), [false, true]);
  // The same text from someone else is another message.
  assertEquals(heardInReply([m("b", "hi")], reply), [false]);
  assertEquals(heardInReply([m("a", "hi")], []), [false]);
  assertEquals(heardInReply([], reply), []);
});

Deno.test("storedAfterAll finds a sent message in the history by text, sender and time", () => {
  const minute = 60_000;
  const reply = [
    { id: "1-0", at: 10 * minute, sender: "Alice", text: "ok" },
    { id: "2-0", at: 10 * minute, sender: "bob", text: "sure" },
  ];
  const isMe = (name: string) => name.toLowerCase() === "alice";
  assertEquals(
    storedAfterAll(
      [
        { text: "ok", at: 11 * minute },
        { text: "ok", at: 11 * minute }, // The one stored "ok" confirms one of them.
        { text: "sure", at: 10 * minute }, // bob's, not ours.
      ],
      reply,
      isMe,
    ),
    [true, false, false],
  );
  assertEquals(storedAfterAll([{ text: "ok", at: 13 * minute }], reply, isMe), [false]);
});

Deno.test("mergeByTime keeps both orders, the first list's entry first on a tie", () => {
  const at = (item: { at: number }) => item.at;
  const a = [{ at: 1, n: "a1" }, { at: 3, n: "a3" }, { at: 5, n: "a5" }];
  const b = [{ at: 0, n: "b0" }, { at: 3, n: "b3" }, { at: 9, n: "b9" }];
  assertEquals(mergeByTime(a, b, at).map((item) => item.n), [
    "b0",
    "a1",
    "a3",
    "b3",
    "a5",
    "b9",
  ]);
  assertEquals(mergeByTime([], b, at), b);
  assertEquals(mergeByTime(a, [], at), a);
});

Deno.test("timeLabel shows hours and minutes today, the day before them on another day", () => {
  const now = new Date(2026, 11, 6, 15, 30);
  const clock = (date: Date) =>
    new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" }).format(date);
  const earlierToday = new Date(2026, 11, 6, 0, 5);
  assertEquals(timeLabel(earlierToday.getTime(), now), clock(earlierToday));

  const yesterday = new Date(2026, 11, 5, 23, 59);
  const label = timeLabel(yesterday.getTime(), now);
  assertNotEquals(label, clock(yesterday));
  assert(label.includes("5") && label.includes(clock(yesterday)), label);
  assert(!label.includes("2026"), label);

  const lastYear = new Date(2025, 11, 6, 15, 30);
  assert(timeLabel(lastYear.getTime(), now).includes("2025"), timeLabel(lastYear.getTime(), now));
});
