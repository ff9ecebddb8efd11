/**
 * The SQLite history store over a real file in a temporary directory,
 * through its real worker: ranges, retention by lines and by age (exact on
 * read, trimmed in the file), the last id across reopening, the schema
 * version, and retried batches.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { compareIds } from "../lib/history/message_id.ts";
import {
  packEntries,
  packMessage,
  unpackEntries,
  unpackMessages,
} from "../lib/history/packed_entries.ts";
import { batchRows, type Key, packedRows } from "../lib/history/sqlite_batches.ts";
import {
  MAX_ROW_MESSAGES,
  SMALL_ROW_MESSAGES,
  SMALL_ROW_SPAN_MS,
} from "../lib/history/sqlite_file.ts";
import { SCHEMA_VERSION } from "../lib/history/sqlite_schema.ts";
import { MAX_CHUNK_ENTRIES, SqliteStore } from "../lib/history/sqlite_store.ts";
import { CHAT, type Entry, type Range, type Retention } from "../lib/history/store.ts";
import { tempDir } from "./temp_dir.ts";

const DAY_MS = 86_400_000;
const KEEP_ALL: Retention = { lines: 100_000, maxAgeMs: 30 * DAY_MS };
/** The clock of every test unless it moves its own: a fixed instant, ids around it. */
const T0 = 1_764_999_000_000;

function entry(id: string, text: string, conversation = CHAT, sender = "alice"): Entry {
  return { conversation, sender, text, id };
}

/** `count` chat messages from `firstMs` on, one each `stepMs`, texts `m0`, `m1`, … */
function series(count: number, firstMs = T0, conversation = CHAT, stepMs = 1): Entry[] {
  return Array.from(
    { length: count },
    (_, i) => entry(`${firstMs + i * stepMs}-0`, `m${i}`, conversation),
  );
}

/** Apart enough that no row takes the next one's messages: appended one by one, one row each. */
const M = SMALL_ROW_SPAN_MS;

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

/** What `sql` (grouped by conversation, counting `n`) finds in the file, read beside the store (WAL lets a reader in). */
function perConversation(path: string, sql: string): Record<string, number> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare(sql).all() as unknown as { conversation: string; n: number }[];
    return Object.fromEntries(rows.map((row) => [row.conversation, row.n]));
  } finally {
    db.close();
  }
}

/** Messages in the file, by conversation. */
function messagesInFile(path: string): Record<string, number> {
  return perConversation(
    path,
    "SELECT conversation, sum(count) AS n FROM batches GROUP BY conversation",
  );
}

/** Rows (batches) in the file, by conversation. */
function rowsInFile(path: string): Record<string, number> {
  return perConversation(
    path,
    "SELECT conversation, count(*) AS n FROM batches GROUP BY conversation",
  );
}

/** Appends `entries` one batch each, in order. */
async function appendEach(store: SqliteStore, entries: readonly Entry[]): Promise<void> {
  for (const e of entries) await store.append([e]);
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
  // 11 is within the slack: the file holds 11, a read still shows 10. One batch a message,
  // a minute apart, so one row each: trimming drops whole rows.
  await appendEach(store, series(11, T0, CHAT, M));
  assertEquals(rowsInFile(path), { [CHAT]: 11 });
  assertEquals(await latest(), series(11).slice(1).map((e) => e.text));
  assertEquals(
    texts(await store.read({ conversation: CHAT, limit: 3, from: "earliest" })),
    ["m1", "m2", "m3"],
  );
  // One more passes it: the file is trimmed back to 10, right after the commit.
  await store.append([entry(`${T0 + 11 * M}-0`, "m11")]);
  assertEquals(messagesInFile(path), { [CHAT]: 10 });
  assertEquals(await latest(), series(12).slice(2).map((e) => e.text));
  // Another conversation has its own 10.
  await store.append(series(3, T0 + 20 * M, "alice\nbob"));
  assertEquals(messagesInFile(path), { [CHAT]: 10, "alice\nbob": 3 });
  // A batch of 15 is one row: kept whole (a row goes only once all its messages are past the
  // bound), the older rows dropped; reads still show exactly 10, from inside that row.
  await store.append(series(15, T0 + 30 * M));
  assertEquals(messagesInFile(path), { [CHAT]: 15, "alice\nbob": 3 });
  assertEquals(rowsInFile(path), { [CHAT]: 1, "alice\nbob": 1 });
  assertEquals(await latest(), series(15).slice(5).map((e) => e.text));
  assertEquals(
    texts(await store.read({ conversation: CHAT, limit: 2, from: "earliest" })),
    ["m5", "m6"],
  );
  // The next one a message passes 10 + 1 with the 15 dropped whole: 1 left, the new one.
  await appendEach(store, series(2, T0 + 50 * M, CHAT, M));
  assertEquals(messagesInFile(path), { [CHAT]: 17, "alice\nbob": 3 });
  // A row of 10 after them: every older row goes, the 10 stay.
  await store.append(series(10, T0 + 60 * M));
  assertEquals(messagesInFile(path), { [CHAT]: 10, "alice\nbob": 3 });
  assertEquals(await latest(), texts(series(10)));
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
  assertEquals(messagesInFile(path), { [CHAT]: 10 });
  now = T0 + 60_000;
  await store.append([entry(`${now}-0`, "late")]);
  assertEquals(messagesInFile(path), { [CHAT]: 1 });
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
    assertEquals(messagesInFile(path), {});
    assertEquals(store.lastId, `${T0 + 4}-3`);
  }
  // Reopened with fewer lines, each conversation is cut to them at once.
  {
    await using store = await openStore(path);
    await appendEach(store, series(20, T0 + 100 * M, CHAT, M));
  }
  {
    await using _store = await openStore(path, { lines: 4, maxAgeMs: 30 * DAY_MS });
    assertEquals(messagesInFile(path), { [CHAT]: 4 });
  }
});

