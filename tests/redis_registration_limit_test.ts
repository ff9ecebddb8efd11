/**
 * The registration limit in Redis (`ALLOW_REGISTRATION`,
 * lib/redis/throttle_scripts.ts) against a real `redis-server`: the same
 * decisions as the in-process `RegistrationLimit`, the reference, on random
 * sequences; the record's TTL; Redis away. Skipped without `redis-server`,
 * except in CI.
 */
import { assertEquals } from "@std/assert";
import { RedisFailures } from "../lib/accounts/redis_failures.ts";
import { RedisRegistrationLimit } from "../lib/accounts/redis_registration_limit.ts";
import {
  REGISTRATION_WINDOW_MS,
  RegistrationLimit,
  REGISTRATIONS_PER_ADDRESS,
} from "../lib/accounts/registration_limit.ts";
import { SILENT_LOGGER } from "../lib/log.ts";
import type { RedisClient } from "../lib/redis/connections.ts";
import { DEFAULT_PREFIX, KEYS } from "../lib/redis/keys.ts";
import { ignore } from "./cluster_rig.ts";
import { seededRandom } from "./seeded_random.ts";
import { withRedis } from "./redis_client.ts";

function redisLimit(client: RedisClient, now: () => number, ceiling?: number) {
  return new RedisRegistrationLimit({
    prefix: DEFAULT_PREFIX,
    run: (script, args) => client.eval(script, args),
    log: SILENT_LOGGER,
    now,
    ...(ceiling === undefined ? {} : { ceiling }),
  });
}

Deno.test({
  name: "redis registration limit decides as the in-process one on random registrations and waits",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      let ms = 1_764_999_000_000;
      const now = () => ms;
      const addresses = ["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", "2001:db8:0:1::5"];
      const counted = { yes: 0, no: 0 };
      for (const [seed, ceiling] of [[1, 3], [2, 10], [3, 4]] as const) {
        const local = new RegistrationLimit(now, ceiling);
        const shared = redisLimit(client, now, ceiling);
        await client.sendCommand(["FLUSHDB"]);
        const next = seededRandom(seed);
        for (let step = 0; step < 400; step++) {
          // Up to about a tenth of the window between two, mostly far less: both leak and burst.
          ms += Math.floor(next() * next() * next() * REGISTRATION_WINDOW_MS / 3);
          // Now and then the clock goes back a little: neither leaks then.
          if (next() < 0.03) ms -= 5_000;
          const address = addresses[Math.floor(next() * addresses.length)]!;
          const allowed = await shared.allow(address);
          assertEquals(allowed, local.allow(address), `seed ${seed} step ${step}`);
          counted[allowed ? "yes" : "no"]++;
        }
      }
      // Both outcomes were exercised, or the comparison proved little.
      assertEquals(counted.yes > 300 && counted.no > 200, true, JSON.stringify(counted));
    });
  },
});

Deno.test({
  name:
    "redis registration limit: 10 from an address (IPv6 by its /64), then one every 6 minutes; the record expires once leaked empty",
  ignore,
  async fn() {
    await withRedis(async (client) => {
      let ms = 1_764_999_000_000;
      const limit = redisLimit(client, () => ms);
      const allowed: boolean[] = [];
      for (let i = 0; i < 12; i++) allowed.push(await limit.allow(`2001:db8:1:2::${i + 1}`));
      assertEquals(allowed, [...Array(REGISTRATIONS_PER_ADDRESS).fill(true), false, false]);
      assertEquals(await limit.allow("2001:db8:1:3::1"), true, "another /64 counts apart");
      const key = KEYS.registrations(DEFAULT_PREFIX, "2001:db8:1:2::/64");
      assertEquals(await client.sendCommand(["HGETALL", key]), { n: "10", at: `${ms}` });
      // 10 registrations leak in an hour, plus 1 ms.
      const ttl = await client.sendCommand(["PTTL", key]) as number;
      assertEquals(Math.round(ttl / 1000), REGISTRATION_WINDOW_MS / 1000);
      ms += REGISTRATION_WINDOW_MS / REGISTRATIONS_PER_ADDRESS;
      assertEquals([await limit.allow("2001:db8:1:2::9"), await limit.allow("2001:db8:1:2::9")], [
        true,
        false,
      ]);
    });
  },
});

Deno.test("redis registration limit: a registration Redis cannot decide is refused, logged and counted", async () => {
  const warned: string[] = [];
  const failures = new RedisFailures();
  const limit = new RedisRegistrationLimit({
    prefix: DEFAULT_PREFIX,
    run: () => Promise.reject(new Error("The client is closed")),
    log: { ...SILENT_LOGGER, warn: (message) => warned.push(message) },
    failures,
  });
  assertEquals(await limit.allow("192.0.2.1"), false);
  assertEquals(warned, ["registration limit: redis failed"]);
  assertEquals(failures.count, 1);
});
