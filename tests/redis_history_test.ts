/**
 * The chat's history in Redis, on a real `redis-server`: the scripts that
 * write, publish and read the stream (bounds enforced exactly, a write sent
 * again not made twice, ids never going back), and the persistence check.
 * Skipped without `redis-server`, except in CI.
 */
import { assert, assertEquals } from "@std/assert";
import { compareIds } from "../lib/history/message_id.ts";
import { ChatStream } from "../lib/redis/chat_stream.ts";
import type { RedisClient } from "../lib/redis/connections.ts";
import { APPEND_PUBLISH, BACKFILL, MARK, READ } from "../lib/redis/history_scripts.ts";
import { DEFAULT_PREFIX, KEYS } from "../lib/redis/keys.ts";
import { ignore, type Instance, NOTICE_MS, type Rig, withCluster, withRig } from "./cluster_rig.ts";
import { pollUntil, TestClient, withDeadline } from "./helpers.ts";
import { withClient, withRedis } from "./redis_client.ts";
import type { RedisProcess } from "./redis_process.ts";
import { RecordingLogger } from "./redis/fakes.ts";

const STREAM = KEYS.history(DEFAULT_PREFIX, "chat");
const DAY_MS = 86_400_000;

/** What a subscription to `channel` hears: a wait for its first `count` messages. */
type Heard = (count: number) => Promise<string[]>;

/** Runs `body` while subscribed to `channel` on `redis`; unsubscribes after. */
async function hearing(
  redis: RedisProcess,
  channel: string,
  body: (first: Heard) => Promise<void>,
): Promise<void> {
  await withClient(redis, async (subscriber) => {
    const heard: string[] = [];
    let wanted: { count: number; done: () => void } | undefined;
    await subscriber.subscribe([channel], (message) => {
      heard.push(message);
      if (wanted !== undefined && heard.length >= wanted.count) wanted.done();
    });
    await body(async (count) => {
      if (heard.length < count) {
        const arrived = Promise.withResolvers<void>();
        wanted = { count, done: arrived.resolve };
        await withDeadline(arrived.promise, 5000, `${count} messages on ${channel}`);
      }
      return heard.slice(0, count);
    });
  });
}

/** XRANGE of the whole stream as [id, sender, text]. */
async function everything(client: RedisClient): Promise<string[][]> {
  const entries = await client.sendCommand(["XRANGE", STREAM, "-", "+"]) as [string, string[]][];
  return entries.map(([id, fields]) => [id, fields[1]!, fields[3]!]);
}

/** READ's answer as [id, sender, text] triples. */
async function read(
  client: RedisClient,
  options: { lines: number; maxAgeMs?: number; from?: string; after?: string; before?: string },
  limit = 1000,
): Promise<string[][]> {
  const flat = await client.eval(READ, {
    keys: [STREAM],
    arguments: [
      String(options.lines),
      String(options.maxAgeMs ?? DAY_MS),
      options.from ?? "latest",
      options.after ?? "",
      options.before ?? "",
      String(limit),
    ],
  }) as string[];
  const triples: string[][] = [];
  for (let i = 0; i < flat.length; i += 3) triples.push(flat.slice(i, i + 3));
  return triples;
}

/** Adds `count` messages `m0`, `m1`, ... by `ann`, in one pipeline, without any trimming. */
async function fill(client: RedisClient, count: number, first = 0): Promise<void> {
  const adds: Promise<unknown>[] = [];
  for (let i = first; i < first + count; i++) {
    adds.push(client.sendCommand(["XADD", STREAM, "*", "s", "ann", "t", `m${i}`]));
  }
  await Promise.all(adds);
}

Deno.test({
  name:
    "history script: a batch's kept messages are written and published with their ids, in one step",
  ignore,
  async fn() {
    await withRedis(async (client, redis) => {
      await hearing(redis, "chat:0:all", async (first) => {
        const ids = await client.eval(APPEND_PUBLISH, {
          keys: [STREAM],
          arguments: [
            ...["chat:0:all", "100", "i1", "LHLH"],
            ...["J 4 ann", "i1:7", "ann", "one two", "D bo ann psst", "i1:8", "ann", "three"],
          ],
        }) as string[];
        assertEquals(ids.length, 2);
        assert(compareIds(ids[0]!, ids[1]!) < 0);
        assertEquals(await first(1), [
          `i1\nJ 4 ann\nH ${ids[0]} ann one two\nD bo ann psst\nH ${ids[1]} ann three`,
        ]);
        assertEquals(await everything(client), [
          [ids[0]!, "ann", "one two"],
          [ids[1]!, "ann", "three"],
        ]);
        const origins = await client.sendCommand(["XRANGE", STREAM, "-", "+"]) as [
          string,
          string[],
        ][];
        assertEquals(
          origins.map(([, fields]) => fields[5]),
          ["i1:7", "i1:8"],
          "each entry's origin",
        );
      });
    });
  },
});

