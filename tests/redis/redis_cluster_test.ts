/** RedisCluster's membership and heartbeat, over fake Redis clients. */
import { assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import type { ClusterEvent } from "../../lib/cluster.ts";
import type { Retention } from "../../lib/history/store.ts";
import { APPEND_PUBLISH, MARK } from "../../lib/redis/history_scripts.ts";
import { RedisCluster } from "../../lib/redis/redis_cluster.ts";
import { CLAIM, HEARTBEAT, LEAVE, REJOIN, SWEEP } from "../../lib/redis/scripts.ts";
import { CLUSTER_TIMING, type ClusterTiming } from "../../lib/redis/timing.ts";
import { FakeLink } from "../hub_harness.ts";
import { FakeClient, RecordingLogger, settle, until } from "./fakes.ts";

const link = new FakeLink("a");

/**
 * A cluster on database 3 whose clients are fakes; ticks are a minute apart
 * unless asked; with `history`, keeping the chat's history.
 */
function rig(timing: Partial<ClusterTiming> = {}, history?: Retention) {
  const clients: FakeClient[] = [];
  const posted: ClusterEvent[] = [];
  const log = new RecordingLogger();
  const cluster = new RedisCluster({
    url: "redis://:pw@cache:6379/3",
    post: (event) => posted.push(event),
    log,
    timing: { ...CLUSTER_TIMING, heartbeatMs: 60_000, ...timing },
    open: () => {
      const client = new FakeClient();
      clients.push(client);
      return client;
    },
    ...(history === undefined ? {} : { history }),
  });
  return {
    cluster,
    clients,
    posted,
    log,
    pub: () => clients.at(-2)!,
    sub: () => clients.at(-1)!,
  };
}

type Rig = ReturnType<typeof rig>;

/** What the hub was posted since the last call, in short: `+name`, `-name`, `name: text`, ... */
function notices(r: Rig): string[] {
  return r.posted.splice(0).map((event) => {
    switch (event.kind) {
      case "remote-joined":
        return `+${event.name}`;
      case "remote-left":
        return event.why === undefined ? `-${event.name}` : `-${event.name} (${event.why})`;
      case "remote-part":
        return `part ${event.name}${event.reason === undefined ? "" : ` (${event.reason})`}`;
      case "remote-rejoin":
        return `rejoin ${event.name}`;
      case "remote-msg":
        return `${event.sender}: ${event.text}`;
      case "remote-dm":
        return `${event.sender} > ${event.target}: ${event.text}`;
      case "claimed":
        return `claimed ${event.name}`;
      case "claim-refused":
        return `refused ${event.refusal}`;
      case "name-lost":
        return `name-lost ${event.key}`;
      case "observed":
        return `observed ${event.id}`;
    }
  });
}

/** Both clients of the current link come up, and the subscription takes. */
async function connect(r: Rig): Promise<void> {
  for (const client of [r.pub(), r.sub()]) {
    client.isReady = true;
    client.emit("ready");
  }
  r.sub().subscribeReplies.at(-1)!.resolve();
  await settle();
}

/** Answers the join's two scripts: the reclaim, then the snapshot listing `holders`. */
async function answerJoin(r: Rig, holders: string[] = []): Promise<void> {
  const scripts = r.pub().scripts;
  const rejoin = scripts.take();
  assertStrictEquals(rejoin.script, REJOIN);
  rejoin.reply.resolve([[], []]);
  await settle();
  const snapshot = scripts.take();
  assertStrictEquals(snapshot.script, SWEEP);
  snapshot.reply.resolve([[], holders]);
  await settle();
}

/** Closes, answering the LEAVE script when it goes out. */
async function close(r: Rig): Promise<void> {
  const closing = r.cluster.close();
  const leave = r.pub().scripts.calls.find((call) => call.script === LEAVE);
  leave?.reply.resolve(1);
  await closing;
}

Deno.test("before it has joined, nothing goes elsewhere and logins wait; once joined, they are claimed", async () => {
  const r = rig();
  const id = r.cluster.id;
  assertMatch(id, /^[0-9a-f]{8}-[0-9a-f]{4}$/);
  r.cluster.start();
  assertEquals(r.log.lines[0], {
    level: "info",
    message: "cluster starting",
    fields: { redis: "redis://:***@cache:6379/3", instance: id },
  });
  assertEquals(r.cluster.status(), {
    available: false,
    everJoined: false,
    remoteUsers: 0,
    droppedBatches: 0,
  });
  assertEquals(r.cluster.directMessage("ann", "bob", "hi"), "unavailable");
  r.cluster.broadcast("ann", "hi", false);
  r.cluster.claim(link, "Ann", "ann");
  await connect(r);
  assertEquals(r.sub().subscribes[0]!.channels, ["chat:3:all", `chat:3:to:${id}`]);
  const rejoin = r.pub().scripts.calls[0]!;
  assertEquals(rejoin.keys, [
    `chat:alive:${id}`,
    `chat:owned:${id}`,
    "chat:instances",
    "chat:seq",
  ]);
  assertEquals(rejoin.arguments, [id, "5000", "chat:name:", "7000", "chat:account:"]);
  await answerJoin(r, ["b 1 Bob"]);
  assertEquals(r.cluster.status(), {
    available: true,
    everJoined: true,
    remoteUsers: 1,
    droppedBatches: 0,
  });
  assertEquals(r.cluster.remoteUsers(), [{ name: "Bob", seq: 1 }]);
  assertEquals(r.log.lines.at(-1), {
    level: "info",
    message: "cluster joined",
    fields: { instance: id, localUsers: 0, remoteUsers: 1, namesLost: 0 },
  });
  const claim = r.pub().scripts.take();
  assertStrictEquals(claim.script, CLAIM);
  claim.reply.resolve(2);
  await settle();
  assertEquals(r.posted, [
    { kind: "remote-joined", name: "Bob" },
    { kind: "claimed", link, name: "Ann", key: "ann", seq: 2 },
  ]);
  r.cluster.claim(link, "BOB", "bob");
  assertEquals(r.posted.at(-1), {
    kind: "claim-refused",
    link,
    refusal: "username-taken",
  });
  assertEquals(r.cluster.directMessage("ann", "bob", "psst"), "sent");
  await settle();
  assertEquals(r.pub().published, [
    ["chat:3:all", `${id}\nJ 2 Ann`],
    ["chat:3:to:b", `${id}\nD bob ann psst`],
  ]);
  assertEquals(r.pub().published.some(([, payload]) => payload.includes("hi")), false);
  await close(r);
});

Deno.test("Redis lost while joined: warned once, local users only; a ready client brings a rejoin", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  await answerJoin(r, ["b 1 Bob"]);
  r.pub().emit("error", new Error("ECONNRESET"));
  r.sub().emit("error", new Error("ECONNRESET"));
  assertEquals(r.cluster.status().available, false);
  assertEquals(
    r.cluster.status().everJoined,
    true,
    "lost, not yet to join: /readyz tells them apart",
  );
  assertEquals(r.cluster.remoteUsers(), []);
  assertEquals(r.cluster.directMessage("ann", "bob", "hi"), "unavailable");
  assertEquals(r.log.lines.slice(-2).map((line) => [line.level, line.message]), [
    ["warn", "cluster unavailable: serving local users only"],
    ["debug", "cluster still unavailable"],
  ]);
  r.pub().emit("ready");
  await settle();
  await answerJoin(r);
  assertEquals(r.log.lines.at(-1)!.message, "cluster rejoined");
  assertEquals(r.cluster.status().available, true);
  await close(r);
});

