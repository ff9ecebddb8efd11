/**
 * The login throttle in Redis (lib/redis/throttle_scripts.ts) against a real
 * `redis-server`: the same decisions as the in-process throttle, whose rules
 * (throttle_rules.ts) stay the reference, on long random sequences; each rule
 * by itself; the records' TTLs; a race of two connections; Redis away.
 * Skipped without `redis-server`, except in CI.
 */
import { assertEquals } from "@std/assert";
import { LoginThrottle } from "../lib/accounts/login_throttle.ts";
import { RedisLoginThrottle } from "../lib/accounts/redis_login_throttle.ts";
import type { ThrottleLimits } from "../lib/accounts/throttle_rules.ts";
import { SILENT_LOGGER } from "../lib/log.ts";
import type { RedisClient } from "../lib/redis/connections.ts";
import { DEFAULT_PREFIX, KEYS } from "../lib/redis/keys.ts";
import { ignore } from "./cluster_rig.ts";
import { withClient, withRedis } from "./redis_client.ts";
import { seededRandom } from "./seeded_random.ts";

/** A clock the test moves by hand. */
class FakeClock {
  ms = 1_764_999_000_000;
  readonly now = (): number => this.ms;
}

function redisThrottle(
  client: RedisClient,
  clock: FakeClock,
  limits?: ThrottleLimits,
): RedisLoginThrottle {
  return new RedisLoginThrottle({
    prefix: DEFAULT_PREFIX,
    run: (script, args) => client.eval(script, args),
    log: SILENT_LOGGER,
    now: clock.now,
    ...(limits === undefined ? {} : { limits }),
  });
}

/** `count` tries that fail, one after another; what `begin` said to each. */
async function failTimes(
  t: RedisLoginThrottle,
  account: string,
  address: string,
  count: number,
): Promise<string[]> {
  const said: string[] = [];
  for (let i = 0; i < count; i++) {
    const decision = await t.begin(account, address);
    said.push(decision);
    if (decision === "go") await t.failed(account, address);
  }
  return said;
}

/** Small numbers, so random tries reach every rule within a few hundred steps. */
const SMALL: ThrottleLimits = {
  runLength: 3,
  runPauseMs: 1_000,
  runForgetMs: 5_000,
  accountCeiling: 6,
  addressCeiling: 8,
  ceilingWindowMs: 6_000,
};

Deno.test({
  name: "redis throttle decides as the in-process one on random tries, settlements and waits",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const clock = new FakeClock();
      const local = new LoginThrottle({ limits: SMALL, now: clock.now });
      const shared = redisThrottle(client, clock, SMALL);
      const accounts = ["alice", "bob", "carol"];
      const addresses = ["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"];
      const settlements = [
        "succeeded",
        "failed",
        "failed",
        "failed",
        "unknownAccount",
        "abandoned",
      ] as const;
      const counted = { go: 0, throttled: 0 };
      for (const seed of [1, 2, 3]) {
        const next = seededRandom(seed);
        const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
        for (let step = 0; step < 400; step++) {
          clock.ms += Math.floor(next() * next() * 800);
          const account = pick(accounts);
          const address = pick(addresses);
          const decision = await shared.begin(account, address);
          assertEquals(decision, local.begin(account, address), `seed ${seed} step ${step}`);
          counted[decision]++;
          if (decision === "throttled") continue;
          const how = pick(settlements);
          local[how](account, address);
          await shared[how](account, address);
        }
      }
      // Both outcomes were exercised, or the comparison proved little.
      assertEquals(counted.go > 300 && counted.throttled > 100, true, JSON.stringify(counted));
    });
  },
});

Deno.test({
  name: "redis throttle: 5 failures in a row pause 10 s; a success ends the run",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const clock = new FakeClock();
      const t = redisThrottle(client, clock);
      const a = "192.0.2.1";
      assertEquals(await failTimes(t, "alice", a, 6), ["go", "go", "go", "go", "go", "throttled"]);
      assertEquals(await t.begin("alice", "192.0.2.9"), "go", "another address has its own run");
      await t.abandoned("alice", "192.0.2.9");
      clock.ms += 9_999;
      assertEquals(await t.begin("alice", a), "throttled");
      clock.ms += 1;
      assertEquals(await failTimes(t, "alice", a, 2), ["go", "throttled"]);
      clock.ms += 10_000;
      assertEquals(await t.begin("alice", a), "go");
      await t.succeeded("alice", a);
      assertEquals(await failTimes(t, "alice", a, 6), ["go", "go", "go", "go", "go", "throttled"]);
    });
  },
});

