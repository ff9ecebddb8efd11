/** This instance's view of who is on the other instances. */
import assert from "node:assert/strict";
import { RemoteRoster } from "../../lib/redis/remote_roster.ts";

const at = (instance: string, seq: number, name: string) => ({ instance, seq, name });

Deno.test("the roster keeps remote users in login order, keyed by case- and NFC-folded name", () => {
  const roster = new RemoteRoster();
  roster.joined(at("b", 7, "Zed"));
  roster.joined(at("a", 3, "Ame\u0301lie"));
  roster.joined(at("b", 5, "bo"));
  assert.deepEqual(roster.sorted().map((u) => u.name), ["Ame\u0301lie", "bo", "Zed"]);
  assert.equal(roster.get("zed")?.instance, "b");
  assert.equal(roster.get("am\u00e9lie")?.seq, 3);
  assert.deepEqual([...roster.instances()].sort(), ["a", "b"]);
});

Deno.test("the roster forgets a user only when the instance that holds them says so", () => {
  const roster = new RemoteRoster();
  roster.joined(at("b", 2, "zed"));
  assert.equal(roster.left(at("a", 2, "zed")), false, "another instance's goodbye");
  assert.equal(roster.left(at("b", 1, "zed")), false, "an older login's goodbye");
  assert.equal(roster.left(at("b", 2, "ZED")), true);
  assert.equal(roster.left(at("b", 2, "zed")), false, "said twice");
  assert.equal(roster.size, 0);
});

Deno.test("the roster drops a dead instance's users and names them for the announcement", () => {
  const roster = new RemoteRoster();
  roster.joined(at("a", 1, "x"));
  roster.joined(at("b", 2, "y"));
  roster.joined(at("a", 3, "z"));
  assert.deepEqual(roster.dropInstance("a").sort(), ["x", "z"]);
  assert.deepEqual(roster.dropInstance("a"), []);
  assert.deepEqual(roster.sorted(), [{ name: "y", seq: 2 }]);
});

Deno.test("a snapshot replaces the roster, with what was heard meanwhile on top, and names who is gone", () => {
  const roster = new RemoteRoster();
  roster.joined(at("a", 1, "stays"));
  roster.joined(at("a", 2, "gone"));
  roster.joined(at("b", 3, "leftMeanwhile"));
  roster.left(at("b", 3, "leftMeanwhile"));
  roster.joined(at("b", 9, "newcomer"));
  // Taken before the last two events: it still lists leftMeanwhile and lacks newcomer.
  const snapshot = [at("a", 1, "stays"), at("b", 3, "leftMeanwhile"), at("c", 4, "unseen")];
  const gone = roster.replace(snapshot, [
    { joined: false, holder: at("b", 3, "leftMeanwhile") },
    { joined: true, holder: at("b", 9, "newcomer") },
  ]);
  assert.deepEqual(gone, ["gone"], "leftMeanwhile was announced when it left; newcomer stays");
  assert.deepEqual(roster.sorted().map((u) => u.name), ["stays", "unseen", "newcomer"]);
});

Deno.test("merging a snapshot keeps users it does not list (their instance may not have rejoined yet)", () => {
  const roster = new RemoteRoster();
  roster.joined(at("b", 2, "waiting"));
  roster.merge([at("a", 1, "back")]);
  assert.deepEqual(roster.sorted().map((u) => u.name), ["back", "waiting"]);
});

Deno.test("a login that displaces an earlier holder of the name (on a dead instance) names them, to announce", () => {
  const roster = new RemoteRoster();
  roster.joined(at("dead", 1, "alice"));
  assert.equal(roster.joined(at("dead", 1, "alice")), undefined, "the same login heard twice");
  assert.deepEqual(roster.joined(at("other", 5, "Alice")), at("dead", 1, "alice"));
  assert.deepEqual(roster.dropInstance("dead"), [], "already announced");
  assert.deepEqual(roster.merge([at("third", 9, "ALICE")]), [at("other", 5, "Alice")]);
  assert.deepEqual(roster.remove("alice"), at("third", 9, "ALICE"));
  assert.equal(roster.remove("alice"), undefined);
});

Deno.test("a snapshot that shows a name held by someone new announces the old holder", () => {
  const roster = new RemoteRoster();
  roster.joined(at("dead", 1, "alice"));
  assert.deepEqual(roster.replace([at("live", 4, "alice")], []), ["alice"]);
  assert.deepEqual(roster.get("alice"), at("live", 4, "alice"));
});