Deno.test("a client ready again during a join that fails brings one more join, and only then", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  r.sub().emit("ready");
  r.sub().emit("ready");
  r.pub().scripts.take().reply.reject(new Error("LOADING"));
  await settle();
  assertEquals(r.pub().scripts.calls.length, 1, "one more join, however many asked");
  await answerJoin(r);
  r.sub().emit("ready");
  await settle();
  assertEquals(r.pub().scripts.calls.length, 0, "joined: a ready changes nothing");
  await close(r);
});

Deno.test("closing during a join leaves for good: the join never completes", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  const rejoin = r.pub().scripts.take();
  await close(r);
  assertEquals(r.log.lines.at(-1)!.message, "cluster left");
  rejoin.reply.resolve([[], []]);
  await settle();
  r.pub().scripts.take().reply.resolve([[], ["b 1 Bob"]]);
  await settle();
  assertEquals(r.cluster.status().available, false);
  assertEquals(r.log.messages("info").includes("cluster joined"), false);
  await r.cluster.close();
});

Deno.test("batches from other instances reach the hub, and this instance's own are skipped", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  await answerJoin(r, ["b 1 Bob"]);
  r.sub().deliver("b\nM Bob hi all\nD ann Bob psst\nJ 4 Cy\nM Cy hello");
  r.sub().deliver(`${r.cluster.id}\nM Ann echo`);
  r.sub().deliver("b\nL 4 Cy");
  assertEquals(r.posted, [
    { kind: "remote-joined", name: "Bob" },
    { kind: "remote-msg", sender: "Bob", text: "hi all" },
    { kind: "remote-dm", target: "ann", sender: "Bob", text: "psst" },
    { kind: "remote-joined", name: "Cy" },
    { kind: "remote-msg", sender: "Cy", text: "hello" },
    { kind: "remote-left", name: "Cy" },
  ]);
  await close(r);
});

