/** Unit tests of the Redis history's recent messages: what it keeps, and when it may answer. */
import { assertEquals, assertStrictEquals } from "@std/assert";
import { type Range, type Retention } from "../lib/history/store.ts";
import { AGE_MARGIN_MS, RecentChat } from "../lib/redis/recent_chat.ts";
import { seededRandom } from "./seeded_random.ts";

const DAY_MS = 86_400_000;
const NOW = 1_800_000_000_000;
const RETENTION: Retention = { lines: 1000, maxAgeMs: DAY_MS };

/** Message `n`'s id: one millisecond apart, an hour before NOW. */
function id(n: number): string {
  return `${NOW - 3_600_000 + n}-0`;
}

function latest(limit: number, extra: Partial<Range> = {}): Range {
  return { conversation: "chat", limit, from: "latest", ...extra };
}

function texts(found: readonly { text: string }[] | undefined): string[] | undefined {
  return found?.map((message) => message.text);
}

function filled(count: number, capacity?: number, retention = RETENTION): RecentChat {
  const recent = new RecentChat(retention, capacity);
  recent.reset(id(0));
  for (let n = 1; n <= count; n++) recent.add(id(n), "ann", `m${n}`);
  return recent;
}

Deno.test("RecentChat answers nothing before a join's mark, then what came after it", () => {
  const recent = new RecentChat(RETENTION);
  recent.add(id(1), "ann", "m1");
  assertStrictEquals(recent.answer(latest(1), NOW), undefined);
  recent.reset(id(1));
  // Before the mark: dropped; the one after it, kept.
  recent.add(id(0), "ann", "m0");
  recent.add(id(2), "bob", "m2");
  assertEquals(recent.answer(latest(1), NOW), [{ id: id(2), sender: "bob", text: "m2" }]);
  // Two asked, one known: what came before the mark is Redis's to answer.
  assertStrictEquals(recent.answer(latest(2), NOW), undefined);
});

Deno.test("RecentChat keeps messages newer than the mark that came before it, and drops the rest", () => {
  const recent = new RecentChat(RETENTION);
  recent.add(id(1), "ann", "m1");
  recent.add(id(3), "ann", "m3");
  recent.reset(id(2));
  assertEquals(recent.size, 1);
  assertEquals(texts(recent.answer(latest(1), NOW)), ["m3"]);
});

Deno.test("RecentChat puts a late message in its place, once", () => {
  const recent = filled(3);
  recent.add(id(5), "ann", "m5");
  recent.add(id(4), "ann", "m4");
  recent.add(id(4), "ann", "m4 again");
  assertEquals(texts(recent.answer(latest(5), NOW)), ["m1", "m2", "m3", "m4", "m5"]);
});

Deno.test("RecentChat answers latest, before and after within what is whole", () => {
  const recent = filled(10);
  assertEquals(texts(recent.answer(latest(3), NOW)), ["m8", "m9", "m10"]);
  assertEquals(texts(recent.answer(latest(3, { before: id(5) }), NOW)), ["m2", "m3", "m4"]);
  // Fewer than asked, but the range starts inside what is whole: that is all there is.
  assertEquals(texts(recent.answer(latest(5, { after: id(7) }), NOW)), ["m8", "m9", "m10"]);
  assertEquals(texts(recent.answer(latest(5, { after: id(0) }), NOW)), [
    "m6",
    "m7",
    "m8",
    "m9",
    "m10",
  ]);
  assertEquals(
    texts(recent.answer({ conversation: "chat", limit: 2, from: "earliest", after: id(4) }, NOW)),
    ["m5", "m6"],
  );
  assertEquals(
    recent.answer(
      { conversation: "chat", limit: 2, from: "earliest", after: id(8), before: id(9) },
      NOW,
    ),
    [],
  );
  // Reaching before the mark: not whole here.
  assertStrictEquals(recent.answer(latest(3, { before: id(3) }), NOW), undefined);
  assertStrictEquals(
    recent.answer({ conversation: "chat", limit: 2, from: "earliest" }, NOW),
    undefined,
  );
  assertStrictEquals(recent.answer(latest(0), NOW), undefined);
});

