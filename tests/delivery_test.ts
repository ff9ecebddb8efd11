/** The hub's way out: replies, shared broadcasts, and the sessions that could not take them. */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { Delivery } from "../lib/delivery.ts";
import { createLogger } from "../lib/log.ts";
import { ANONYMOUS, HEARS_CHAT, type MemberSession, type Session } from "../lib/session.ts";
import { Stats } from "../lib/stats.ts";
import { FakeLink } from "./hub_harness.ts";

/** A delivery to `names` (all logged in, in that order), and what it logs. */
function setup(...names: string[]) {
  const links = names.map((name) => new FakeLink(name));
  const sessions: Session[] = links.map((link) => ({
    link,
    connectedAt: 0,
    countedIp: undefined,
    lastSeen: 0,
    state: ANONYMOUS,
    hears: HEARS_CHAT,
    held: undefined,
  }));
  const members = new Map(sessions.map((session, i) => [names[i]!, session]));
  const watchers = new Set<Session>();
  const stats = new Stats();
  const logged: string[] = [];
  const log = createLogger({ format: "text", level: "info", write: (line) => logged.push(line) });
  return {
    delivery: new Delivery(members, watchers, stats, log),
    links,
    sessions,
    watchers,
    stats,
    logged,
  };
}

Deno.test("Delivery counts a reply's lines, and a broadcast's receivers but the one left out", () => {
  const { delivery, links: [a, b, c], sessions, stats } = setup("a", "b", "c");
  delivery.userList(sessions[0]! as MemberSession, ["a"], "who");
  delivery.userList(sessions[0]! as MemberSession, ["a", "b"], "who");
  assertEquals(stats.linesDelivered, 3);
  delivery.broadcastMsg("a", "hi", sessions[0]);
  delivery.broadcastDisconnected("far");
  assertEquals(a!.take(), ["USER a", "USER a", "USER b", "INFO far disconnected"]);
  assertEquals(b!.take(), ["MSG a hi", "INFO far disconnected"]);
  assertEquals(c!.take(), ["MSG a hi", "INFO far disconnected"]);
  assertEquals(stats.linesDelivered, 3 + 2 + 3);
  assertEquals(delivery.failed, false);
});

Deno.test("Delivery remembers who overflowed or threw, goes on with the rest, and hands them over once", () => {
  const { delivery, links: [a, b, c], sessions, stats, logged } = setup("a", "b", "c");
  a!.refuse = true;
  b!.throwOnSend = true;
  delivery.broadcastMsg("far", "hi", undefined);
  assertEquals(c!.take(), ["MSG far hi"]);
  assertEquals(stats.linesDelivered, 1);
  assertEquals(delivery.failed, true);
  assertEquals(logged.length, 1);
  assert(logged[0]!.includes("send failed") && logged[0]!.includes("b:1"), logged[0]);
  const failures = delivery.takeFailures();
  assertEquals(failures.overflowed.length, 1);
  assertStrictEquals(failures.overflowed[0], sessions[0]);
  assertEquals(failures.faulty.length, 1);
  assertStrictEquals(failures.faulty[0], sessions[1]);
  assertEquals(delivery.failed, false);
  assertEquals(delivery.takeFailures(), { overflowed: [], faulty: [] });
  delivery.reply(sessions[0]!, "pong");
  assertEquals(delivery.failed, true, "the refusing client is noted again");
  delivery.clear();
  assertEquals(delivery.failed, false);
});
