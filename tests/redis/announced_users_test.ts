/** What the hub has been told of other instances' users: notices only for changes. */
import assert from "node:assert/strict";
import { AnnouncedUsers } from "../../lib/redis/announced_users.ts";

const at = (instance: string, seq: number, name: string) => ({ instance, seq, name });

Deno.test("a holder is announced once, and its departure only once it was announced", () => {
  const announced = new AnnouncedUsers();
  assert.deepEqual(announced.update("bea", undefined), [], "nobody, still nobody");
  assert.deepEqual(announced.update("bea", at("b", 2, "Bea")), [
    { kind: "remote-joined", name: "Bea" },
  ]);
  assert.deepEqual(announced.update("bea", at("b", 2, "Bea")), [], "learned again: no notice");
  assert.equal(announced.has("b", "BEA"), true);
  assert.equal(announced.has("c", "Bea"), false);
  assert.equal(announced.hasInstance("b"), true);
  assert.deepEqual(announced.update("bea", undefined), [{ kind: "remote-left", name: "Bea" }]);
  assert.deepEqual(announced.update("bea", undefined), []);
  assert.equal(announced.hasInstance("b"), false);
  assert.equal(announced.size, 0);
});

Deno.test("a new holder of a name is announced as the old one's departure, then its arrival", () => {
  const announced = new AnnouncedUsers();
  announced.update("ann", at("dead", 1, "Ann"));
  announced.update("bo", at("dead", 2, "Bo"));
  assert.deepEqual(announced.update("ann", at("live", 7, "ANN")), [
    { kind: "remote-left", name: "Ann" },
    { kind: "remote-joined", name: "ANN" },
  ]);
  assert.equal(announced.hasInstance("dead"), true, "Bo is still announced there");
  announced.update("bo", undefined);
  assert.equal(announced.hasInstance("dead"), false);
  assert.equal(announced.hasInstance("live"), true);
  assert.deepEqual([...announced.keys()], ["ann"]);
  assert.deepEqual(
    announced.update("ann", at("live", 8, "ANN")),
    [{ kind: "remote-left", name: "ANN" }, { kind: "remote-joined", name: "ANN" }],
    "a later login on the same instance is a new arrival",
  );
});