Deno.test("SqliteStore writes a retried batch's messages once, and a batch past the chunk size whole", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const path = `${dir.path}/chat.db`;
  await using store = await openStore(path);
  const batch = series(MAX_CHUNK_ENTRIES + 2500);
  await store.append(batch.slice(0, 700));
  // A batch that failed half-way is written again, whole.
  await store.append(batch);
  assertEquals(messagesInFile(path), { [CHAT]: batch.length });
  // A row holds MAX_ROW_MESSAGES at most: 700, then the first chunk's 19,300 new ones in
  // 20 rows, then the second chunk's 2,500 in 3.
  assertEquals(MAX_ROW_MESSAGES, 1000);
  assertEquals(rowsInFile(path), { [CHAT]: 1 + 20 + 3 });
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
  assert(messagesInFile(`${dir.path}/chat.db`)[CHAT] === 1);
});

Deno.test("packEntries and unpackEntries carry texts with TABs, empty texts, unicode, and odd conversation keys", () => {
  const entries: Entry[] = [
    entry(`${T0}-0`, "tab\there\tand there"),
    entry(`${T0}-1`, ""),
    entry(`${T0}-2`, "emoji 🎉, ﬁ, مرحبا, \u200b"),
    entry(`${T0}-3`, "\t", "alice\nbob", "bob"),
    entry(`${T0}-4`, "100 %", "a\tb%0Ac%", "carol"),
    entry(`${T0}-5`, "back to the chat"),
  ];
  const packed = packEntries([...entries, { ...entry("x", "no id"), id: undefined }]);
  assertEquals(packed.split("\n").length, entries.length + 1);
  assertEquals(unpackEntries(packed), entries);
  assertEquals(unpackEntries(""), []);
  const body = entries.map((e) => packMessage(e.id!, e.sender, e.text)).join("");
  assertEquals(
    unpackMessages(body),
    entries.map((e) => ({ id: e.id!, sender: e.sender, text: e.text })),
  );
  // A body cut short (no final line feed) still ends.
  assertEquals(unpackMessages(`${T0}-0\tal\thi`), [{ id: `${T0}-0`, sender: "al", text: "hi" }]);
});

Deno.test("batchRows writes each conversation's entries in id order, each id once, none at or below the newest stored, in rows of at most maxCount", () => {
  const newest = new Map<string, Key>([[CHAT, [T0 + 1, 0]]]);
  const rows = batchRows(
    [
      entry(`${T0 + 3}-0`, "c"),
      entry(`${T0 + 1}-0`, "stored"),
      entry(`${T0 + 2}-0`, "a"),
      entry(`${T0 + 2}-1`, "b"),
      entry(`${T0 + 2}-0`, "a again"),
      entry("bad", "no id"),
      entry(`${T0}-0`, "dm", "alice\nbob"),
      entry(`${T0 + 4}-0`, "d"),
    ],
    (conversation) => newest.get(conversation),
    2,
  );
  assertEquals(rows, [
    {
      conversation: CHAT,
      first: [T0 + 2, 0],
      last: [T0 + 2, 1],
      count: 2,
      body: `${T0 + 2}-0\talice\ta\n${T0 + 2}-1\talice\tb\n`,
    },
    {
      conversation: CHAT,
      first: [T0 + 3, 0],
      last: [T0 + 4, 0],
      count: 2,
      body: `${T0 + 3}-0\talice\tc\n${T0 + 4}-0\talice\td\n`,
    },
    {
      conversation: "alice\nbob",
      first: [T0, 0],
      last: [T0, 0],
      count: 1,
      body: `${T0}-0\talice\tdm\n`,
    },
  ]);
});

