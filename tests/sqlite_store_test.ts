/**
 * The SQLite history store over a real file in a temporary directory,
 * through its real worker: ranges, retention by lines and by age (exact on
 * read, trimmed in the file), the last id across reopening, the schema
 * version, and retried batches.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION } from "../lib/history/sqlite_schema.ts";
import { MAX_CHUNK_ENTRIES, SqliteStore } from "../lib/history/sqlite_store.ts";
import { CHAT, type Entry, type Retention } from "../lib/history/store.ts";
import { tempDir } from "./temp_dir.ts";

const DAY_MS = 86_400_000;
const KEEP_ALL: Retention = { lines: 10_000, maxAgeMs: 30 * DAY_MS };
/** The clock of every test unless it moves its own: a fixed instant, ids around it. */
const T0 = 1_764_999_000_000;

function entry(id: string, text: string, conversation = CHAT, sender = "alice"): Entry {
  return { conversation, sender, text, id };
}

/** `count` chat messages from `firstMs` on, one a millisecond, texts `m0`, `m1`, … */
function series(count: number, firstMs = T0, conversation = CHAT): Entry[] {
  return Array.from({ length: count }, (_, i) => entry(`${firstMs + i}-0`, `m${i}`, conversation));
}

const texts = (messages: readonly { text: string }[]) => messages.map((m) => m.text);

/** A store on `dir/chat.db` that closes itself. */
async function openStore(
  path: string,
  retention: Retention = KEEP_ALL,
  now: () => number = () => T0 + 1000,
): Promise<SqliteStore & AsyncDisposable> {
  const store = await SqliteStore.open(path, retention, { now });
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
}

/** Rows in the file, by conversation, read beside the store (WAL lets a reader in). */
function rowsInFile(path: string): Record<string, number> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare(
      "SELECT conversation, count(*) AS n FROM messages GROUP BY conversation",
    ).all() as unknown as { conversation: string; n: number }[];
    return Object.fromEntries(rows.map((row) => [row.conversation, row.n]));
  } finally {
    db.close();
  }
}

Deno.test("SqliteStore reads ranges oldest first: latest or earliest, after and before exclusive, per conversation", async () => {
  await using dir = await tempDir("chat-sqlite-");
  await using store = await openStore(`${dir.path}/chat.db`);
  assertEquals(store.kind, "sqlite");
  assertEquals(store.assignsIds, false);
  assertEquals(store.lastId, undefined);
  await store.append([
    ...series(10),
    entry(`${T0 + 3}-1`, "m3b"),
    entry(`${T0 + 5}-0`, "dm", "alice\nbob", "bob"),
  ]);
  const read = (range: Partial<Parameters<SqliteStore["read"]>[0]>) =>
    store.read({ conversation: CHAT, limit: 100, from: "latest", ...range }).then(texts);
  assertEquals(await read({}), ["m0", "m1", "m2", "m3", "m3b", "m4", "m5", "m6", "m7", "m8", "m9"]);
  assertEquals(await read({ limit: 3 }), ["m7", "m8", "m9"]);
  assertEquals(await read({ limit: 3, from: "earliest" }), ["m0", "m1", "m2"]);
  assertEquals(await read({ before: `${T0 + 4}-0`, limit: 2 }), ["m3", "m3b"]);
  assertEquals(await read({ before: `${T0 + 3}-1` }), ["m0", "m1", "m2", "m3"]);
  assertEquals(await read({ after: `${T0 + 3}-0`, limit: 2, from: "earliest" }), ["m3b", "m4"]);
  assertEquals(await read({ after: `${T0 + 2}-0`, before: `${T0 + 5}-0` }), ["m3", "m3b", "m4"]);
  // Ids that were never given work as bounds too.
  assertEquals(await read({ after: `${T0 + 8}-7` }), ["m9"]);
  assertEquals(await read({ before: `${T0}-0` }), []);
  assertEquals(
    await store.read({ conversation: "alice\nbob", limit: 10, from: "latest" }),
    [{ id: `${T0 + 5}-0`, sender: "bob", text: "dm" }],
  );
  assertEquals(await store.read({ conversation: "nobody", limit: 10, from: "latest" }), []);
});

