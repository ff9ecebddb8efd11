/**
 * Direct-message history with `--redis-url`, end to end: two server
 * processes joined through a real `redis-server`, real sockets, the real
 * password cost. The copies each account party keeps (written by the
 * sender's instance), `HISTORY @<name>` on either instance, `UNREGISTER` and
 * the operator's delete, and a later account under a freed name. Skipped
 * without `redis-server`, except in CI.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { runTask } from "./account_task_rig.ts";
import { allHear, ignore, type Instance, type Rig, withCluster } from "./cluster_rig.ts";
import type { TestClient } from "./helpers.ts";
import { histLines, historyOf, parseHist } from "./history_reply.ts";
import { withClient } from "./redis_client.ts";

/** Logs `name` in on `instance` and registers it. */
async function registered(rig: Rig, instance: Instance, name: string): Promise<TestClient> {
  const client = await rig.login(instance, name);
  await client.send(`REGISTER ${name}-password`);
  await client.expect("OK registered");
  return client;
}

/** The keys of direct-message history in the rig's Redis, sorted. */
async function dmKeys(rig: Rig): Promise<string[]> {
  return await withClient(rig.redis, async (client) => {
    const keys = await client.sendCommand(["KEYS", "chat:*dm*"]) as string[];
    return keys.sort();
  });
}

/** alice (account, on A) and bob (account, on B) write to each other, and each has read the other's. */
async function exchange(
  alice: TestClient,
  bob: TestClient,
): Promise<void> {
  await alice.send("DM bob hello bob");
  await bob.expect("DM alice hello bob");
  await bob.send("DM ALICE hi alice");
  await alice.expect("DM bob hi alice");
}

/** Two instances, alice (account) on the first and bob (account) on the second, after {@linkcode exchange}. */
async function withExchange(
  body: (alice: TestClient, bob: TestClient, rig: Rig, a: Instance) => Promise<void>,
): Promise<void> {
  await withCluster(2, async ([a, b], rig) => {
    const alice = await registered(rig, a!, "alice");
    const bob = await registered(rig, b!, "bob");
    await allHear({ alice, bob });
    await exchange(alice, bob);
    await body(alice, bob, rig, a!);
  });
}

/** What {@linkcode exchange} keeps, for each of them. */
const BOTH_WAYS = ["alice hello bob", "bob hi alice"];

Deno.test({
  name:
    "redis DM history: a DM across instances is kept once for each account party, read on each instance; a guest keeps none",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const alice = await registered(rig, a!, "alice");
      const bob = await registered(rig, b!, "bob");
      const gus = await rig.login(b!, "gus");
      await allHear({ alice, bob, gus });
      await exchange(alice, bob);

      // Read on A right after bob's DM came: it is there, once.
      const onA = await historyOf(alice, "HISTORY @BOB");
      assertEquals(onA.lines, BOTH_WAYS);
      const onB = await historyOf(bob, "HISTORY @alice");
      assertEquals(onB.lines, BOTH_WAYS);
      // Both copies of a message take one id.
      assertEquals(onB.ids, onA.ids);
      assertEquals((await historyOf(alice, "HISTORY @bob 1")).lines, ["bob hi alice"]);
      assertEquals(
        (await historyOf(alice, `HISTORY @bob 5 ${onA.ids[1]}`)).lines,
        ["alice hello bob"],
      );

      // A guest keeps no copy; the account it wrote to keeps its own.
      await gus.send("DM alice from a guest");
      await alice.expect("DM gus from a guest");
      await alice.send("DM gus and back");
      await gus.expect("DM alice and back");
      assertEquals((await historyOf(alice, "HISTORY @gus")).lines, [
        "gus from a guest",
        "alice and back",
      ]);
      await gus.send("HISTORY @alice");
      await gus.expect("ERR account-required");
      // Registering later gives no copy of what came before.
      await gus.send("REGISTER gus-password");
      await gus.expect("OK registered");
      assertEquals((await historyOf(gus, "HISTORY @alice")).lines, []);
      assertEquals(await alice.sync(), []);
      assertEquals(await bob.sync(), []);
      assertEquals(await gus.sync(), []);
      assertEquals(await dmKeys(rig), [
        "chat:dm-index:1",
        "chat:dm-index:2",
        "chat:history:dm:1:bob",
        "chat:history:dm:1:gus",
        "chat:history:dm:2:alice",
      ]);
    });
  },
});

