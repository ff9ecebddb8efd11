/**
 * The registration limit across instances (`--redis-url`), and what Redis
 * away does to it and to the login throttle, end to end: server processes,
 * a real `redis-server`, real sockets, the real password cost. Skipped
 * without `redis-server`, except in CI.
 */
import { assertEquals } from "@std/assert";
import { ignore, withCluster } from "./cluster_rig.ts";

Deno.test({
  name:
    "cluster registration limit: 10 registrations from one address, 6 on A and 4 on B; the 11th, on either, is ERR login-throttled",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const on = [a!, a!, a!, a!, a!, a!, b!, b!, b!, b!];
      for (const [i, instance] of on.entries()) {
        const member = await rig.login(instance, `reg${i}`);
        await member.send("REGISTER password1");
        await member.expect("OK registered");
      }
      for (const [i, instance] of [a!, b!].entries()) {
        const member = await rig.login(instance, `late${i}`);
        await member.send("REGISTER password1");
        await member.expect("ERR login-throttled");
        // Nothing was registered: the name stays a guest's everywhere.
        const other = await rig.connect(i === 0 ? b! : a!);
        await other.send(`LOGIN late${i} password1`);
        await other.expect("ERR unknown-account");
        assertEquals(await member.sync(), []);
      }
    });
  },
});

Deno.test({
  name:
    "cluster: with Redis stopped, REGISTER and LOGIN with a password are ERR login-throttled, counted in chat_account_redis_errors_total",
  ignore,
  async fn() {
    await withCluster(1, async ([a], rig) => {
      const errors = async () => await a!.metrics("chat_account_redis_errors_total");
      const member = await rig.login(a!, "zed");
      assertEquals(await errors(), { chat_account_redis_errors_total: 0 });
      await rig.redis.stop();
      await a!.logged(/cluster unavailable/);
      await member.send("REGISTER password1");
      await member.expect("ERR login-throttled");
      assertEquals(await errors(), { chat_account_redis_errors_total: 1 });
      const other = await rig.connect(a!);
      await other.send("LOGIN zed password1");
      await other.expect("ERR login-throttled");
      assertEquals(await errors(), { chat_account_redis_errors_total: 2 });
      assertEquals(await member.sync(), []);
    });
  },
});