Deno.test("RecentChat keeps at most its capacity, and then is whole only after the oldest kept", () => {
  const recent = filled(25, 10);
  assertEquals(recent.size, 10);
  assertEquals(recent.coveredAfter, id(15));
  assertEquals(texts(recent.answer(latest(10), NOW))!.at(0), "m16");
  assertStrictEquals(recent.answer(latest(11), NOW), undefined);
  // --history-lines below the capacity bounds it too.
  assertEquals(filled(25, 10, { lines: 4, maxAgeMs: DAY_MS }).size, 4);
  // No history, nothing kept.
  const none = filled(5, 10, { lines: 0, maxAgeMs: DAY_MS });
  assertEquals(none.size, 0);
  assertStrictEquals(none.answer(latest(1), NOW), undefined);
});

Deno.test("RecentChat leaves reads near the age bound to Redis, whose clock decides it", () => {
  const hour = { lines: 1000, maxAgeMs: 3_600_000 };
  const recent = filled(3, undefined, hour);
  // m1 is an hour old less 1 ms: inside the bound, but within the margin of it.
  assertStrictEquals(recent.answer(latest(3), NOW), undefined);
  assertEquals(texts(recent.answer(latest(3), NOW - AGE_MARGIN_MS)), ["m1", "m2", "m3"]);
});

Deno.test("RecentChat uncovered answers nothing until the next mark, and keeps what came meanwhile", () => {
  const recent = filled(3);
  recent.uncover();
  recent.add(id(4), "ann", "m4");
  assertStrictEquals(recent.answer(latest(1), NOW), undefined);
  recent.reset(id(3));
  assertEquals(texts(recent.answer(latest(1), NOW)), ["m4"]);
  assertStrictEquals(recent.answer(latest(2), NOW), undefined);
});

Deno.test("RecentChat joined to an empty stream holds all of it: a short answer is the whole answer", () => {
  const recent = new RecentChat(RETENTION);
  recent.reset("0-0");
  recent.add(id(1), "ann", "m1");
  assertEquals(texts(recent.answer(latest(50), NOW)), ["m1"]);
  assertEquals(texts(recent.answer({ conversation: "chat", limit: 5, from: "earliest" }, NOW)), [
    "m1",
  ]);
});

Deno.test("RecentChat answers any range as a filter of what it keeps would (random ranges, ids between kept ones too)", () => {
  const random = seededRandom(22);
  // Kept ids are even, 2 to 2 * COUNT; odd ones fall between.
  const COUNT = 300;
  // All kept, then only the latest 120 (the oldest pushed out, so the kept ones start past index 0).
  for (const capacity of [COUNT, 120]) {
    const recent = new RecentChat(RETENTION, capacity);
    recent.reset(id(0));
    for (let n = 1; n <= COUNT; n++) recent.add(id(2 * n), "ann", `m${2 * n}`);
    const kept = Array.from(
      { length: capacity },
      (_, i) => ({ n: 2 * (COUNT - capacity + i + 1), text: `m${2 * (COUNT - capacity + i + 1)}` }),
    );
    // Whole after the last one pushed out.
    const coveredAfter = 2 * (COUNT - capacity);
    assertEquals(recent.coveredAfter, id(coveredAfter));
    for (let round = 0; round < 2000; round++) {
      const pick = () => Math.floor(random() * (2 * COUNT + 6));
      const after = random() < 0.7 ? pick() : undefined;
      const before = random() < 0.7 ? pick() : undefined;
      const limit = 1 + Math.floor(random() * 40);
      const from = random() < 0.5 ? "latest" : "earliest";
      const range: Range = {
        conversation: "chat",
        limit,
        from,
        ...(after === undefined ? {} : { after: id(after) }),
        ...(before === undefined ? {} : { before: id(before) }),
      };
      const inside = kept.filter((m) =>
        (after === undefined || m.n > after) && (before === undefined || m.n < before)
      );
      const expected = from === "latest"
        ? inside.slice(Math.max(0, inside.length - limit))
        : inside.slice(0, limit);
      const found = recent.answer(range, NOW);
      const label = JSON.stringify({ capacity, after, before, limit, from });
      // A range that starts inside what is whole is always answered here; others when they can be.
      if (after !== undefined && after >= coveredAfter) {
        assertEquals(texts(found), expected.map((m) => m.text), label);
      } else if (found !== undefined) {
        assertEquals(texts(found), expected.map((m) => m.text), label);
      }
    }
  }
});