Deno.test({
  name:
    "history script: reads give exactly --history-lines, whatever the stream holds, and page by id",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      await fill(client, 180);
      const ids = (await everything(client)).map(([id]) => id!);
      const texts = async (...args: Parameters<typeof read>) =>
        (await read(...args)).map(([, , text]) => text);
      assertEquals(await texts(client, { lines: 100 }), range(80, 180));
      // Paging back stops at the bound: nothing older than the 100th latest, ever.
      assertEquals(await texts(client, { lines: 100, before: ids[90]! }, 50), range(80, 90));
      assertEquals(await texts(client, { lines: 100, from: "earliest" }, 3), range(80, 83));
      const after = await texts(client, { lines: 100, from: "earliest", after: ids[150]! }, 2);
      assertEquals(after, ["m151", "m152"]);
      assertEquals(await texts(client, { lines: 100, after: ids[179]! }), []);
      assertEquals(Number(await client.sendCommand(["XLEN", STREAM])), 180, "reads wrote nothing");
      // A bound lowered far below what the stream holds: trimmed about, then cut exactly.
      assertEquals(await texts(client, { lines: 7 }), range(173, 180));
      const left = Number(await client.sendCommand(["XLEN", STREAM]));
      assert(left < 180 && left >= 7, `${left} left after the trim`);
    });
  },
});

Deno.test({
  name: "history script: messages older than --history-days are never read, by Redis's clock",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const now = Date.now();
      // Two messages stored 40 and 2 days ago (ids are their times), then two now.
      await client.sendCommand(["XADD", STREAM, `${now - 40 * DAY_MS}-0`, "s", "ann", "t", "old"]);
      await client.sendCommand([
        "XADD",
        STREAM,
        `${now - 2 * DAY_MS}-0`,
        "s",
        "ann",
        "t",
        "recent",
      ]);
      await fill(client, 2);
      const texts = async (maxAgeMs: number) =>
        (await read(client, { lines: 10, maxAgeMs })).map(([, , text]) => text);
      assertEquals(await texts(30 * DAY_MS), ["recent", "m0", "m1"]);
      assertEquals(await texts(DAY_MS), ["m0", "m1"]);
      assertEquals(await texts(0.5 * DAY_MS), ["m0", "m1"], "fractions of a day");
    });
  },
});

Deno.test({
  name:
    "history script: a write sent again after its answer was lost keeps the ids it got; the rest are written once",
  ignore,
  async fn() {
    await withRedis(async (client, redis) => {
      await hearing(redis, "chat:0:all", async (heard) => {
        await fill(client, 2);
        const [, since] = (await everything(client)).map(([id]) => id!);
        const first = await client.eval(APPEND_PUBLISH, {
          keys: [STREAM],
          arguments: ["chat:0:all", "100", "i1", "HH", "i1:1", "ann", "a", "i1:2", "ann", "b"],
        }) as string[];
        await fill(client, 1, 2);
        // Its answer "lost": sent again, with what had been seen when it first went out.
        const again = await client.eval(BACKFILL, {
          keys: [STREAM],
          arguments: [
            ...["100", "", "chat:0:all", "i1", since!],
            ...["i1:1", "ann", "a", "i1:2", "ann", "b", "i1:3", "ann", "c"],
          ],
        }) as string[];
        assertEquals(again.slice(0, 2), first);
        const texts = (await everything(client)).map(([, , text]) => text);
        assertEquals(texts, ["m0", "m1", "a", "b", "m2", "c"]);
        const published = await heard(2);
        assertEquals(published[1], `i1\nS ${again[2]}`, "every instance's reads reach past them");
        // Looked up only after `since`: an origin before it is another write (here: written anew).
        const before = await client.eval(BACKFILL, {
          keys: [STREAM],
          arguments: ["100", "", "", "i1", again[2]!, "i1:1", "ann", "a"],
        }) as string[];
        assert(compareIds(before[0]!, again[2]!) > 0);
      });
    });
  },
});

