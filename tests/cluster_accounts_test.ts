/**
 * Accounts across instances (`--redis-url`), end to end: server processes
 * started as `deno task start` starts them, a real `redis-server`, real
 * sockets, and the real scrypt cost. Skipped without `redis-server`, except in CI.
 */
import { assertEquals } from "@std/assert";
import {
  allHear,
  ignore,
  type Instance,
  NOTICE_MS,
  type Rig,
  withCluster,
  withRig,
} from "./cluster_rig.ts";
import { TestClient } from "./helpers.ts";

/** Runs `body` with Redis and two instances joined to it. */
function withTwo(body: (a: Instance, b: Instance, rig: Rig) => Promise<void>): Promise<void> {
  return withCluster(2, ([a, b], rig) => body(a!, b!, rig));
}

Deno.test({
  name:
    "cluster accounts: registered on A, the name asks for its password on B, which logs in there",
  ignore,
  async fn() {
    await withTwo(async (a, b, rig) => {
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
    "cluster accounts: a guest's LOGIN that B cannot look up waits for the claim, which Redis refuses: ERR password-required",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const a = await rig.start(rig.redis.url);
      const b = await rig.start(rig.relay.url);
      const zed = await rig.login(a, "zed");
      const bob = await rig.login(b, "bob");
      await allHear({ zed, bob });
      await zed.send("REGISTER password1");
      await zed.expect("OK registered");
      await zed.send("QUIT");
      await zed.expectClosed();
      await bob.expect("INFO zed disconnected");
      rig.relay.cut();
      await b.logged(/cluster unavailable/);
      const guest = await rig.connect(b);
      // B's lookup fails at once (Redis away); the claim waits for the rejoin and carries no account.
      await guest.send("LOGIN zed");
      await guest.send("PING");
      await b.logged(/account store failed/);
      rig.relay.restore();
      await guest.expect("ERR password-required", NOTICE_MS);
      await guest.expect("PONG");
      await guest.send("LOGIN zed password1");
      await guest.expect("OK");
    });
  },
});

Deno.test({
  name:
    "cluster accounts: in a partition both holders of a name register it: B's wins, A's is refused, and after the partition A's guest is dropped; an account holder stays",
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
      // Both holders register the name at the same moment: B's wins; A, cut off, cannot check
      // its registration limit (nor the name) in Redis, so it refuses rather than guess.
      await Promise.all([zed.send("REGISTER password1"), thief.send("REGISTER password2")]);
      await thief.expect("OK registered");
      await zed.expect("ERR login-throttled");
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
    await withTwo(async (a, b, rig) => {
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

Deno.test({
  name:
    "cluster accounts: the right password on B takes over a name held on A; A's session gets ERR session-replaced",
  ignore,
  async fn() {
    await withTwo(async (a, b, rig) => {
      const zed = await rig.login(a, "Zed");
      const carol = await rig.login(a, "carol");
      const bob = await rig.login(b, "bob");
      await allHear({ Zed: zed, carol, bob });
      await carol.send("WATCH");
      await zed.send("REGISTER password1");
      await zed.expect("OK registered");

      const phone = await rig.connect(b);
      await phone.send("LOGIN zed wrong-password");
      await phone.expect("ERR bad-password");
      assertEquals(await zed.sync(), [], "a wrong password takes nothing over");
      const asked = performance.now();
      await phone.send("LOGIN zed password1");
      await phone.expect("OK");
      console.log(`  takeover across instances: ${Math.round(performance.now() - asked)} ms`);
      await zed.expect("ERR session-replaced");
      await zed.expectClosed();
      await carol.expect("INFO Zed disconnected");
      await carol.expect("INFO Zed connected");
      await bob.expect("INFO Zed disconnected");
      await allHear({ Zed: phone, carol, bob });
      await phone.send("WHO");
      assertEquals(await phone.readLines(3), ["USER carol", "USER bob", "USER Zed"]);
      // Still the account's: a guest gets no further on either instance.
      const guest = await rig.connect(a);
      await guest.send("LOGIN zed");
      await guest.expect("ERR password-required");
    });
  },
});
