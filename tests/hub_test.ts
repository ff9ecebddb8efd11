/** Unit tests of the hub's rules, with fake client links and a clock the test moves. */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { Harness } from "./hub_harness.ts";

Deno.test("Hub answers LOGIN with OK, then ERR already-logged-in", () => {
  const t = new Harness();
  const alice = t.open("alice");
  t.send(alice, "LOGIN alice");
  assertEquals(alice.take(), ["OK"]);
  t.send(alice, "LOGIN alice");
  t.send(alice, "LOGIN other");
  assertEquals(alice.take(), ["ERR already-logged-in", "ERR already-logged-in"]);
  assertEquals(t.hub.userNames, ["alice"]);
  assertEquals(alice.closes, []);
});

Deno.test("Hub refuses a name taken regardless of case and composition, and allows another try", () => {
  const t = new Harness();
  const first = t.login("Zo\u00e9");
  const second = t.open("second");
  t.send(second, "LOGIN zo\u00e9");
  t.send(second, "LOGIN ZOE\u0301");
  t.send(second, "LOGIN  ZO\u00c9 ");
  assertEquals(second.take(), [
    "ERR username-taken",
    "ERR username-taken",
    "ERR username-taken",
  ]);
  t.send(second, "LOGIN zoey");
  assertEquals(second.take(), ["OK"]);
  assertEquals(t.hub.userNames, ["Zo\u00e9", "zoey"]);
  assertEquals(first.take(), []);
  assertEquals(second.closes, []);
});

Deno.test("Hub refuses invalid names with ERR invalid-username and keeps the session open", () => {
  const t = new Harness();
  const client = t.open("client");
  for (
    const line of [
      "LOGIN",
      "LOGIN ",
      "LOGIN    ",
      "LOGIN two words",
      "LOGIN zero\u200bwidth",
      `LOGIN ${"x".repeat(33)}`,
    ]
  ) {
    t.send(client, line);
    assertEquals(client.take(), ["ERR invalid-username"], JSON.stringify(line));
  }
  t.send(client, "LOGIN   Shown  ");
  assertEquals(client.take(), ["OK"]);
  assertEquals(t.hub.userNames, ["Shown"]);
  assertEquals(client.closes, []);
});

Deno.test("Hub sends MSG to every other logged-in session, not the sender nor anonymous ones", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  const carol = t.login("carol");
  const lurker = t.open("lurker");
  t.send(alice, "MSG  hello,  world \tend ");
  assertEquals(bob.take(), ["MSG alice  hello,  world \tend "]);
  assertEquals(carol.take(), ["MSG alice  hello,  world \tend "]);
  assertEquals(alice.take(), []);
  assertEquals(lurker.take(), []);
  t.send(bob, "MSG a\u001b[2Jb");
  assertEquals(alice.take(), ["MSG bob a\uFFFD[2Jb"]);
  assertEquals(carol.take(), ["MSG bob a\uFFFD[2Jb"]);
});

Deno.test("Hub shares one broadcast's bytes and sends them in one call per receiver", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  const carol = t.login("carol");
  t.send(alice, "MSG one");
  t.send(alice, "MSG two");
  assertEquals(bob.sends, ["MSG alice one\n", "MSG alice two\n"]);
  assertEquals(carol.sends, ["MSG alice one\n", "MSG alice two\n"]);
  assertEquals(alice.sends, []);
  const [one, two] = bob.sent;
  // The receivers hold views of the very same memory, not equal copies.
  for (const [i, bytes] of carol.sent.entries()) {
    const same = bob.sent[i]!;
    assertStrictEquals(bytes.buffer, same.buffer, `broadcast ${i}: same buffer`);
    assertStrictEquals(bytes.byteOffset, same.byteOffset, `broadcast ${i}: same offset`);
    assertStrictEquals(bytes.byteLength, same.byteLength, `broadcast ${i}: same length`);
  }
  // Back to back in that memory, so an outbox holding both can write them as one view.
  assertStrictEquals(two!.buffer, one!.buffer);
  assertStrictEquals(two!.byteOffset, one!.byteOffset + one!.byteLength);
});

Deno.test("Hub ignores MSG and DM whose text is empty or only spaces", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  for (const line of ["MSG", "MSG ", "MSG    ", "DM bob", "DM bob ", "DM bob   ", "DM nobody"]) {
    t.send(alice, line);
  }
  assertEquals(alice.take(), []);
  assertEquals(bob.take(), []);
});

