/**
 * The Redis history store under `ChatHistory`, over a Redis whose every
 * script waits for the test's answer: the cluster's writes paired with the
 * history's batches, reads that wait for this instance's own writes before
 * them, and messages that were not published written later, once.
 */
import { assertEquals } from "@std/assert";
import { ChatHistory } from "../../lib/history/chat_history.ts";
import { RedisHistoryStore } from "../../lib/history/redis_store.ts";
import { CHAT } from "../../lib/history/store.ts";
import { ChatStream } from "../../lib/redis/chat_stream.ts";
import { APPEND_PUBLISH, BACKFILL, READ } from "../../lib/redis/history_scripts.ts";
import { FakeRedis, RecordingLogger, settle } from "./fakes.ts";

const LATEST = { conversation: CHAT, limit: 10, from: "latest" } as const;

/** A read's answer as id, sender and text (what is held comes back as the history's own entries). */
async function answer(reply: unknown): Promise<{ id: string; sender: string; text: string }[]> {
  const messages = await (reply as Promise<{ id: string; sender: string; text: string }[]>);
  return messages.map(({ id, sender, text }) => ({ id, sender, text }));
}

/** A history over a stream over a fake Redis; `send` is what the cluster does with a local `MSG`. */
function rig() {
  const redis = new FakeRedis();
  const log = new RecordingLogger();
  const stream = new ChatStream({
    instance: "i1",
    prefix: "chat:",
    ownChannel: "chat:0:to:i1",
    everyone: "chat:0:all",
    retention: { lines: 100, maxAgeMs: 86_400_000 },
    log,
    run: redis.run,
    command: () => Promise.resolve(null),
    flush: () => {},
  });
  const history = new ChatHistory({ store: new RedisHistoryStore(stream, log), log });
  /** The hub's MSG: recorded, then broadcast (published at once, or not: Redis away). */
  const send = (text: string, published = true) => {
    history.record(CHAT, "ann", text);
    const slot = stream.slots.open("ann", text, published ? "pending" : "unwritten");
    if (published) void stream.publish("chat:0:all", [slot]).catch(() => {});
  };
  return { redis, stream, history, send, log };
}

Deno.test("a read answered before the write of a message delivered before it still waits for that write's id", async () => {
  const { redis, history, send } = rig();
  send("one");
  const write = redis.take();
  assertEquals(write.script, APPEND_PUBLISH);
  await settle();
  history.observe("5-0");
  const reply = history.read(LATEST) as Promise<unknown>;
  const read = redis.take();
  assertEquals(read.script, READ);
  assertEquals(read.arguments.slice(3, 5), ["", "5-1"], "cut after the last id seen");
  // The worst order a test can make: the read's answer first.
  read.reply.resolve(["5-0", "bo", "hi"]);
  let answered = false;
  void reply.then(() => answered = true);
  await settle();
  assertEquals(answered, false, "own message still without its id");
  write.reply.resolve(["6-0"]);
  assertEquals(await answer(reply), [
    { id: "5-0", sender: "bo", text: "hi" },
    { id: "6-0", sender: "ann", text: "one" },
  ]);
  await history.close();
});

Deno.test("messages not published (Redis away) are written later, unpublished, above the last id seen", async () => {
  const { redis, stream, history, send } = rig();
  stream.seen("9-3");
  send("while away", false);
  await settle();
  const backfill = redis.take();
  assertEquals(backfill.script, BACKFILL);
  assertEquals(backfill.arguments, [
    ...["100", "9-3", "chat:0:all", "i1", ""],
    ...["i1:1", "ann", "while away"],
  ], "never sent: nothing to look up");
  backfill.reply.reject(new Error("Redis is away"));
  await settle();
  assertEquals(history.counts.writeFailures, 1);
  // Tried again (here by the close): if the first try was written, it is after 9-3, by its origin.
  const closed = history.close();
  await settle();
  const again = redis.take();
  assertEquals(again.arguments.slice(4), ["9-3", "i1:1", "ann", "while away"]);
  again.reply.resolve(["10-0"]);
  await closed;
  assertEquals(history.counts.written, 1);
});

Deno.test("a write whose answer was lost is written again by origin, after the writes answered since", async () => {
  const { redis, history, send } = rig();
  send("lost");
  const lost = redis.take();
  await settle();
  send("fine");
  const fine = redis.take();
  lost.reply.reject(new Error("Socket closed unexpectedly"));
  fine.reply.resolve(["7-0"]);
  await settle();
  const backfill = redis.take();
  assertEquals(backfill.script, BACKFILL);
  // Sent when nothing had been seen: looked up among every entry, by its origin.
  assertEquals(backfill.arguments, [
    "100",
    "7-0",
    "chat:0:all",
    "i1",
    "0-0",
    "i1:1",
    "ann",
    "lost",
  ]);
  backfill.reply.resolve(["6-0"]);
  await settle();
  const reply = history.read(LATEST) as Promise<unknown>;
  redis.take().reply.resolve([]);
  assertEquals(await answer(reply), [
    { id: "6-0", sender: "ann", text: "lost" },
    { id: "7-0", sender: "ann", text: "fine" },
  ], "not yet seen on the channel: both from what this instance holds");
  await history.close();
});