Deno.test({
  name:
    "redis DM history: UNREGISTER deletes alice's copies only, and a new account under her name sees none",
  ignore,
  async fn() {
    await withExchange(async (alice, bob, rig) => {
      assertEquals((await historyOf(alice, "HISTORY @bob")).lines.length, 2);

      await alice.send("UNREGISTER alice-password");
      await alice.expect("OK unregistered");
      assertEquals(await dmKeys(rig), ["chat:dm-index:2", "chat:history:dm:2:alice"]);
      await alice.send("HISTORY @bob");
      await alice.expect("ERR account-required");
      assertEquals((await historyOf(bob, "HISTORY @alice")).lines, BOTH_WAYS);
      // A DM to the guest alice is kept for bob alone.
      await bob.send("DM alice to the guest");
      await alice.expect("DM bob to the guest");

      await alice.send("REGISTER new-password");
      await alice.expect("OK registered");
      assertEquals((await historyOf(alice, "HISTORY @bob")).lines, []);
      await bob.send("DM alice to the new account");
      await alice.expect("DM bob to the new account");
      assertEquals((await historyOf(alice, "HISTORY @bob")).lines, ["bob to the new account"]);
      assertEquals((await historyOf(bob, "HISTORY @alice")).lines, [
        ...BOTH_WAYS,
        "bob to the guest",
        "bob to the new account",
      ]);
      assertEquals(await alice.sync(), []);
      assertEquals(await bob.sync(), []);
    });
  },
});

Deno.test({
  name:
    "redis DM history: the operator's delete removes the account's copies only; a new account under the name sees none",
  ignore,
  async fn() {
    await withExchange(async (alice, bob, rig, a) => {
      await alice.send("QUIT");
      await alice.expectClosed();
      await bob.expect("INFO alice disconnected");

      assertEquals(await runTask(["delete", "alice", "--redis-url", rig.redis.url]), {
        code: 0,
        stdout: "",
        stderr: "delete: deleted account alice (id 1)\n",
      });
      assertEquals(await dmKeys(rig), ["chat:dm-index:2", "chat:history:dm:2:alice"]);
      assertEquals((await historyOf(bob, "HISTORY @alice")).lines, BOTH_WAYS);

      const again = await registered(rig, a, "alice");
      assertEquals((await historyOf(again, "HISTORY @bob")).lines, []);
      assertEquals(await again.sync(), []);
      assertEquals(await bob.sync(), []);
    });
  },
});

Deno.test({
  name:
    "redis DM history: between two users of one instance, a DM and HISTORY in one write read it; the other instance reads it too",
  ignore,
  async fn() {
    await withCluster(2, async ([a, b], rig) => {
      const alice = await registered(rig, a!, "alice");
      const carol = await registered(rig, a!, "carol");
      await allHear({ alice, carol });
      await alice.sendRaw("DM carol one\nHISTORY @carol\n");
      await carol.expect("DM alice one");
      assertEquals(parseHist(await histLines(alice)).lines, ["alice one"]);
      assertEquals((await historyOf(carol, "HISTORY @alice")).lines, ["alice one"]);
      // carol, later on B, reads what A wrote for her.
      await carol.send("QUIT");
      await carol.expectClosed();
      const there = await rig.connect(b!);
      await there.send("LOGIN carol carol-password");
      await there.expect("OK");
      assertEquals((await historyOf(there, "HISTORY @alice")).lines, ["alice one"]);
      assertEquals(await there.sync(), []);
    });
  },
});
