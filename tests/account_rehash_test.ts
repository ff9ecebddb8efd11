/**
 * The rehash at login (`AccountDesk.login`): a right password for an older
 * hash stores one at the current cost, over a real SQLite store and a real
 * Redis store; a wrong one changes nothing; and a `PASSWORD` that lands
 * between the login's check and the rehash's write stands (the store's
 * compare-and-set). The current cost here is tests/rehash_hasher.ts's, so
 * the tests run fast on the real code. Redis's are skipped without
 * `redis-server`, except in CI.
 */
import { assert, assertEquals } from "@std/assert";
import { AccountDesk } from "../lib/accounts/account_desk.ts";
import type { AccountStore } from "../lib/accounts/account_store.ts";
import { PasswordChecks } from "../lib/accounts/password_checks.ts";
import { hashPassword, verifyPassword } from "../lib/accounts/password_hash.ts";
import { redisAccountStoreOn } from "../lib/accounts/redis_account_store.ts";
import { SqliteStore } from "../lib/history/sqlite_store.ts";
import { SILENT_LOGGER } from "../lib/log.ts";
import { ignore } from "./cluster_rig.ts";
import { withRedis } from "./redis_client.ts";
import { HeldHash, isCurrent, rehashHasher } from "./rehash_hasher.ts";
import { tempDir } from "./temp_dir.ts";

const T0 = 1_764_999_000_000;
/** A desk on `store` whose info lines are kept; closed (its rehashes awaited) before `body`'s result is read. */
async function withDesk(
  store: AccountStore,
  body: (desk: AccountDesk) => Promise<void>,
  options: { gate?: HeldHash; concurrency?: number } = {},
): Promise<string[]> {
  const logged: string[] = [];
  const log = { ...SILENT_LOGGER, info: (message: string) => logged.push(message) };
  const checks = new PasswordChecks({
    hasher: rehashHasher(() => options.gate),
    concurrency: options.concurrency ?? 1,
  });
  const desk = new AccountDesk(store, checks, log);
  try {
    await body(desk);
  } finally {
    await desk.close();
  }
  return logged;
}

async function storedHash(store: AccountStore): Promise<string> {
  return (await store.find("gus"))!.hash;
}

/** The rehash at login, on `store`: older hashes made again, a wrong password and a current hash left alone. */
async function rehashes(store: AccountStore): Promise<void> {
  const scrypt = await hashPassword("password1", { logN: 10, r: 8, p: 1 });
  const gus = await store.create("Gus", "gus", scrypt, T0) as { id: number };
  // A wrong password changes nothing.
  assertEquals(
    await withDesk(store, async (desk) => {
      assertEquals((await desk.login("gus", "password2")).check, "mismatch");
    }),
    [],
  );
  assertEquals(await storedHash(store), scrypt);
  // The right one: a PBKDF2 hash at the current cost, of the same password.
  assertEquals(
    await withDesk(store, async (desk) => {
      assertEquals((await desk.login("gus", "password1")).check, "match");
    }),
    ["password rehashed"],
  );
  const rehashed = await storedHash(store);
  assert(isCurrent(rehashed), rehashed.slice(0, 20));
  assert(await verifyPassword("password1", rehashed));
  // A current hash is left as it is; logging in still works.
  assertEquals(
    await withDesk(store, async (desk) => {
      assertEquals((await desk.login("gus", "password1")).check, "match");
    }),
    [],
  );
  assertEquals(await storedHash(store), rehashed);
  // PBKDF2 with fewer iterations is older too.
  const cheaper = await hashPassword("password1", { iterations: 1000 });
  assertEquals(await store.setHash(gus.id, cheaper), true);
  await withDesk(store, async (desk) => {
    assertEquals((await desk.login("gus", "password1")).check, "match");
  });
  assert(isCurrent(await storedHash(store)));
}

/**
 * The race, on `store`: the login checks the old hash, its rehash is held
 * at the hash, a `PASSWORD` changes the password meanwhile (its own check
 * and hash on the second slot), then the rehash writes: it finds the hash it
 * checked gone and changes nothing.
 */
async function passwordWinsTheRace(store: AccountStore): Promise<void> {
  const old = await hashPassword("password1", { logN: 10, r: 8, p: 1 });
  const gus = await store.create("Gus", "gus", old, T0) as { id: number };
  const gate = new HeldHash("password1");
  const logged = await withDesk(store, async (desk) => {
    assertEquals((await desk.login("gus", "password1")).check, "match");
    await gate.reached;
    assertEquals(await desk.change(gus.id, "gus", "password1", "password2"), {
      check: "match",
      result: "done",
    });
    gate.open();
  }, { gate, concurrency: 2 });
  assertEquals(logged, ["password rehash skipped: changed meanwhile"]);
  const stored = await storedHash(store);
  assert(await verifyPassword("password2", stored), "the PASSWORD stands");
  assertEquals(await verifyPassword("password1", stored), false);
}

async function withSqlite(body: (store: AccountStore) => Promise<void>): Promise<void> {
  await using dir = await tempDir("chat-rehash-");
  const store = await SqliteStore.open(`${dir.path}/chat.db`, { lines: 10, maxAgeMs: 60_000 });
  try {
    await body(store.accounts);
  } finally {
    await store.close();
  }
}

Deno.test("rehash (SQLite): a right password for an older hash stores one at the current cost; a wrong one changes nothing", async () => {
  await withSqlite(rehashes);
});

Deno.test("rehash (SQLite): a PASSWORD between the login's check and the rehash's write stands", async () => {
  await withSqlite(passwordWinsTheRace);
});

Deno.test({
  name:
    "rehash (Redis): a right password for an older hash stores one at the current cost; a wrong one changes nothing",
  ignore,
  fn: () => withRedis((client) => rehashes(redisAccountStoreOn(client))),
});

Deno.test({
  name: "rehash (Redis): a PASSWORD between the login's check and the rehash's write stands",
  ignore,
  fn: () => withRedis((client) => passwordWinsTheRace(redisAccountStoreOn(client))),
});
