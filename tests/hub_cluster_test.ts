/**
 * The hub's rules when users live on other instances too, with a fake
 * cluster that records what the hub asks of it and answers when told.
 */
import { assertEquals, assertStrictEquals } from "@std/assert";
import type {
  Cluster,
  ClusterUser,
  KeptDmSender,
  LocalUser,
  RemoteDelivery,
} from "../lib/cluster.ts";
import type { ClientLink } from "../lib/client_link.ts";
import { ChatHistory } from "../lib/history/chat_history.ts";
import type { Entry, HistoryStore, Range, StoredMessage } from "../lib/history/store.ts";
import { LINE_WIRE, type Stamp } from "../lib/wire.ts";
import { MAX_CHARS_WHILE_CLAIMING, MAX_LINES_WHILE_CLAIMING } from "../lib/session.ts";
import { type FakeLink, Harness } from "./hub_harness.ts";

/** A cluster whose claims wait until the test answers them. */
class FakeCluster implements Cluster {
  readonly claims: { link: ClientLink; name: string; key: string }[] = [];
  readonly left: LocalUser[] = [];
  readonly broadcasts: string[] = [];
  readonly dms: string[] = [];
  /** Departures' words, parts and rejoins, as they were told. */
  readonly told: string[] = [];
  remote: ClusterUser[] = [];
  delivery: RemoteDelivery = "sent";
  /** Each DM handed over, with what it was to keep (undefined: nothing). */
  kept: { dm: string; keep: { key: string } | undefined }[] = [];

