/**
 * Password hashing: PBKDF2 and scrypt at their real cost once each (a tenth
 * of a second and more than half a second), the rest at a test-only cheap
 * cost through `hashPassword`'s explicit parameters.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import {
  CURRENT_PARAMS,
  hashPassword,
  needsRehash,
  parseHash,
  passwordProblem,
  type ScryptParams,
  verifyPassword,
} from "../lib/accounts/password_hash.ts";

/** N = 2^10: a thousandth of the real cost, for tests of everything but the cost. */
const CHEAP: ScryptParams = { logN: 10, r: 8, p: 1 };

Deno.test("hashPassword at the real cost: parameters in the string, a round trip, and the event loop keeps ticking", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  let hash: string;
  let ticksDuringHash: number;
  try {
    hash = await hashPassword("correct-horse-battery");
    ticksDuringHash = ticks;
  } finally {
    clearInterval(timer);
  }
  // A hash run on this thread would let no timer fire until it had returned.
  assert(ticksDuringHash >= 2, `timer ticks while hashing: ${ticksDuringHash}`);
  assertMatch(hash, /^pbkdf2-sha256\$600000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  const parsed = parseHash(hash)!;
  assertEquals(parsed.params, CURRENT_PARAMS);
  assertEquals(CURRENT_PARAMS, { iterations: 600_000 });
  assertEquals([parsed.salt.length, parsed.key.length], [16, 32]);
  assertEquals(needsRehash(hash), false);
  assertEquals(await verifyPassword("correct-horse-battery", hash), true);
  assertEquals(await verifyPassword("correct-horse-batterY", hash), false);
});

Deno.test("a scrypt hash at OWASP's cost verifies, off this thread, and asks to be made again", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  let hash: string;
  try {
    hash = await hashPassword("correct-horse-battery", { logN: 17, r: 8, p: 1 });
  } finally {
    clearInterval(timer);
  }
  assert(ticks >= 2, `timer ticks while hashing: ${ticks}`);
  assertMatch(hash, /^scrypt\$17\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  assertEquals(await verifyPassword("correct-horse-battery", hash), true);
  assertEquals(needsRehash(hash), true, "new hashes are PBKDF2's");
});

Deno.test("PBKDF2 hashes below the current iterations verify and ask to be made again", async () => {
  const hash = await hashPassword("hunter22!", { iterations: 1000 });
  assertMatch(hash, /^pbkdf2-sha256\$1000\$/);
  assertEquals(await verifyPassword("hunter22!", hash), true);
  assertEquals(await verifyPassword("hunter22?", hash), false);
  assertEquals(needsRehash(hash), true);
  const [, , salt, key] = hash.split("$");
  for (
    const stored of [
      `pbkdf2-sha256$999$${salt}$${key}`, // too few to be a real hash
      `pbkdf2-sha256$20000000$${salt}$${key}`, // minutes of work: refused unrun
      `pbkdf2-sha256$01000$${salt}$${key}`,
      `pbkdf2-sha512$1000$${salt}$${key}`,
      `pbkdf2-sha256$1000$${salt}`,
    ]
  ) {
    assertEquals(parseHash(stored), undefined, stored);
    assertEquals(await verifyPassword("hunter22!", stored), false, stored);
  }
});

Deno.test("hashPassword salts each hash anew; verifyPassword tells right from wrong", async () => {
  const first = await hashPassword("hunter22!", CHEAP);
  const second = await hashPassword("hunter22!", CHEAP);
  assertNotEquals(first, second);
  assertMatch(first, /^scrypt\$10\$8\$1\$/);
  assertEquals(await verifyPassword("hunter22!", first), true);
  assertEquals(await verifyPassword("hunter22!", second), true);
  assertEquals(await verifyPassword("hunter22", first), false);
  assertEquals(await verifyPassword("", first), false);
  assertEquals(needsRehash(first), true, "below the current cost");
});

Deno.test("verifyPassword takes a password typed in another Unicode composition as the same", async () => {
  const composed = "café-crème";
  const decomposed = composed.normalize("NFD");
  assertNotEquals(composed, decomposed);
  const hash = await hashPassword(composed, CHEAP);
  assertEquals(await verifyPassword(decomposed, hash), true);
});

Deno.test("verifyPassword is false, never a throw, for every malformed stored string", async () => {
  const good = await hashPassword("password1", CHEAP);
  const [, logN, r, p, salt, key] = good.split("$") as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const malformed = [
    "",
    "scrypt",
    "password1",
    `bcrypt$${logN}$${r}$${p}$${salt}$${key}`,
    `scrypt$${logN}$${r}$${p}$${salt}`,
    `scrypt$${logN}$${r}$${p}$${salt}$${key}$`,
    `scrypt$0${logN}$${r}$${p}$${salt}$${key}`,
    `scrypt$x$${r}$${p}$${salt}$${key}`,
    `scrypt$0$${r}$${p}$${salt}$${key}`,
    `scrypt$${logN}$0$${p}$${salt}$${key}`,
    `scrypt$${logN}$${r}$-1$${salt}$${key}`,
    `scrypt$30$${r}$${p}$${salt}$${key}`, // 128 GiB: refused before scrypt is asked
    `scrypt$${logN}$${r}$${p}$${salt.slice(1)}$${key}`,
    `scrypt$${logN}$${r}$${p}$${salt}$${key.replace(/.$/, "!")}`,
    `scrypt$${logN}$${r}$${p}$AAAA$${key}`, // a 3-byte salt
    `scrypt$${logN}$${r}$${p}$${salt}$AAAA`, // a 3-byte key
  ];
  for (const stored of malformed) {
    assertEquals(parseHash(stored), undefined, stored);
    assertEquals(await verifyPassword("password1", stored), false, stored);
    assertEquals(needsRehash(stored), true, stored);
  }
  // A different key of the same length: the compare runs, and fails.
  const otherKey = btoa(String.fromCharCode(...new Uint8Array(32)));
  assertEquals(await verifyPassword("password1", `scrypt$10$8$1$${salt}$${otherKey}`), false);
});

Deno.test("passwordProblem: 8 to 128 code points, no whitespace", () => {
  const cases: [string, "weak-password" | undefined][] = [
    ["", "weak-password"],
    ["1234567", "weak-password"],
    ["12345678", undefined],
    ["x".repeat(128), undefined],
    ["x".repeat(129), "weak-password"],
    ["correct horse", "weak-password"],
    ["correct\thorse", "weak-password"],
    ["correct\u00a0horse", "weak-password"], // no-break space
    ["correct\u3000horse", "weak-password"], // ideographic space
    ["passwordpassword\n", "weak-password"],
    ["\u{1f600}".repeat(7), "weak-password"], // 14 UTF-16 units, 7 characters
    ["\u{1f600}".repeat(8), undefined],
    ["\u{1f600}".repeat(128), undefined], // 256 UTF-16 units
    ["\u{1f600}".repeat(129), "weak-password"],
    ["pässwörd", undefined],
    ["password\ud800", "weak-password"], // a lone surrogate
  ];
  assertEquals(
    cases.map(([password]) => passwordProblem(password)),
    cases.map(([, expected]) => expected),
  );
});
