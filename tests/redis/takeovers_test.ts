/** Takeovers across instances, with fake names and a recording publisher: who is told what, and when. */
import { assertEquals } from "@std/assert";
import type { ClusterEvent } from "../../lib/cluster.ts";
import type { ClientLink } from "../../lib/client_link.ts";
import type { WireEvent } from "../../lib/redis/cluster_wire.ts";
import { Takeovers } from "../../lib/redis/takeovers.ts";

function rig(held: string[]) {
  const sent: [string, WireEvent][] = [];
  const posted: ClusterEvent[] = [];
  const claims: string[] = [];
  const takeovers = new Takeovers({
    names: {
      holds: (key) => held.includes(key),
      claimAfter: (_link, name, key, account) => () => claims.push(`${name} ${key} ${account}`),
    },
    sendTo: (to, event) => sent.push([to, event]),
    post: (event) => posted.push(event),
  });
  return { takeovers, sent, posted, claims };
}

const LINK = {} as ClientLink;

Deno.test("a takeover asks the holder's instance alone, and claims only once it hears freed", () => {
  const r = rig([]);
  r.takeovers.ask(LINK, "Zed", "zed", 4, "inst-a");
  assertEquals(r.sent, [["inst-a", { kind: "replace", key: "zed" }]]);
  r.takeovers.heard("freed", "other", "inst-a");
  assertEquals(r.claims, [], "another name's freed claims nothing");
  r.takeovers.heard("freed", "zed", "inst-a");
  r.takeovers.heard("freed", "zed", "inst-a");
  assertEquals(r.claims, ["Zed zed 4"], "claimed once");
});

Deno.test("the holder's instance ends its session, and answers freed once it has left", () => {
  const r = rig(["zed"]);
  r.takeovers.heard("replace", "zed", "inst-b");
  assertEquals(r.posted, [{ kind: "name-lost", key: "zed", reason: "session-replaced" }]);
  assertEquals(r.sent, [], "nothing before the release");
  r.takeovers.left("amy");
  assertEquals(r.sent, []);
  r.takeovers.left("zed");
  r.takeovers.left("zed");
  assertEquals(r.sent, [["inst-b", { kind: "freed", key: "zed" }]]);
});

Deno.test("a name no longer held here is answered freed at once", () => {
  const r = rig([]);
  r.takeovers.heard("replace", "zed", "inst-b");
  assertEquals(r.posted, []);
  assertEquals(r.sent, [["inst-b", { kind: "freed", key: "zed" }]]);
});
