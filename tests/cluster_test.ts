/**
 * Several server processes, started as `deno task start` starts them, joined
 * into one chat through a real Redis: every protocol row across instances,
 * order, the name race, an instance killed with SIGKILL, Redis stopped and
 * restarted, and Redis frozen. Each test has its own `redis-server`, which it
 * stops and restarts at will; without `redis-server` on the PATH these tests
 * are skipped, except in CI (`.ci/run` installs it).
 */
import { assert, assertEquals } from "@std/assert";
import { CLUSTER_TIMING } from "../lib/redis/timing.ts";
import { TestClient } from "./helpers.ts";
import {
  allHear,
  fourClients,
  ignore,
  NOTICE_MS,
  readUntil,
  relayedPair,
  withCluster,
  withRig,
} from "./cluster_rig.ts";

Deno.test({
  name: "cluster: MSG, DM, WHO, INFO and unique names hold across two instances",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const alice = await rig.login(a!, "alice");
      const bob = await rig.login(b!, "bob");
      const other = await rig.connect(b!);
      await allHear({ alice, bob });
      assertEquals(await bob.sync(), [], "a MSG does not come back to its sender");

      // Names are unique across instances, with the same case and NFC rules.
      await other.send("LOGIN ALICE");
      await other.expect("ERR username-taken");
      const amelie = await rig.login(a!, "Ame\u0301lie");
      await allHear({ alice, bob, "Am\u00e9lie": amelie });
      await other.send("LOGIN am\u00e9lie");
      await other.expect("ERR username-taken");

      // WHO is one block in login order, the same from either instance.
      for (const client of [alice, bob]) {
        await client.send("WHO");
        assertEquals(await client.readLines(3), ["USER alice", "USER bob", "USER Am\u00e9lie"]);
      }

      // DM reaches a user wherever they are; not found means no instance has them.
      await alice.send("DM BOB psst");
      await bob.expect("DM alice psst");
      await bob.send("DM AME\u0301LIE hi");
      await bob.send("DM nobody hi");
      await bob.expect("ERR user-not-found");
      await amelie.expect("DM bob hi");

      // INFO reaches every instance, and the name is free everywhere at once.
      await amelie.send("QUIT");
      await alice.expect("INFO Am\u00e9lie disconnected");
      await bob.expect("INFO Am\u00e9lie disconnected");
      await other.send("LOGIN AM\u00c9LIE");
      await other.expect("OK");
      // A login is known elsewhere one pub/sub hop later: by the time its first line arrives.
      await allHear({ alice, bob, "AM\u00c9LIE": other });
      await alice.send("WHO");
      assertEquals(await alice.readLines(3), ["USER alice", "USER bob", "USER AM\u00c9LIE"]);
    });
  },
});

Deno.test({
  name: "cluster: every receiver sees one sender's lines in the order sent, across three instances",
  ignore,
  async fn() {
    await withCluster(3, async ([a, b, c], rig) => {
      const ann = await rig.login(a!, "ann");
      const ben = await rig.login(b!, "ben");
      const cat = await rig.login(c!, "cat");
      await allHear({ ann, ben, cat });
      const lines: string[] = [];
      const forBen: string[] = [];
      const forCat: string[] = [];
      for (let i = 0; i < 300; i++) {
        if (i % 3 === 0) {
          lines.push(`DM ben d${i}`);
          forBen.push(`DM ann d${i}`);
        } else {
          lines.push(`MSG m${i}`);
          forBen.push(`MSG ann m${i}`);
          forCat.push(`MSG ann m${i}`);
        }
      }
      await ann.sendRaw(lines.map((line) => line + "\n").join(""));
      assertEquals(await ben.readLines(forBen.length), forBen);
      assertEquals(await cat.readLines(forCat.length), forCat);
    });
  },
});

Deno.test({
  name: "cluster: WHO lists the users of three instances once each, in login order",
  ignore,
  async fn() {
    await withCluster(3, async (instances, rig) => {
      const clients: Record<string, TestClient> = {};
      // u1@A, u2@B, u3@C, u4@A, u5@C, u6@B
      const placement = [0, 1, 2, 0, 2, 1];
      for (const [i, at] of placement.entries()) {
        clients[`u${i + 1}`] = await rig.login(instances[at]!, `u${i + 1}`);
      }
      await allHear(clients);
      const expected = placement.map((_, i) => `USER u${i + 1}`);
      for (const client of [clients.u1!, clients.u2!, clients.u3!]) {
        await client.send("WHO");
        assertEquals(await client.readLines(6), expected);
        assertEquals(await client.sync(), [], "nothing after the one block");
      }
    });
  },
});