Deno.test("SqliteStore answers a read posted right after an append with what it wrote, the text as delivered", async () => {
  await using dir = await tempDir("chat-sqlite-");
  await using store = await openStore(`${dir.path}/chat.db`);
  const odd = [
    "  spaced  out  ",
    "emoji 🎉 and ﬁ ligature",
    "tab\there",
    "'; DROP TABLE messages; --",
  ];
  const writing = store.append(odd.map((text, i) => entry(`${T0}-${i}`, text)));
  // Not awaited: the worker takes requests in the order posted.
  const read = await store.read({ conversation: CHAT, limit: 10, from: "latest" });
  assertEquals(texts(read), odd);
  await writing;
});

Deno.test("SqliteStore keeps each conversation's latest `lines` exactly on read, and trims the file past a tenth more", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const path = `${dir.path}/chat.db`;
  await using store = await openStore(path, { lines: 10, maxAgeMs: 30 * DAY_MS });
  const latest = () => store.read({ conversation: CHAT, limit: 100, from: "latest" }).then(texts);
  // 11 is within the slack: the file holds 11, a read still shows 10.
  await store.append(series(11));
  assertEquals(rowsInFile(path), { [CHAT]: 11 });
  assertEquals(await latest(), series(11).slice(1).map((e) => e.text));
  assertEquals(
    texts(await store.read({ conversation: CHAT, limit: 3, from: "earliest" })),
    ["m1", "m2", "m3"],
  );
  // One more passes it: the file is trimmed back to 10, right after the commit.
  await store.append([entry(`${T0 + 11}-0`, "m11")]);
  assertEquals(rowsInFile(path), { [CHAT]: 10 });
  assertEquals(await latest(), series(12).slice(2).map((e) => e.text));
  // Another conversation has its own 10.
  await store.append(series(3, T0 + 20, "alice\nbob"));
  assertEquals(rowsInFile(path), { [CHAT]: 10, "alice\nbob": 3 });
});

Deno.test("SqliteStore drops messages older than maxAgeMs exactly on read, and from the file once a minute", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const path = `${dir.path}/chat.db`;
  let now = T0;
  await using store = await openStore(path, { lines: 100, maxAgeMs: 5000 }, () => now);
  // One message a second, from T0 to T0 + 9 s.
  await store.append(Array.from({ length: 10 }, (_, i) => entry(`${T0 + i * 1000}-0`, `s${i}`)));
  const latest = () => store.read({ conversation: CHAT, limit: 100, from: "latest" }).then(texts);
  now = T0 + 9000;
  // T0 + 4000 is exactly 5000 ms old: kept; T0 + 3000 is not.
  assertEquals(await latest(), ["s4", "s5", "s6", "s7", "s8", "s9"]);
  now = T0 + 9001;
  assertEquals(await latest(), ["s5", "s6", "s7", "s8", "s9"]);
  // The file still holds them all until the next trim by age, a minute after the last.
  assertEquals(rowsInFile(path), { [CHAT]: 10 });
  now = T0 + 60_000;
  await store.append([entry(`${now}-0`, "late")]);
  assertEquals(rowsInFile(path), { [CHAT]: 1 });
  assertEquals(await latest(), ["late"]);
});

Deno.test("SqliteStore reopens with its messages and its last id, even after all of them aged out", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const path = `${dir.path}/chat.db`;
  {
    await using store = await openStore(path);
    await store.append(series(5));
    await store.append([entry(`${T0 + 4}-3`, "last", "alice\nbob")]);
  }
  {
    await using store = await openStore(path);
    assertEquals(store.lastId, `${T0 + 4}-3`);
    const read = await store.read({ conversation: CHAT, limit: 100, from: "latest" });
    assertEquals(read, series(5).map((e) => ({ id: e.id!, sender: "alice", text: e.text })));
  }
  // A year later (or a clock gone wrong): every message is dropped at open, the last id is not.
  {
    await using store = await openStore(path, KEEP_ALL, () => T0 + 365 * DAY_MS);
    assertEquals(rowsInFile(path), {});
    assertEquals(store.lastId, `${T0 + 4}-3`);
  }
  // Reopened with fewer lines, each conversation is cut to them at once.
  {
    await using store = await openStore(path);
    await store.append(series(20, T0 + 100));
  }
  {
    await using _store = await openStore(path, { lines: 4, maxAgeMs: 30 * DAY_MS });
    assertEquals(rowsInFile(path), { [CHAT]: 4 });
  }
});

