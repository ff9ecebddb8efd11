/** A session's standing: what a claim may hold back, and becoming a member. */
import { assertEquals, assertStrictEquals } from "@std/assert";
import { parseLine } from "../lib/protocol.ts";
import {
  ANONYMOUS,
  HEARS_CHAT,
  holdBack,
  isMember,
  makeMember,
  MAX_CHARS_WHILE_CLAIMING,
  MAX_LINES_WHILE_CLAIMING,
  type Session,
  startClaim,
} from "../lib/session.ts";
import { FakeLink } from "./hub_harness.ts";

function anonymousSession(): Session {
  return {
    link: new FakeLink("a"),
    connectedAt: 5,
    countedIp: undefined,
    lastSeen: 7,
    state: ANONYMOUS,
    hears: HEARS_CHAT,
    held: undefined,
  };
}

Deno.test("holdBack keeps commands in order and counts the characters of names and text", () => {
  const claim = startClaim("amy");
  for (const line of ["LOGIN again", "MSG hello", "DM bob hi", "WHO", "PING", "QUIT", "nonsense"]) {
    assertEquals(holdBack(claim, parseLine(line)), true, line);
  }
  assertEquals(claim.waiting.map((c) => c.kind), [
    "login",
    "msg",
    "dm",
    "who",
    "ping",
    "quit",
    "ignored",
  ]);
  assertEquals(claim.chars, "again".length + "hello".length + "bob".length + "hi".length);
});

Deno.test("holdBack refuses the line past MAX_LINES_WHILE_CLAIMING and holds nothing more", () => {
  const claim = startClaim("amy");
  for (let i = 0; i < MAX_LINES_WHILE_CLAIMING; i++) {
    assertEquals(holdBack(claim, parseLine("PING")), true);
  }
  assertEquals(holdBack(claim, parseLine("PING")), false);
  assertStrictEquals(claim.waiting.length, MAX_LINES_WHILE_CLAIMING);
});

Deno.test("holdBack takes exactly MAX_CHARS_WHILE_CLAIMING characters, not one more", () => {
  const claim = startClaim("amy");
  assertEquals(holdBack(claim, parseLine(`MSG ${"x".repeat(MAX_CHARS_WHILE_CLAIMING - 1)}`)), true);
  assertEquals(holdBack(claim, parseLine("LOGIN y")), true);
  assertStrictEquals(claim.chars, MAX_CHARS_WHILE_CLAIMING);
  assertEquals(holdBack(claim, parseLine("MSG z")), false);
  assertEquals(claim.waiting.length, 2);
});

Deno.test("startClaim starts every claim with an empty queue of its own", () => {
  const first = startClaim("amy");
  holdBack(first, parseLine("PING"));
  assertEquals(startClaim("amy"), {
    kind: "claiming",
    name: "amy",
    account: undefined,
    waiting: [],
    chars: 0,
  });
});

Deno.test("makeMember turns the same session into a member, and isMember sees it", () => {
  const session = anonymousSession();
  assertEquals(isMember(session), false);
  const user = { name: "Zoé", key: "zoé", seq: 3 };
  const member = makeMember(session, user.name, user.key, user.seq);
  assertStrictEquals(member, session);
  assertEquals(isMember(session), true);
  assertEquals(member.state, { kind: "member", ...user, account: undefined });
  assertEquals(ANONYMOUS, { kind: "anonymous" }, "the shared anonymous standing is unchanged");
});