Deno.test("Hub answers WHO with every logged-in user in login order, in one send", () => {
  const t = new Harness();
  const carol = t.login("carol");
  const alice = t.login("alice");
  t.open("anonymous");
  const bob = t.login("bob");
  t.send(alice, "WHO");
  assertEquals(alice.sends, ["USER carol\nUSER alice\nUSER bob\n"]);
  alice.take();
  // Leaving and coming back moves a user to the end.
  t.send(carol, "QUIT");
  assertEquals(alice.take(), ["INFO carol disconnected"]);
  const carolAgain = t.login("carol");
  t.send(bob, "WHO x");
  assertEquals(bob.take(), ["INFO carol disconnected", "USER alice", "USER bob", "USER carol"]);
  assertEquals(t.hub.userNames, ["alice", "bob", "carol"]);
  assertEquals(carolAgain.take(), []);
});

Deno.test("Hub delivers DM to the named user whatever the case, and to oneself", () => {
  const t = new Harness();
  const naman = t.login("Naman");
  const bob = t.login("bob");
  const carol = t.login("carol");
  t.send(bob, "DM naman hi  there ");
  assertEquals(naman.take(), ["DM bob hi  there "]);
  t.send(bob, "DM BOB note to self");
  assertEquals(bob.take(), ["DM bob note to self"]);
  t.send(naman, "DM Bob x\ry");
  assertEquals(bob.take(), ["DM Naman x\uFFFDy"]);
  assertEquals(carol.take(), []);
  assertEquals(naman.take(), []);
});

Deno.test("Hub answers DM to a missing or anonymous user with ERR user-not-found", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const anonymous = t.open("anonymous");
  t.send(alice, "DM ghost hello");
  t.send(alice, "DM anonymous hello");
  assertEquals(alice.take(), ["ERR user-not-found", "ERR user-not-found"]);
  assertEquals(anonymous.take(), []);
});

Deno.test("Hub answers PING with PONG before and after login", () => {
  const t = new Harness();
  const client = t.open("client");
  t.send(client, "PING");
  t.send(client, "PING extra");
  assertEquals(client.take(), ["PONG", "PONG"]);
  t.send(client, "LOGIN client");
  t.send(client, "PING");
  assertEquals(client.take(), ["OK", "PONG"]);
});

Deno.test("Hub answers MSG, WHO and DM before login with ERR login-required, even malformed", () => {
  const t = new Harness();
  const bob = t.login("bob");
  const anonymous = t.open("anonymous");
  for (const line of ["MSG hi", "MSG", "MSG   ", "WHO", "DM bob hi", "DM bob", "DM"]) {
    t.send(anonymous, line);
    assertEquals(anonymous.take(), ["ERR login-required"], JSON.stringify(line));
  }
  assertEquals(bob.take(), []);
});

Deno.test("Hub ignores unknown and wrong-case commands silently", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  for (const line of ["", "HELLO", "msg hi", "who", " MSG hi", "ping"]) t.send(alice, line);
  assertEquals(alice.take(), []);
  assertEquals(bob.take(), []);
  assertEquals(alice.closes, []);
});

Deno.test("Hub closes a session on QUIT with reason quit, and tells the others", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  const anonymous = t.open("anonymous");
  t.send(alice, "QUIT");
  assertEquals(alice.closes, ["quit"]);
  assertEquals(alice.take(), []);
  assertEquals(bob.take(), ["INFO alice disconnected"]);
  assertEquals(anonymous.take(), []);
  assertEquals(t.hub.userNames, ["bob"]);
  assertEquals(t.hub.connectionCount, 2);
  // The name is free again, and the closed link is no longer heard.
  t.send(alice, "MSG ghost");
  assertEquals(bob.take(), []);
  t.login("ALICE");
  // An anonymous QUIT closes it without telling anyone.
  t.send(anonymous, "QUIT");
  assertEquals(anonymous.closes, ["quit"]);
  assertEquals(bob.take(), []);
  assertEquals(t.hub.connectionCount, 2);
});

Deno.test("Hub treats a closed event like a departure: INFO to the others and the name freed", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  const anonymous = t.open("anonymous");
  t.hub.apply({ kind: "closed", link: alice, reason: "reset" });
  assertEquals(bob.take(), ["INFO alice disconnected"]);
  assertEquals(alice.take(), []);
  assert(alice.closes.every((reason) => reason === "reset"), `closes: ${alice.closes}`);
  assertEquals(t.hub.userNames, ["bob"]);
  assertEquals(t.hub.connectionCount, 2);
  const again = t.open("again");
  t.send(again, "LOGIN alice");
  assertEquals(again.take(), ["OK"]);
  // An anonymous session leaves without a word; a second closed event changes nothing.
  t.hub.apply({ kind: "closed", link: anonymous, reason: "eof" });
  t.hub.apply({ kind: "closed", link: alice, reason: "eof" });
  assertEquals(bob.take(), []);
  assertEquals(again.take(), []);
  assertEquals(t.hub.connectionCount, 2);
});