Deno.test({
  name:
    "history script: after Redis lost the stream, ids start above the last one seen, and the mark says where",
  ignore,
  async fn() {
    await withRedis(async (client, redis) => {
      await hearing(redis, "chat:0:to:i1", async (first) => {
        const floor = `${Date.now() + 3_600_000}-5`;
        const mark = (last: string) =>
          client.eval(MARK, { keys: [STREAM], arguments: [last, "chat:0:to:i1", "i1"] });
        assertEquals(await mark(floor), floor, "a missing stream is made again at the floor");
        assertEquals(await client.sendCommand(["XLEN", STREAM]), 0);
        const [ms, seq] = floor.split("-").map(Number);
        const added = await client.sendCommand(["XADD", STREAM, "*", "s", "a", "t", "x"]);
        assertEquals(added, `${ms}-${seq! + 1}`);
        const higher = `${ms! + 10}-0`;
        assertEquals(await mark(higher), higher, "an existing stream below the floor is raised");
        assertEquals(await first(2), [`i1\nS ${floor}`, `i1\nS ${higher}`]);
        assertEquals(await mark(""), higher, "no floor: where it stands");
      });
    });
  },
});

Deno.test({
  name: "history: joining warns when Redis persists nothing, and not when it saves snapshots",
  ignore,
  async fn() {
    await withRedis(async (client, redis) => {
      const join = async (instance: string) => {
        const log = new RecordingLogger();
        const stream = new ChatStream({
          instance,
          prefix: DEFAULT_PREFIX,
          ownChannel: `chat:0:to:${instance}`,
          everyone: "chat:0:all",
          retention: { lines: 100, maxAgeMs: DAY_MS },
          log,
          run: (script, args) => client.eval(script, args),
          command: (args) => client.sendCommand(args),
          flush: () => {},
        });
        await stream.join();
        // The check's two answers come after the join's; a PING after them proves they are in.
        await client.sendCommand(["PING"]);
        await stream.close();
        return log;
      };
      assertEquals((await join("i1")).messages("warn"), [
        "Redis persists nothing: the chat's history is lost when it restarts",
      ]);
      // Snapshots on (set back before Redis stops, or it would write one on its way out).
      assertEquals(await redis.command("CONFIG", "SET", "save", "3600 1"), "+OK");
      assertEquals((await join("i2")).lines, []);
      assertEquals(await redis.command("CONFIG", "SET", "save", ""), "+OK");
    });
  },
});

/** `m<from>` to `m<to - 1>`. */
function range(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `m${from + i}`);
}

// ---- Instances joined through Redis, keeping their history there ----

/** One `HIST` line, parsed. */
interface Hist {
  readonly id: string;
  /** `<sender> <text>`, as a `MSG` line after its verb. */
  readonly key: string;
}

/** Sends `request` and reads up to its `HIST END`: the reply's lines, after any live line before them. */
async function history(client: TestClient, request: string, live?: string[]): Promise<Hist[]> {
  await client.send(request);
  const lines: Hist[] = [];
  while (true) {
    const line = await client.readLine(NOTICE_MS);
    if (line === null) throw new Error(`closed before the reply to ${request}`);
    if (line === "HIST END") return lines;
    const hist = line.match(/^HIST (\d+-\d+) (.*)$/);
    if (hist !== null) lines.push({ id: hist[1]!, key: hist[2]! });
    else if (live !== undefined && lines.length === 0 && line.startsWith("MSG ")) {
      live.push(line.slice(4));
    } else throw new Error(`unexpected line ${JSON.stringify(line)} in the reply to ${request}`);
  }
}

/** Every message of the chat's history, oldest first, paging back 1000 at a time. */
async function wholeHistory(client: TestClient): Promise<Hist[]> {
  let all: Hist[] = [];
  let page = await history(client, "HISTORY 1000");
  while (page.length > 0) {
    all = [...page, ...all];
    if (page.length < 1000) break;
    page = await history(client, `HISTORY 1000 ${page[0]!.id}`);
  }
  return all;
}