Deno.test("a kept DM reaches the hub with its id, a DM's order mark is observed, and a stray one's id still is", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  await answerJoin(r, ["b 1 Bob"]);
  r.sub().deliver("b\nI 5-1\nD ann Bob kept  one");
  r.sub().deliver("b\nO 5-1");
  r.sub().deliver("z\nI 6-0\nD ann Zed from nobody announced");
  assertEquals(r.posted, [
    { kind: "remote-joined", name: "Bob" },
    { kind: "remote-dm", target: "ann", sender: "Bob", text: "kept  one", id: "5-1" },
    { kind: "observed", id: "5-1" },
    { kind: "observed", id: "6-0" },
  ]);
  await close(r);
});

Deno.test("a login on another instance is announced once, before its first line, and its departure once", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  await answerJoin(r);
  r.sub().deliver("b\nJ 4 Cy");
  r.sub().deliver("b\nJ 4 Cy\nM Cy hi");
  r.sub().deliver("c\nJ 5 Di\nM Di first");
  r.sub().deliver("b\nL 4 Cy");
  r.sub().deliver("b\nL 4 Cy");
  assertEquals(notices(r), ["+Cy", "Cy: hi", "+Di", "Di: first", "-Cy"]);
  await close(r);
});

Deno.test("before the join's snapshot is in, lines from users not yet announced are dropped; others go", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  const scripts = r.pub().scripts;
  scripts.take().reply.resolve([[], []]);
  await settle();
  const snapshot = scripts.take();
  // Subscribed, joining: Bob logged in before this instance listened; Cy logs in now.
  r.sub().deliver("b\nM Bob unseen\nD ann Bob unseen");
  r.sub().deliver("b\nJ 2 Cy\nM Cy seen");
  snapshot.reply.resolve([[], ["b 1 Bob", "b 2 Cy"]]);
  await settle();
  r.sub().deliver("b\nM Bob seen");
  assertEquals(notices(r), ["+Cy", "Cy: seen", "+Bob", "Bob: seen"]);
  await close(r);
});

Deno.test("a rejoin after Redis went away announces only users new to this instance", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  await answerJoin(r, ["b 1 Bob", "b 2 Old"]);
  r.sub().deliver("b\nJ 3 Cy");
  assertEquals(notices(r), ["+Bob", "+Old", "+Cy"]);
  r.pub().emit("error", new Error("ECONNRESET"));
  r.pub().emit("ready");
  await settle();
  const scripts = r.pub().scripts;
  scripts.take().reply.resolve([[], []]);
  await settle();
  const snapshot = scripts.take();
  // The others rejoin too, announcing their users again.
  r.sub().deliver("b\nJ 1 Bob\nJ 3 Cy\nM Bob back");
  snapshot.reply.resolve([[], ["b 1 Bob", "b 3 Cy", "c 7 OLD", "c 8 New"]]);
  await settle();
  assertEquals(notices(r), ["Bob: back", "-Old", "+OLD", "+New"]);
  await close(r);
});

Deno.test("lines from an instance given up for dead are dropped until it announces its users again", async () => {
  const r = rig({ heartbeatMs: 5 });
  r.cluster.start();
  await connect(r);
  await answerJoin(r, ["b 1 Bob"]);
  const scripts = r.pub().scripts;
  await until(() => scripts.calls.length > 0, "a heartbeat");
  scripts.take().reply.resolve(0);
  await until(() => scripts.calls.length > 0, "the sweep");
  const sweep = scripts.take();
  assertStrictEquals(sweep.script, SWEEP);
  sweep.reply.resolve([["b"], []]);
  await settle();
  // Instance b had stalled: what its users wrote before it learned so arrives now.
  r.sub().deliver("b\nM Bob stale\nD ann Bob stale");
  r.sub().deliver("b\nJ 1 Bob\nM Bob back");
  assertEquals(notices(r), ["+Bob", "-Bob", "+Bob", "Bob: back"]);
  await close(r);
});

Deno.test("a login elsewhere that displaces a holder not yet given up comes after that holder's departure", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  await answerJoin(r, ["dead 1 Alice"]);
  r.sub().deliver("live\nJ 5 ALICE\nM ALICE hi");
  assertEquals(notices(r), ["+Alice", "-Alice", "+ALICE", "ALICE: hi"]);
  await close(r);
});