Deno.test({
  name: "cluster: two instances racing for one name grant it exactly once",
  ignore,
  async fn() {
    await withCluster(3, async (instances, rig) => {
      const clients: TestClient[] = [];
      for (let i = 0; i < 24; i++) clients.push(await rig.connect(instances[i % 3]!));
      await Promise.all(clients.map((client) => client.send("LOGIN Zed")));
      const answers = await Promise.all(clients.map((client) => client.readLine()));
      assertEquals(answers.filter((line) => line === "OK").length, 1, answers.join(","));
      assertEquals(answers.filter((line) => line === "ERR username-taken").length, 23);
    });
  },
});

Deno.test({
  name:
    "cluster: an instance killed with SIGKILL is announced gone and frees its names within the bound",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const alice = await rig.login(a!, "alice");
      const bob = await rig.login(b!, "bob");
      const carol = await rig.login(b!, "carol");
      await allHear({ alice, bob, carol });
      const killedAt = performance.now();
      b!.kill();
      const bound = CLUSTER_TIMING.instanceTtlMs + CLUSTER_TIMING.heartbeatMs;
      const gone = await alice.readLines(2, bound + 2000);
      const elapsed = performance.now() - killedAt;
      assertEquals(gone.sort(), ["INFO bob disconnected", "INFO carol disconnected"]);
      console.log(`  announced gone ${Math.round(elapsed)} ms after SIGKILL (bound ${bound} ms)`);
      assert(elapsed <= bound + 1000, `${elapsed} ms`);
      await using again = await TestClient.login(a!.port, "bob");
      await alice.send("WHO");
      assertEquals(await alice.readLines(2), ["USER alice", "USER bob"]);
      await again.send("QUIT");
    });
  },
});

Deno.test({
  name: "cluster: an instance stopped with SIGTERM says goodbye for its users at once",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const alice = await rig.login(a!, "alice");
      const bob = await rig.login(b!, "bob");
      await allHear({ alice, bob });
      const stoppedAt = performance.now();
      b!.terminate();
      await bob.expect("ERR server-shutdown");
      // Well before the heartbeat bound: the leaving instance itself announces its users.
      await alice.expect("INFO bob disconnected", CLUSTER_TIMING.instanceTtlMs - 1000);
      console.log(
        `  announced gone ${Math.round(performance.now() - stoppedAt)} ms after SIGTERM`,
      );
      await using again = await TestClient.login(a!.port, "bob");
      await again.send("QUIT");
    });
  },
});

Deno.test({
  name:
    "cluster: with Redis stopped, instances serve their own users, refuse logins, and rejoin when it is back",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const { alice, bob, carol, dave } = await fourClients(rig, a!, b!);
      assertEquals(await a!.clusterMetrics(), {
        chat_cluster_up: 1,
        chat_cluster_remote_users: 1,
        chat_cluster_dropped_batches_total: 0,
      });
      await rig.redis.stop();
      await a!.logged(/cluster unavailable/);
      await b!.logged(/cluster unavailable/);
      assertEquals((await a!.clusterMetrics()).chat_cluster_up, 0);

      // Local chat goes on; what needs another instance says so.
      await alice.send("MSG still here");
      await carol.expect("MSG alice still here");
      await alice.send("DM bob are you there");
      await alice.expect("ERR cluster-unavailable");
      await alice.send("WHO");
      assertEquals(await alice.readLines(2), ["USER alice", "USER carol"]);
      const asked = performance.now();
      await dave.send("LOGIN dave");
      await dave.expect("ERR cluster-unavailable", NOTICE_MS);
      const waited = performance.now() - asked;
      console.log(`  LOGIN refused after ${Math.round(waited)} ms without Redis`);
      assert(waited >= CLUSTER_TIMING.loginWaitMs - 50, `${waited} ms`);
      assert(waited <= CLUSTER_TIMING.loginWaitMs + 1000, `${waited} ms`);

      await rig.redis.restart();
      await a!.logged(/cluster rejoined/);
      await b!.logged(/cluster rejoined/);
      await allHear({ alice, bob, carol });
      await alice.send("DM bob are you there");
      await bob.expect("DM alice are you there");
      // The names were claimed again in the empty Redis, in their first login order.
      await dave.send("LOGIN Carol");
      await dave.expect("ERR username-taken");
      await bob.send("WHO");
      assertEquals(await bob.readLines(3), ["USER alice", "USER bob", "USER carol"]);
      await dave.send("LOGIN dave");
      await dave.expect("OK");
      await allHear({ alice, bob, carol, dave });
      await alice.send("WHO");
      assertEquals(await alice.readLines(4), ["USER alice", "USER bob", "USER carol", "USER dave"]);
    });
  },
});

