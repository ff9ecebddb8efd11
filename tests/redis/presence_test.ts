/** Who is on the other instances: presence heard, snapshots, sweeps and the resync after a rejoin. */
import { assertEquals, assertStrictEquals } from "@std/assert";
import type { ClusterEvent } from "../../lib/cluster.ts";
import { Presence } from "../../lib/redis/presence.ts";
import { SWEEP } from "../../lib/redis/scripts.ts";
import { FakeRedis, RecordingLogger, settle } from "./fakes.ts";

const at = (instance: string, seq: number, name: string) => ({ instance, seq, name });
const joined = (instance: string, seq: number, name: string) => ({
  joined: true,
  holder: at(instance, seq, name),
});
const left = (instance: string, seq: number, name: string) => ({
  joined: false,
  holder: at(instance, seq, name),
});

/** Presence for instance `i1` over a fake Redis, and what it posted to the hub. */
function rig() {
  const redis = new FakeRedis();
  const log = new RecordingLogger();
  const posted: ClusterEvent[] = [];
  /** Name keys held by users of i1. */
  const local = new Set<string>();
  const presence = new Presence({
    instance: "i1",
    prefix: "chat:",
    run: redis.run,
    post: (event) => posted.push(event),
    log,
    local: (key) => local.has(key),
  });
  /** The notices posted since the last call: `+name` joined, `-name` left. */
  const notices = () => posted.splice(0).map(notice);
  return { presence, redis, log, posted, local, notices };
}

function notice(event: ClusterEvent): string {
  switch (event.kind) {
    case "remote-joined":
      return `+${event.name}`;
    case "remote-left":
      return `-${event.name}`;
    default:
      return event.kind;
  }
}

Deno.test("a login heard from another instance is announced once, and its departure once", () => {
  const { presence, notices } = rig();
  presence.heard(joined("b", 2, "Bea"));
  presence.heard(joined("c", 1, "Cal"));
  presence.heard(joined("b", 2, "Bea"));
  assertEquals(notices(), ["+Bea", "+Cal"], "the same login heard twice is one arrival");
  assertEquals(presence.users(), [{ name: "Cal", seq: 1 }, { name: "Bea", seq: 2 }]);
  assertEquals(presence.holder("bea")?.instance, "b");
  presence.heard(left("c", 1, "Cal"));
  presence.heard(left("c", 1, "Cal"));
  presence.heard(left("b", 1, "Bea"));
  presence.heard(left("x", 9, "Nobody"));
  assertEquals(
    notices(),
    ["-Cal"],
    "said once; another login's or a stranger's goodbye is not",
  );
  assertEquals(presence.size, 1);
});

Deno.test("a login that displaces a holder of the name not yet given up is announced after that holder's departure", async () => {
  const { presence, redis, notices } = rig();
  presence.heard(joined("dead", 1, "Alice"));
  presence.heard(joined("live", 5, "ALICE"));
  assertEquals(notices(), ["+Alice", "-Alice", "+ALICE"]);
  assertEquals(presence.holder("alice")?.instance, "live");
  // The sweep that gives the dead instance up comes later: it has nobody left to announce.
  presence.sweep(0);
  redis.take().reply.resolve([["dead"], []]);
  await settle();
  assertEquals(notices(), []);
  assertEquals(presence.users(), [{ name: "ALICE", seq: 5 }]);
});

Deno.test("a name granted here displaces whoever held it elsewhere", () => {
  const { presence, local, notices } = rig();
  presence.heard(joined("dead", 1, "Dot"));
  local.add("dot");
  presence.displace("dot");
  presence.displace("nobody");
  assertEquals(notices(), ["+Dot", "-Dot"]);
  assertEquals(presence.holder("dot"), undefined);
});

Deno.test("a name held here keeps its holder elsewhere from the hub until it is freed here", () => {
  const { presence, local, notices } = rig();
  local.add("ann");
  // A partition: another instance's user took Ann's name, and is heard before Redis says so.
  presence.heard(joined("c", 9, "Ann"));
  assertEquals(notices(), [], "the hub still has its own Ann");
  assertEquals(presence.holder("ann")?.instance, "c");
  assertEquals(presence.announces("c", "Ann"), false);
  local.delete("ann");
  presence.freed("ann");
  presence.freed("ann");
  assertEquals(notices(), ["+Ann"], "once the hub has said its own Ann is gone");
  presence.heard(left("c", 9, "Ann"));
  assertEquals(notices(), ["-Ann"]);
  local.add("bo");
  presence.heard(joined("c", 10, "Bo"));
  presence.heard(left("c", 10, "Bo"));
  local.delete("bo");
  presence.freed("bo");
  assertEquals(notices(), [], "never announced, so never said gone");
});

Deno.test("joining merges the snapshot, leaves out this instance's own names, and adds what was heard meanwhile", async () => {
  const { presence, redis, notices } = rig();
  presence.heard(joined("b", 2, "Waits"));
  const learned = presence.learn();
  const call = redis.take();
  assertStrictEquals(call.script, SWEEP);
  assertEquals(call.keys, ["chat:instances"]);
  assertEquals(call.arguments, ["chat:", "1"]);
  presence.heard(joined("c", 9, "Late"));
  call.reply.resolve([[], ["i1 1 Me", "c 4 Ed", "garbage", "c 9 Late", "b 2 Waits"]]);
  await learned;
  assertEquals(presence.users().map((u) => u.name), ["Waits", "Ed", "Late"]);
  assertEquals(notices(), ["+Waits", "+Late", "+Ed"], "each once, however learned");
  assertEquals(presence.announces("c", "ED"), true);
  assertEquals(presence.announces("b", "Ed"), false);
  assertEquals(presence.announcesAny("c"), true);
  assertEquals(presence.announcesAny("i1"), false);
});

