/** Names as IRC nicks: the escapes, the round trip, and one nick per name under ASCII case. */
import { assert, assertEquals, assertMatch, assertStrictEquals, fail } from "@std/assert";
import { nameOfNick, nickOf, sameNick } from "../lib/irc/irc_nick.ts";
import { nameKey, validateName } from "../lib/names.ts";
import { seededRandom } from "./seeded_random.ts";

/** RFC 2812's nick, `|` included: what every nick the server shows must be. */
const VALID_NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;

/** Characters from every range that matters: plain, specials, digits, `|`, Latin-1, BMP, astral. */
function randomName(next: () => number): string {
  const pools = [
    () => "abcXYZ_[]{}\\`^-0123456789|#:!@,.* "[Math.floor(next() * 35)]!,
    () => String.fromCodePoint(0xa0 + Math.floor(next() * 0x160)),
    () => String.fromCodePoint(0x370 + Math.floor(next() * (0xd7ff - 0x370))),
    () => String.fromCodePoint(0xe000 + Math.floor(next() * 0x1f00)),
    () => String.fromCodePoint(0x10000 + Math.floor(next() * 0xfffff)),
  ];
  const length = 1 + Math.floor(next() * 32);
  let name = "";
  for (let i = 0; i < length; i++) name += pools[Math.floor(next() * pools.length)]!();
  return name;
}

/** ASCII letters folded, nothing else: what CASEMAPPING=ascii leaves of a difference. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

Deno.test("nickOf keeps a valid nick as it is and escapes everything else as |hex|", () => {
  const cases: [string, string][] = [
    ["alice", "alice"],
    ["Bob_[x]{y}\\`^", "Bob_[x]{y}\\`^"],
    ["a-1", "a-1"],
    ["#x", "|23|x"],
    ["a:b", "a|3a|b"],
    ["9lives", "|39|lives"],
    ["-dash", "|2d|dash"],
    ["Zoë", "Zo|eb|"],
    ["a|b", "a|7c|b"],
    ["x!y@z,w", "x|21|y|40|z|2c|w"],
    ["😀", "|1f600|"],
    ["日本", "|65e5||672c|"],
    ["\u{10ffff}", "|10ffff|"],
  ];
  for (const [name, nick] of cases) {
    assertStrictEquals(nickOf(name), nick, name);
    assertStrictEquals(nameOfNick(nick), name, nick);
  }
});

Deno.test("every nick nickOf gives is a valid RFC 2812 nick, in ASCII", () => {
  const next = seededRandom(1);
  for (let i = 0; i < 2000; i++) {
    const name = randomName(next);
    assertMatch(nickOf(name), VALID_NICK, JSON.stringify(name));
  }
});

Deno.test("nameOfNick(nickOf(name)) is the name, for random Unicode names", () => {
  const next = seededRandom(2);
  for (let i = 0; i < 5000; i++) {
    const name = randomName(next);
    assertStrictEquals(nameOfNick(nickOf(name)), name, JSON.stringify(name));
  }
});

Deno.test("two names have the same nick under ASCII case only when they differ in ASCII case alone", () => {
  const next = seededRandom(3);
  const names: string[] = [];
  for (let i = 0; i < 400; i++) {
    const name = randomName(next);
    names.push(name);
    // Its ASCII case flipped: the same nick under CASEMAPPING=ascii, and the same name key.
    names.push(name.replace(/[a-zA-Z]/g, (c) => c === c.toLowerCase() ? c.toUpperCase() : c));
  }
  // Near misses: names that differ in one character, including escape-like text.
  names.push("a|b", "a|7c|b", "a7cb", "|7c|", "Zoë", "ZOË", "zoë", "Zoe", "[x", "{x", "@", "`");
  const seen = names.map((name) => ({
    name,
    nick: nickOf(name),
    folded: asciiLower(name),
    key: validateName(name) === name ? nameKey(name) : undefined,
  }));
  for (const a of seen) {
    for (const b of seen) {
      const same = sameNick(a.nick, b.nick);
      if (same !== (a.folded === b.folded)) {
        fail(`${JSON.stringify(a.name)} ${JSON.stringify(b.name)}: sameNick is ${same}`);
      }
      // Uniqueness of names is uniqueness of nicks: one nick never stands for two users.
      if (same && a.key !== undefined && b.key !== undefined && a.key !== b.key) {
        fail(`${JSON.stringify(a.name)} and ${JSON.stringify(b.name)} share a nick`);
      }
    }
  }
});

Deno.test("nameOfNick reads hex in either case: Zo|EB| is Zo|eb|, as ASCII case does not tell nicks apart", () => {
  assertEquals(nameOfNick("Zo|EB|"), "Zoë");
  assertEquals(nameOfNick("|1F600|"), "😀");
  assert(sameNick("Zo|EB|", nickOf("Zoë")));
});

Deno.test("nameOfNick refuses malformed escapes, and any form nickOf would not give", () => {
  const refused = [
    "",
    "|",
    "||",
    "a||b",
    "|zz|",
    "|41",
    "a|3a",
    "|110000|",
    "|d800|",
    "|dfff|",
    "|1234567|",
    "|-1|",
    "|+1|",
    "| 41|",
    // Escaped where the character stands as itself, or with leading zeros: not the canonical form.
    "|61|",
    "|0e9|",
    "Zo|00eb|",
    "a|31|",
    // What needs an escape, written raw.
    "9lives",
    "-dash",
    "#x",
    "a:b",
    "a b",
    "é",
    "a|b",
    "😀",
  ];
  for (const nick of refused) assertEquals(nameOfNick(nick), undefined, JSON.stringify(nick));
});

Deno.test("sameNick folds ASCII letters only: [ is not {, @ is not `", () => {
  assert(sameNick("Bob", "bOB"));
  assert(sameNick("#Chat", "#cHAT"));
  assert(!sameNick("[x]", "{x}"));
  assert(!sameNick("a@", "a`"));
  assert(!sameNick("a^", "a~"));
  assert(!sameNick("bob", "bobb"));
  assert(!sameNick("#chät", "#CHÄT"));
});
