/** What instances publish to each other, and how a name's holder is stored. */
import { assertEquals, assertStrictEquals } from "@std/assert";
import {
  decodeBatch,
  decodeHolder,
  dmBody,
  encodeBatch,
  encodeEvent,
  encodeHolder,
  encodeProbe,
  isBatchFrom,
  isPresenceLine,
  lastOrderMark,
  markOnly,
  type WireEvent,
} from "../../lib/redis/cluster_wire.ts";

Deno.test("a batch of events decodes to what was encoded, texts with spaces and all", () => {
  const events: WireEvent[] = [
    { kind: "joined", seq: 41, name: "Amélie" },
    { kind: "msg", sender: "Amélie", text: "  two  spaces, a\ttab and \uFFFD " },
    { kind: "dm", target: "bob", sender: "Amélie", text: "DM bob nested words" },
    { kind: "msg", sender: "x", text: "" },
    { kind: "msg", sender: "x", text: "kept with its id", id: "1764999000123-7" },
    { kind: "mark", id: "1764999000124-0" },
    { kind: "dm", target: "bob", sender: "Amélie", text: "kept  DM", id: "1764999000124-1" },
    { kind: "order", id: "1764999000124-2" },
    { kind: "replace", key: "amélie" },
    { kind: "freed", key: "amélie" },
    { kind: "left", seq: 41, name: "Amélie" },
    { kind: "words", seq: 42, why: "Quit: see  you" },
    { kind: "left", seq: 42, name: "bob" },
    { kind: "part", name: "bob" },
    { kind: "part", name: "bob", reason: " gone fishing " },
    { kind: "rejoin", name: "bob" },
  ];
  const payload = encodeBatch("inst-1", events.map(encodeEvent));
  // The instance's line, then one line an event and one more for the kept DM's id.
  assertStrictEquals(payload.split("\n").length, events.length + 2);
  assertEquals(decodeBatch(payload), { from: "inst-1", events });
});

Deno.test("lines that make no sense are skipped, the rest of the batch kept", () => {
  const payload = [
    "inst-2",
    "M only-a-sender",
    "D bob only-two",
    "J notanumber name",
    "J 5",
    "Lx 5 name",
    "Z what",
    "",
    "H 12-x ann no-id",
    "H 12-0 ann",
    "S 12",
    "I 12-x",
    "D bob ann kept with no id: I's id was not one",
    "I 12-0",
    "M ann an I line's id goes to the DM right after it, or to nothing",
    "D bob ann none",
    "O 12-x",
    "R ",
    "F two keys",
    "E ",
    "W 5",
    "W x why",
    "N two names",
    "N ",
    "M ok fine",
  ].join("\n");
  assertEquals(decodeBatch(payload), {
    from: "inst-2",
    events: [
      { kind: "dm", target: "bob", sender: "ann", text: "kept with no id: I's id was not one" },
      {
        kind: "msg",
        sender: "ann",
        text: "an I line's id goes to the DM right after it, or to nothing",
      },
      { kind: "dm", target: "bob", sender: "ann", text: "none" },
      { kind: "msg", sender: "ok", text: "fine" },
    ],
  });
});

Deno.test("a kept DM is what KEEP_DM publishes: an I line with its id, then the D line an older instance reads alone", () => {
  const event = { kind: "dm", target: "bob", sender: "ann", text: "hi  there" } as const;
  assertEquals(dmBody(event), "bob ann hi  there");
  assertEquals(encodeEvent({ ...event, id: "5-1" }), `I 5-1\nD ${dmBody(event)}`);
  assertEquals(decodeBatch(`inst-1\n${encodeEvent({ ...event, id: "5-1" })}`).events, [
    { ...event, id: "5-1" },
  ]);
  assertEquals(encodeEvent(event), `D ${dmBody(event)}`);
  assertEquals(encodeEvent({ kind: "order", id: "5-1" }), "O 5-1");
});

