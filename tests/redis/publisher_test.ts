/** Publishing for other instances: one batch per hub turn, in order, within the unacknowledged cap. */
import { assertEquals } from "@std/assert";
import { Publisher, type PublisherOptions } from "../../lib/redis/publisher.ts";
import { RecordingLogger, settle } from "./fakes.ts";

/** A publisher for instance `i1` whose publishes are recorded and settle only when the test says. */
function rig(limits: Partial<Pick<PublisherOptions, "maxUnackedChars" | "batchChars">> = {}) {
  const sent: [string, string][] = [];
  const acks: PromiseWithResolvers<unknown>[] = [];
  const log = new RecordingLogger();
  const publisher = new Publisher({
    from: "i1",
    publish: (channel, payload) => {
      sent.push([channel, payload]);
      const ack = Promise.withResolvers<unknown>();
      acks.push(ack);
      return ack.promise;
    },
    log,
    ...limits,
  });
  return { publisher, sent, acks, log };
}

Deno.test("a hub turn's events go out as one batch, once the turn is over", async () => {
  const { publisher, sent } = rig();
  publisher.append("all", { kind: "joined", seq: 3, name: "Ann" });
  publisher.append("all", { kind: "msg", sender: "Ann", text: "hi there" });
  publisher.append("all", { kind: "left", seq: 3, name: "Ann" });
  assertEquals(sent, [], "not within the turn");
  await settle();
  assertEquals(sent, [["all", "i1\nJ 3 Ann\nM Ann hi there\nL 3 Ann"]]);
  assertEquals(publisher.unackedChars, "i1\nJ 3 Ann\nM Ann hi there\nL 3 Ann".length);
  publisher.close();
});

Deno.test("a change of channel publishes what came before, keeping the order", async () => {
  const { publisher, sent } = rig();
  publisher.append("all", { kind: "msg", sender: "Ann", text: "one" });
  publisher.append("to:i2", { kind: "dm", target: "bo", sender: "Ann", text: "two" });
  assertEquals(sent, [["all", "i1\nM Ann one"]]);
  publisher.append("all", { kind: "msg", sender: "Ann", text: "three" });
  publisher.append("all", { kind: "msg", sender: "Ann", text: "four" });
  await settle();
  assertEquals(sent, [
    ["all", "i1\nM Ann one"],
    ["to:i2", "i1\nD bo Ann two"],
    ["all", "i1\nM Ann three\nM Ann four"],
  ]);
  publisher.close();
});

Deno.test("a batch that reaches the batch size goes at once, and the turn's rest follows", async () => {
  const { publisher, sent } = rig({ batchChars: 12 });
  const payloads = () => sent.map(([channel, payload]) => `${channel}: ${payload}`);
  publisher.append("all", { kind: "msg", sender: "a", text: "12345678" }); // "M a 12345678": 12
  assertEquals(payloads(), ["all: i1\nM a 12345678"]);
  publisher.append("all", { kind: "msg", sender: "a", text: "1234567" }); // 11: waits
  publisher.append("all", { kind: "msg", sender: "a", text: "x" }); // 16 in all: goes
  publisher.append("all", { kind: "msg", sender: "a", text: "y" });
  assertEquals(sent.length, 2);
  await settle();
  assertEquals(payloads(), [
    "all: i1\nM a 12345678",
    "all: i1\nM a 1234567\nM a x",
    "all: i1\nM a y",
  ]);
  publisher.close();
});