Deno.test({
  name:
    "cluster: a frozen Redis stalls no local chat; a LOGIN waits for it; what waited arrives in order",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const { alice, bob, carol, dave } = await fourClients(rig, a!, b!);
      rig.redis.freeze(true);
      const lines = Array.from({ length: 1000 }, (_, i) => `MSG while frozen ${i}`);
      await alice.sendRaw(lines.map((line) => line + "\n").join(""));
      const expected = lines.map((line) => `MSG alice ${line.slice(4)}`);
      assertEquals(await carol.readLines(1000), expected, "local chat does not wait");
      await dave.send("LOGIN dave");
      await dave.send("MSG first words");
      await alice.send("PING");
      await alice.expect("PONG");
      rig.redis.freeze(false);
      await dave.expect("OK");
      assertEquals(await bob.readLines(1001), [...expected, "MSG dave first words"]);
      await alice.send("DM bob thawed");
      await bob.expect("DM alice thawed");
    });
  },
});

Deno.test({
  name:
    "cluster: after a partition, a name taken meanwhile elsewhere wins; the cut-off holder is dropped",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const a = await rig.start(rig.relay.url);
      const b = await rig.start(rig.redis.url);
      const alice = await rig.login(a, "alice");
      const bob = await rig.login(b, "bob");
      const carol = await rig.login(a, "carol");
      await allHear({ alice, bob, carol });

      rig.relay.cut();
      await a.logged(/cluster unavailable/);
      // B gives A up for dead and frees its names; someone on B takes "alice".
      const gone = await bob.readLines(2, NOTICE_MS);
      assertEquals(gone.sort(), ["INFO alice disconnected", "INFO carol disconnected"]);
      const thief = await rig.login(b, "Alice");

      rig.relay.restore();
      await a.logged(/cluster rejoined/);
      await alice.expect("ERR username-taken");
      await alice.expectClosed();
      await carol.expect("INFO alice disconnected");
      await allHear({ bob, carol, Alice: thief });
      for (const client of [bob, carol]) {
        await client.send("WHO");
        assertEquals(await client.readLines(3), ["USER bob", "USER carol", "USER Alice"]);
        assertEquals(await client.sync(), []);
      }
    });
  },
});

Deno.test({
  name: "cluster: two chats in two databases of one Redis stay apart",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const one = await rig.start(`${rig.redis.url}/1`);
      const two = await rig.start(`${rig.redis.url}/2`);
      const alice = await rig.login(one, "alice");
      const bob = await rig.login(two, "bob");
      const twin = await rig.login(two, "alice");
      await alice.send("MSG hello chat one");
      await bob.send("WHO");
      assertEquals(await bob.readLines(2), ["USER bob", "USER alice"]);
      assertEquals(await bob.sync(), [], "nothing from the other chat");
      await twin.send("QUIT");
      await bob.expect("INFO alice disconnected");
      assertEquals(await alice.sync(), [], "the other chat's alice left, not this one");
    });
  },
});

Deno.test({
  name: "cluster: after Redis loses every key, nobody takes an online user's name, and all rejoin",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const alice = await rig.login(a!, "alice");
      const bob = await rig.login(b!, "bob");
      const newcomer = await rig.connect(a!);
      await allHear({ alice, bob });
      assertEquals(await rig.redis.command("FLUSHALL"), "+OK");
      await newcomer.send("LOGIN bob");
      await newcomer.expect("ERR username-taken");
      await a!.logged(/cluster rejoined/);
      await b!.logged(/cluster rejoined/);
      await newcomer.send("LOGIN Bob");
      await newcomer.expect("ERR username-taken");
      await allHear({ alice, bob });
      for (const client of [alice, bob]) {
        await client.send("WHO");
        assertEquals(await client.readLines(2), ["USER alice", "USER bob"]);
        assertEquals(await client.sync(), []);
      }
    });
  },
});

Deno.test({
  name: "cluster: a connection to Redis that falls silent is replaced, and the instance rejoins",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const { a, alice, bob } = await relayedPair(rig);
      rig.relay.silence();
      await a.logged(/cluster unavailable/);
      await a.logged(/cluster rejoined/);
      await alice.send("DM bob back");
      await bob.expect("DM alice back");
      await allHear({ alice, bob });
      await alice.send("WHO");
      assertEquals(await alice.readLines(2), ["USER alice", "USER bob"]);
    });
  },
});