Deno.test({
  name:
    "history across instances: the same messages, ids and order on every instance, and on one started later",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const alice = await rig.login(a!, "alice");
      const bob = await rig.login(b!, "bob");
      for (let i = 0; i < 5; i++) {
        await alice.send(`MSG from a ${i}`);
        await bob.send(`MSG from b ${i}`);
      }
      const heardByBob = await bob.readLines(5);
      const heardByAlice = await alice.readLines(5);
      assertEquals(heardByBob, range(0, 5).map((m) => `MSG alice from a ${m.slice(1)}`));
      assertEquals(heardByAlice, range(0, 5).map((m) => `MSG bob from b ${m.slice(1)}`));
      const onA = await history(alice, "HISTORY");
      const onB = await history(bob, "HISTORY");
      assertEquals(onA.length, 10);
      assertEquals(onB, onA, "one order, the same ids, on both");
      assert(onA.every((m, i) => i === 0 || compareIds(onA[i - 1]!.id, m.id) < 0));
      // Each sender's lines keep their order in the history too.
      for (const who of ["alice from a", "bob from b"]) {
        const mine = onA.filter((m) => m.key.startsWith(who)).map((m) => m.key);
        assertEquals(mine, [0, 1, 2, 3, 4].map((i) => `${who} ${i}`));
      }
      const c = await rig.start(rig.redis.url);
      const carol = await rig.login(c, "carol");
      assertEquals(await history(carol, "HISTORY"), onA, "a new instance serves all of it");
      assertEquals(await history(carol, `HISTORY 3 ${onA[5]!.id}`), onA.slice(2, 5));
    });
  },
});

/** What a reader saw, in the order it saw it: live messages, and history replies. */
type Seen =
  | { readonly kind: "live"; readonly key: string }
  | { readonly kind: "reply"; readonly before: string | undefined; readonly lines: Hist[] };

/** Asks for `HISTORY <n> [before]` and logs what comes: live lines first, then the reply. */
async function logReply(
  client: TestClient,
  seen: Seen[],
  n: number,
  before?: string,
): Promise<Hist[]> {
  const live: string[] = [];
  const lines = await history(
    client,
    `HISTORY ${n}${before === undefined ? "" : ` ${before}`}`,
    live,
  );
  for (const key of live) seen.push({ kind: "live", key });
  seen.push({ kind: "reply", before, lines });
  return lines;
}

/**
 * Six writers spread over `instances`, and two readers paging back with
 * `HISTORY <n> <before>` while they also read live: every reply must be
 * exactly the latest messages delivered to its reader before it (below its
 * `before`), so none delivered after it and none missing; every message
 * reaches each reader live once.
 */
async function race(instances: Instance[], rig: Rig): Promise<void> {
  const WRITERS = 3;
  const MESSAGES = 200;
  const CHUNK = 5;
  const PAGE = 40;
  // A reader on each instance (both on a lone one), the writers spread over them.
  const at = (i: number) => instances[i % instances.length]!;
  const readers = [await rig.login(at(0), "reader0"), await rig.login(at(1), "reader1")];
  const writers: TestClient[] = [];
  for (let w = 0; w < 2 * WRITERS; w++) writers.push(await rig.login(at(w), `w${w}`));
  const total = writers.length * MESSAGES;
  let writing = true;
  // Each writer sends a few lines at a time, at the server's pace (a PING answered each time).
  const written = Promise.all(writers.map(async (writer) => {
    for (let k = 0; k < MESSAGES; k += CHUNK) {
      const lines = Array.from({ length: CHUNK }, (_, j) => `MSG m${k + j}\n`);
      await writer.sendRaw(lines.join(""));
      await writer.sync();
    }
  })).finally(() => writing = false);
  const logs = await Promise.all(readers.map(async (reader) => {
    const seen: Seen[] = [];
    let replies = 0;
    // Asks while the writers write: the latest page, then two pages back from it.
    while (writing || replies < 3) {
      let page = await logReply(reader, seen, PAGE);
      replies++;
      for (let back = 0; back < 2 && page.length > 0; back++) {
        page = await logReply(reader, seen, PAGE, page[0]!.id);
      }
    }
    // Then everything else live: a reader logged in throughout hears every message.
    const heard = seen.filter((s) => s.kind === "live").length;
    for (const line of await reader.readLines(total - heard, NOTICE_MS)) {
      assert(line.startsWith("MSG "), line);
      seen.push({ kind: "live", key: line.slice(4) });
    }
    return seen;
  }));
  await written;
  const all = await wholeHistory(readers[0]!);
  assertEquals(all.length, total);
  assertEquals(await wholeHistory(readers[1]!), all, "the same history on both instances");
  const idOf = new Map(all.map((m) => [m.key, m.id]));
  for (const [r, seen] of logs.entries()) {
    const live = seen.filter((s) => s.kind === "live").map((s) => s.key);
    assertEquals(live.length, total, `reader${r} heard each message once`);
    assertEquals(new Set(live).size, total);
    const before: string[] = [];
    let checked = 0;
    for (const entry of seen) {
      if (entry.kind === "live") {
        before.push(entry.key);
        continue;
      }
      // Exactly the latest messages delivered before the reply (below `before`): none
      // delivered after it, none missing.
      const wanted = before
        .map((key) => ({ key, id: idOf.get(key)! }))
        .filter((m) => entry.before === undefined || compareIds(m.id, entry.before) < 0)
        .sort((x, y) => compareIds(x.id, y.id))
        .slice(-PAGE);
      assertEquals(entry.lines, wanted, `reader${r}, reply ${checked}`);
      checked++;
    }
    console.log(`  reader${r}: ${checked} replies checked against ${total} messages`);
    assert(checked >= 3);
  }
}

