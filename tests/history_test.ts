/** Unit tests of the history's pure parts: message ids, the memory store, and ChatHistory's cut. */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { ChatHistory } from "../lib/history/chat_history.ts";
import { compareIds, formatId, IdClock, idMs, parseId } from "../lib/history/message_id.ts";
import { MemoryStore } from "../lib/history/memory_store.ts";
import {
  CHAT,
  type Entry,
  type HistoryStore,
  type Range,
  type StoredMessage,
} from "../lib/history/store.ts";
import { canonicalId, parseHistory } from "../lib/protocol.ts";

const DAY = 86_400_000;

Deno.test("message ids parse, print and order as Redis stream ids do", () => {
  assertEquals(parseId("1764999000123-0"), { ms: 1764999000123, seq: 0 });
  assertEquals(formatId({ ms: 5, seq: 12 }), "5-12");
  for (const bad of ["", "1", "1-", "-1", "1-2-3", "a-1", "1-b", " 1-2", "1-2 ", "1.5-2"]) {
    assertEquals(parseId(bad), undefined, bad);
  }
  assertEquals(parseId("99999999999999999-0"), undefined, "past Number.MAX_SAFE_INTEGER");
  assert(compareIds("9-5", "10-0") < 0, "numbers, not text");
  assert(compareIds("10-10", "10-9") > 0);
  assertEquals(compareIds("7-1", "7-1"), 0);
  assertEquals(idMs("1764999000123-4"), 1764999000123);
  assertEquals(canonicalId("007-08"), "7-8");
  assertEquals(canonicalId("7"), undefined);
});

Deno.test("IdClock never goes back: a clock that does keeps the last milliseconds and counts on", () => {
  const clock = new IdClock();
  assertEquals(clock.next(1000.7), "1000-0");
  assertEquals(clock.next(1000.9), "1000-1");
  assertEquals(clock.next(999), "1000-2", "the clock went back");
  assertEquals(clock.next(1001), "1001-0");
  const reopened = new IdClock("5000-3");
  assertEquals(reopened.next(4000), "5000-4", "above what a store already holds");
  reopened.raiseTo("6000-0");
  assertEquals(reopened.next(4000), "6000-1");
  reopened.raiseTo("1-0");
  assertEquals(reopened.next(4000), "6000-2", "raising to a lower id changes nothing");
});

Deno.test("parseHistory reads [@name] [n [before]] and refuses anything else", () => {
  assertEquals(parseHistory(""), { limit: 50, from: "latest", form: "hist" });
  assertEquals(parseHistory("7"), { limit: 7, from: "latest", form: "hist" });
  assertEquals(parseHistory("1001"), { limit: 1000, from: "latest", form: "hist" });
  assertEquals(parseHistory("99999999999999999999999"), {
    limit: 1000,
    from: "latest",
    form: "hist",
  });
  assertEquals(parseHistory("5 12-3"), { limit: 5, from: "latest", before: "12-3", form: "hist" });
  assertEquals(parseHistory("@bob 5"), { with: "bob", limit: 5, from: "latest", form: "hist" });
  assertEquals(parseHistory("@bob"), { with: "bob", limit: 50, from: "latest", form: "hist" });
  for (
    const bad of ["0", "-1", "+5", "1.5", "x", "5 x", "5 12", "5 12-3 9", "@", "@bob 0", "@a @b"]
  ) {
    assertEquals(parseHistory(bad), undefined, bad);
  }
});

/** `count` messages in a store, ids `1000+i`-0, sender `s`, text `m<i>`. */
function filled(store: MemoryStore, count: number, from = 0): void {
  for (let i = from; i < from + count; i++) {
    store.append([{ conversation: CHAT, sender: "s", text: `m${i}`, id: `${1000 + i}-0` }]);
  }
}

function texts(messages: readonly StoredMessage[]): string[] {
  return messages.map((m) => m.text);
}

Deno.test("MemoryStore keeps the latest lines and pages back and forth exactly", () => {
  const store = new MemoryStore({ lines: 5, maxAgeMs: DAY }, () => 2000);
  filled(store, 8);
  const read = (range: Partial<Range>) =>
    texts(
      store.read({ conversation: CHAT, limit: 10, from: "latest", ...range }) as StoredMessage[],
    );
  assertEquals(read({}), ["m3", "m4", "m5", "m6", "m7"]);
  assertEquals(read({ limit: 2 }), ["m6", "m7"]);
  assertEquals(read({ limit: 2, before: "1006-0" }), ["m4", "m5"]);
  assertEquals(read({ before: "1005-5" }), ["m3", "m4", "m5"], "an id that does not exist");
  assertEquals(read({ limit: 2, from: "earliest", after: "1003-0" }), ["m4", "m5"]);
  assertEquals(read({ after: "1004-0", before: "1007-0" }), ["m5", "m6"]);
  assertEquals(read({ before: "1003-0" }), []);
  assertEquals(read({ conversation: "other" }), []);
});

Deno.test("MemoryStore drops what is older than --history-days at read time", () => {
  let now = 1000 + DAY;
  const store = new MemoryStore({ lines: 100, maxAgeMs: DAY }, () => now);
  filled(store, 5);
  assertEquals(
    texts(store.read({ conversation: CHAT, limit: 10, from: "latest" }) as StoredMessage[]),
    [
      "m0",
      "m1",
      "m2",
      "m3",
      "m4",
    ],
  );
  now += 3;
  assertEquals(
    texts(store.read({ conversation: CHAT, limit: 10, from: "latest" }) as StoredMessage[]),
    ["m3", "m4"],
  );
});

