/**
 * The hub's rules when users live on other instances too, with a fake
 * cluster that records what the hub asks of it and answers when told.
 */
import type { Cluster, ClusterUser, LocalUser, RemoteDelivery } from "../lib/cluster.ts";
import type { ClientLink } from "../lib/client_link.ts";
import { MAX_CHARS_WHILE_CLAIMING, MAX_LINES_WHILE_CLAIMING } from "../lib/session.ts";
import { assert } from "./helpers.ts";
import { type FakeLink, Harness } from "./hub_harness.ts";

/** A cluster whose claims wait until the test answers them. */
class FakeCluster implements Cluster {
  readonly claims: { link: ClientLink; name: string; key: string }[] = [];
  readonly left: LocalUser[] = [];
  readonly broadcasts: string[] = [];
  readonly dms: string[] = [];
  remote: ClusterUser[] = [];
  delivery: RemoteDelivery = "sent";

  claim(link: ClientLink, name: string, key: string): undefined {
    this.claims.push({ link, name, key });
    return undefined;
  }
  leave(user: LocalUser): void {
    // What the cluster may read of it: the hub may hand over a richer object.
    this.left.push({ name: user.name, key: user.key, seq: user.seq });
  }
  broadcast(sender: string, text: string): void {
    this.broadcasts.push(`${sender} ${text}`);
  }
  directMessage(sender: string, target: string, text: string): RemoteDelivery {
    this.dms.push(`${sender}>${target} ${text}`);
    return this.delivery;
  }
  remoteUsers(): readonly ClusterUser[] {
    return this.remote;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  status(): undefined {
    return undefined;
  }
}

function setup(): { cluster: FakeCluster; harness: Harness } {
  const cluster = new FakeCluster();
  return { cluster, harness: new Harness({ cluster }) };
}

/** Logs `name` in, granting its claim with login number `seq`. */
function loginAs(harness: Harness, cluster: FakeCluster, name: string, seq: number): FakeLink {
  const link = harness.open(name);
  harness.send(link, `LOGIN ${name}`);
  const claim = cluster.claims.at(-1)!;
  assert.equal(claim.link, link);
  harness.hub.apply({ kind: "claimed", link, name: claim.name, key: claim.key, seq });
  assert.deepEqual(link.take(), ["OK"]);
  return link;
}

Deno.test("hub: lines sent behind a LOGIN wait for the cluster's answer and keep their order", () => {
  const { cluster, harness } = setup();
  const other = loginAs(harness, cluster, "other", 1);
  const link = harness.open("amy");
  for (const line of ["LOGIN Amy", "PING", "MSG hello", "WHO", "LOGIN again"]) {
    harness.send(link, line);
  }
  assert.deepEqual(link.take(), [], "nothing is answered before the LOGIN is");
  assert.equal(cluster.claims.length, 2);
  harness.hub.apply({ kind: "claimed", link, name: "Amy", key: "amy", seq: 2 });
  assert.deepEqual(link.take(), [
    "OK",
    "PONG",
    "USER other",
    "USER Amy",
    "ERR already-logged-in",
  ]);
  assert.deepEqual(other.take(), ["MSG Amy hello"]);
  assert.deepEqual(cluster.broadcasts, ["Amy hello"]);
});

Deno.test("hub: a refused claim answers its LOGIN, and a pipelined LOGIN claims again", () => {
  const { cluster, harness } = setup();
  const link = harness.open("x");
  harness.send(link, "LOGIN taken");
  harness.send(link, "MSG too soon");
  harness.send(link, "LOGIN second");
  harness.send(link, "PING");
  harness.hub.apply({ kind: "claim-refused", link, refusal: "username-taken" });
  assert.deepEqual(link.take(), ["ERR username-taken", "ERR login-required"]);
  assert.equal(cluster.claims.at(-1)!.name, "second");
  harness.hub.apply({ kind: "claim-refused", link, refusal: "cluster-unavailable" });
  assert.deepEqual(link.take(), ["ERR cluster-unavailable", "PONG"]);
});

Deno.test("hub: a name granted to a client that has left goes straight back", () => {
  const { cluster, harness } = setup();
  const link = harness.open("gone");
  harness.send(link, "LOGIN gone");
  harness.hub.apply({ kind: "closed", link, reason: "eof" });
  assert.deepEqual(cluster.left, [], "nothing to give back yet");
  harness.hub.apply({ kind: "claimed", link, name: "gone", key: "gone", seq: 7 });
  assert.deepEqual(cluster.left, [{ name: "gone", key: "gone", seq: 7 }]);
  assert.equal(harness.hub.userCount, 0);
});

Deno.test("hub: a client that floods while its LOGIN waits is dropped, not buffered without end", () => {
  const { harness } = setup();
  const link = harness.open("flood");
  harness.send(link, "LOGIN flood");
  for (let i = 0; i < MAX_LINES_WHILE_CLAIMING; i++) harness.send(link, "MSG x");
  assert.deepEqual(link.closes, []);
  harness.send(link, "MSG one too many");
  assert.deepEqual(link.closes, ["excess-flood"]);
  assert.equal(harness.hub.connectionCount, 0);

  const big = harness.open("big");
  harness.send(big, "LOGIN big");
  const text = "y".repeat(MAX_CHARS_WHILE_CLAIMING / 4);
  for (let i = 0; i < 3; i++) harness.send(big, `MSG ${text}`);
  harness.send(big, `DM someone ${text.slice("someone".length)}`);
  assert.deepEqual(big.closes, [], "64 KiB of text (with the name) may wait");
  harness.send(big, "MSG z");
  assert.deepEqual(big.closes, ["excess-flood"], "one character more may not");
});

Deno.test("hub: WHO merges local and remote users by login number, as one block", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 2);
  loginAs(harness, cluster, "d", 5);
  cluster.remote = [{ name: "r1", seq: 1 }, { name: "r3", seq: 3 }, { name: "r9", seq: 9 }];
  harness.send(a, "WHO");
  assert.deepEqual(a.sends, ["USER r1\nUSER a\nUSER r3\nUSER d\nUSER r9\n"]);
  assert.equal(harness.hub.stats.linesDelivered, 5 + 2, "five USER lines and two OKs");
});

