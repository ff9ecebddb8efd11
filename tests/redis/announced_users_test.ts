/** What the hub has been told of other instances' users: notices only for changes. */
import { assertEquals } from "@std/assert";
import { AnnouncedUsers } from "../../lib/redis/announced_users.ts";

const at = (instance: string, seq: number, name: string) => ({ instance, seq, name });

Deno.test("a holder is announced once, and its departure only once it was announced", () => {
  const announced = new AnnouncedUsers();
  assertEquals(announced.update("bea", undefined), [], "nobody, still nobody");
  assertEquals(announced.update("bea", at("b", 2, "Bea")), [
    { kind: "remote-joined", name: "Bea" },
  ]);
  assertEquals(announced.update("bea", at("b", 2, "Bea")), [], "learned again: no notice");
  assertEquals(announced.has("b", "BEA"), true);
  assertEquals(announced.has("c", "Bea"), false);
  assertEquals(announced.hasInstance("b"), true);
  assertEquals(announced.update("bea", undefined), [{ kind: "remote-left", name: "Bea" }]);
  assertEquals(announced.update("bea", undefined), []);
  assertEquals(announced.hasInstance("b"), false);
  assertEquals(announced.size, 0);
});

Deno.test("a new holder of a name is announced as the old one's departure, then its arrival", () => {
  const announced = new AnnouncedUsers();
  announced.update("ann", at("dead", 1, "Ann"));
  announced.update("bo", at("dead", 2, "Bo"));
  assertEquals(announced.update("ann", at("live", 7, "ANN")), [
    { kind: "remote-left", name: "Ann" },
    { kind: "remote-joined", name: "ANN" },
  ]);
  assertEquals(announced.hasInstance("dead"), true, "Bo is still announced there");
  announced.update("bo", undefined);
  assertEquals(announced.hasInstance("dead"), false);
  assertEquals(announced.hasInstance("live"), true);
  assertEquals([...announced.keys()], ["ann"]);
  assertEquals(
    announced.update("ann", at("live", 8, "ANN")),
    [{ kind: "remote-left", name: "ANN" }, { kind: "remote-joined", name: "ANN" }],
    "a later login on the same instance is a new arrival",
  );
});