  claim(link: ClientLink, name: string, key: string): undefined {
    this.claims.push({ link, name, key });
    return undefined;
  }
  leave(user: LocalUser, why?: string): void {
    // What the cluster may read of it: the hub may hand over a richer object.
    this.left.push({ name: user.name, key: user.key, seq: user.seq });
    if (why !== undefined) this.told.push(`left ${user.name}: ${why}`);
  }
  accountChanged(): void {}
  part(name: string, reason: string | undefined): void {
    this.told.push(`part ${name}${reason === undefined ? "" : `: ${reason}`}`);
  }
  rejoin(name: string): void {
    this.told.push(`rejoin ${name}`);
  }
  broadcast(sender: string, text: string, kept: boolean): void {
    this.broadcasts.push(`${sender} ${text}${kept ? "" : " (not kept)"}`);
  }
  directMessage(
    sender: string,
    target: string,
    text: string,
    keep?: KeptDmSender,
  ): RemoteDelivery {
    this.dms.push(`${sender}>${target} ${text}`);
    this.kept.push({ dm: `${sender}>${target} ${text}`, keep: keep && { key: keep.key } });
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

/** A store that gives ids, as Redis does, and records the ranges it is asked for. */
class IdGivingStore implements HistoryStore {
  readonly kind = "redis";
  readonly assignsIds = true;
  readonly lastId = "0-0";
  readonly ranges: Range[] = [];
  stored: StoredMessage[] = [];
  append(entries: readonly Entry[]): Promise<readonly string[]> {
    return Promise.resolve(entries.map((_, i) => `100-${i}`));
  }
  read(range: Range): readonly StoredMessage[] {
    this.ranges.push(range);
    return this.stored;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function setup(history?: ChatHistory): { cluster: FakeCluster; harness: Harness } {
  const cluster = new FakeCluster();
  return { cluster, harness: new Harness({ cluster, ...(history ? { history } : {}) }) };
}

/** Logs `name` in, granting its claim with login number `seq`. */
function loginAs(harness: Harness, cluster: FakeCluster, name: string, seq: number): FakeLink {
  const link = harness.open(name);
  harness.send(link, `LOGIN ${name}`);
  const claim = cluster.claims.at(-1)!;
  assertStrictEquals(claim.link, link);
  harness.hub.apply({ kind: "claimed", link, name: claim.name, key: claim.key, seq });
  assertEquals(link.take(), ["OK"]);
  return link;
}

Deno.test("hub: lines sent behind a LOGIN wait for the cluster's answer and keep their order", () => {
  const { cluster, harness } = setup();
  const other = loginAs(harness, cluster, "other", 1);
  const link = harness.open("amy");
  for (const line of ["LOGIN Amy", "PING", "MSG hello", "WHO", "LOGIN again"]) {
    harness.send(link, line);
  }
  assertEquals(link.take(), [], "nothing is answered before the LOGIN is");
  assertEquals(cluster.claims.length, 2);
  harness.hub.apply({ kind: "claimed", link, name: "Amy", key: "amy", seq: 2 });
  assertEquals(link.take(), [
    "OK",
    "PONG",
    "USER other",
    "USER Amy",
    "ERR already-logged-in",
  ]);
  assertEquals(other.take(), ["MSG Amy hello"]);
  assertEquals(cluster.broadcasts, ["Amy hello (not kept)"], "no history here");
});

Deno.test("hub: a refused claim answers its LOGIN, and a pipelined LOGIN claims again", () => {
  const { cluster, harness } = setup();
  const link = harness.open("x");
  harness.send(link, "LOGIN taken");
  harness.send(link, "MSG too soon");
  harness.send(link, "LOGIN second");
  harness.send(link, "PING");
  harness.hub.apply({ kind: "claim-refused", link, refusal: "username-taken" });
  assertEquals(link.take(), ["ERR username-taken", "ERR login-required"]);
  assertEquals(cluster.claims.at(-1)!.name, "second");
  harness.hub.apply({ kind: "claim-refused", link, refusal: "cluster-unavailable" });
  assertEquals(link.take(), ["ERR cluster-unavailable", "PONG"]);
});

Deno.test("hub: a claim refused for a name registered elsewhere answers ERR password-required", () => {
  const { cluster, harness } = setup();
  const link = harness.open("x");
  harness.send(link, "LOGIN Zed");
  harness.send(link, "PING");
  harness.hub.apply({ kind: "claim-refused", link, refusal: "password-required" });
  assertEquals(link.take(), ["ERR password-required", "PONG"]);
  assertEquals(cluster.claims.map((c) => c.name), ["Zed"]);
});

Deno.test("hub: a name granted to a client that has left goes straight back", () => {
  const { cluster, harness } = setup();
  const link = harness.open("gone");
  harness.send(link, "LOGIN gone");
  harness.hub.apply({ kind: "closed", link, reason: "eof" });
  assertEquals(cluster.left, [], "nothing to give back yet");
  harness.hub.apply({ kind: "claimed", link, name: "gone", key: "gone", seq: 7 });
  assertEquals(cluster.left, [{ name: "gone", key: "gone", seq: 7 }]);
  assertEquals(harness.hub.userCount, 0);
});

Deno.test("hub: a client that floods while its LOGIN waits is dropped, not buffered without end", () => {
  const { harness } = setup();
  const link = harness.open("flood");
  harness.send(link, "LOGIN flood");
  for (let i = 0; i < MAX_LINES_WHILE_CLAIMING; i++) harness.send(link, "MSG x");
  assertEquals(link.closes, []);
  harness.send(link, "MSG one too many");
  assertEquals(link.closes, ["excess-flood"]);
  assertEquals(harness.hub.connectionCount, 0);

  const big = harness.open("big");
  harness.send(big, "LOGIN big");
  const text = "y".repeat(MAX_CHARS_WHILE_CLAIMING / 4);
  for (let i = 0; i < 3; i++) harness.send(big, `MSG ${text}`);
  harness.send(big, `DM someone ${text.slice("someone".length)}`);
  assertEquals(big.closes, [], "64 KiB of text (with the name) may wait");
  harness.send(big, "MSG z");
  assertEquals(big.closes, ["excess-flood"], "one character more may not");
});

Deno.test("hub: WHO merges local and remote users by login number, as one block", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 2);
  loginAs(harness, cluster, "d", 5);
  cluster.remote = [{ name: "r1", seq: 1 }, { name: "r3", seq: 3 }, { name: "r9", seq: 9 }];
  harness.send(a, "WHO");
  assertEquals(a.sends, ["USER r1\nUSER a\nUSER r3\nUSER d\nUSER r9\n"]);
  assertEquals(harness.hub.stats.linesDelivered, 5 + 2, "five USER lines and two OKs");
});

Deno.test("hub: a DM to a user not here goes to the cluster, which says where it went", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 1);
  harness.send(a, "DM Far hi there");
  assertEquals(a.take(), []);
  assertEquals(cluster.dms, ["a>far hi there"]);
  cluster.delivery = "not-found";
  harness.send(a, "DM nobody hi");
  cluster.delivery = "unavailable";
  harness.send(a, "DM far hi");
  assertEquals(a.take(), ["ERR user-not-found", "ERR cluster-unavailable"]);
  harness.send(a, "DM A myself");
  assertEquals(a.take(), ["DM a myself"], "a local user never goes to the cluster");
  assertEquals(cluster.dms.length, 3);
});

