/**
 * Accounts in Redis, on a real `redis-server`: the store's hashes, ids that
 * are never given twice, two instances registering one name at once (one
 * wins), the name claim that refuses a guest a registered name (and a
 * registration racing a guest's claim: never both), and the claim unchanged
 * without its account key. Skipped without `redis-server`, except in CI.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { ALREADY_REGISTERED } from "../lib/accounts/account_store.ts";
import {
  type RedisAccountStore,
  redisAccountStoreOn,
} from "../lib/accounts/redis_account_store.ts";
import { accountClaim, CLAIM_REFUSED_ACCOUNT } from "../lib/redis/account_scripts.ts";
import type { RedisClient } from "../lib/redis/connections.ts";
import { DEFAULT_PREFIX, KEYS } from "../lib/redis/keys.ts";
import { CLAIM } from "../lib/redis/scripts.ts";
import { nameKey } from "../lib/names.ts";
import { ignore } from "./cluster_rig.ts";
import { withClient, withRedis } from "./redis_client.ts";

const P = DEFAULT_PREFIX;
const T0 = 1_764_999_000_000;
/** Rounds of each race: enough that a check-then-write would be caught both ways many times. */
const ROUNDS = 300;

/** A store on `client`, registering for `instance` (undefined: the operator's task). */
function storeOn(client: RedisClient, instance?: string): RedisAccountStore {
  return redisAccountStoreOn(client, P, instance);
}

/** `instance` marked alive, as its join does, so its claims go through. */
async function alive(client: RedisClient, instance: string): Promise<void> {
  await client.sendCommand(["SET", KEYS.alive(P, instance), "1"]);
}

/** Runs CLAIM for `name` from `instance`; with `account`, as a holder of that id (null: a guest). */
function claim(
  client: RedisClient,
  instance: string,
  name: string,
  account?: number | null,
): Promise<unknown> {
  const key = nameKey(name);
  const keys = [KEYS.name(P, key), KEYS.seq(P), KEYS.owned(P, instance), KEYS.alive(P, instance)];
  const args = [instance, name, "7000", key];
  if (account !== undefined) {
    const part = accountClaim(P, key, account ?? undefined);
    keys.push(part.key);
    args.push(part.argument);
  }
  return client.eval(CLAIM, { keys, arguments: args });
}

/** A hash's fields and values, sorted by field. */
async function hashOf(client: RedisClient, key: string): Promise<Record<string, string>> {
  const reply = await client.sendCommand(["HGETALL", key]) as Record<string, string>;
  return Object.fromEntries(Object.entries(reply).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Runs `a` and `b` at once on two connections, in the order and on the
 * connections round `round` says: all four ways in turn, so whichever way
 * Redis orders two commands that arrive together (by connection or by
 * arrival), each side comes first in some rounds.
 */
async function race<A, B>(
  round: number,
  clients: readonly [RedisClient, RedisClient],
  a: (client: RedisClient) => Promise<A>,
  b: (client: RedisClient) => Promise<B>,
): Promise<[A, B]> {
  const [forA, forB] = round % 2 === 1 ? [clients[1], clients[0]] : clients;
  if (round % 4 < 2) return await Promise.all([a(forA), b(forB)]);
  const [second, first] = await Promise.all([b(forB), a(forA)]);
  return [first, second];
}

Deno.test({
  name: "RedisAccountStore keeps an account in one hash, found by its key in any case",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const store = storeOn(client, "i1");
      const created = await store.create("Zo\u00eb", "zo\u00eb", "hash-1", T0);
      const expected = { id: 1, name: "Zo\u00eb", key: "zo\u00eb", hash: "hash-1", createdMs: T0 };
      assertEquals(created, expected);
      assertEquals(await store.find(nameKey("ZOE\u0308")), expected);
      assertEquals(await store.find("zoe"), undefined);
      assertEquals(await hashOf(client, "chat:account:zo\u00eb"), {
        created: String(T0),
        hash: "hash-1",
        id: "1",
        name: "Zo\u00eb",
      });
      assertEquals(await hashOf(client, "chat:account-keys"), { "1": "zo\u00eb" });
      assertEquals(await client.sendCommand(["GET", "chat:account-ids"]), "1");
      // A second registration of the key is refused and takes no id.
      assertEquals(
        await store.create("ZOE\u0308", "zo\u00eb", "hash-2", T0 + 1),
        ALREADY_REGISTERED,
      );
      assertEquals((await store.find("zo\u00eb"))?.hash, "hash-1");
      assertEquals(await store.create("bob", "bob", "h", T0), {
        id: 2,
        name: "bob",
        key: "bob",
        hash: "h",
        createdMs: T0,
      });
      await store.close();
      await store.close();
      await assertRejects(
        () => store.find("bob"),
        Error,
        "Cannot use the account store: it is closed",
      );
      await assertRejects(
        () => store.remove(2),
        Error,
        "Cannot use the account store: it is closed",
      );
    });
  },
});

