/**
 * Direct messages in a real Redis, through `RedisDms` and its scripts: the
 * copies' one id above the chat's, the chat raised to it, the index sets,
 * no copy for an account that does not exist, and reads that leave out
 * what another instance wrote past the cut. Skipped without `redis-server`,
 * except in CI.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { compareIds } from "../lib/history/message_id.ts";
import type { Range } from "../lib/history/store.ts";
import { SILENT_LOGGER } from "../lib/log.ts";
import type { RedisClient } from "../lib/redis/connections.ts";
import { RedisDms } from "../lib/redis/redis_dms.ts";
import { DEFAULT_PREFIX, KEYS } from "../lib/redis/keys.ts";
import { ignore } from "./cluster_rig.ts";
import { withRedis } from "./redis_client.ts";

const P = DEFAULT_PREFIX;

/** `RedisDms` of instance `instance` on `client`. */
function dmsOn(client: RedisClient, instance: string): RedisDms {
  return new RedisDms({
    instance,
    prefix: P,
    everyone: `${P}0:all`,
    retention: { lines: 100, maxAgeMs: 86_400_000 },
    run: (script, args) => client.eval(script, args),
    floor: () => "",
    seen: () => {},
    log: SILENT_LOGGER,
  });
}

/** The ids of a stream's entries. */
async function idsOf(client: RedisClient, key: string): Promise<string[]> {
  const entries = await client.sendCommand(["XRANGE", key, "-", "+"]) as [string, string[]][];
  return entries.map(([id]) => id);
}

/** The texts a read of conversation `conversation` gives. */
async function texts(dms: RedisDms, range: Partial<Range> & { conversation: string }) {
  const messages = await dms.read({ limit: 10, from: "latest", ...range });
  return messages.map((message) => `${message.sender}: ${message.text}`);
}

Deno.test({
  name:
    "redis dms: copies take one id above the chat's, which is raised to it; none for no account",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      await client.sendCommand(["HSET", KEYS.accountKeys(P), "1", "alice", "2", "bob"]);
      await client.sendCommand(["HSET", KEYS.account(P, "bob"), "id", "2"]);
      const chat = KEYS.history(P, "chat");
      await client.sendCommand(["XADD", chat, "9999999999999-5", "s", "x", "t", "y"]);
      const a = dmsOn(client, "A");
      await a.keep(
        [{ account: 1, peer: "bob" }, { accountOf: "bob", peer: "alice" }],
        "alice",
        "hi",
      );
      const alices = KEYS.history(P, "dm:1:bob");
      const bobs = KEYS.history(P, "dm:2:alice");
      assertEquals(await idsOf(client, alices), ["9999999999999-6"]);
      assertEquals(await idsOf(client, bobs), ["9999999999999-6"]);
      // The chat's next id follows the DM's: one order.
      const next = await client.sendCommand(["XADD", chat, "*", "s", "x", "t", "z"]) as string;
      assert(compareIds(next, "9999999999999-6") > 0, next);
      assertEquals(await client.sendCommand(["SMEMBERS", KEYS.dmIndex(P, 1)]), [alices]);
      assertEquals(await client.sendCommand(["SMEMBERS", KEYS.dmIndex(P, 2)]), [bobs]);
      // Each copy and index expires a day (the age bound) after its latest write, not never.
      for (const key of [alices, bobs, KEYS.dmIndex(P, 1), KEYS.dmIndex(P, 2)]) {
        const ttl = await client.sendCommand(["PTTL", key]) as number;
        assert(ttl > 86_000_000 && ttl <= 86_400_000, `${key}: ${ttl}`);
      }

      // Account 7 does not exist, nor has carol's name one: nothing is written, nothing fails.
      await a.keep([{ account: 7, peer: "x" }, { accountOf: "carol", peer: "alice" }], "x", "y");
      assertEquals(await client.sendCommand(["KEYS", `${P}*:7*`]), []);
      const kept = await client.sendCommand(["KEYS", `${P}history:dm:*`]) as string[];
      assertEquals(kept.sort(), [alices, bobs].sort());
      assertEquals(a.failures, 0);
    });
  },
});

Deno.test({
  name: "redis dms: a read leaves out what another instance wrote past the cut, and keeps its own",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      await client.sendCommand(["HSET", KEYS.accountKeys(P), "1", "alice", "2", "bob"]);
      const a = dmsOn(client, "A");
      const b = dmsOn(client, "B");
      const conversation = "dm:1:bob";
      await a.keep([{ account: 1, peer: "bob" }], "alice", "a1");
      for (const text of ["b1", "b2", "b3"]) {
        await b.keep([{ account: 1, peer: "bob" }], "bob", text);
      }
      const ids = await idsOf(client, KEYS.history(P, conversation));
      assertEquals(ids.length, 4);
      const cut = ids[1]!;
      assertEquals(await texts(a, { conversation, ownAbove: cut }), ["alice: a1", "bob: b1"]);
      // The newest entries are left out, and the read goes on past them for its limit.
      assertEquals(await texts(a, { conversation, ownAbove: cut, limit: 1 }), ["bob: b1"]);
      assertEquals(
        await texts(a, { conversation, ownAbove: cut, limit: 1, from: "earliest" }),
        ["alice: a1"],
      );
      assertEquals(await texts(b, { conversation, ownAbove: "0-0" }), [
        "bob: b1",
        "bob: b2",
        "bob: b3",
      ]);
      assertEquals(await texts(a, { conversation, ownAbove: ids[3]!, before: ids[3]! }), [
        "alice: a1",
        "bob: b1",
        "bob: b2",
      ]);
    });
  },
});