Deno.test("hub: lines from other instances reach the local users", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 1);
  const b = loginAs(harness, cluster, "b", 2);
  harness.hub.apply({ kind: "remote-msg", sender: "far", text: "hello all" });
  harness.hub.apply({ kind: "remote-dm", target: "b", sender: "far", text: "just you" });
  harness.hub.apply({ kind: "remote-dm", target: "nobody", sender: "far", text: "lost" });
  harness.hub.apply({ kind: "remote-left", name: "far" });
  assertEquals(a.take(), ["MSG far hello all", "INFO far disconnected"]);
  assertEquals(b.take(), ["MSG far hello all", "DM far just you", "INFO far disconnected"]);
});

Deno.test("hub: a local user whose name went to another instance is dropped, and the others told", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 1);
  const b = loginAs(harness, cluster, "b", 2);
  harness.hub.apply({ kind: "name-lost", key: "b" });
  assertEquals(b.closes, ["name-conflict"]);
  assertEquals(a.take(), ["INFO b disconnected"]);
  assertEquals(harness.hub.stats.disconnects["name-conflict"], 1);
});

Deno.test("hub: leaving, and shutting down, tell the cluster which users went", () => {
  const { cluster, harness } = setup();
  const a = loginAs(harness, cluster, "a", 1);
  loginAs(harness, cluster, "b", 2);
  harness.send(a, "QUIT");
  assertEquals(cluster.left, [{ name: "a", key: "a", seq: 1 }]);
  harness.hub.apply({ kind: "shutdown" });
  assertEquals(cluster.left.at(-1), { name: "b", key: "b", seq: 2 });
  const late = harness.open("late");
  harness.hub.apply({ kind: "claimed", link: late, name: "late", key: "late", seq: 3 });
  assertEquals(cluster.left.at(-1)!.name, "late", "a claim answered after shutdown is given back");
});

Deno.test("hub: a remote MSG moves the history's cut to its id before it is delivered, with the id in its stamp", async () => {
  const store = new IdGivingStore();
  const history = new ChatHistory({ store });
  const { cluster, harness } = setup(history);
  const a = loginAs(harness, cluster, "a", 1);
  const stamps: (Stamp | undefined)[] = [];
  a.wire = {
    ...LINE_WIRE,
    msg: (sender, text, notice, arena, stamp) => {
      stamps.push(stamp);
      return LINE_WIRE.msg(sender, text, notice, arena, stamp);
    },
  };
  harness.send(a, "HISTORY");
  assertEquals(store.ranges.at(-1)!.before, "0-1", "nothing stored is read before the first id");
  harness.hub.apply({ kind: "remote-msg", sender: "far", text: "hello", id: "7-3" });
  assertEquals(stamps.map((stamp) => stamp?.id), ["7-3"]);
  harness.send(a, "HISTORY");
  assertEquals(store.ranges.at(-1)!.before, "7-4", "the read includes it, and nothing after it");
  harness.hub.apply({ kind: "observed", id: "9-0" });
  harness.send(a, "HISTORY 5");
  assertEquals(store.ranges.at(-1)!.before, "9-1");
  harness.send(a, "MSG mine");
  assertEquals(cluster.broadcasts, ["a mine"], "recorded, so kept in the cluster's history too");
  await history.close();
});

