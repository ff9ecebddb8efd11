/**
 * Accounts in the `--data-dir` SQLite file, through the history store's real
 * worker, over real files in a temporary directory: creating and finding by
 * the name's key, a duplicate refused even in one batch, ids never reused,
 * hashes replaced, accounts removed, a version-2 file upgraded with its
 * history kept, a newer one refused.
 */
import { assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { openAccountsFile } from "../lib/history/accounts_table.ts";
import { packMessage } from "../lib/history/packed_entries.ts";
import { SCHEMA_VERSION, SchemaError, upgradeSchema } from "../lib/history/sqlite_schema.ts";
import { SqliteStore } from "../lib/history/sqlite_store.ts";
import { CHAT, type Retention } from "../lib/history/store.ts";
import { nameKey } from "../lib/names.ts";
import { tempDir } from "./temp_dir.ts";

const KEEP_ALL: Retention = { lines: 100_000, maxAgeMs: 30 * 86_400_000 };
const T0 = 1_764_999_000_000;

/** A store on `path` that closes itself. */
async function openStore(path: string): Promise<SqliteStore & AsyncDisposable> {
  const store = await SqliteStore.open(path, KEEP_ALL, { now: () => T0 + 1000 });
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
}

/** One value read from the file by a connection of the test's own, beside the store's. */
function query(path: string, sql: string): unknown[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all().map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

Deno.test("SqliteStore.accounts creates an account and finds it by its key in another case and composition", async () => {
  await using dir = await tempDir("chat-accounts-");
  await using store = await openStore(`${dir.path}/chat.db`);
  const name = "Zo\u00eb"; // NFC: one code point for ë
  const created = await store.accounts.create(name, nameKey(name), "hash-1", T0);
  const expected = { id: 1, name: "Zo\u00eb", key: "zo\u00eb", hash: "hash-1", createdMs: T0 };
  assertEquals(created, expected);
  // Upper case, and the ë decomposed into e and a combining diaeresis: the same key.
  assertEquals(nameKey("ZOE\u0308"), "zo\u00eb");
  assertEquals(await store.accounts.find(nameKey("ZOE\u0308")), expected);
  assertEquals(await store.accounts.find(nameKey("zoe")), undefined);
});

Deno.test("SqliteStore.accounts refuses a second account of one key, even from creates posted in one batch", async () => {
  await using dir = await tempDir("chat-accounts-");
  const path = `${dir.path}/chat.db`;
  await using store = await openStore(path);
  // All posted before the worker answers any: the UNIQUE key decides, not a read before the write.
  const answers = await Promise.all([
    store.accounts.create("alice", "alice", "first", T0),
    store.accounts.create("Alice", "alice", "second", T0 + 1),
    store.accounts.create("ALICE", "alice", "third", T0 + 2),
  ]);
  assertEquals(answers, [
    { id: 1, name: "alice", key: "alice", hash: "first", createdMs: T0 },
    "already-registered",
    "already-registered",
  ]);
  assertEquals((await store.accounts.find("alice"))?.hash, "first");
  // A refusal takes no id: the next account is the second.
  assertEquals(await store.accounts.create("bob", "bob", "h", T0), {
    id: 2,
    name: "bob",
    key: "bob",
    hash: "h",
    createdMs: T0,
  });
  assertEquals(query(path, "SELECT key, name FROM accounts ORDER BY id"), [
    { key: "alice", name: "alice" },
    { key: "bob", name: "bob" },
  ]);
});

Deno.test("SqliteStore.accounts never gives an id twice, even after the newest account is removed and the file reopened", async () => {
  await using dir = await tempDir("chat-accounts-");
  const path = `${dir.path}/chat.db`;
  {
    await using store = await openStore(path);
    assertEquals((await store.accounts.create("a", "a", "h", T0) as { id: number }).id, 1);
    assertEquals((await store.accounts.create("b", "b", "h", T0) as { id: number }).id, 2);
    assertEquals(await store.accounts.remove(2), true);
    assertEquals(await store.accounts.remove(2), false);
    assertEquals(await store.accounts.find("b"), undefined);
    // The same name again is a new account: direct messages stored under id 2 never reach it.
    assertEquals((await store.accounts.create("b", "b", "h", T0) as { id: number }).id, 3);
    assertEquals(await store.accounts.remove(3), true);
  }
  await using store = await openStore(path);
  assertEquals((await store.accounts.create("c", "c", "h", T0) as { id: number }).id, 4);
  assertEquals((await store.accounts.find("a"))?.id, 1);
});

Deno.test("SqliteStore.accounts replaces a hash, and answers false for an account that is gone", async () => {
  await using dir = await tempDir("chat-accounts-");
  await using store = await openStore(`${dir.path}/chat.db`);
  const bob = await store.accounts.create("Bob", "bob", "old", T0) as { id: number };
  const carol = await store.accounts.create("Carol", "carol", "carol's", T0) as { id: number };
  assertEquals(await store.accounts.setHash(bob.id, "new"), true);
  assertEquals(await store.accounts.find("bob"), {
    id: bob.id,
    name: "Bob",
    key: "bob",
    hash: "new",
    createdMs: T0,
  });
  assertEquals((await store.accounts.find("carol"))?.hash, "carol's");
  assertEquals(await store.accounts.remove(bob.id), true);
  assertEquals(await store.accounts.setHash(bob.id, "newer"), false);
  assertEquals(await store.accounts.setHash(999, "x"), false);
  assertEquals((await store.accounts.find("carol"))?.id, carol.id);
});

Deno.test("SqliteStore.accounts compare-and-set: a hash is replaced only while it is still the expected one", async () => {
  await using dir = await tempDir("chat-accounts-");
  await using store = await openStore(`${dir.path}/chat.db`);
  const bob = await store.accounts.create("Bob", "bob", "old", T0) as { id: number };
  const carol = await store.accounts.create("Carol", "carol", "old", T0) as { id: number };
  // A PASSWORD lands between a login's check (of "old") and its rehash's write.
  assertEquals(await store.accounts.setHash(bob.id, "changed"), true);
  assertEquals(await store.accounts.setHash(bob.id, "rehashed", "old"), false);
  assertEquals((await store.accounts.find("bob"))?.hash, "changed");
  // No PASSWORD meanwhile: the rehash goes through, and touches no other account.
  assertEquals(await store.accounts.setHash(bob.id, "rehashed", "changed"), true);
  assertEquals((await store.accounts.find("bob"))?.hash, "rehashed");
  assertEquals((await store.accounts.find("carol"))?.hash, "old");
  // Carol's hash under Bob's id is not Bob's hash.
  assertEquals(await store.accounts.setHash(bob.id, "x", "old"), false);
  assertEquals(await store.accounts.remove(carol.id), true);
  assertEquals(await store.accounts.setHash(carol.id, "x", "old"), false, "gone");
});

Deno.test("SqliteStore upgrades a version-2 file to accounts, keeping its history", async () => {
  await using dir = await tempDir("chat-accounts-");
  const path = `${dir.path}/chat.db`;
  // Version 2 as a server of that version left it: the shipped steps, and a row of two messages.
  const old = new DatabaseSync(path);
  assertEquals(upgradeSchema(old, 2), 0);
  old.prepare(
    `INSERT INTO batches (conversation, last_ms, last_seq, first_ms, first_seq, count, body)
     VALUES (?, ?, 0, ?, 0, 2, ?)`,
  ).run(
    CHAT,
    T0 + 1,
    T0,
    packMessage(`${T0}-0`, "alice", "hi") + packMessage(`${T0 + 1}-0`, "bob", "yo"),
  );
  old.exec(`INSERT INTO state (id, last_ms, last_seq) VALUES (1, ${T0 + 1}, 0)`);
  old.close();
  assertEquals(query(path, "PRAGMA user_version"), [{ user_version: 2 }]);

  await using store = await openStore(path);
  assertEquals(SCHEMA_VERSION, 3);
  assertEquals(query(path, "PRAGMA user_version"), [{ user_version: 3 }]);
  assertEquals(store.lastId, `${T0 + 1}-0`);
  assertEquals(await store.read({ conversation: CHAT, limit: 10, from: "latest" }), [
    { id: `${T0}-0`, sender: "alice", text: "hi" },
    { id: `${T0 + 1}-0`, sender: "bob", text: "yo" },
  ]);
  assertEquals((await store.accounts.create("alice", "alice", "h", T0) as { id: number }).id, 1);
});

Deno.test("A file of a newer schema is refused to the store and to the operator's task, and left as it was", async () => {
  await using dir = await tempDir("chat-accounts-");
  const path = `${dir.path}/chat.db`;
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const before = await Deno.readFile(path);
  const refused = `its schema version is ${SCHEMA_VERSION + 1}, newer than this server's ` +
    `${SCHEMA_VERSION}: run the newer server, or restore a backup made for this one`;
  const error = await assertRejects(() => SqliteStore.open(path, KEEP_ALL));
  assertEquals((error as Error).message, refused);
  const taskError = assertThrows(() => openAccountsFile(path, 100));
  assertInstanceOf(taskError, SchemaError);
  assertEquals(taskError.message, refused);
  assertEquals(await Deno.readFile(path), before);
});

Deno.test("The account store refuses calls once closed, and fails them once the history store is closed", async () => {
  await using dir = await tempDir("chat-accounts-");
  const first = await openStore(`${dir.path}/one.db`);
  await first.accounts.close();
  await first.accounts.close();
  const closed = await assertRejects(() => first.accounts.find("a"));
  assertEquals((closed as Error).message, "the account store is closed");
  // The history goes on: the account store's close leaves the worker to it.
  await first.append([{ conversation: CHAT, sender: "a", text: "still here", id: `${T0}-0` }]);
  assertEquals(
    (await first.read({ conversation: CHAT, limit: 1, from: "latest" }))[0]?.text,
    "still here",
  );
  await first.close();

  const second = await openStore(`${dir.path}/two.db`);
  await second.close();
  const gone = await assertRejects(() => second.accounts.create("a", "a", "h", T0));
  assertEquals((gone as Error).message, "the history store is closed");
});