Deno.test({
  name:
    "cluster: an instance started before Redis joins once Redis is up; a LOGIN meanwhile waits for it",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      await rig.redis.stop();
      const a = await rig.start(rig.redis.url, { waitToJoin: false });
      const alice = await rig.connect(a);
      await alice.send("LOGIN alice");
      await alice.send("PING");
      await rig.redis.restart();
      await alice.expect("OK");
      await alice.expect("PONG");
      await a.logged(/cluster joined/);
      const b = await rig.start(rig.redis.url);
      const bob = await rig.login(b, "bob");
      await allHear({ alice, bob });
      await bob.send("WHO");
      assertEquals(await bob.readLines(2), ["USER alice", "USER bob"]);
    });
  },
});

Deno.test({
  name:
    "cluster: a subscription that falls silent is noticed by the instance's own probe and replaced",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const { a, alice, bob } = await relayedPair(rig);
      rig.relay.silenceSubscriptions();
      await a.logged(/subscription has gone silent/);
      await a.logged(/cluster rejoined/);
      await allHear({ alice, bob });
      await bob.send("DM alice heard again");
      await alice.expect("DM bob heard again");
    });
  },
});

Deno.test({
  name:
    "cluster: after 400 logins and departures spread over three instances, no ghost and no stray name",
  ignore,
  async fn() {
    await withCluster(3, async (instances, rig) => {
      const watchers: TestClient[] = [];
      for (const [i, instance] of instances.entries()) {
        watchers.push(await rig.login(instance, `watcher${i}`));
      }
      await allHear(Object.fromEntries(watchers.map((w, i) => [`watcher${i}`, w])));
      // 40 workers log in and out 10 times each, on the instances in turn, racing each other
      // for 20 names; every other time the LOGIN, a MSG and the QUIT go out in one write.
      await Promise.all(Array.from({ length: 40 }, async (_, worker) => {
        for (let round = 0; round < 10; round++) {
          const instance = instances[(worker + round) % instances.length]!;
          await using client = await TestClient.connect(instance.port);
          const name = `churn${worker % 20}`;
          if (round % 2 === 0) {
            await client.sendRaw(`LOGIN ${name}\nMSG round ${round}\nQUIT\n`);
          } else {
            await client.send(`LOGIN ${name}`);
            await client.readLine();
            await client.send("QUIT");
          }
          // The server closes once it has applied the QUIT: the departure is done there.
          while ((await client.readLine()) !== null);
        }
      }));
      // Every departure went out before each watcher's line, on its instance's one connection.
      for (const [i, watcher] of watchers.entries()) {
        await watcher.send(`MSG done ${i}`);
        for (const [j, other] of watchers.entries()) {
          if (j !== i) await readUntil(other, `MSG watcher${i} done ${i}`);
        }
      }
      for (const watcher of watchers) {
        await watcher.send("WHO");
        assertEquals(await watcher.readLines(3), [
          "USER watcher0",
          "USER watcher1",
          "USER watcher2",
        ]);
        assertEquals(await watcher.sync(), [], "no ghost after the watchers");
      }
      const names = await rig.redis.command(
        "EVAL",
        "return #redis.call('KEYS', 'chat:name:*')",
        "0",
      );
      assertEquals(names, ":3", "only the watchers' names are held");
    });
  },
});

Deno.test({
  name:
    "cluster: past the publish cap, chat lines for other instances are dropped but departures are not",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      // Big outboxes, so that the flood below drops nobody as a slow consumer.
      const args = ["--max-queue-bytes", String(64 * 1024 * 1024)];
      const a = await rig.start(rig.redis.url, { args });
      const b = await rig.start(rig.redis.url, { args });
      const flooder = await rig.login(a, "flooder");
      const leaver = await rig.login(a, "leaver");
      const bob = await rig.login(b, "bob");
      await allHear({ flooder, leaver, bob });
      rig.redis.freeze(true);
      // Redis stays frozen while a reads the flood: past CLUSTER_TIMING.staleMs (2 s) both instances
      // would give the connections up and rejoin, and this test would no longer test the cap. Few
      // long lines (2,500 of 4,000 characters, 10 Mi in all, past the 8 Mi that may wait for Redis)
      // take a third of the time of 150,000 short ones, the per-line work being the most of it.
      const text = "x".repeat(4000);
      await flooder.sendRaw(`MSG ${text}\n`.repeat(2500));
      await flooder.send("PING");
      await flooder.expect("PONG", NOTICE_MS);
      await leaver.send("QUIT");
      await flooder.expect("INFO leaver disconnected");
      const dropped = (await a.clusterMetrics()).chat_cluster_dropped_batches_total!;
      rig.redis.freeze(false);
      for (const instance of [a, b]) {
        assert(!/cluster unavailable/.test(instance.server.log()), "Redis was frozen past staleMs");
      }
      assert(dropped > 0, `dropped ${dropped} batches`);
      const before = await readUntil(bob, "INFO leaver disconnected");
      assert(before.length < 2500, `${before.length} lines reached bob before the INFO`);
      assert(before.every((got) => got === `MSG flooder ${text}`));
      await allHear({ flooder, bob });
      await bob.send("WHO");
      assertEquals(await bob.readLines(2), ["USER flooder", "USER bob"]);
    });
  },
});