/** A store that answers later, when the test says, and records what it was asked. */
class SlowStore implements HistoryStore {
  readonly kind = "slow";
  readonly assignsIds = false;
  readonly lastId: string | undefined;
  readonly inner = new MemoryStore({ lines: 1000, maxAgeMs: 1e15 });
  readonly batches: Entry[][] = [];
  readonly pendingWrites: { resolve: () => void; reject: (e: Error) => void }[] = [];
  readonly pendingReads: { range: Range; resolve: (m: readonly StoredMessage[]) => void }[] = [];

  constructor(lastId?: string) {
    this.lastId = lastId;
  }

  append(entries: readonly Entry[]): Promise<void> {
    this.batches.push([...entries]);
    return new Promise((resolve, reject) => {
      this.pendingWrites.push({
        resolve: () => {
          this.inner.append(entries);
          resolve();
        },
        reject,
      });
    });
  }

  read(range: Range): Promise<readonly StoredMessage[]> {
    return new Promise((resolve) => this.pendingReads.push({ range, resolve }));
  }

  /** Answers the oldest read from what has been written. */
  answerRead(): void {
    const { range, resolve } = this.pendingReads.shift()!;
    resolve(this.inner.read(range));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

Deno.test("ChatHistory batches a turn's messages into one write and starts ids above the store's", async () => {
  const store = new SlowStore("5000-7");
  const history = new ChatHistory({ store, now: () => 4000 });
  assertEquals(history.record(CHAT, "a", "one"), "5000-8");
  assertEquals(history.record(CHAT, "a", "two"), "5000-9");
  await tick();
  assertEquals(store.batches.map((b) => b.map((e) => e.text)), [["one", "two"]]);
  history.record(CHAT, "a", "three");
  await tick();
  assertEquals(store.batches.length, 1, "one batch in flight at a time");
  store.pendingWrites.shift()!.resolve();
  await tick();
  await tick();
  assertEquals(store.batches.map((b) => b.map((e) => e.text)), [["one", "two"], ["three"]]);
  store.pendingWrites.shift()!.resolve();
  await history.close();
  assertEquals(history.counts.written, 3);
});

Deno.test("ChatHistory reads at the cut: unwritten messages in, later ones out, each once", async () => {
  const store = new SlowStore();
  let now = 1000;
  const history = new ChatHistory({ store, now: () => now++ });
  history.record(CHAT, "a", "written");
  await tick();
  store.pendingWrites.shift()!.resolve();
  await tick();
  history.record(CHAT, "a", "in flight");
  await tick();
  history.record(CHAT, "a", "queued");
  const reading = history.read({ conversation: CHAT, limit: 10, from: "latest" });
  assert(reading instanceof Promise);
  history.record(CHAT, "a", "after the cut");
  store.pendingWrites.shift()!.resolve();
  await tick();
  await tick();
  store.answerRead();
  assertEquals(texts(await reading), ["written", "in flight", "queued"]);
  const limited = history.read({ conversation: CHAT, limit: 2, from: "latest" });
  store.answerRead();
  assertEquals(texts(await limited), ["queued", "after the cut"]);
  store.pendingWrites.shift()?.resolve();
  await history.close();
});

Deno.test("ChatHistory retries a failed batch, keeps the order, and drops the oldest past its bound", async () => {
  const store = new SlowStore();
  const logged: string[] = [];
  const log = {
    debug() {},
    info() {},
    warn() {},
    error: (message: string) => logged.push(message),
  };
  const history = new ChatHistory({ store, now: () => 1000, maxPending: 3, log });
  history.record(CHAT, "a", "m1");
  history.record(CHAT, "a", "m2");
  await tick();
  store.pendingWrites.shift()!.reject(new Error("disk full"));
  await tick();
  await tick();
  assertEquals(history.counts.writeFailures, 1);
  assertEquals(logged, ["history write failed; retrying"]);
  history.record(CHAT, "a", "m3");
  history.record(CHAT, "a", "m4");
  assertEquals(history.counts.dropped, 1, "m1 went to keep three waiting");
  assertEquals(history.pending, 3);
  const reading = history.read({ conversation: CHAT, limit: 10, from: "latest" });
  store.answerRead();
  assertEquals(texts(await reading), ["m2", "m3", "m4"]);
  // close() stops the retry timer and writes what waits, once.
  const closing = history.close();
  await tick();
  store.pendingWrites.shift()!.resolve();
  await closing;
  assertEquals(store.batches.map((b) => b.map((e) => e.text)), [["m1", "m2"], ["m2", "m3", "m4"]]);
});

Deno.test("ChatHistory answers a read its store never answers within the timeout, from what it holds", async () => {
  const store = new SlowStore();
  const history = new ChatHistory({ store, now: () => 1000, readTimeoutMs: 20 });
  history.record(CHAT, "a", "held");
  const reading = history.read({ conversation: CHAT, limit: 10, from: "latest" });
  assertEquals(texts(await reading), ["held"]);
  assertEquals(history.counts.readFailures, 1);
  store.pendingWrites.shift()?.resolve();
  await history.close();
});

Deno.test("ChatHistory with no store keeps nothing and reads nothing", () => {
  const history = new ChatHistory({ store: undefined });
  assertStrictEquals(history.enabled, false);
  assertEquals(history.record(CHAT, "a", "x"), undefined);
  assertEquals(history.read({ conversation: CHAT, limit: 5, from: "latest" }), []);
});

Deno.test("ChatHistory reads around an id: half up to it, half after", () => {
  const store = new MemoryStore({ lines: 100, maxAgeMs: 1e15 });
  const history = new ChatHistory({ store, now: () => 1000 });
  const ids = Array.from({ length: 10 }, (_, i) => history.record(CHAT, "s", `m${i}`)!);
  const around = history.read({ conversation: CHAT, limit: 4, around: ids[5]! });
  assertEquals(texts(around as StoredMessage[]), ["m4", "m5", "m6", "m7"]);
});