Deno.test("hub: a DM to a user not here goes to the cluster, which says where it went", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 1);
  harness.send(a, "DM Far hi there");
  assert.deepEqual(a.take(), []);
  assert.deepEqual(cluster.dms, ["a>far hi there"]);
  cluster.delivery = "not-found";
  harness.send(a, "DM nobody hi");
  cluster.delivery = "unavailable";
  harness.send(a, "DM far hi");
  assert.deepEqual(a.take(), ["ERR user-not-found", "ERR cluster-unavailable"]);
  harness.send(a, "DM A myself");
  assert.deepEqual(a.take(), ["DM a myself"], "a local user never goes to the cluster");
  assert.equal(cluster.dms.length, 3);
});

Deno.test("hub: lines from other instances reach the local users", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 1);
  const b = loginAs(harness, cluster, "b", 2);
  harness.hub.apply({ kind: "remote-msg", sender: "far", text: "hello all" });
  harness.hub.apply({ kind: "remote-dm", target: "b", sender: "far", text: "just you" });
  harness.hub.apply({ kind: "remote-dm", target: "nobody", sender: "far", text: "lost" });
  harness.hub.apply({ kind: "remote-left", name: "far" });
  assert.deepEqual(a.take(), ["MSG far hello all", "INFO far disconnected"]);
  assert.deepEqual(b.take(), ["MSG far hello all", "DM far just you", "INFO far disconnected"]);
});

Deno.test("hub: a local user whose name went to another instance is dropped, and the others told", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 1);
  const b = loginAs(harness, cluster, "b", 2);
  harness.hub.apply({ kind: "name-lost", key: "b" });
  assert.deepEqual(b.closes, ["name-conflict"]);
  assert.deepEqual(a.take(), ["INFO b disconnected"]);
  assert.equal(harness.hub.stats.disconnects["name-conflict"], 1);
});

Deno.test("hub: leaving, and shutting down, tell the cluster which users went", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 1);
  loginAs(harness, cluster, "b", 2);
  harness.send(a, "QUIT");
  assert.deepEqual(cluster.left, [{ name: "a", key: "a", seq: 1 }]);
  harness.hub.apply({ kind: "shutdown" });
  assert.deepEqual(cluster.left.at(-1), { name: "b", key: "b", seq: 2 });
  const late = harness.open("late");
  harness.hub.apply({ kind: "claimed", link: late, name: "late", key: "late", seq: 3 });
  assert.equal(cluster.left.at(-1)!.name, "late", "a claim answered after shutdown is given back");
});