Deno.test({
  name:
    "history across instances, exactly once: readers paging back while writers on two instances write, every reply exact at its cut",
  ignore,
  async fn() {
    await withCluster(2, race);
  },
});

Deno.test({
  name: "history on one instance through Redis, exactly once: the same race, every message its own",
  ignore,
  async fn() {
    await withCluster(1, race);
  },
});

/** `HISTORY`, timed: the reply and how long it took, in ms. */
async function timedHistory(client: TestClient): Promise<{ lines: Hist[]; ms: number }> {
  const asked = performance.now();
  const lines = await history(client, "HISTORY");
  return { lines, ms: performance.now() - asked };
}

Deno.test({
  name:
    "history with Redis stopped: HISTORY answers at once; after Redis restarts empty, ids keep growing, what was sent meanwhile is written, and chat goes on",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      // Ids an hour ahead of the clock: after a restart, Redis's own clock alone would go back.
      const ahead = `${Date.now() + 3_600_000}-0`;
      const stream = KEYS.history(DEFAULT_PREFIX, "chat");
      await rig.redis.command("XADD", stream, ahead, "s", "zed", "t", "from the future");
      const a = await rig.start(rig.redis.url);
      const b = await rig.start(rig.redis.url);
      const alice = await rig.login(a, "alice");
      const carol = await rig.login(a, "carol");
      const bob = await rig.login(b, "bob");
      await alice.send("MSG one");
      await bob.expect("MSG alice one");
      await carol.expect("MSG alice one");
      const before = await history(bob, "HISTORY");
      assertEquals(before.map((m) => m.key), ["zed from the future", "alice one"]);
      const last = before[1]!.id;

      await rig.redis.stop();
      await a.logged(/cluster unavailable/);
      await b.logged(/cluster unavailable/);
      const away = await timedHistory(carol);
      console.log(`  HISTORY answered in ${Math.round(away.ms)} ms with Redis stopped`);
      // At once: the store said no (the client is offline, say) rather than its read timeout
      // running out (a hang would not answer within history()'s NOTICE_MS at all). No elapsed-time
      // bound: speed is a benchmark's business.
      await a.logged(/history read failed store="redis" failures=\d+ error="(?!no answer within)/);
      assertEquals(await a.metrics("chat_history_read_failures"), {
        chat_history_read_failures_total: 1,
      });
      for (const text of ["during 1", "during 2"]) {
        await alice.send(`MSG ${text}`);
        await carol.expect(`MSG alice ${text}`);
      }

      await rig.redis.restart();
      await a.logged(/cluster rejoined/);
      await b.logged(/cluster rejoined/);
      await alice.send("MSG after");
      await bob.expect("MSG alice after");
      // Only /metrics shows a write retried on its own timer.
      await pollUntil(
        "what alice sent while Redis was away, written",
        async () => (await a.metrics("chat_history_pending")).chat_history_pending,
        (pending) => pending === 0,
        { ms: NOTICE_MS },
      );
      const after = await history(bob, "HISTORY");
      const keys = after.map((m) => m.key);
      assertEquals(keys.toSorted(), ["alice after", "alice during 1", "alice during 2"]);
      assert(keys.indexOf("alice during 1") < keys.indexOf("alice during 2"));
      for (const m of after) assert(compareIds(m.id, last) > 0, `${m.id} after ${last}`);
      assertEquals(await history(alice, "HISTORY"), after, "the same on both instances");
      assertEquals(await bob.sync(), [], "what was sent meanwhile is not delivered late");
    });
  },
});