Deno.test({
  name:
    "cluster: /readyz is 503 until the instance joins, while Redis is frozen or stopped, and from SIGTERM on",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const ready = { status: 200, body: "ready\n" };
      const alive = { status: 200, body: "ok\n" };
      await rig.redis.stop();
      const a = await rig.start(rig.redis.url, { waitToJoin: false });
      assertEquals(await a.http("/readyz"), { status: 503, body: "cluster not joined\n" });
      assertEquals(await a.http("/healthz"), alive, "alive all the same");

      await rig.redis.restart();
      await a.logged(/cluster joined/);
      assertEquals(await a.http("/readyz"), ready);
      const alice = await rig.login(a, "alice");

      const unavailable = { status: 503, body: "cluster unavailable\n" };
      rig.redis.freeze(true);
      await a.loggedTimes("cluster unavailable", 1);
      assertEquals(await a.http("/readyz"), unavailable);
      assertEquals(await a.http("/healthz"), alive);
      rig.redis.freeze(false);
      await a.loggedTimes("cluster rejoined", 1);
      assertEquals(await a.http("/readyz"), ready);

      await rig.redis.stop();
      await a.loggedTimes("cluster unavailable", 2);
      assertEquals(await a.http("/readyz"), unavailable);
      await rig.redis.restart();
      await a.loggedTimes("cluster rejoined", 2);
      assertEquals(await a.http("/readyz"), ready);

      // alice does not hang up, so the instance lingers in its shutdown while it is asked.
      a.terminate();
      await alice.expect("ERR server-shutdown");
      assertEquals(await a.http("/readyz"), { status: 503, body: "shutting down\n" });
      assertEquals(await a.http("/healthz"), { status: 503, body: "shutting down\n" });
    });
  },
});

Deno.test({
  name:
    "cluster: a watcher hears a login on another instance once, before its MSG, and its departure; a client that did not WATCH hears no login",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const a = await rig.start(rig.redis.url);
      const b = await rig.start(rig.redis.url);
      const watcher = await rig.login(a, "watcher");
      const plain = await rig.login(a, "plain");
      await watcher.send("WATCH");
      assertEquals(await watcher.sync(), [], "WATCH has no reply");
      const bob = await rig.login(b, "bob");
      await watcher.expect("INFO bob connected");
      await bob.send("MSG hi");
      await watcher.expect("MSG bob hi");
      await plain.expect("MSG bob hi");
      await bob.send("QUIT");
      await bob.expectClosed();
      await watcher.expect("INFO bob disconnected");
      await plain.expect("INFO bob disconnected");
      assertEquals(await watcher.sync(), [], "bob was announced once");
      assertEquals(await plain.sync(), []);
    });
  },
});

Deno.test({
  name:
    "cluster: after Redis restarts empty, a watcher hears no login again for users it knew, and hears the new ones",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      // At debug level the instance says when its resync after the rejoin is done.
      const a = await rig.start(rig.redis.url, { args: ["--log-level", "debug"] });
      const b = await rig.start(rig.redis.url);
      const watcher = await rig.login(a, "watcher");
      await watcher.send("WATCH");
      assertEquals(await watcher.sync(), []);
      const bob = await rig.login(b, "bob");
      await watcher.expect("INFO bob connected");
      await rig.redis.stop();
      await a.logged(/cluster unavailable/);
      await b.logged(/cluster unavailable/);
      await rig.redis.restart();
      // Each instance claims and announces its users again, and reads the other's from Redis.
      await a.logged(/cluster rejoined/);
      await b.logged(/cluster rejoined/);
      await bob.send("MSG back");
      await watcher.expect("MSG bob back");
      // About 6 s later the rejoined instance compares its view with Redis: the same users.
      await a.logged(/cluster resynced/);
      const carol = await rig.login(b, "carol");
      await watcher.expect("INFO carol connected");
      await carol.send("MSG hello");
      await watcher.expect("MSG carol hello");
      assertEquals(await watcher.sync(), [], "nobody was announced twice");
    });
  },
});