Deno.test("SqliteStore writes a failed batch retried with newer entries once, its counts exact", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const path = `${dir.path}/chat.db`;
  // Six lines and one of slack: a count that took the retried ones twice would trim at once.
  await using store = await openStore(path, { lines: 6, maxAgeMs: 30 * DAY_MS });
  const all = series(8);
  // Written, though the caller took it as failed (its answer lost), then sent again in front of
  // newer ones: the stored ones are left out, the rest is one new row.
  await store.append(all.slice(0, 3));
  await store.append(all.slice(0, 6));
  assertEquals(messagesInFile(path), { [CHAT]: 6 });
  assertEquals(rowsInFile(path), { [CHAT]: 1 });
  await store.append(all.slice(3));
  assertEquals(messagesInFile(path), { [CHAT]: 8 });
  const latest = await store.read({ conversation: CHAT, limit: 100, from: "latest" });
  assertEquals(texts(latest), texts(all.slice(2)));
});

Deno.test("SqliteStore reads the same as a list of every message, over many rows, with both retention bounds", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const path = `${dir.path}/chat.db`;
  const now = T0 + 10_000;
  const retention: Retention = { lines: 300, maxAgeMs: 9_000 };
  await using store = await openStore(path, retention, () => now);
  // A fixed pseudo-random sequence: batches of 1 to 60 messages, a few in the same millisecond.
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
  const all: Entry[] = [];
  let ms = T0;
  for (let b = 0; b < 40; b++) {
    const batch: Entry[] = [];
    for (let i = random(60); i >= 0; i--) {
      const seq = random(3) === 0 && batch.length > 0
        ? Number(batch.at(-1)!.id!.split("-")[1]) + 1
        : 0;
      if (seq === 0) ms += 1 + random(20);
      batch.push(entry(`${ms}-${seq}`, `t${all.length + batch.length}`));
    }
    all.push(...batch);
    await store.append(batch);
  }
  const minMs = now - retention.maxAgeMs;
  const kept = all.slice(-retention.lines).filter((e) => Number(e.id!.split("-")[0]) >= minMs);
  assert(kept.length > 100 && kept.length < all.length, `${kept.length} of ${all.length} kept`);
  const ids = all.map((e) => e.id!);
  for (let r = 0; r < 150; r++) {
    const limit = 1 + random(120);
    const from = random(2) === 0 ? "latest" : "earliest";
    const after = random(3) === 0 ? ids[random(ids.length)] : undefined;
    const before = random(3) === 0 ? ids[random(ids.length)] : undefined;
    const within = kept.filter((e) =>
      (after === undefined || compareIds(e.id!, after) > 0) &&
      (before === undefined || compareIds(e.id!, before) < 0)
    );
    const expected = from === "latest" ? within.slice(-limit) : within.slice(0, limit);
    const range: Range = {
      conversation: CHAT,
      limit,
      from,
      ...(after === undefined ? {} : { after }),
      ...(before === undefined ? {} : { before }),
    };
    const read = await store.read(range);
    assertEquals(texts(read), texts(expected), JSON.stringify(range));
  }
});