Deno.test("a rejoin's snapshot and the others' logins heard again announce only users new to this instance", async () => {
  const { presence, redis, local, notices } = rig();
  presence.heard(joined("b", 1, "Bob"));
  presence.heard(joined("b", 2, "Old"));
  presence.heard(joined("c", 3, "Cy"));
  notices();
  local.add("mine");
  const learned = presence.learn();
  const call = redis.take();
  // Every instance announces its users again as it rejoins.
  presence.heard(joined("b", 1, "Bob"));
  presence.heard(joined("c", 3, "Cy"));
  // Taken after the others rejoined: Old's name is held by a new login on c, New is new, and
  // Mine is this instance's user's name taken elsewhere (the hub hears of it once it is freed).
  call.reply.resolve([[], ["b 1 Bob", "c 3 Cy", "c 7 OLD", "c 8 New", "c 9 Mine"]]);
  await learned;
  assertEquals(notices(), ["-Old", "+OLD", "+New"]);
  presence.heard(joined("c", 8, "New"));
  assertEquals(notices(), []);
  assertEquals(presence.size, 5);
});

Deno.test("a sweep announces the users of instances gone, except those heard back from meanwhile", async () => {
  const { presence, redis, log, notices } = rig();
  presence.heard(joined("a", 1, "Xi"));
  presence.heard(joined("a", 2, "Yu"));
  presence.heard(joined("b", 3, "Zo"));
  assertEquals(notices(), ["+Xi", "+Yu", "+Zo"]);
  presence.sweep(0);
  presence.sweep(0);
  const call = redis.take();
  assertEquals(redis.calls.length, 0, "one sweep at a time");
  assertStrictEquals(call.script, SWEEP);
  assertEquals(call.arguments, ["chat:", "0", "a", "b"]);
  // Instance a had only stalled: it says Xi logged in (again) while the sweep runs.
  presence.heard(joined("a", 1, "Xi"));
  call.reply.resolve([["a"], []]);
  await settle();
  assertEquals(notices(), ["-Yu"]);
  assertEquals(log.lines, [{
    level: "info",
    message: "cluster instance gone",
    fields: { instance: "a", users: 1 },
  }]);
  assertEquals(presence.users().map((u) => u.name), ["Xi", "Zo"]);
  presence.sweep(1);
  assertStrictEquals(redis.take().script, SWEEP, "the next sweep may go");
});

Deno.test("after a rejoin the next sweep waits its time, then makes the roster a fresh snapshot", async () => {
  const { presence, redis, log, notices } = rig();
  presence.heard(joined("a", 1, "Stays"));
  presence.heard(joined("a", 2, "Went"));
  notices();
  presence.rejoined(6000);
  assertEquals(presence.plan, { kind: "resync", notBefore: 6000 });
  presence.sweep(5999);
  assertEquals(redis.calls.length, 0);
  presence.sweep(6000);
  const failed = redis.take();
  assertEquals(failed.arguments, ["chat:", "1"]);
  failed.reply.reject(new Error("ECONNRESET"));
  await settle();
  assertEquals(log.messages("debug"), ["cluster sweep failed"]);
  assertEquals(presence.plan.kind, "resync", "a failed resync is tried again");
  presence.sweep(7000);
  redis.take().reply.resolve([[], ["a 1 Stays", "b 3 New"]]);
  await settle();
  assertEquals(notices(), ["-Went", "+New"]);
  assertEquals(log.messages("debug"), ["cluster sweep failed", "cluster resynced"]);
  assertEquals(presence.users().map((u) => u.name), ["Stays", "New"]);
  assertEquals(presence.plan, { kind: "sweep" });
});

Deno.test("a resync announces a changed holder as a departure, then an arrival, and what was heard meanwhile once", async () => {
  const { presence, redis, notices } = rig();
  presence.heard(joined("dead", 1, "Ann"));
  presence.heard(joined("b", 2, "Leaves"));
  notices();
  presence.rejoined(0);
  presence.sweep(0);
  const call = redis.take();
  presence.heard(joined("b", 5, "Comes"));
  presence.heard(left("b", 2, "Leaves"));
  assertEquals(notices(), ["+Comes", "-Leaves"]);
  // Taken before both: it still lists Leaves and lacks Comes.
  call.reply.resolve([[], ["c 4 ANN", "b 2 Leaves"]]);
  await settle();
  assertEquals(notices(), ["-Ann", "+ANN"]);
  assertEquals(presence.users().map((u) => u.name), ["ANN", "Comes"]);
});

Deno.test("a rejoin while a resync runs plans another", async () => {
  const { presence, redis } = rig();
  presence.rejoined(0);
  presence.sweep(0);
  presence.rejoined(9000);
  redis.take().reply.resolve([[], []]);
  await settle();
  assertEquals(presence.plan, { kind: "resync", notBefore: 9000 });
});
