/** This instance's names in Redis: claims, releases, reclaims and the count check, against a fake Redis. */
import { assertEquals, assertStrictEquals } from "@std/assert";
import type { ClusterEvent, LocalUser } from "../../lib/cluster.ts";
import type { WireEvent } from "../../lib/redis/cluster_wire.ts";
import { NameClaims, type NameClaimsOptions } from "../../lib/redis/name_claims.ts";
import { CLAIM, REJOIN, RELEASE } from "../../lib/redis/scripts.ts";
import { FakeLink } from "../hub_harness.ts";
import { FakeRedis, RecordingLogger, settle, until } from "./fakes.ts";

const link = (label: string): FakeLink => new FakeLink(label);

/** NameClaims for instance `i1` over a fake Redis, and everything it told its owner. */
function rig(overrides: Partial<NameClaimsOptions> = {}) {
  const redis = new FakeRedis();
  const log = new RecordingLogger();
  const posted: ClusterEvent[] = [];
  const announced: WireEvent[] = [];
  const displaced: string[] = [];
  const givenBack: LocalUser[] = [];
  let unregistered = 0;
  let now = 0;
  const names = new NameClaims({
    instance: "i1",
    prefix: "chat:",
    timing: { loginWaitMs: 60_000, nameTtlMs: 7000, instanceTtlMs: 5000 },
    run: redis.run,
    post: (event) => posted.push(event),
    log,
    announce: (event) => announced.push(event),
    displace: (key) => displaced.push(key),
    unregistered: () => unregistered++,
    giveBack: (user) => givenBack.push(user),
    now: () => now,
    ...overrides,
  });
  return {
    names,
    redis,
    log,
    posted,
    announced,
    displaced,
    givenBack,
    unregistered: () => unregistered,
    setNow: (ms: number) => now = ms,
  };
}

/** Grants `name` (key: lower case) with login number `seq`, as Redis would. */
async function grant(r: ReturnType<typeof rig>, name: string, seq: number): Promise<void> {
  r.names.claim(link(name), name, name.toLowerCase(), true);
  await settle();
  r.redis.take().reply.resolve(seq);
  await settle();
}

Deno.test("a claim runs CLAIM on the name's keys, and a grant makes a user, announced and posted", async () => {
  const r = rig();
  const ann = link("ann");
  r.names.claim(ann, "Ann", "ann", true);
  await settle();
  const call = r.redis.take();
  assertStrictEquals(call.script, CLAIM);
  assertEquals(call.keys, [
    ...["chat:name:ann", "chat:seq", "chat:owned:i1", "chat:alive:i1"],
    "chat:account:ann",
  ]);
  assertEquals(call.arguments, ["i1", "Ann", "7000", "ann", ""], "a guest's claim: no account id");
  call.reply.resolve(5);
  await settle();
  assertEquals(r.posted, [{ kind: "claimed", link: ann, name: "Ann", key: "ann", seq: 5 }]);
  assertEquals(r.announced, [{ kind: "joined", seq: 5, name: "Ann" }]);
  assertEquals(r.displaced, ["ann"]);
  assertEquals([...r.names.users()], [{ name: "Ann", key: "ann", seq: 5 }]);
  r.names.close();
});

Deno.test("an account holder's claim carries its id; -2 (a guest, a registered name) is ERR password-required", async () => {
  const r = rig();
  const zed = link("zed");
  r.names.claim(zed, "Zed", "zed", true, 12);
  await settle();
  const call = r.redis.take();
  assertEquals(call.keys.at(-1), "chat:account:zed");
  assertEquals(call.arguments, ["i1", "Zed", "7000", "zed", "12"]);
  call.reply.resolve(3);
  const guest = link("guest");
  r.names.claim(guest, "Yan", "yan", true);
  await settle();
  r.redis.take().reply.resolve(-2);
  await settle();
  assertEquals(r.posted, [
    { kind: "claimed", link: zed, name: "Zed", key: "zed", seq: 3 },
    { kind: "claim-refused", link: guest, refusal: "password-required" },
  ]);
  assertEquals(
    r.announced,
    [{ kind: "joined", seq: 3, name: "Zed" }],
    "a refusal is not announced",
  );
  assertEquals([...r.names.users()], [{ name: "Zed", key: "zed", seq: 3, account: 12 }]);
  r.names.close();
});

Deno.test("a reclaim carries each user's account as it is now: registered, or gone", async () => {
  const r = rig();
  await grant(r, "Kai", 1);
  r.names.claim(link("lee"), "Lee", "lee", true, 8);
  await settle();
  r.redis.take().reply.resolve(2);
  await settle();
  r.names.accountChanged("kai", 31);
  r.names.accountChanged("lee", undefined);
  r.names.accountChanged("nobody", 5);
  const reclaimed = r.names.reclaim();
  const call = r.redis.take();
  assertEquals(call.arguments.slice(5), ["kai", "Kai", "1", "31", "lee", "Lee", "2", ""]);
  call.reply.resolve([[], []]);
  assertEquals(await reclaimed, []);
  r.names.close();
});

