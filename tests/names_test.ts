/** Unit tests of user names: what is valid, and when two names are the same. */
import { assertEquals, assertNotEquals, assertStrictEquals } from "@std/assert";
import { MAX_NAME_CODE_POINTS, nameKey, validateName } from "../lib/names.ts";

Deno.test("validateName accepts ordinary names and returns them as typed", () => {
  for (
    const name of [
      "alice",
      "Bob",
      "x",
      "Zo\u00e9",
      "user_1-2.3",
      "\u4f60\u597d",
      "\u{1F600}",
      "a@b",
    ]
  ) {
    assertStrictEquals(validateName(name), name);
  }
});

Deno.test("validateName trims surrounding whitespace", () => {
  assertEquals(validateName("  alice  "), "alice");
  assertEquals(validateName("\talice\r\n"), "alice");
  assertEquals(validateName("\u00a0\u3000alice\u2003"), "alice");
});

Deno.test("validateName returns the NFC form of the name", () => {
  assertEquals(validateName("Zoe\u0301"), "Zo\u00e9");
  assertEquals(validateName("  e\u0301  "), "\u00e9");
  assertEquals(validateName("\u212b"), "\u00c5"); // ANGSTROM SIGN to its canonical letter
});

Deno.test("validateName rejects empty and all-whitespace names", () => {
  for (const name of ["", " ", "   ", "\t", "\u00a0", "\u3000 \u2003"]) {
    assertEquals(validateName(name), undefined, JSON.stringify(name));
  }
});

Deno.test("validateName allows 32 code points and no more, counting astral characters as one", () => {
  assertEquals(MAX_NAME_CODE_POINTS, 32);
  assertEquals(validateName("x".repeat(32)), "x".repeat(32));
  assertEquals(validateName("x".repeat(33)), undefined);
  // 32 emoji are 64 UTF-16 code units but 32 code points.
  assertEquals(validateName("\u{1F600}".repeat(32)), "\u{1F600}".repeat(32));
  assertEquals(validateName("\u{1F600}".repeat(33)), undefined);
  assertEquals(validateName("\u{1F600}".repeat(31) + "ab"), undefined);
  // Counted after trimming and NFC: 64 code points that compose to 32 are fine.
  assertEquals(validateName("e\u0301".repeat(32)), "\u00e9".repeat(32));
  assertEquals(validateName(`  ${"x".repeat(32)}  `), "x".repeat(32));
});

Deno.test("validateName rejects whitespace inside a name", () => {
  for (
    const name of [
      "two words",
      "tab\there",
      "new\nline",
      "no\u00a0break",
      "em\u2003space",
      "ideographic\u3000space",
      "line\u2028separator",
    ]
  ) {
    assertEquals(validateName(name), undefined, JSON.stringify(name));
  }
});

Deno.test("validateName rejects control characters: C0, DEL and C1", () => {
  for (
    const name of [
      "bell\u0007",
      "nul\u0000x",
      "esc\u001b[31m",
      "del\u007f",
      "c1\u0085next",
      "csi\u009b",
    ]
  ) {
    assertEquals(validateName(name), undefined, JSON.stringify(name));
  }
});

Deno.test("validateName rejects invisible format characters", () => {
  for (
    const name of [
      "zero\u200bwidth",
      "\u200balice",
      "bidi\u202eoverride",
      "rtl\u200fmark",
      "soft\u00adhyphen",
      "word\u2060joiner",
      "bom\ufeffinside",
    ]
  ) {
    assertEquals(validateName(name), undefined, JSON.stringify(name));
  }
});

Deno.test("nameKey folds case", () => {
  assertEquals(nameKey("Alice"), "alice");
  assertStrictEquals(nameKey("ALICE"), nameKey("alice"));
  assertStrictEquals(nameKey("Naman"), nameKey("naman"));
  assertNotEquals(nameKey("alice"), nameKey("alicia"));
});

Deno.test("nameKey folds Unicode composition and case together", () => {
  assertEquals(nameKey("Zo\u00e9"), "zo\u00e9");
  assertEquals(nameKey("Zoe\u0301"), "zo\u00e9");
  assertEquals(nameKey("ZOE\u0301"), "zo\u00e9");
  assertEquals(nameKey("ZO\u00c9"), "zo\u00e9");
  assertNotEquals(nameKey("zoe"), nameKey("zo\u00e9"));
});