Deno.test("a name's holder round-trips through its stored value", () => {
  const holder = { instance: "a1b2", seq: 9007199254740991, name: "Zoë" };
  assertEquals(encodeHolder(holder), "a1b2 9007199254740991 Zoë");
  assertEquals(decodeHolder(encodeHolder(holder)), holder);
  for (const bad of ["", "a1b2", "a1b2 7", "a1b2 x name", "a1b2 7 "]) {
    assertEquals(decodeHolder(bad), undefined, bad);
  }
});

Deno.test("logins and departures are told apart from chat lines by the wire module alone", () => {
  const lines = [
    encodeEvent({ kind: "joined", seq: 1, name: "Mia" }),
    encodeEvent({ kind: "left", seq: 1, name: "Mia" }),
    encodeEvent({ kind: "msg", sender: "Lou", text: "J 1 not a login" }),
    encodeEvent({ kind: "dm", target: "lou", sender: "Lou", text: "L" }),
    encodeEvent({ kind: "replace", key: "mia" }),
    encodeEvent({ kind: "freed", key: "mia" }),
  ];
  assertEquals(lines.map(isPresenceLine), [true, true, false, false, true, true]);
});

Deno.test("an instance knows its own batches without parsing them, and its probe decodes to nothing", () => {
  const own = encodeBatch("inst-1", [encodeEvent({ kind: "msg", sender: "a", text: "b" })]);
  assertEquals(isBatchFrom(own, "inst-1"), true);
  assertEquals(isBatchFrom(own, "inst-"), false, "a prefix of the id is another instance");
  assertEquals(isBatchFrom(own, "inst-10"), false);
  assertEquals(isBatchFrom("inst-1", "inst-1"), false, "no header line");
  assertEquals(encodeProbe("inst-1"), "inst-1\nP");
  assertEquals(decodeBatch(encodeProbe("inst-1")), { from: "inst-1", events: [] });
});

Deno.test("an instance finds the last history id of its own batch from the end, without decoding it", () => {
  const kept = (id: string, text: string) => encodeEvent({ kind: "msg", sender: "a", text, id });
  const batch = (lines: string[]) => encodeBatch("inst-1", lines);
  assertEquals(kept("5-0", "x"), "H 5-0 a x");
  assertEquals(lastOrderMark(batch([kept("5-0", "H 9-9 a"), kept("5-1", "S 8-0")])), "5-1");
  assertEquals(
    lastOrderMark(batch([kept("6-0", "x"), encodeEvent({ kind: "left", seq: 1, name: "a" })])),
    "6-0",
    "presence after the kept lines",
  );
  assertEquals(lastOrderMark("inst-1\nS 1764999000123-4"), undefined, "a mark is markOnly's");
  assertEquals(
    lastOrderMark(batch([encodeEvent({ kind: "msg", sender: "a", text: "x" })])),
    undefined,
  );
  assertEquals(lastOrderMark("inst-1\nS nonsense"), undefined);
});

Deno.test("a batch that holds only a mark gives its id; any other batch, none", () => {
  assertEquals(markOnly("inst-1\nS 1764999000123-4", "inst-1"), "1764999000123-4");
  assertEquals(markOnly("inst-1\nS 0-0", "inst-1"), "0-0");
  assertStrictEquals(markOnly("inst-10\nS 5-0", "inst-1"), undefined, "another instance's");
  assertStrictEquals(markOnly("inst-1\nS 5-0\nH 6-0 a x", "inst-1"), undefined, "and a message");
  assertStrictEquals(markOnly("inst-1\nH 6-0 a x", "inst-1"), undefined);
  assertStrictEquals(markOnly("inst-1\nS nonsense", "inst-1"), undefined);
  assertStrictEquals(markOnly("inst-1", "inst-1"), undefined);
});

Deno.test("a departure's words go on a line of their own: its L line reads the same to an older instance", () => {
  assertEquals(encodeEvent({ kind: "words", seq: 42, why: "Quit: bye" }), "W 42 Quit: bye");
  assertEquals(encodeEvent({ kind: "left", seq: 42, name: "bob" }), "L 42 bob");
  assertStrictEquals(isPresenceLine("W 42 Quit: bye"), false);
});