Deno.test("a takeover's claim goes only when told; a holder that never lets go is username-taken", async () => {
  const r = rig({ timing: { loginWaitMs: 5, nameTtlMs: 7000, instanceTtlMs: 5000 } });
  const go = r.names.claimAfter(link("zed"), "Zed", "zed", 4);
  await settle();
  assertEquals(r.redis.calls.length, 0, "nothing before the go");
  go();
  await settle();
  assertEquals(r.redis.take().arguments, ["i1", "Zed", "7000", "zed", "4"]);
  const stuck = link("amy");
  const never = r.names.claimAfter(stuck, "Amy", "amy", 5);
  await until(() => r.posted.length > 1, "the refusal after the login wait");
  assertEquals(r.posted.at(-1), { kind: "claim-refused", link: stuck, refusal: "username-taken" });
  never();
  await settle();
  assertEquals(r.redis.calls.length, 0, "a go after the wait sends nothing");
  r.names.close();
});

Deno.test("a taken name is refused, and nothing is announced", async () => {
  const r = rig();
  const bo = link("bo");
  r.names.claim(bo, "Bo", "bo", true);
  await settle();
  r.redis.take().reply.resolve(null);
  await settle();
  assertEquals(r.posted, [{ kind: "claim-refused", link: bo, refusal: "username-taken" }]);
  assertEquals(r.announced, []);
  assertEquals(r.names.size, 0);
  r.names.close();
});

Deno.test("a claim Redis does not answer within the login wait is refused, and a late grant given back", async () => {
  const r = rig({ timing: { loginWaitMs: 5, nameTtlMs: 7000, instanceTtlMs: 5000 } });
  const cy = link("cy");
  r.names.claim(cy, "Cy", "cy", true);
  await settle();
  const call = r.redis.take();
  await until(() => r.posted.length > 0, "the refusal after the login wait");
  assertEquals(r.posted, [{ kind: "claim-refused", link: cy, refusal: "cluster-unavailable" }]);
  call.reply.resolve(9);
  await settle();
  assertEquals(r.givenBack, [{ name: "Cy", key: "cy", seq: 9 }]);
  assertEquals(r.log.messages("info"), ["login claim granted too late; name released"]);
  assertEquals(r.posted.length, 1, "the client heard once");
  assertEquals(r.announced, [], "a name given back is never announced");
  r.names.close();
});

Deno.test("claims held back go out when sent; one met by an unregistered instance waits for the rejoin", async () => {
  const r = rig();
  r.names.claim(link("di"), "Di", "di", false);
  await settle();
  assertEquals(r.redis.calls.length, 0);
  r.names.sendQueued();
  await settle();
  r.redis.take().reply.resolve(-1);
  await settle();
  assertEquals(r.unregistered(), 1);
  assertEquals(r.posted.length, 0);
  r.names.sendQueued();
  await settle();
  r.redis.take().reply.resolve(2);
  await settle();
  assertEquals(r.posted[0]?.kind, "claimed");
  r.names.sendQueued();
  await settle();
  assertEquals(r.redis.calls.length, 0, "a settled claim is not sent again");
  r.names.close();
});

Deno.test("a claim that fails with Redis is held back again, within the same wait", async () => {
  const r = rig();
  r.names.claim(link("ed"), "Ed", "ed", true);
  await settle();
  r.redis.take().reply.reject(new Error("ECONNRESET"));
  await settle();
  assertEquals(r.posted, []);
  r.names.sendQueued();
  await settle();
  assertStrictEquals(r.redis.take().script, CLAIM);
  r.names.close();
});

Deno.test("a retry of a name waits for the earlier claim on it, and a join waits for both", async () => {
  const r = rig();
  r.names.claim(link("fi-1"), "Fi", "fi", true);
  r.names.claim(link("fi-2"), "Fi", "fi", true);
  await settle();
  assertEquals(r.redis.calls.length, 1);
  let settled = false;
  const joined = r.names.whenSettled().then(() => settled = true);
  r.redis.take().reply.resolve(null);
  await settle();
  assertEquals(r.redis.calls.length, 1, "the retry went out after the first was answered");
  assertEquals(settled, false);
  r.redis.take().reply.resolve(null);
  await joined;
  r.names.close();
});

