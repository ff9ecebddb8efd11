/**
 * Accounts across instances (`--redis-url`), end to end: server processes
 * started as `deno task start` starts them, a real `redis-server`, real
 * sockets, and the real scrypt cost. Skipped without `redis-server`, except in CI.
 */
import { assertEquals } from "@std/assert";
import { allHear, ignore, NOTICE_MS, withCluster, withRig } from "./cluster_rig.ts";
import { TestClient } from "./helpers.ts";

Deno.test({
  name:
    "cluster accounts: registered on A, the name asks for its password on B, which logs in there",
  ignore,
  async fn() {
    await withCluster(2, async ([first, second], rig) => {
      const a = first!;
      const b = second!;
      const zed = await rig.login(a, "Zed");
      const watcher = await rig.login(b, "watcher");
      await allHear({ Zed: zed, watcher });
      await watcher.send("WATCH");
      await zed.send("REGISTER password1");
      await zed.expect("OK registered");
      await zed.send("REGISTER password1");
      await zed.expect("ERR already-registered");

      const guest = await rig.connect(b);
      await guest.send("LOGIN zed");
      await guest.expect("ERR password-required");
      await guest.send("LOGIN zed wrong-password");
      await guest.expect("ERR bad-password");
      await guest.send("LOGIN nobody password1");
      await guest.expect("ERR unknown-account");

      // Freed in Redis before it is announced gone: B may claim it from then on.
      await zed.send("QUIT");
      await zed.expectClosed();
      await watcher.expect("INFO Zed disconnected");
      await guest.send("LOGIN ZED password1");
      await guest.expect("OK");
      await watcher.expect("INFO Zed connected");

      const other = await rig.connect(a);
      await other.send("LOGIN zed");
      await other.expect("ERR password-required");
      await other.send("LOGIN yan");
      await other.expect("OK");
      await other.send("REGISTER password2");
      await other.expect("OK registered");
      assertEquals(await other.sync(), []);
    });
  },
});

Deno.test({
  name:
    "cluster accounts: after a partition, a guest whose name was registered elsewhere is dropped; an account holder stays",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const a = await rig.start(rig.relay.url);
      const b = await rig.start(rig.redis.url);
      const zed = await rig.login(a, "zed");
      const amy = await rig.login(a, "amy");
      const carol = await rig.login(a, "carol");
      const bob = await rig.login(b, "bob");
      await allHear({ zed, amy, carol, bob });
      // Registered while logged in as a guest: the rejoin must reclaim "amy" with its id.
      await amy.send("REGISTER password1");
      await amy.expect("OK registered");

      rig.relay.cut();
      await a.logged(/cluster unavailable/);
      // B gives A up for dead and frees its names; someone on B registers "zed", then leaves.
      const gone = await bob.readLines(3, NOTICE_MS);
      assertEquals(gone.sort(), [
        "INFO amy disconnected",
        "INFO carol disconnected",
        "INFO zed disconnected",
      ]);
      const thief = await rig.login(b, "Zed");
      await thief.send("REGISTER password2");
      await thief.expect("OK registered");
      await thief.send("QUIT");
      await thief.expectClosed();
      await bob.expect("INFO Zed disconnected");

      rig.relay.restore();
      await a.logged(/cluster rejoined/);
      // The name is free in Redis, but it is an account's now, and zed is a guest.
      await zed.expect("ERR username-taken");
      await zed.expectClosed();
      for (const client of [amy, carol]) await client.expect("INFO zed disconnected");
      await allHear({ amy, carol, bob });
      await bob.send("WHO");
      assertEquals(
        await bob.readLines(3),
        ["USER amy", "USER carol", "USER bob"],
        "login order kept",
      );
      const back = await TestClient.connect(a.port);
      try {
        await back.send("LOGIN zed");
        await back.expect("ERR password-required");
        await back.send("LOGIN zed password2");
        await back.expect("OK");
      } finally {
        await back.dispose();
      }
    });
  },
});

Deno.test({
  name:
    "cluster accounts: two instances register one name at the same moment (a stall made both hold it): one account, the other refused",
  ignore,
  async fn() {
    await withCluster(2, async ([first, second], rig) => {
      const a = first!;
      const b = second!;
      const zed = await rig.login(a, "zed");
      const bob = await rig.login(b, "bob");
      await allHear({ zed, bob });
      // A stalls past its ttl: B gives it up for dead and frees "zed", which a user of B takes.
      a.server.child.kill("SIGSTOP");
      let other: TestClient;
      try {
        await bob.expect("INFO zed disconnected", NOTICE_MS);
        other = await rig.login(b, "Zed");
        // Both send REGISTER at once; A reads its own as soon as it runs again.
        await Promise.all([zed.send("REGISTER password1"), other.send("REGISTER password2")]);
        await other.expect("OK registered");
      } finally {
        a.server.child.kill("SIGCONT");
      }
      // A's user never gets the account: refused as registered, or dropped first by the rejoin.
      const heard: string[] = [];
      for (let line = await zed.readLine(); line !== null; line = await zed.readLine()) {
        heard.push(line);
      }
      console.log(`  A's zed heard: ${heard.join(" | ")}`);
      const refusal = heard.filter((line) => line !== "ERR username-taken");
      assertEquals(heard.at(-1), "ERR username-taken", `A's zed heard ${heard}`);
      assertEquals(refusal.every((line) => line === "ERR already-registered"), true, `${heard}`);
      const check = await rig.connect(b);
      await check.send("LOGIN zed password1");
      await check.expect("ERR bad-password");
      await check.send("LOGIN Zed password2");
      await check.expect("OK");
      await other.expect("ERR session-replaced");
      await other.expectClosed();
    });
  },
});