Deno.test({
  name:
    "RedisAccountStore compare-and-set: a hash is replaced only while it is still the expected one",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const store = storeOn(client);
      const bob = await store.create("Bob", "bob", "old", T0) as { id: number };
      const carol = await store.create("Carol", "carol", "old", T0) as { id: number };
      // A PASSWORD lands between a login's check (of "old") and its rehash's write.
      assertEquals(await store.setHash(bob.id, "changed"), true);
      assertEquals(await store.setHash(bob.id, "rehashed", "old"), false);
      assertEquals((await store.find("bob"))?.hash, "changed");
      assertEquals(await store.setHash(bob.id, "rehashed", "changed"), true);
      assertEquals((await store.find("bob"))?.hash, "rehashed");
      assertEquals((await store.find("carol"))?.hash, "old");
      assertEquals(await store.setHash(bob.id, "x", "old"), false, "carol's hash is not bob's");
      assertEquals(await store.remove(carol.id), true);
      assertEquals(await store.setHash(carol.id, "x", "old"), false, "gone");
    });
  },
});

Deno.test({
  name: "RedisAccountStore replaces hashes, removes accounts, and never gives an id twice",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const store = storeOn(client);
      const a = await store.create("a", "a", "h", T0) as { id: number };
      const b = await store.create("B", "b", "old", T0 + 1) as { id: number };
      assertEquals([a.id, b.id], [1, 2]);
      assertEquals(await store.setHash(b.id, "new"), true);
      assertEquals(await store.find("b"), {
        id: 2,
        name: "B",
        key: "b",
        hash: "new",
        createdMs: T0 + 1,
      });
      assertEquals(await store.setHash(99, "x"), false);
      assertEquals(await store.remove(b.id), true);
      assertEquals(await store.remove(b.id), false);
      assertEquals(await store.setHash(b.id, "newer"), false);
      assertEquals(await store.find("b"), undefined);
      assertEquals(await client.sendCommand(["EXISTS", "chat:account:b"]), 0);
      // The same name again is a new account: nothing stored under id 2 ever reaches it.
      assertEquals((await store.create("b", "b", "h", T0) as { id: number }).id, 3);
      assertEquals(await store.setHash(b.id, "stale id"), false);
      assertEquals((await store.find("b"))?.hash, "h");
      assertEquals(await store.remove(3), true);
      assertEquals((await store.create("c", "c", "h", T0) as { id: number }).id, 4);
      assertEquals((await store.list()).map((account) => [account.id, account.name]), [
        [1, "a"],
        [4, "c"],
      ]);
      assertEquals(await hashOf(client, "chat:account-keys"), { "1": "a", "4": "c" });
    });
  },
});

Deno.test({
  name: "RedisAccountStore lists every account by id, and nothing on an empty Redis",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const store = storeOn(client);
      assertEquals(await store.list(), []);
      for (let i = 0; i < 12; i++) await store.create(`u${i}`, `u${i}`, `h${i}`, T0 + i);
      const listed = await store.list();
      assertEquals(
        listed.map((account) => account.id),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      assertEquals(listed[10], {
        id: 11,
        name: "u10",
        key: "u10",
        hash: "h10",
        createdMs: T0 + 10,
      });
    });
  },
});

Deno.test({
  name: "two instances registering one name at the same moment: exactly one wins, every time",
  ignore,
  async fn() {
    await withRedis(async (first, redis) => {
      await withClient(redis, async (second) => {
        const stores = new Map([[first, storeOn(first, "i1")], [second, storeOn(second, "i2")]]);
        const store = (client: RedisClient) => stores.get(client)!;
        let wonByA = 0;
        for (let round = 0; round < ROUNDS; round++) {
          const key = `n${round}`;
          const [a, b] = await race(
            round,
            [first, second],
            (client) => store(client).create(key, key, "by-a", T0),
            (client) => store(client).create(key.toUpperCase(), key, "by-b", T0),
          );
          const winners = [a, b].filter((answer) => answer !== ALREADY_REGISTERED);
          assertEquals(winners.length, 1, `round ${round}: ${JSON.stringify([a, b])}`);
          if (a !== ALREADY_REGISTERED) wonByA++;
          const hash = (await store(first).find(key))?.hash;
          assertEquals(hash, a !== ALREADY_REGISTERED ? "by-a" : "by-b");
        }
        // Refusals take no id: the counter is the number of accounts.
        assertEquals(await first.sendCommand(["GET", "chat:account-ids"]), String(ROUNDS));
        assertEquals((await store(first).list()).length, ROUNDS);
        assert(wonByA > 0 && wonByA < ROUNDS, `each side won some rounds: A won ${wonByA}`);
        console.log(`registration race: A won ${wonByA} of ${ROUNDS}`);
      });
    });
  },
});