Deno.test("hub: a kept remote DM moves the history's cut to its id before it is delivered", async () => {
  const store = new IdGivingStore();
  const history = new ChatHistory({ store });
  const { cluster, harness } = setup(history);
  const a = loginAs(harness, cluster, "a", 1);
  harness.hub.apply({ kind: "remote-dm", target: "a", sender: "far", text: "kept", id: "7-3" });
  assertEquals(a.take(), ["DM far kept"]);
  harness.send(a, "HISTORY");
  assertEquals(store.ranges.at(-1)!.before, "7-4", "a read from now on reaches it");
  // Gone before it came: its place in the order is reached all the same.
  harness.hub.apply({ kind: "remote-dm", target: "gone", sender: "far", text: "x", id: "8-0" });
  harness.send(a, "HISTORY");
  assertEquals(store.ranges.at(-1)!.before, "8-1");
  // A DM to another instance is handed over with its sender, to keep.
  harness.send(a, "DM far hello");
  assertEquals(cluster.kept.at(-1), { dm: "a>far hello", keep: { key: "a" } });
  await history.close();
});

Deno.test("ChatHistory: a store that keeps DMs itself is handed the copies, and reads them up to the cut, its own all", async () => {
  const store = new IdGivingStore();
  const kept: unknown[] = [];
  const keeping: HistoryStore = {
    kind: store.kind,
    assignsIds: store.assignsIds,
    lastId: store.lastId,
    append: (entries) => store.append(entries),
    read: (range) => store.read(range),
    close: () => store.close(),
    keepDm: (copies, sender, text) => void kept.push({ copies, sender, text }),
  };
  const history = new ChatHistory({ store: keeping });
  history.keepDm([{ account: 1, peer: "bob" }], "Ann", "hi");
  assertEquals(kept, [{ copies: [{ account: 1, peer: "bob" }], sender: "Ann", text: "hi" }]);
  assertEquals(history.pending, 0, "nothing waits in the history's own queue");
  history.observe("7-3");
  await history.read({ conversation: "dm:1:bob", limit: 5, from: "latest", before: "9-0" });
  assertEquals(store.ranges.at(-1), {
    conversation: "dm:1:bob",
    limit: 5,
    from: "latest",
    before: "9-0",
    ownAbove: "7-3",
  });
  await history.close();
});

Deno.test("hub: departures go to the cluster with their words; a part, and a join after one (not the first), too", () => {
  const { cluster, harness } = setup();
  const amy = loginAs(harness, cluster, "Amy", 1);
  const bob = loginAs(harness, cluster, "bob", 2);
  const carl = loginAs(harness, cluster, "carl", 3);
  const link = (member: FakeLink) => ({ kind: "command" as const, link: member });
  harness.hub.apply({ ...link(amy), command: { kind: "join" } });
  harness.hub.apply({ ...link(amy), command: { kind: "part", reason: "brb" } });
  harness.hub.apply({ ...link(amy), command: { kind: "join" } });
  harness.hub.apply({ ...link(amy), command: { kind: "part" } });
  harness.hub.apply({ ...link(amy), command: { kind: "quit", reason: "bye now" } });
  harness.hub.apply({ ...link(bob), command: { kind: "quit" } });
  harness.hub.apply({ kind: "closed", link: carl, reason: "idle" });
  assertEquals(cluster.told, [
    "part Amy: brb",
    "rejoin Amy",
    "part Amy",
    "left Amy: Quit: bye now",
    "left bob: Quit",
    "left carl: Ping timeout",
  ]);
  // Elsewhere's parts and joins reach no line client; its departures say INFO as ever.
  const dan = loginAs(harness, cluster, "dan", 4);
  harness.hub.apply({ kind: "remote-part", name: "eve", reason: "x" });
  harness.hub.apply({ kind: "remote-rejoin", name: "eve" });
  harness.hub.apply({ kind: "remote-left", name: "eve", why: "Quit: x" });
  assertEquals(dan.take(), ["INFO eve disconnected"]);
});
