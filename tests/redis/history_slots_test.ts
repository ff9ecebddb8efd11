/** How this instance's messages on their way into Redis meet the history's batches: by order. */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { SlotBook } from "../../lib/redis/history_slots.ts";
import { CHAT, type Entry } from "../../lib/history/store.ts";
import { settle } from "./fakes.ts";

function entry(text: string, conversation = CHAT): Entry {
  return { conversation, sender: "ann", text, id: undefined };
}

Deno.test("a batch's new entries take the newest open slots, in order, with their ids", () => {
  const book = new SlotBook();
  const one = book.open("ann", "one", "pending");
  const two = book.open("ann", "two", "pending");
  book.written(one, "5-0");
  const entries = [entry("one"), entry("two")];
  const slots = book.pair(entries);
  assertStrictEquals(slots[0], one);
  assertStrictEquals(slots[1], two);
  assertEquals(entries.map((e) => e.id), ["5-0", undefined], "an id known before pairing is given");
  book.written(two, "5-1");
  assertEquals(entries[1]!.id, "5-1", "an id known after pairing is given at once");
  assertEquals(book.openCount, 0);
  assertEquals(book.mismatches, 0);
});

Deno.test("open slots older than a batch's new entries belong to entries dropped unwritten", () => {
  const book = new SlotBook();
  book.open("ann", "dropped", "pending");
  const kept = book.open("ann", "kept", "pending");
  const slots = book.pair([entry("kept")]);
  assertStrictEquals(slots[0], kept);
  assertEquals(book.openCount, 0, "the dropped entry's slot is forgotten");
  assertEquals(book.mismatches, 0);
});

Deno.test("a batch tried again keeps its slots, and its new entries come after", () => {
  const book = new SlotBook();
  const a = book.open("ann", "a", "pending");
  const first = [entry("a"), entry("dropped later", "dm:ann:bo")];
  book.failed(book.pair(first));
  book.unwritten(a);
  const b = book.open("ann", "b", "pending");
  const again = [first[0]!, entry("b")];
  const slots = book.pair(again);
  assertStrictEquals(slots[0], a, "the entry handed over before keeps its slot");
  assertStrictEquals(slots[1], b);
  assertEquals(a.state, "unwritten");
  const dm = first[1]!;
  assertEquals(book.pair([dm])[0]!.seq, 4, "not in the batch after the failed one: forgotten");
});

Deno.test("a direct-message entry, or one no slot matches, gets a slot of its own, unwritten", () => {
  const book = new SlotBook();
  book.open("ann", "published", "pending");
  const dm = entry("private", "dm:ann:bo");
  const stray = entry("not what was published");
  const slots = book.pair([dm, stray]);
  assertEquals(slots.map((s) => [s.text, s.state]), [
    ["private", "unwritten"],
    ["not what was published", "unwritten"],
  ]);
  assertEquals(book.mismatches, 1, "a chat entry meeting another message's slot is counted");
  book.failed(slots);
  assertStrictEquals(book.pair([dm])[0], slots[0], "and keeps its slot when tried again");
  const extra = book.pair([entry("never published")]);
  assertEquals(extra[0]!.state, "unwritten");
  assertEquals(book.mismatches, 2, "more new entries than open slots: counted too");
});

Deno.test("settled waits for every pending slot; unwritten counts as settled", async () => {
  const book = new SlotBook();
  const a = book.open("ann", "a", "pending");
  const b = book.open("ann", "b", "pending");
  const slots = book.pair([entry("a"), entry("b")]);
  let done = false;
  const waiting = book.settled(slots).then(() => done = true);
  book.written(a, "1-0");
  await settle();
  assert(!done);
  book.unwritten(b);
  await waiting;
  assertEquals([a.state, b.state], ["written", "unwritten"]);
  book.unwritten(a);
  assertEquals(a.state, "written", "a written slot stays written");
});

Deno.test("a read waits for slots opened before it: pending ones, and written ones not yet handed over while a batch is answered", () => {
  const book = new SlotBook();
  const before = book.open("ann", "before", "pending");
  const mark = book.next;
  const after = book.open("ann", "after", "pending");
  assert(book.blocks(mark, false), "pending before the read");
  book.written(before, "1-0");
  assert(!book.blocks(mark, false), "written, and no batch being answered: it is not coming");
  assert(book.blocks(mark, true), "written, and the next batch follows the one being answered");
  book.pair([entry("before"), entry("after")]);
  assert(!book.blocks(mark, true), "paired: its entry has its id");
  book.written(after, "1-1");
  const late = book.open("ann", "late", "pending");
  book.pair([entry("late")]);
  const mark2 = book.next;
  assert(book.blocks(mark2, false), "paired but still pending");
  book.unwritten(late);
  assert(!book.blocks(mark2, false), "unwritten: no id is coming");
});

Deno.test("open slots are bounded: the oldest go first", () => {
  const book = new SlotBook(2);
  book.open("ann", "1", "unwritten");
  book.open("ann", "2", "unwritten");
  book.open("ann", "3", "unwritten");
  assertEquals(book.openCount, 2);
  const slots = book.pair([entry("2"), entry("3")]);
  assertEquals(slots.map((s) => s.seq), [2, 3]);
});
