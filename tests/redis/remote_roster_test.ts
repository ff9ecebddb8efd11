/** This instance's view of who is on the other instances. */
import { assertEquals } from "@std/assert";
import { RemoteRoster } from "../../lib/redis/remote_roster.ts";

const at = (instance: string, seq: number, name: string) => ({ instance, seq, name });

Deno.test("the roster keeps remote users in login order, keyed by case- and NFC-folded name", () => {
  const roster = new RemoteRoster();
  roster.joined(at("b", 7, "Zed"));
  roster.joined(at("a", 3, "Ame\u0301lie"));
  roster.joined(at("b", 5, "bo"));
  assertEquals(roster.sorted().map((u) => u.name), ["Ame\u0301lie", "bo", "Zed"]);
  assertEquals(roster.get("zed")?.instance, "b");
  assertEquals(roster.get("am\u00e9lie")?.seq, 3);
  assertEquals([...roster.instances()].sort(), ["a", "b"]);
});

Deno.test("the roster forgets a user only when the instance that holds them says so", () => {
  const roster = new RemoteRoster();
  roster.joined(at("b", 2, "zed"));
  roster.left(at("a", 2, "zed"));
  assertEquals(roster.size, 1, "another instance's goodbye");
  roster.left(at("b", 1, "zed"));
  assertEquals(roster.size, 1, "an older login's goodbye");
  assertEquals(roster.left(at("b", 2, "ZED")), "zed");
  assertEquals(roster.size, 0);
});

Deno.test("the roster drops a dead instance's users and names their keys", () => {
  const roster = new RemoteRoster();
  roster.joined(at("a", 1, "X"));
  roster.joined(at("b", 2, "y"));
  roster.joined(at("a", 3, "z"));
  assertEquals(roster.dropInstance("a").sort(), ["x", "z"]);
  assertEquals(roster.dropInstance("a"), []);
  assertEquals(roster.sorted(), [{ name: "y", seq: 2 }]);
});

Deno.test("a snapshot replaces the roster, with what was heard meanwhile on top", () => {
  const roster = new RemoteRoster();
  roster.joined(at("a", 1, "stays"));
  roster.joined(at("a", 2, "gone"));
  roster.joined(at("b", 3, "leftMeanwhile"));
  roster.left(at("b", 3, "leftMeanwhile"));
  roster.joined(at("b", 9, "newcomer"));
  // Taken before the last two events: it still lists leftMeanwhile and lacks newcomer.
  const snapshot = [at("a", 1, "stays"), at("b", 3, "leftMeanwhile"), at("c", 4, "unseen")];
  roster.replace(snapshot, [
    { joined: false, holder: at("b", 3, "leftMeanwhile") },
    { joined: true, holder: at("b", 9, "newcomer") },
  ]);
  assertEquals(roster.sorted().map((u) => u.name), ["stays", "unseen", "newcomer"]);
  assertEquals([...roster.keys()], ["stays", "unseen", "newcomer"]);
});

Deno.test("merging a snapshot keeps users it does not list (their instance may not have rejoined yet)", () => {
  const roster = new RemoteRoster();
  roster.joined(at("b", 2, "waiting"));
  roster.merge([at("a", 1, "back")]);
  assertEquals(roster.sorted().map((u) => u.name), ["back", "waiting"]);
});

Deno.test("a later login or snapshot replaces an earlier holder of the name (on a dead instance)", () => {
  const roster = new RemoteRoster();
  roster.joined(at("dead", 1, "alice"));
  assertEquals(roster.joined(at("other", 5, "Alice")), "alice");
  assertEquals(roster.get("alice"), at("other", 5, "Alice"));
  assertEquals(roster.dropInstance("dead"), []);
  roster.merge([at("third", 9, "ALICE")]);
  assertEquals(roster.get("alice"), at("third", 9, "ALICE"));
  roster.remove("alice");
  roster.remove("alice");
  assertEquals(roster.get("alice"), undefined);
  assertEquals(roster.size, 0);
});