Deno.test({
  name: "the claim refuses a guest a registered name, and accepts its account's holder only",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      await alive(client, "i2");
      const store = storeOn(client, "i1");
      const ann = await store.create("Ann", "ann", "h", T0) as { id: number };
      assertEquals(await claim(client, "i2", "ANN", null), CLAIM_REFUSED_ACCOUNT);
      assertEquals(await claim(client, "i2", "ann", ann.id + 1), CLAIM_REFUSED_ACCOUNT);
      assertEquals(await client.sendCommand(["EXISTS", "chat:name:ann"]), 0);
      assertEquals(await client.sendCommand(["EXISTS", "chat:seq"]), 0, "a refusal takes no seq");
      assertEquals(await claim(client, "i2", "Ann", ann.id), 1);
      assertEquals(await client.sendCommand(["GET", "chat:name:ann"]), "i2 1 Ann");
      // A name without an account: a guest claims it as before.
      assertEquals(await claim(client, "i2", "bo", null), 2);
      // An account deleted: its name is a guest's again, and its old holder claims as one.
      await store.remove(ann.id);
      await client.sendCommand(["DEL", "chat:name:ann"]);
      assertEquals(await claim(client, "i2", "ann", null), 3);
    });
  },
});

Deno.test({
  name:
    "without its account key the claim is what it was: granted over an account, nil when taken, -1 unregistered",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const store = storeOn(client);
      await store.create("ann", "ann", "h", T0);
      assertEquals(await claim(client, "i2", "ann"), -1, "not alive");
      await alive(client, "i2");
      assertEquals(await claim(client, "i2", "Ann"), 1);
      assertEquals(await client.sendCommand(["GET", "chat:name:ann"]), "i2 1 Ann");
      const ttl = Number(await client.sendCommand(["PTTL", "chat:name:ann"]));
      assertEquals(ttl > 6000 && ttl <= 7000, true, `ttl ${ttl}`);
      assertEquals(await client.sendCommand(["SMEMBERS", "chat:owned:i2"]), ["ann"]);
      assertEquals(await claim(client, "i2", "ann"), null);
      assertEquals(await client.sendCommand(["GET", "chat:seq"]), "1");
    });
  },
});

Deno.test({
  name: "registration refuses a name another instance holds, and takes one its own instance holds",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      await alive(client, "i1");
      await alive(client, "i2");
      assertEquals(await claim(client, "i2", "ann"), 1);
      assertEquals(await claim(client, "i1", "bo"), 2);
      const store = storeOn(client, "i1");
      assertEquals(await store.create("ann", "ann", "h", T0), ALREADY_REGISTERED);
      assertEquals(await store.find("ann"), undefined);
      assertEquals((await store.create("bo", "bo", "h", T0) as { id: number }).id, 1);
      // A free name (its holder's claim expired) may be registered.
      assertEquals((await store.create("cy", "cy", "h", T0) as { id: number }).id, 2);
      // The operator's task (no instance) does not look at who holds a name.
      assertEquals((await storeOn(client).create("ann", "ann", "h", T0) as { id: number }).id, 3);
    });
  },
});

Deno.test({
  name:
    "a registration and a guest's claim of one name at the same moment: never both, never neither",
  ignore,
  async fn() {
    await withRedis(async (first, redis) => {
      await withClient(redis, async (second) => {
        await alive(first, "i2");
        const stores = new Map([[first, storeOn(first, "i1")], [second, storeOn(second, "i1")]]);
        let registered = 0;
        for (let round = 0; round < ROUNDS; round++) {
          const name = `g${round}`;
          const [account, claimed] = await race(
            round,
            [first, second],
            (client) => stores.get(client)!.create(name, name, "h", T0),
            (client) => claim(client, "i2", name, null),
          );
          const accountWon = account !== ALREADY_REGISTERED;
          const guestWon = typeof claimed === "number" && claimed > 0;
          assertEquals([accountWon, guestWon].filter(Boolean).length, 1, `round ${round}`);
          const holder = await first.sendCommand(["GET", KEYS.name(P, name)]);
          if (accountWon) {
            registered++;
            assertEquals(claimed, CLAIM_REFUSED_ACCOUNT);
            assertEquals(holder, null);
          } else {
            assertEquals(await stores.get(first)!.find(name), undefined);
            assertEquals(holder, `i2 ${claimed} ${name}`);
          }
        }
        assert(registered > 0 && registered < ROUNDS, `each side won some rounds: ${registered}`);
        console.log(
          `registration against guest claim: registration won ${registered} of ${ROUNDS}`,
        );
      });
    });
  },
});