Deno.test("Hub closes nobody on a tick before the idle timeout", () => {
  const t = new Harness({ idleTimeoutMs: 1000 });
  const alice = t.login("alice");
  const anonymous = t.open("anonymous");
  t.clock.now = 999;
  t.hub.apply({ kind: "tick" });
  assertEquals(alice.closes, []);
  assertEquals(anonymous.closes, []);
  assertEquals(t.hub.connectionCount, 2);
});

Deno.test("Hub judges nobody idle on a tick applied long after its timer fired: the server fell behind", () => {
  const t = new Harness({ idleTimeoutMs: 1000 });
  const alice = t.login("alice");
  t.clock.now = 5000;
  t.hub.apply({ kind: "tick", at: 4000 });
  assertEquals(alice.closes, []);
  t.hub.apply({ kind: "tick", at: 4800 });
  assertEquals(alice.closes, ["idle"], "a tick on time still closes");
});

Deno.test("Hub judges nobody idle on a tick whose timer fired long after it was due: the process was not run", () => {
  const t = new Harness({ idleTimeoutMs: 1000 });
  const alice = t.login("alice");
  t.clock.now = 5000;
  t.hub.apply({ kind: "tick", at: 5000, due: 4000 });
  assertEquals(alice.closes, []);
  t.hub.apply({ kind: "tick", at: 5000, due: 4800 });
  assertEquals(alice.closes, ["idle"], "a timer on time still closes");
});

Deno.test("Hub closes idle sessions with reason idle on a tick after the timeout, logged in or not", () => {
  const t = new Harness({ idleTimeoutMs: 1000 });
  const alice = t.login("alice");
  const bob = t.login("bob");
  const anonymous = t.open("anonymous");
  t.clock.now = 600;
  t.send(bob, "PING"); // bob is active: his deadline moves to 1600
  assertEquals(bob.take(), ["PONG"]);
  t.clock.now = 1001;
  t.hub.apply({ kind: "tick" });
  assertEquals(alice.closes, ["idle"]);
  assertEquals(anonymous.closes, ["idle"]);
  assertEquals(bob.closes, []);
  assertEquals(bob.take(), ["INFO alice disconnected"]);
  assertEquals(t.hub.userNames, ["bob"]);
  assertEquals(t.hub.connectionCount, 1);
  t.clock.now = 1599;
  t.hub.apply({ kind: "tick" });
  assertEquals(bob.closes, []);
  t.clock.now = 1601;
  t.hub.apply({ kind: "tick" });
  assertEquals(bob.closes, ["idle"]);
  assertEquals(t.hub.connectionCount, 0);
});

Deno.test("Hub counts every command as activity, an ignored or refused one included", () => {
  const t = new Harness({ idleTimeoutMs: 1000 });
  const anonymous = t.open("anonymous");
  const alice = t.login("alice");
  t.clock.now = 900;
  t.send(anonymous, "not a command");
  t.send(alice, "MSG   ");
  t.clock.now = 1500;
  t.hub.apply({ kind: "tick" });
  assertEquals(anonymous.closes, []);
  assertEquals(alice.closes, []);
  t.clock.now = 1901;
  t.hub.apply({ kind: "tick" });
  assertEquals(anonymous.closes, ["idle"]);
  assertEquals(alice.closes, ["idle"]);
});

Deno.test("Hub answers a too-long line with ERR line-too-long and keeps the session", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const anonymous = t.open("anonymous");
  t.hub.apply({ kind: "line-too-long", link: alice });
  t.hub.apply({ kind: "line-too-long", link: anonymous });
  assertEquals(alice.take(), ["ERR line-too-long"]);
  assertEquals(anonymous.take(), ["ERR line-too-long"]);
  assertEquals(alice.closes, []);
  assertEquals(anonymous.closes, []);
  assertEquals(t.hub.connectionCount, 2);
});