Deno.test("a name granted here whose holder elsewhere was just heard: that holder's departure, then the login", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  await answerJoin(r);
  r.cluster.claim(link, "Dot", "dot");
  await settle();
  const claim = r.pub().scripts.take();
  assertStrictEquals(claim.script, CLAIM);
  // The dead instance's late announcement of its Dot, whose name had expired.
  r.sub().deliver("dead\nJ 1 Dot");
  claim.reply.resolve(7);
  await settle();
  assertEquals(notices(r), ["+Dot", "-Dot", "claimed Dot"]);
  await close(r);
});

Deno.test("a name lost on rejoin: the hub drops its own user first, then hears of the new holder", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  await answerJoin(r);
  r.cluster.claim(link, "Ann", "ann");
  await settle();
  r.pub().scripts.take().reply.resolve(2);
  await settle();
  assertEquals(notices(r), ["claimed Ann"]);
  // A partition: this instance was given up for dead, and Ann's name taken on instance c.
  r.pub().emit("error", new Error("ECONNRESET"));
  r.pub().emit("ready");
  await settle();
  const scripts = r.pub().scripts;
  const rejoin = scripts.take();
  assertStrictEquals(rejoin.script, REJOIN);
  r.sub().deliver("c\nJ 9 Ann\nM Ann from c");
  rejoin.reply.resolve([["ann"], []]);
  await settle();
  scripts.take().reply.resolve([[], ["c 9 Ann"]]);
  await settle();
  // The hub drops its own Ann (saying `disconnected`) before it hears of the new one; what the
  // new one said before she was announced here is dropped.
  assertEquals(notices(r), ["name-lost ann", "+Ann"]);
  r.cluster.leave({ name: "Ann", key: "ann", seq: 2 });
  r.sub().deliver("c\nM Ann again");
  assertEquals(notices(r), ["Ann: again"], "the hub's leave announces nobody twice");
  await close(r);
});

Deno.test("each heartbeat probes the subscription; an instance given up for dead joins afresh", async () => {
  const r = rig({ heartbeatMs: 5 });
  const id = r.cluster.id;
  r.cluster.start();
  await connect(r);
  await answerJoin(r);
  const scripts = r.pub().scripts;
  await until(() => scripts.calls.length > 0, "a heartbeat");
  const heartbeat = scripts.take();
  assertStrictEquals(heartbeat.script, HEARTBEAT);
  assertEquals(heartbeat.keys, [`chat:alive:${id}`, `chat:owned:${id}`]);
  assertEquals(heartbeat.arguments, ["5000", "chat:name:", id, "7000"]);
  assertEquals(r.pub().published, [[`chat:3:to:${id}`, `${id}\nP`]]);
  heartbeat.reply.resolve(-1);
  await settle();
  assertEquals(r.log.lines.at(-1)!.fields, { error: "this instance was given up for dead" });
  assertStrictEquals(scripts.take().script, REJOIN);
  await close(r);
});

Deno.test("a heartbeat left unanswered past the stale time replaces both connections", async () => {
  const r = rig({ heartbeatMs: 5, staleMs: 20 });
  r.cluster.start();
  await connect(r);
  await answerJoin(r);
  const [pub, sub] = [r.pub(), r.sub()];
  await until(() => r.clients.length === 4, "new connections");
  assertEquals([pub.destroyed, sub.destroyed], [1, 1]);
  assertEquals(r.cluster.status().available, false);
  assertEquals(r.log.messages("warn"), ["cluster unavailable: serving local users only"]);
  pub.emit("ready");
  await settle();
  assertEquals(r.pub().scripts.calls.length, 0, "the old link is heard no more");
  await close(r);
});

