/** The connections to Redis: reconnect pauses, the subscription's states, the probe, and a dropped link. */
import { assertEquals, assertStrictEquals } from "@std/assert";
import { encodeProbe } from "../../lib/redis/cluster_wire.ts";
import {
  type LinkEvents,
  reconnectDelay,
  redactUrl,
  redisDatabase,
  RedisLink,
} from "../../lib/redis/connections.ts";
import { FakeClient, RecordingLogger, settle } from "./fakes.ts";

Deno.test("the Redis URL is logged without its password, and its database number names the chat", () => {
  assertEquals(redactUrl("redis://:s3cret@cache:6380/2"), "redis://:***@cache:6380/2");
  assertEquals(redactUrl("rediss://app:pw@cache"), "rediss://app:***@cache");
  assertEquals(redactUrl("redis://cache:6379"), "redis://cache:6379");
  assertEquals(redactUrl("not a url"), "(unparsable URL)");
  assertEquals(redisDatabase("redis://cache:6379"), 0);
  assertEquals(redisDatabase("redis://cache:6379/"), 0);
  assertEquals(redisDatabase("redis://:pw@cache:6379/7"), 7);
  assertEquals(redisDatabase("redis://cache/x"), 0);
});

Deno.test("reconnection pauses double from 50 ms and stop at 1 s", () => {
  assertEquals(
    [0, 1, 2, 3, 4, 5, 6, 10, 11, 1_000_000].map(reconnectDelay),
    [50, 100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000],
  );
});

/** A link over two fake clients, and what it reported. */
function rig() {
  const pub = new FakeClient();
  const sub = new FakeClient();
  const clients = [pub, sub];
  const said: string[] = [];
  const events: LinkEvents = {
    ready: () => said.push("ready"),
    lost: (error) => said.push(`lost ${error}`),
    message: (message) => said.push(`message ${message}`),
  };
  const log = new RecordingLogger();
  const link = new RedisLink({
    open: () => clients.shift()!,
    channels: ["chat:0:all", "chat:0:to:i1"],
    instance: "i1",
    probeChannel: "chat:0:to:i1",
    events,
    log,
  });
  return { pub, sub, link, said, log };
}

Deno.test("a link subscribes once its subscriber is ready, and is ready once both clients are and the subscription took", async () => {
  const { pub, sub, link, said } = rig();
  assertStrictEquals(link.pub, pub);
  assertStrictEquals(link.sub, sub);
  assertEquals(link.subscription, { kind: "none" });
  sub.isReady = true;
  sub.emit("ready");
  assertEquals(link.subscription, { kind: "asking" });
  assertEquals(sub.subscribes.map((s) => s.channels), [["chat:0:all", "chat:0:to:i1"]]);
  sub.emit("ready");
  assertEquals(sub.subscribes.length, 1, "asked once while an answer is awaited");
  assertEquals(link.ready, false);
  sub.subscribeReplies[0]!.resolve();
  await settle();
  assertEquals(link.subscription, { kind: "active" });
  assertEquals(said, ["ready", "ready", "ready"], "each client ready, then the subscription");
  assertEquals(link.ready, false, "the publisher is not ready yet");
  pub.isReady = true;
  assertEquals(link.ready, true);
  sub.emit("ready");
  assertEquals(
    sub.subscribes.length,
    1,
    "node-redis subscribes again by itself after reconnecting",
  );
  link.drop();
});

Deno.test("a failed subscription is reported lost and asked again at the subscriber's next ready", async () => {
  const { sub, link, said } = rig();
  sub.emit("ready");
  sub.subscribeReplies[0]!.reject(new Error("LOADING"));
  await settle();
  assertEquals(link.subscription, { kind: "none" });
  assertEquals(said, ["ready", "lost Error: LOADING"]);
  sub.emit("ready");
  assertEquals(link.subscription, { kind: "asking" });
  assertEquals(sub.subscribes.length, 2);
  link.drop();
});

Deno.test("errors and failed connections of a live link are reported lost", async () => {
  const { pub, sub, link, said } = rig();
  link.connect();
  pub.emit("error", new Error("ECONNRESET"));
  sub.connected.reject(new Error("ECONNREFUSED"));
  await settle();
  assertEquals(said, ["lost Error: ECONNRESET", "lost Error: ECONNREFUSED"]);
  link.drop();
});

Deno.test("a dropped link closes both clients once and is heard no more", async () => {
  const { pub, sub, link, said } = rig();
  pub.neverConnected = true;
  link.connect();
  sub.emit("ready");
  link.drop();
  link.drop();
  assertEquals(link.subscription, { kind: "dropped" });
  assertEquals([pub.destroyed, sub.destroyed], [1, 1]);
  assertEquals(link.ready, false);
  said.length = 0;
  // Late news from the old connections: a late error (its listener keeps the emitter from
  // throwing), a late subscription, a failed connect, a message.
  pub.emit("error", new Error("late"));
  sub.emit("ready");
  sub.subscribeReplies[0]!.resolve();
  pub.connected.reject(new Error("late connect"));
  sub.deliver("b\nM x y");
  await settle();
  assertEquals(said, []);
  assertEquals(link.subscription, { kind: "dropped" });
});

Deno.test("the probe goes one at a time, is overdue past the stale time, and is cleared when heard back", async () => {
  const { pub, sub, link, said, log } = rig();
  sub.emit("ready");
  said.length = 0;
  assertEquals(link.probeOverdue(1_000_000, 2000), false, "none sent");
  link.probe(100);
  link.probe(900);
  assertEquals(pub.published, [["chat:0:to:i1", encodeProbe("i1")]]);
  assertEquals(link.probeOverdue(2100, 2000), false);
  assertEquals(link.probeOverdue(2101, 2000), true, "counted from the first probe");
  sub.deliver("other\nM bob hi");
  assertEquals(link.probeOverdue(2101, 2000), true);
  sub.deliver(encodeProbe("i1"));
  assertEquals(link.probeOverdue(1_000_000, 2000), false);
  assertEquals(said, ["message other\nM bob hi"], "the probe is not passed on");
  pub.publishReply = Promise.reject(new Error("NOPERM"));
  link.probe(5000);
  await settle();
  assertEquals(log.lines, [{
    level: "debug",
    message: "cluster probe not published",
    fields: { error: "Error: NOPERM" },
  }]);
  assertEquals(link.probeOverdue(7001, 2000), true, "a probe that failed is never heard back");
  link.drop();
});