Deno.test("SqliteStore writes a retried batch's messages once, and a batch past the chunk size whole", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const path = `${dir.path}/chat.db`;
  await using store = await openStore(path);
  const batch = series(2 * MAX_CHUNK_ENTRIES + 500);
  await store.append(batch.slice(0, 700));
  // A batch that failed half-way is written again, whole.
  await store.append(batch);
  assertEquals(rowsInFile(path), { [CHAT]: batch.length });
  const earliest = await store.read({ conversation: CHAT, limit: 1000, from: "earliest" });
  assertEquals(texts(earliest), texts(batch.slice(0, 1000)));
  const latest = await store.read({ conversation: CHAT, limit: 1000, from: "latest" });
  assertEquals(texts(latest), texts(batch.slice(-1000)));
});

Deno.test("SqliteStore gives a new file the current schema version and upgrades a version-0 file", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const fresh = `${dir.path}/fresh.db`;
  {
    await using _store = await openStore(fresh);
  }
  const version = (path: string) => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
    } finally {
      db.close();
    }
  };
  assertEquals(version(fresh), SCHEMA_VERSION);
  // Version 0, made by hand: an SQLite file with nothing of ours in it (an empty database, and
  // another program's table beside ours), as `sqlite3 chat.db` would leave it.
  const old = `${dir.path}/old.db`;
  const db = new DatabaseSync(old);
  db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('kept')");
  db.close();
  {
    await using store = await openStore(old);
    await store.append(series(2));
    assertEquals(texts(await store.read({ conversation: CHAT, limit: 5, from: "latest" })), [
      "m0",
      "m1",
    ]);
  }
  assertEquals(version(old), SCHEMA_VERSION);
  const check = new DatabaseSync(old, { readOnly: true });
  assertEquals(check.prepare("SELECT text FROM notes").all(), [{ text: "kept" }]);
  check.close();
});

Deno.test("SqliteStore refuses a file of a newer schema, or not a database, saying why, and leaves it as it was", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const newer = `${dir.path}/newer.db`;
  const db = new DatabaseSync(newer);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const before = await Deno.readFile(newer);
  const error = await assertRejects(() => SqliteStore.open(newer, KEEP_ALL));
  assertEquals(
    (error as Error).message,
    `its schema version is ${SCHEMA_VERSION + 1}, newer than this server's ${SCHEMA_VERSION}: ` +
      "run the newer server, or restore a backup made for this one",
  );
  assertEquals(await Deno.readFile(newer), before);

  const text = `${dir.path}/notes.txt`;
  await Deno.writeTextFile(text, "not a database, but long enough to have a header of its own\n");
  const notDb = await assertRejects(() => SqliteStore.open(text, KEEP_ALL));
  assertMatch((notDb as Error).message, /file is not a database/);
  assertEquals(
    await Deno.readTextFile(text),
    "not a database, but long enough to have a header of its own\n",
  );
});

Deno.test("SqliteStore fails each call after close, and closes once", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const store = await openStore(`${dir.path}/chat.db`);
  await store.append(series(1));
  await Promise.all([store.close(), store.close()]);
  await assertRejects(() => store.append(series(1)), Error, "the history store is closed");
  await assertRejects(
    () => store.read({ conversation: CHAT, limit: 1, from: "latest" }),
    Error,
    "the history store is closed",
  );
  assert(rowsInFile(`${dir.path}/chat.db`)[CHAT] === 1);
});
