/** Who is on the other instances: presence heard, snapshots, sweeps and the resync after a rejoin. */
import assert from "node:assert/strict";
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
  const presence = new Presence({
    instance: "i1",
    prefix: "chat:",
    run: redis.run,
    post: (event) => posted.push(event),
    log,
  });
  const gone = () => posted.map((event) => event.kind === "remote-left" ? event.name : event.kind);
  return { presence, redis, log, posted, gone };
}

Deno.test("presence heard from other instances keeps the roster, and departures are announced", () => {
  const { presence, gone } = rig();
  presence.heard(joined("b", 2, "Bea"));
  presence.heard(joined("c", 1, "Cal"));
  assert.deepEqual(presence.users(), [{ name: "Cal", seq: 1 }, { name: "Bea", seq: 2 }]);
  assert.equal(presence.holder("bea")?.instance, "b");
  presence.heard(left("c", 1, "Cal"));
  presence.heard(left("c", 1, "Cal"));
  presence.heard(joined("d", 5, "BEA"));
  assert.deepEqual(gone(), ["Cal", "Bea"], "said once; a newer login of the name displaces");
  assert.equal(presence.size, 1);
});

Deno.test("a name granted here displaces whoever held it elsewhere", () => {
  const { presence, gone } = rig();
  presence.heard(joined("dead", 1, "Dot"));
  presence.displace("dot");
  presence.displace("nobody");
  assert.deepEqual(gone(), ["Dot"]);
  assert.equal(presence.holder("dot"), undefined);
});

Deno.test("joining merges the snapshot, leaves out this instance's own names, and adds what was heard meanwhile", async () => {
  const { presence, redis, posted } = rig();
  presence.heard(joined("b", 2, "Waits"));
  const learned = presence.learn();
  const call = redis.take();
  assert.equal(call.script, SWEEP);
  assert.deepEqual(call.keys, ["chat:instances"]);
  assert.deepEqual(call.arguments, ["chat:", "1"]);
  presence.heard(joined("c", 9, "Late"));
  call.reply.resolve([[], ["i1 1 Me", "c 4 Ed", "garbage"]]);
  await learned;
  assert.deepEqual(presence.users().map((u) => u.name), ["Waits", "Ed", "Late"]);
  assert.deepEqual(posted, []);
});

Deno.test("a sweep announces the users of instances gone, except those heard back from meanwhile", async () => {
  const { presence, redis, log, gone } = rig();
  presence.heard(joined("a", 1, "Xi"));
  presence.heard(joined("a", 2, "Yu"));
  presence.heard(joined("b", 3, "Zo"));
  presence.sweep(0);
  presence.sweep(0);
  const call = redis.take();
  assert.equal(redis.calls.length, 0, "one sweep at a time");
  assert.equal(call.script, SWEEP);
  assert.deepEqual(call.arguments, ["chat:", "0", "a", "b"]);
  // Instance a had only stalled: it says Xi logged in (again) while the sweep runs.
  presence.heard(joined("a", 1, "Xi"));
  call.reply.resolve([["a"], []]);
  await settle();
  assert.deepEqual(gone(), ["Yu"]);
  assert.deepEqual(log.lines, [{
    level: "info",
    message: "cluster instance gone",
    fields: { instance: "a", users: 1 },
  }]);
  assert.deepEqual(presence.users().map((u) => u.name), ["Xi", "Zo"]);
  presence.sweep(1);
  assert.equal(redis.take().script, SWEEP, "the next sweep may go");
});

Deno.test("after a rejoin the next sweep waits its time, then makes the roster a fresh snapshot", async () => {
  const { presence, redis, log, gone } = rig();
  presence.heard(joined("a", 1, "Stays"));
  presence.heard(joined("a", 2, "Went"));
  presence.rejoined(6000);
  assert.deepEqual(presence.plan, { kind: "resync", notBefore: 6000 });
  presence.sweep(5999);
  assert.equal(redis.calls.length, 0);
  presence.sweep(6000);
  const failed = redis.take();
  assert.deepEqual(failed.arguments, ["chat:", "1"]);
  failed.reply.reject(new Error("ECONNRESET"));
  await settle();
  assert.deepEqual(log.messages("debug"), ["cluster sweep failed"]);
  assert.equal(presence.plan.kind, "resync", "a failed resync is tried again");
  presence.sweep(7000);
  redis.take().reply.resolve([[], ["a 1 Stays", "b 3 New"]]);
  await settle();
  assert.deepEqual(gone(), ["Went"]);
  assert.deepEqual(presence.users().map((u) => u.name), ["Stays", "New"]);
  assert.deepEqual(presence.plan, { kind: "sweep" });
});

Deno.test("a rejoin while a resync runs plans another", async () => {
  const { presence, redis } = rig();
  presence.rejoined(0);
  presence.sweep(0);
  presence.rejoined(9000);
  redis.take().reply.resolve([[], []]);
  await settle();
  assert.deepEqual(presence.plan, { kind: "resync", notBefore: 9000 });
});