Deno.test({
  name:
    "history with Redis frozen: recent messages are answered at once from the instance's own; otherwise within a second, from what it holds",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const alice = await rig.login(a!, "alice");
      const bob = await rig.login(b!, "bob");
      await alice.send("MSG one");
      await bob.expect("MSG alice one");
      rig.redis.freeze(true);
      // bob's instance holds everything since it joined, alice's line included: no Redis needed.
      const held = await history(bob, "HISTORY");
      assertEquals(held.map((m) => m.key), ["alice one"]);
      // Redis never asked: a read sent to it would have been given up, and counted, before the reply.
      assertEquals(await b!.metrics("chat_history_read_failures"), {
        chat_history_read_failures_total: 0,
      });
      await alice.send("MSG frozen");
      const frozen = await timedHistory(alice);
      console.log(`  HISTORY answered in ${Math.round(frozen.ms)} ms with Redis frozen`);
      // Redis is still frozen, so the reply is the read given up after its wait (a hang would not
      // answer within history()'s NOTICE_MS); the lower bound is the wait itself, never flaky.
      await a!.logged(
        /history read failed store="redis" failures=\d+ error="no answer within 1000 ms"/,
      );
      assertEquals(await a!.metrics("chat_history_read_failures"), {
        chat_history_read_failures_total: 1,
      });
      assert(frozen.ms >= 900, "it waited for Redis first");
      rig.redis.freeze(false);
      await bob.expect("MSG alice frozen");
      const thawed = await history(alice, "HISTORY");
      assertEquals(thawed.map((m) => m.key), ["alice one", "alice frozen"]);
      assertEquals(await history(bob, "HISTORY"), thawed);
    });
  },
});

Deno.test({
  name:
    "history retention: each instance reads exactly its --history-lines and --history-days, whatever the stream keeps",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const stream = KEYS.history(DEFAULT_PREFIX, "chat");
      const fortyDaysAgo = `${Date.now() - 40 * DAY_MS}-0`;
      await rig.redis.command("XADD", stream, fortyDaysAgo, "s", "zed", "t", "old");
      // A recent message in the same node of the stream: an approximate trim by age keeps both.
      await rig.redis.command("XADD", stream, "*", "s", "zed", "t", "recent");
      const thirty = await rig.start(rig.redis.url, { args: ["--history-lines", "100"] });
      const fifty = await rig.start(rig.redis.url, { args: ["--history-days", "50"] });
      const five = await rig.start(rig.redis.url, { args: ["--history-lines", "5"] });
      const none = await rig.start(rig.redis.url, { args: ["--history-lines", "0"] });
      const ann = await rig.login(thirty, "ann");
      const bo = await rig.login(fifty, "bo");
      const cy = await rig.login(five, "cy");
      const di = await rig.login(none, "di");
      for (let i = 0; i < 8; i++) await ann.send(`MSG m${i}`);
      assertEquals(await bo.readLines(8), range(0, 8).map((m) => `MSG ann ${m}`));
      assertEquals(await cy.readLines(8), range(0, 8).map((m) => `MSG ann ${m}`));
      assertEquals(await di.readLines(8), range(0, 8).map((m) => `MSG ann ${m}`));
      const texts = async (client: TestClient) =>
        (await history(client, "HISTORY")).map((m) => m.key);
      const sent = range(0, 8).map((m) => `ann ${m}`);
      assertEquals(await texts(ann), ["zed recent", ...sent], "30 days: not the old one");
      assertEquals(await texts(bo), ["zed old", "zed recent", ...sent], "50 days: the old one too");
      assertEquals(await texts(cy), sent.slice(3), "5 lines: exactly the latest 5");
      assertEquals(await texts(di), [], "0 lines: no history at all");
      await di.send("MSG not kept");
      await ann.expect("MSG di not kept");
      assertEquals(await rig.redis.command("XLEN", stream), ":10", "the stream keeps more");
      assertEquals(await texts(ann), ["zed recent", ...sent], "and nothing from the lone one");
    });
  },
});