Deno.test("Hub closes the connection past max-clients with server-full, and it takes no slot", () => {
  const t = new Harness({ maxClients: 2 });
  const alice = t.login("alice");
  const anonymous = t.open("anonymous");
  const refused = t.open("refused");
  assertEquals(refused.closes, ["server-full"]);
  assertEquals(refused.take(), []);
  assertEquals(t.hub.connectionCount, 2);
  // The refused link is not a session: its commands and its close change nothing.
  t.send(refused, "PING");
  t.send(refused, "LOGIN refused");
  assertEquals(refused.take(), []);
  t.hub.apply({ kind: "closed", link: refused, reason: "server-full" });
  assertEquals(t.hub.connectionCount, 2);
  assertEquals(alice.take(), []);
  assertEquals(t.hub.userNames, ["alice"]);
  // A closed session frees its slot at once.
  t.hub.apply({ kind: "closed", link: anonymous, reason: "eof" });
  assertEquals(t.hub.connectionCount, 1);
  const next = t.open("next");
  assertEquals(next.closes, []);
  assertEquals(t.hub.connectionCount, 2);
  t.send(alice, "QUIT");
  const last = t.open("last");
  assertEquals(last.closes, []);
  assertEquals(t.open("over").closes, ["server-full"]);
});

Deno.test("Hub drops a session that refuses a broadcast as a slow consumer, and the others lose nothing", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  const carol = t.login("carol");
  bob.refuse = true;
  t.send(alice, "MSG hi");
  assertEquals(bob.closes, ["slow-consumer"]);
  assertEquals(carol.take(), ["MSG alice hi", "INFO bob disconnected"]);
  assertEquals(alice.take(), ["INFO bob disconnected"]);
  assertEquals(t.hub.userNames, ["alice", "carol"]);
  assertEquals(t.hub.connectionCount, 2);
  t.send(alice, "MSG again");
  assertEquals(carol.take(), ["MSG alice again"]);
  assertEquals(bob.closes, ["slow-consumer"]);
});

Deno.test("Hub drops a session that refuses its own reply or a DM as a slow consumer", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  const carol = t.login("carol");
  bob.refuse = true;
  t.send(bob, "PING");
  assertEquals(bob.closes, ["slow-consumer"]);
  assertEquals(alice.take(), ["INFO bob disconnected"]);
  carol.refuse = true;
  t.send(alice, "DM carol hello");
  assertEquals(carol.closes, ["slow-consumer"]);
  assertEquals(alice.take(), ["INFO carol disconnected"]);
  assertEquals(t.hub.userNames, ["alice"]);
});

Deno.test("Hub drops every slow consumer of one broadcast and tells the rest about each once", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  const carol = t.login("carol");
  const dave = t.login("dave");
  bob.refuse = true;
  carol.refuse = true;
  t.send(alice, "MSG hi");
  assertEquals(bob.closes, ["slow-consumer"]);
  assertEquals(carol.closes, ["slow-consumer"]);
  assertEquals(alice.take(), ["INFO bob disconnected", "INFO carol disconnected"]);
  assertEquals(dave.take(), [
    "MSG alice hi",
    "INFO bob disconnected",
    "INFO carol disconnected",
  ]);
  assertEquals(t.hub.userNames, ["alice", "dave"]);
});

Deno.test("Hub closes everyone on shutdown with reason shutdown and sends no INFO", () => {
  const t = new Harness();
  const alice = t.login("alice");
  const bob = t.login("bob");
  const anonymous = t.open("anonymous");
  t.hub.apply({ kind: "shutdown" });
  for (const link of [alice, bob, anonymous]) {
    assertEquals(link.closes, ["shutdown"], link.label);
    assertEquals(link.take(), [], link.label);
  }
  assertEquals(t.hub.connectionCount, 0);
  assertEquals(t.hub.userNames, []);
});

Deno.test("Hub closes a connection opened after shutdown with reason shutdown, and does nothing else", () => {
  const t = new Harness({ idleTimeoutMs: 1000 });
  const alice = t.login("alice");
  t.hub.apply({ kind: "shutdown" });
  const late = t.open("late");
  assertEquals(late.closes, ["shutdown"]);
  assertEquals(t.hub.connectionCount, 0);
  t.send(alice, "PING");
  t.send(late, "LOGIN late");
  t.hub.apply({ kind: "line-too-long", link: alice });
  t.clock.now = 10_000;
  t.hub.apply({ kind: "tick" });
  assertEquals(alice.take(), []);
  assertEquals(late.take(), []);
  assertEquals(alice.closes, ["shutdown"]);
  assertEquals(late.closes, ["shutdown"]);
});
