/** Unit tests of user names: what is valid, and when two names are the same. */
import { assert } from "./helpers.ts";
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
    assert.equal(validateName(name), name);
  }
});

Deno.test("validateName trims surrounding whitespace", () => {
  assert.equal(validateName("  alice  "), "alice");
  assert.equal(validateName("\talice\r\n"), "alice");
  assert.equal(validateName("\u00a0\u3000alice\u2003"), "alice");
});

Deno.test("validateName returns the NFC form of the name", () => {
  assert.equal(validateName("Zoe\u0301"), "Zo\u00e9");
  assert.equal(validateName("  e\u0301  "), "\u00e9");
  assert.equal(validateName("\u212b"), "\u00c5"); // ANGSTROM SIGN to its canonical letter
});

Deno.test("validateName rejects empty and all-whitespace names", () => {
  for (const name of ["", " ", "   ", "\t", "\u00a0", "\u3000 \u2003"]) {
    assert.equal(validateName(name), undefined, JSON.stringify(name));
  }
});

Deno.test("validateName allows 32 code points and no more, counting astral characters as one", () => {
  assert.equal(MAX_NAME_CODE_POINTS, 32);
  assert.equal(validateName("x".repeat(32)), "x".repeat(32));
  assert.equal(validateName("x".repeat(33)), undefined);
  // 32 emoji are 64 UTF-16 code units but 32 code points.
  assert.equal(validateName("\u{1F600}".repeat(32)), "\u{1F600}".repeat(32));
  assert.equal(validateName("\u{1F600}".repeat(33)), undefined);
  assert.equal(validateName("\u{1F600}".repeat(31) + "ab"), undefined);
  // Counted after trimming and NFC: 64 code points that compose to 32 are fine.
  assert.equal(validateName("e\u0301".repeat(32)), "\u00e9".repeat(32));
  assert.equal(validateName(`  ${"x".repeat(32)}  `), "x".repeat(32));
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
    assert.equal(validateName(name), undefined, JSON.stringify(name));
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
    assert.equal(validateName(name), undefined, JSON.stringify(name));
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
    assert.equal(validateName(name), undefined, JSON.stringify(name));
  }
});

Deno.test("nameKey folds case", () => {
  assert.equal(nameKey("Alice"), "alice");
  assert.equal(nameKey("ALICE"), nameKey("alice"));
  assert.equal(nameKey("Naman"), nameKey("naman"));
  assert.notEqual(nameKey("alice"), nameKey("alicia"));
});

Deno.test("nameKey folds Unicode composition and case together", () => {
  assert.equal(nameKey("Zo\u00e9"), "zo\u00e9");
  assert.equal(nameKey("Zoe\u0301"), "zo\u00e9");
  assert.equal(nameKey("ZOE\u0301"), "zo\u00e9");
  assert.equal(nameKey("ZO\u00c9"), "zo\u00e9");
  assert.notEqual(nameKey("zoe"), nameKey("zo\u00e9"));
});