Deno.test("a release frees the name by its stored value and announces the departure", async () => {
  const r = rig();
  r.names.release({ name: "Gus", key: "gus", seq: 12 });
  const call = r.redis.take();
  assertStrictEquals(call.script, RELEASE);
  assertEquals(call.keys, ["chat:name:gus", "chat:owned:i1"]);
  assertEquals(call.arguments, ["i1 12 Gus", "gus"]);
  assertEquals(r.announced, [{ kind: "left", seq: 12, name: "Gus" }]);
  call.reply.reject(new Error("ECONNRESET"));
  await settle();
  assertEquals(r.log.lines, [{
    level: "debug",
    message: "cluster release failed",
    fields: { error: "Error: ECONNRESET" },
  }]);
});

Deno.test("a release with a departure's words announces them just before the departure", () => {
  const r = rig();
  r.names.release({ name: "Gus", key: "gus", seq: 12 }, "Quit: bye");
  r.redis.take().reply.resolve(1);
  assertEquals(r.announced, [
    { kind: "words", seq: 12, why: "Quit: bye" },
    { kind: "left", seq: 12, name: "Gus" },
  ]);
});

Deno.test("a reclaim sends every user with their login number, drops names lost, and announces those freed", async () => {
  const r = rig();
  await grant(r, "Hal", 3);
  await grant(r, "Ida", 4);
  r.announced.length = 0;
  r.posted.length = 0;
  const reclaimed = r.names.reclaim();
  const call = r.redis.take();
  assertStrictEquals(call.script, REJOIN);
  assertEquals(call.keys, ["chat:alive:i1", "chat:owned:i1", "chat:instances", "chat:seq"]);
  assertEquals(call.arguments, [
    ...["i1", "5000", "chat:name:", "7000", "chat:account:"],
    ...["hal", "Hal", "3", "", "ida", "Ida", "4", ""],
  ]);
  call.reply.resolve([["hal"], ["i1 2 Old", "not a holder"]]);
  assertEquals(await reclaimed, ["hal"]);
  assertEquals(r.posted, [{ kind: "name-lost", key: "hal" }]);
  assertEquals(r.announced, [{ kind: "left", seq: 2, name: "Old" }]);
  assertEquals([...r.names.users()].map((u) => u.name), ["Ida"]);
  r.names.close();
});

Deno.test("counts compare only at quiet heartbeats; two misses in a row reconcile, at most every 10 s", async () => {
  const r = rig();
  await grant(r, "Jo", 1);
  const reconciles = () => r.log.messages("info").length;
  const quiet = () => r.names.mark();
  assertEquals(quiet(), { kind: "quiet", ops: 1 });
  r.names.compare(2, quiet());
  r.names.compare(1, quiet());
  r.names.compare(2, quiet());
  assertEquals(reconciles(), 0, "a count that agrees starts the run again");
  r.names.compare(2, quiet());
  assertEquals(reconciles(), 1);
  assertEquals(r.log.lines[0]!.fields, { held: 2, localUsers: 1 });
  assertStrictEquals(r.redis.take().script, REJOIN);
  r.setNow(9_999);
  r.names.compare(2, quiet());
  r.names.compare(2, quiet());
  assertEquals(reconciles(), 1, "not within 10 s of the last");
  r.setNow(10_000);
  r.names.compare(2, quiet());
  assertEquals(reconciles(), 2);
  r.redis.take().reply.reject(new Error("ECONNRESET"));
  await settle();
  assertEquals(r.log.messages("debug"), ["cluster reconcile failed"]);
  r.names.close();
});

Deno.test("a count taken around a claim or release in flight is never compared", async () => {
  const r = rig();
  r.setNow(100_000);
  const before = r.names.mark();
  r.names.release({ name: "Kit", key: "kit", seq: 1 });
  const busy = r.names.mark();
  assertEquals(busy, { kind: "busy" });
  for (let i = 0; i < 3; i++) r.names.compare(5, busy);
  for (let i = 0; i < 3; i++) r.names.compare(5, before);
  r.redis.take().reply.resolve(1);
  await settle();
  for (let i = 0; i < 3; i++) r.names.compare(5, before);
  assertEquals(r.redis.calls.length, 0, "the release changed what Redis counts");
  r.names.resetCount();
  r.names.compare(5, r.names.mark());
  r.names.resetCount();
  r.names.compare(5, r.names.mark());
  assertEquals(r.redis.calls.length, 0, "a join starts the run again");
  r.names.close();
});

Deno.test("closing stops every wait without a word; a grant after it is given back", async () => {
  const { names, redis, posted, givenBack } = rig();
  names.claim(link("mo"), "Mo", "mo", false);
  names.claim(link("lu"), "Lu", "lu", true);
  names.close();
  await settle();
  redis.take().reply.resolve(7);
  await settle();
  assertEquals(posted, []);
  assertEquals(givenBack, [{ name: "Lu", key: "lu", seq: 7 }]);
  names.sendQueued();
  await settle();
  assertEquals(redis.calls.length, 0, "the held-back claim is gone");
});