Deno.test({
  name: "redis throttle: the account's and the address's ceilings, leaking over the window",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const clock = new FakeClock();
      const t = redisThrottle(client, clock);
      // 50 failures for bob from 50 addresses (one each): the account's ceiling.
      for (let i = 1; i <= 50; i++) {
        assertEquals(await failTimes(t, "bob", `198.51.100.${i}`, 1), ["go"]);
      }
      assertEquals(await t.begin("bob", "203.0.113.7"), "throttled");
      // 50 failures leak in 600 s: one in 12 s.
      clock.ms += 12_000;
      assertEquals(await t.begin("bob", "203.0.113.7"), "go");
      await t.unknownAccount("bob", "203.0.113.7");
      // 100 failures from one /64 over many accounts: the address's ceiling.
      for (let i = 0; i < 100; i++) {
        assertEquals(await failTimes(t, `user${i}`, `2001:db8::${i.toString(16)}`, 1), ["go"]);
      }
      assertEquals(await t.begin("someone", "2001:db8::ffff"), "throttled");
      assertEquals(await t.begin("someone", "2001:db8:0:1::1"), "go", "another /64");
    });
  },
});

Deno.test({
  name: "redis throttle records expire when the in-process ones would be forgotten",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      const clock = new FakeClock();
      const t = redisThrottle(client, clock);
      await failTimes(t, "alice", "192.0.2.1", 2);
      const pttl = (key: string) => client.sendCommand(["PTTL", key]);
      const run = KEYS.throttleRun(DEFAULT_PREFIX, "alice", "192.0.2.1");
      const account = KEYS.throttleAccount(DEFAULT_PREFIX, "alice");
      const address = KEYS.throttleAddress(DEFAULT_PREFIX, "192.0.2.1");
      assertEquals(await client.sendCommand(["HGETALL", run]), { n: "2", at: `${clock.ms}` });
      // A run: 600 s after its last failure; a level of 2: 2 × 12 s (account), 2 × 6 s (address), each + 1 ms.
      const ttls = [await pttl(run), await pttl(account), await pttl(address)] as number[];
      assertEquals(ttls.map((ms) => Math.round(ms / 1000)), [600, 24, 12]);
      await t.begin("alice", "192.0.2.1");
      await t.succeeded("alice", "192.0.2.1");
      assertEquals(await client.sendCommand(["EXISTS", run]), 0, "a success deletes the run");
    });
  },
});

Deno.test({
  name: "redis throttle: two connections beginning 20 tries for one account at once: exactly 5 go",
  ignore,
  async fn() {
    await withRedis(async (first, redis) => {
      await withClient(redis, async (second) => {
        const clock = new FakeClock();
        const throttles = [redisThrottle(first, clock), redisThrottle(second, clock)];
        const tries = Array.from(
          { length: 20 },
          (_, i) => throttles[i % 2]!.begin("alice", "192.0.2.1"),
        );
        const said = await Promise.all(tries);
        assertEquals(said.filter((d) => d === "go").length, 5);
        assertEquals(said.filter((d) => d === "throttled").length, 15);
      });
    });
  },
});

Deno.test("redis throttle: a try Redis cannot decide is throttled, a settlement it misses is dropped", async () => {
  const warned: string[] = [];
  const t = new RedisLoginThrottle({
    prefix: DEFAULT_PREFIX,
    run: () => Promise.reject(new Error("The client is closed")),
    log: { ...SILENT_LOGGER, warn: (message) => warned.push(message) },
  });
  assertEquals(await t.begin("alice", "192.0.2.1"), "throttled");
  await t.failed("alice", "192.0.2.1");
  assertEquals(warned, ["login throttle: redis failed", "login throttle: redis failed"]);
});
