/**
 * The login throttle across instances (`--redis-url`), end to end: two
 * server processes, a real `redis-server`, real sockets, the real password
 * cost. Skipped without `redis-server`, except in CI.
 */
import { assertEquals } from "@std/assert";
import { ignore, withCluster } from "./cluster_rig.ts";

Deno.test({
  name:
    "cluster throttle: 3 wrong passwords on A and 2 on B for one account from one address: the 6th try, on either, is throttled",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const zed = await rig.login(a!, "zed");
      await zed.send("REGISTER password1");
      await zed.expect("OK registered");

      const onA = await rig.connect(a!);
      const onB = await rig.connect(b!);
      for (const client of [onA, onA, onA, onB, onB]) {
        await client.send("LOGIN zed wrong-password");
        await client.expect("ERR bad-password");
      }
      // Even the right password is not checked during the pause, on either instance.
      await onB.send("LOGIN zed password1");
      await onB.expect("ERR login-throttled");
      await onA.send("LOGIN zed wrong-password");
      await onA.expect("ERR login-throttled");
      // The member's own account's checks count in the same run.
      await zed.send("PASSWORD wrong-password password2");
      await zed.expect("ERR login-throttled");
      assertEquals(await onA.sync(), []);
    });
  },
});