Deno.test("past the unacknowledged cap chat lines are dropped, presence still goes, and one warning per 1000 drops", async () => {
  const { publisher, sent, acks, log } = rig({ maxUnackedChars: 10 });
  publisher.append("all", { kind: "msg", sender: "a", text: "hello" });
  publisher.flush();
  assertEquals(publisher.unackedChars, "i1\nM a hello".length); // 12: past the cap of 10
  publisher.append("all", { kind: "msg", sender: "a", text: "lost" });
  publisher.append("all", { kind: "joined", seq: 2, name: "bo" });
  publisher.append("all", { kind: "msg", sender: "bo", text: "lost too" });
  publisher.append("all", { kind: "left", seq: 2, name: "bo" });
  publisher.flush();
  assertEquals(sent.slice(1), [["all", "i1\nJ 2 bo\nL 2 bo"]]);
  assertEquals(publisher.droppedBatches, 1);
  assertEquals(log.lines, [{
    level: "warn",
    message: "cluster publish dropped: Redis is not keeping up",
    fields: { unackedChars: 12, droppedBatches: 1 },
  }]);
  for (let i = 2; i <= 1000; i++) {
    publisher.append("to:i2", { kind: "dm", target: "x", sender: "a", text: "lost" });
    publisher.flush();
  }
  assertEquals(sent.length, 2, "a batch of chat lines alone is not published at all");
  assertEquals(publisher.droppedBatches, 1000);
  assertEquals(log.lines.length, 1);
  publisher.append("to:i2", { kind: "dm", target: "x", sender: "a", text: "lost" });
  publisher.flush();
  assertEquals(log.lines.length, 2, "the 1001st drop warns again");
  const unacked = "i1\nM a hello".length + "i1\nJ 2 bo\nL 2 bo".length;
  assertEquals(log.lines[1]!.fields, { unackedChars: unacked, droppedBatches: 1001 });
  acks[0]!.resolve(1);
  acks[1]!.reject(new Error("connection lost"));
  await settle();
  assertEquals(publisher.unackedChars, 0, "answered either way, a publish stops counting");
  publisher.append("all", { kind: "msg", sender: "a", text: "back" });
  publisher.flush();
  assertEquals(sent.at(-1), ["all", "i1\nM a back"]);
  publisher.close();
});

Deno.test("a closed publisher sends what it had, then nothing", async () => {
  const { publisher, sent } = rig();
  publisher.append("all", { kind: "left", seq: 1, name: "Ann" });
  publisher.close();
  assertEquals(sent, [["all", "i1\nL 1 Ann"]]);
  publisher.append("all", { kind: "left", seq: 2, name: "Bo" });
  publisher.flush();
  publisher.close();
  await settle();
  assertEquals(sent.length, 1);
});

/** A publisher whose batches holding kept messages go to `kept`, and whose unpublished ones are listed. */
function keptRig(maxUnackedChars?: number) {
  const sent: [string, string][] = [];
  const kept: [string, (string | { sender: string; text: string })[]][] = [];
  const unpublished: string[] = [];
  const acks: PromiseWithResolvers<unknown>[] = [];
  const publisher = new Publisher<{ sender: string; text: string }>({
    from: "i1",
    publish: (channel, payload) => {
      sent.push([channel, payload]);
      return Promise.resolve(1);
    },
    publishKept: (channel, items) => {
      kept.push([channel, [...items]]);
      const ack = Promise.withResolvers<unknown>();
      acks.push(ack);
      return ack.promise;
    },
    unpublished: (message) => unpublished.push(message.text),
    log: new RecordingLogger(),
    ...(maxUnackedChars === undefined ? {} : { maxUnackedChars }),
  });
  return { publisher, sent, kept, unpublished, acks };
}

Deno.test("a batch holding kept messages goes out through the history's script, in order with the rest", async () => {
  const { publisher, sent, kept } = keptRig();
  const one = { sender: "Ann", text: "one" };
  publisher.append("all", { kind: "joined", seq: 3, name: "Ann" });
  publisher.appendKept("all", one);
  publisher.append("to:i2", { kind: "dm", target: "bo", sender: "Ann", text: "two" });
  publisher.append("all", { kind: "msg", sender: "Ann", text: "a notice, not kept" });
  await settle();
  assertEquals(kept, [["all", ["J 3 Ann", one]]]);
  assertEquals(sent, [["to:i2", "i1\nD bo Ann two"], ["all", "i1\nM Ann a notice, not kept"]]);
  publisher.close();
});

Deno.test("past the cap kept messages are handed back unpublished, and a closed publisher hands them back too", () => {
  const { publisher, kept, sent, unpublished, acks } = keptRig(10);
  publisher.appendKept("all", { sender: "a", text: "first" });
  publisher.flush();
  assertEquals(
    publisher.unackedChars,
    "i1".length + 1 + 1 + 5 + 28,
    "counted as a line with its id",
  );
  publisher.appendKept("all", { sender: "a", text: "lagging" });
  publisher.append("all", { kind: "left", seq: 2, name: "bo" });
  publisher.flush();
  assertEquals(kept.length, 1);
  assertEquals(sent, [["all", "i1\nL 2 bo"]], "presence still goes, as a plain publish");
  assertEquals(unpublished, ["lagging"]);
  acks[0]!.resolve(["1-0"]);
  publisher.close();
  publisher.appendKept("all", { sender: "a", text: "after close" });
  assertEquals(unpublished, ["lagging", "after close"]);
});