Deno.test("SqliteStore upgrades a version-1 file (one row a message) to rows of batches, keeping its messages and last id", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const path = `${dir.path}/v1.db`;
  // The version-1 schema exactly as it shipped, and rows as that server wrote them.
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE messages (
     conversation TEXT NOT NULL,
     ms INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     sender TEXT NOT NULL,
     text TEXT NOT NULL,
     PRIMARY KEY (conversation, ms, seq)
   ) WITHOUT ROWID;
   CREATE INDEX messages_by_time ON messages (ms);
   CREATE TABLE state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     last_ms INTEGER NOT NULL,
     last_seq INTEGER NOT NULL
   );
   PRAGMA user_version = 1;`);
  const insert = db.prepare("INSERT INTO messages VALUES (?, ?, ?, ?, ?)");
  const chat = series(2500).map((e, i) => ({ ...e, text: i === 7 ? "tab\tin it" : e.text }));
  // Ids 9 and 10 apart in the same millisecond, out of insertion order: the upgrade orders them.
  chat.push(entry(`${T0 + 9}-2`, "m9b"), entry(`${T0 + 9}-1`, "m9a"));
  db.exec("BEGIN");
  for (const e of chat) {
    const [ms, seq] = e.id!.split("-").map(Number);
    insert.run(e.conversation, ms!, seq!, e.sender, e.text);
  }
  insert.run("alice\nbob", T0 + 5, 0, "bob", "dm");
  db.exec("COMMIT");
  db.exec(`INSERT INTO state VALUES (1, ${T0 + 9999}, 4)`);
  db.close();

  {
    await using store = await openStore(path, KEEP_ALL, () => T0 + 10_000);
    assertEquals(store.lastId, `${T0 + 9999}-4`);
    const ordered = [...chat].sort((a, b) => compareIds(a.id!, b.id!));
    const read = await store.read({ conversation: CHAT, limit: 5000, from: "earliest" });
    assertEquals(read, ordered.map((e) => ({ id: e.id!, sender: e.sender, text: e.text })));
    assertEquals(texts(read.slice(7, 12)), ["tab\tin it", "m8", "m9", "m9a", "m9b"]);
    assertEquals(
      await store.read({ conversation: "alice\nbob", limit: 5, from: "latest" }),
      [{ id: `${T0 + 5}-0`, sender: "bob", text: "dm" }],
    );
    // New messages follow the old ones.
    await store.append([entry(`${T0 + 10_000}-0`, "new")]);
    assertEquals(
      texts(await store.read({ conversation: CHAT, limit: 2, from: "latest" })),
      ["m2499", "new"],
    );
  }
  const check = new DatabaseSync(path, { readOnly: true });
  try {
    assertEquals(
      (check.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
      SCHEMA_VERSION,
    );
    assertEquals(
      check.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name LIKE 'messages%'").get(),
      { n: 0 },
    );
  } finally {
    check.close();
  }
  // Rows of at most 1000, in id order: 2502 old chat messages in 3, the dm in 1, the new one in 1.
  assertEquals(rowsInFile(path), { [CHAT]: 4, "alice\nbob": 1 });
  assertEquals(messagesInFile(path), { [CHAT]: 2503, "alice\nbob": 1 });
});

Deno.test("packedRows cuts a one-conversation batch in id order into the rows batchRows makes, and leaves any other batch to it", () => {
  const newest = (conversation: string): Key | undefined =>
    conversation === "a\tb" ? [T0 + 1, 0] : undefined;
  const same = (entries: Entry[], maxCount: number) => {
    const packed = packEntries(entries);
    const rows = packedRows(packed, newest, maxCount);
    assertEquals(rows, batchRows(unpackEntries(packed), newest, maxCount));
    return rows;
  };
  const tabs = series(7).map((e, i) => ({ ...e, text: i === 2 ? "" : `t\t${i} chat\t🎉` }));
  assertEquals(same(tabs, 3)?.map((row) => row.count), [3, 3, 1]);
  assertEquals(same(tabs, 7)?.length, 1);
  assertEquals(same([], 3), []);
  // The conversation escaped in the packing, and the ids at or below its newest stored left out.
  assertEquals(same(series(4, T0, "a\tb"), 10)?.map((row) => row.count), [2]);
  assertEquals(same(series(2, T0, "a\tb"), 10), []);
  // Two conversations, ids out of order or twice, an id not well-formed: batchRows' work.
  const left = (entries: Entry[]) =>
    assertEquals(packedRows(packEntries(entries), newest, 10), undefined);
  left([...series(2), entry(`${T0 + 5}-0`, "dm", "alice\nbob")]);
  left([entry(`${T0 + 1}-0`, "b"), entry(`${T0}-0`, "a")]);
  left([entry(`${T0}-0`, "a"), entry(`${T0}-0`, "a")]);
  left([entry(`${T0}-x`, "a")]);
  left([entry(`${"9".repeat(17)}-0`, "a")]);
});

Deno.test("SqliteStore adds small batches to the newest row while it is small and recent", async () => {
  await using dir = await tempDir("chat-sqlite-");
  const path = `${dir.path}/chat.db`;
  await using store = await openStore(path);
  assertEquals(SMALL_ROW_MESSAGES, 32);
  // One message a batch, a millisecond apart (a quiet chat): rows of 32, not 70 rows.
  const all = series(70);
  await appendEach(store, all);
  assertEquals(rowsInFile(path), { [CHAT]: 3 });
  assertEquals(messagesInFile(path), { [CHAT]: 70 });
  // A minute after the newest row's first message (m64): a row of its own, so trimming by age
  // never keeps a row's old messages for long.
  const late = entry(`${T0 + 64 + M}-0`, "late");
  await store.append([late]);
  assertEquals(rowsInFile(path), { [CHAT]: 4 });
  const read = await store.read({ conversation: CHAT, limit: 50, from: "latest" });
  assertEquals(texts(read), texts([...all, late].slice(-50)));
  const ids = (await store.read({ conversation: CHAT, limit: 100, from: "earliest" })).map((m) =>
    m.id
  );
  assertEquals(ids, [...all, late].map((e) => e.id));
});
