/** Unit tests of the hub's HISTORY: exact replies, and what waits behind a reply its store is late with. */
import { assertEquals } from "@std/assert";
import { ChatHistory } from "../lib/history/chat_history.ts";
import { MemoryStore } from "../lib/history/memory_store.ts";
import type { Entry, HistoryStore, Range, StoredMessage } from "../lib/history/store.ts";
import type { HubEvent } from "../lib/hub.ts";
import { Harness } from "./hub_harness.ts";

const RETENTION = { lines: 100, maxAgeMs: 1e15 };

/** A `post` for the hub, and the next event it posts, awaited rather than slept for. */
function posts(): { post: (event: HubEvent) => void; next: () => Promise<HubEvent> } {
  const waiting: PromiseWithResolvers<HubEvent>[] = [];
  const early: HubEvent[] = [];
  return {
    post: (event) => {
      const first = waiting.shift();
      if (first === undefined) early.push(event);
      else first.resolve(event);
    },
    next: () => {
      const event = early.shift();
      if (event !== undefined) return Promise.resolve(event);
      const waiter = Promise.withResolvers<HubEvent>();
      waiting.push(waiter);
      return waiter.promise;
    },
  };
}

/** A hub whose history is in memory, its ids made at ms 1000, 1001, … */
function memoryHarness(options: { maxQueueBytes?: number } = {}) {
  let ms = 1000;
  const history = new ChatHistory({ store: new MemoryStore(RETENTION), now: () => ms++ });
  return new Harness({ history, ...options });
}

Deno.test("HISTORY needs a login, answers HIST lines then HIST END, and refuses malformed asks", () => {
  const t = memoryHarness();
  const anonymous = t.open("anon");
  t.send(anonymous, "HISTORY");
  assertEquals(anonymous.take(), ["ERR login-required"]);
  const alice = t.login("alice");
  const bob = t.login("bob");
  t.send(alice, "MSG hello there");
  t.send(bob, "MSG hi  alice ");
  t.send(alice, "MSG bye");
  bob.take();
  alice.take();
  t.send(alice, "HISTORY");
  assertEquals(alice.take(), [
    "HIST 1000-0 alice hello there",
    "HIST 1001-0 bob hi  alice ",
    "HIST 1002-0 alice bye",
    "HIST END",
  ]);
  t.send(alice, "HISTORY 1");
  assertEquals(alice.take(), ["HIST 1002-0 alice bye", "HIST END"]);
  t.send(alice, "HISTORY 5 1002-0");
  assertEquals(alice.take(), [
    "HIST 1000-0 alice hello there",
    "HIST 1001-0 bob hi  alice ",
    "HIST END",
  ]);
  t.send(alice, "HISTORY 5 1000-0");
  assertEquals(alice.take(), ["HIST END"]);
  for (
    const bad of ["HISTORY 0", "HISTORY five", "HISTORY 5 1000", "HISTORY 1 2-0 3", "HISTORY @"]
  ) {
    t.send(alice, bad);
    assertEquals(alice.take(), ["ERR invalid-history"], bad);
  }
  t.send(alice, "HISTORY @bob");
  assertEquals(alice.take(), ["ERR account-required"]);
  t.send(alice, "DM bob not history");
  t.send(alice, "HISTORY 1");
  assertEquals(alice.take(), ["HIST 1002-0 alice bye", "HIST END"], "a DM is not chat history");
});

Deno.test("HISTORY with history off answers HIST END alone", () => {
  const t = new Harness();
  const alice = t.login("alice");
  t.send(alice, "MSG kept nowhere");
  t.send(alice, "HISTORY");
  assertEquals(alice.take(), ["HIST END"]);
});

Deno.test("A HISTORY reply leaves out its oldest lines rather than pass half the queue budget", () => {
  const t = memoryHarness({ maxQueueBytes: 200 });
  const alice = t.login("alice");
  for (let i = 0; i < 10; i++) t.send(alice, `MSG message number ${i}`);
  t.send(alice, "HISTORY 10");
  const reply = alice.take();
  // Each line is 36 bytes with its \n, HIST END 9: two lines and the end fit in 100 bytes.
  assertEquals(reply, [
    "HIST 1008-0 alice message number 8",
    "HIST 1009-0 alice message number 9",
    "HIST END",
  ]);
});

/** A store that answers reads only when the test says. */
class LateStore implements HistoryStore {
  readonly kind = "late";
  readonly assignsIds = false;
  readonly lastId = undefined;
  readonly inner = new MemoryStore(RETENTION);
  readonly reads: (() => void)[] = [];

  append(entries: readonly Entry[]): Promise<void> {
    this.inner.append(entries);
    return Promise.resolve();
  }

  read(range: Range): Promise<readonly StoredMessage[]> {
    return new Promise((resolve) => this.reads.push(() => resolve(this.inner.read(range))));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("A late HISTORY reply comes before the lines and commands that followed it, in order", async () => {
  const store = new LateStore();
  let ms = 1000;
  const { post, next } = posts();
  const history = new ChatHistory({ store, now: () => ms++ });
  const t = new Harness({ history, post });
  const alice = t.login("alice");
  const bob = t.login("bob");
  t.send(bob, "MSG before");
  await Promise.resolve();
  t.send(alice, "HISTORY");
  t.send(bob, "MSG after the cut");
  t.send(alice, "PING");
  t.send(alice, "WHO");
  t.send(alice, "MSG from alice");
  assertEquals(alice.take(), ["MSG bob before"], "nothing after the HISTORY yet");
  assertEquals(bob.take(), [], "alice's MSG waits behind her HISTORY");
  store.reads.shift()!();
  t.hub.apply(await next());
  assertEquals(alice.take(), [
    "HIST 1000-0 bob before",
    "HIST END",
    "MSG bob after the cut",
    "PONG",
    "USER alice",
    "USER bob",
  ]);
  assertEquals(bob.take(), ["MSG alice from alice"]);
});

Deno.test("A client that leaves while its HISTORY waits is forgotten; the late answer is dropped", async () => {
  const store = new LateStore();
  const { post, next } = posts();
  const history = new ChatHistory({ store });
  const t = new Harness({ history, post });
  const alice = t.login("alice");
  t.send(alice, "HISTORY");
  t.send(alice, "QUIT");
  t.hub.apply({ kind: "closed", link: alice, reason: "eof" });
  assertEquals(alice.closes, ["eof"]);
  store.reads.shift()!();
  t.hub.apply(await next());
  assertEquals(alice.take(), []);
  assertEquals(t.hub.userNames, []);
});

Deno.test("Lines held behind a late reply count against the queue budget: past it, a slow consumer", async () => {
  const store = new LateStore();
  const history = new ChatHistory({ store });
  const { post, next } = posts();
  const t = new Harness({ history, maxQueueBytes: 100, post });
  const alice = t.login("alice");
  const bob = t.login("bob");
  t.send(alice, "HISTORY");
  for (let i = 0; i < 5; i++) t.send(bob, `MSG ${"x".repeat(20)} ${i}`);
  assertEquals(alice.closes, ["slow-consumer"]);
  assertEquals(bob.take(), ["INFO alice disconnected"]);
  store.reads.shift()!();
  // The late answer finds the session gone and changes nothing.
  t.hub.apply(await next());
  assertEquals(alice.take(), []);
  assertEquals(alice.closes, ["slow-consumer"]);
});