Deno.test("with history: a kept MSG goes out in the history's script, in order; ids seen come back to the hub", async () => {
  const r = rig({}, { lines: 50, maxAgeMs: 60_000 });
  const id = r.cluster.id;
  r.cluster.start();
  r.cluster.broadcast("ann", "while away", true);
  assertEquals(r.cluster.stream!.slots.openCount, 1, "kept, for the store to write later");
  const replies: Record<string, unknown> = {
    "CONFIG GET appendonly": { appendonly: "no" },
    "CONFIG GET save": { save: "" },
    "SCRIPT LOAD": "sha1",
    "EVALSHA sha1": ["6-0"],
  };
  r.pub().commandReply = (args) =>
    Promise.resolve(replies[args.slice(0, args[0] === "CONFIG" ? 3 : 2).join(" ")]);
  await connect(r);
  await answerJoin(r, ["b 1 Bob"]);
  const mark = r.pub().scripts.take();
  assertStrictEquals(mark.script, MARK);
  assertEquals(mark.keys, ["chat:history:chat"]);
  assertEquals(mark.arguments, ["", `chat:3:to:${id}`, id]);
  assertEquals(r.cluster.status().available, false, "joined only once the mark is out");
  mark.reply.resolve("5-0");
  await settle();
  assertEquals(r.cluster.status().available, true);
  assertEquals(r.pub().commands.splice(0).map((command) => command.slice(0, 3).join(" ")), [
    `SCRIPT LOAD ${APPEND_PUBLISH}`,
    "CONFIG GET appendonly",
    "CONFIG GET save",
  ]);
  assertEquals(r.log.messages("warn"), [
    "Redis persists nothing: the chat's history is lost when it restarts",
  ]);
  r.posted.length = 0;
  r.sub().deliver(`${id}\nS 5-0`);
  r.cluster.broadcast("ann", "kept", true);
  r.cluster.broadcast("ann", "a notice", false);
  await settle();
  assertEquals(r.pub().commands, [[
    ...["EVALSHA", "sha1", "1", "chat:history:chat"],
    ...["chat:3:all", "50", id, "HL", `${id}:2`, "ann", "kept", "M ann a notice"],
  ]], "the script loaded at the join, by its hash");
  r.sub().deliver(`${id}\nH 6-0 ann kept\nM ann a notice`);
  r.sub().deliver("b\nH 7-0 Bob hi\nM Bob not kept");
  r.sub().deliver("b\nS 8-0");
  assertEquals(r.posted, [
    { kind: "observed", id: "5-0" },
    { kind: "observed", id: "6-0" },
    { kind: "remote-msg", sender: "Bob", text: "hi", id: "7-0" },
    { kind: "remote-msg", sender: "Bob", text: "not kept" },
    { kind: "observed", id: "8-0" },
  ]);
  assertEquals(r.cluster.stream!.lastSeen, "8-0");
  assertEquals(r.cluster.stream!.slots.openCount, 2, "written, for the history's next batch");
  await close(r);
  await r.cluster.stream!.close();
});

Deno.test("with history: a script Redis forgot (or never let load) goes by its text; that batch is left to the store", async () => {
  const r = rig({}, { lines: 50, maxAgeMs: 60_000 });
  r.cluster.start();
  let evalsha: PromiseWithResolvers<unknown> | undefined;
  r.pub().commandReply = (args) => {
    if (args[0] === "SCRIPT") return Promise.resolve("sha1");
    if (args[0] !== "EVALSHA") return Promise.resolve(null);
    evalsha = Promise.withResolvers<unknown>();
    return evalsha.promise;
  };
  await connect(r);
  await answerJoin(r);
  r.pub().scripts.take().reply.resolve("5-0");
  await settle();
  r.cluster.broadcast("ann", "forgotten", true);
  await settle();
  evalsha!.reject(new Error("NOSCRIPT No matching script. Please use EVAL."));
  await settle();
  r.cluster.broadcast("ann", "by its text", true);
  await settle();
  const write = r.pub().scripts.take();
  assertStrictEquals(write.script, APPEND_PUBLISH);
  write.reply.resolve(["6-0"]);
  await settle();
  const slots = r.cluster.stream!.slots;
  assertEquals(slots.openCount, 2);
  assertEquals(
    slots.pair([
      { conversation: "chat", sender: "ann", text: "forgotten", id: undefined },
      { conversation: "chat", sender: "ann", text: "by its text", id: undefined },
    ]).map((slot) => [slot.state, slot.id]),
    [["unwritten", undefined], ["written", "6-0"]],
  );
  await close(r);
  await r.cluster.stream!.close();
});

Deno.test("a departure's words, a part's reason and a rejoin reach the hub, in order", async () => {
  const r = rig();
  r.cluster.start();
  await connect(r);
  await answerJoin(r, ["b 1 Bob", "b 2 Cy"]);
  r.sub().deliver("b\nE Bob gone  fishing\nN Bob\nE Bob");
  // Words stand for the departure right behind them alone.
  r.sub().deliver("b\nW 1 Quit: see you\nL 1 Bob\nW 7 stale\nL 2 Cy");
  assertEquals(notices(r), [
    "+Bob",
    "+Cy",
    "part Bob (gone  fishing)",
    "rejoin Bob",
    "part Bob",
    "-Bob (Quit: see you)",
    "-Cy",
  ]);
  await close(r);
});
