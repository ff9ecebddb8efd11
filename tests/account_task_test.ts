/**
 * The operator's account task as a real subprocess, started as `deno task
 * account` starts it (its flags read from deno.json), on real files: list,
 * delete, exit statuses, usage errors, standard input for set-password with
 * the stand-in, and a delete beside a running server holding the file. The
 * set-password path with a hasher runs in-process, the hasher injected.
 */
import { assert, assertEquals } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import {
  type PasswordHasher,
  runAccountTask,
  type TaskIo,
  USAGE,
} from "../lib/accounts/account_task.ts";
import { verifyPassword } from "../lib/accounts/password_hash.ts";
import { SqliteStore } from "../lib/history/sqlite_store.ts";
import { CHAT } from "../lib/history/store.ts";
import { nameKey } from "../lib/names.ts";
import { type Ran, runTask } from "./account_task_rig.ts";
import { TestClient, withDeadline } from "./helpers.ts";
import { spawnServer, stopServer } from "./server_process.ts";
import { tempDir } from "./temp_dir.ts";

const T0 = 1_764_999_000_000;
const KEEP_ALL = { lines: 1000, maxAgeMs: 1e12 };

/** Makes `dir/chat.db` with an account for each name, through the server's store. */
async function seed(dir: string, ...names: string[]): Promise<void> {
  const store = await SqliteStore.open(`${dir}/chat.db`, KEEP_ALL, { now: () => T0 });
  try {
    for (const [i, name] of names.entries()) {
      await store.accounts.create(name, nameKey(name), `hash-of-${name}`, T0 + i * 1000);
    }
  } finally {
    await store.close();
  }
}

/** `dir/chat.db`'s accounts as `key:hash`, in id order, read by a connection of the test's own. */
function accountsIn(dir: string): string[] {
  const db = new DatabaseSync(`${dir}/chat.db`, { readOnly: true });
  try {
    const rows = db.prepare("SELECT id, key, hash FROM accounts ORDER BY id").all();
    return rows.map((row) => `${row.id}:${row.key}:${row.hash}`);
  } finally {
    db.close();
  }
}

Deno.test("account list shows every account, or one by its name in any case, and exits 1 for none", async () => {
  await using dir = await tempDir("chat-task-");
  await seed(dir.path, "Alice", "bob");
  assertEquals(await runTask(["list", "--data-dir", dir.path]), {
    code: 0,
    stdout: "1\tAlice\t2025-12-06T05:30:00.000Z\n2\tbob\t2025-12-06T05:30:01.000Z\n",
    stderr: "list: 2 accounts\n",
  });
  assertEquals(await runTask(["list", "ALICE", `--data-dir=${dir.path}/`]), {
    code: 0,
    stdout: "1\tAlice\t2025-12-06T05:30:00.000Z\n",
    stderr: "list: 1 account\n",
  });
  assertEquals(await runTask(["list", "carol", "--data-dir", dir.path]), {
    code: 1,
    stdout: "",
    stderr: "list: no account named carol\n",
  });
});

Deno.test("account delete removes one account, exits 1 the second time, and the next id is new", async () => {
  await using dir = await tempDir("chat-task-");
  await seed(dir.path, "Alice", "bob");
  assertEquals(await runTask(["delete", "BOB", "--data-dir", dir.path]), {
    code: 0,
    stdout: "",
    stderr: "delete: deleted account bob (id 2)\n",
  });
  assertEquals(accountsIn(dir.path), ["1:alice:hash-of-Alice"]);
  assertEquals(await runTask(["delete", "bob", "--data-dir", dir.path]), {
    code: 1,
    stdout: "",
    stderr: "delete: no account named bob\n",
  });
  await seed(dir.path, "bob");
  assertEquals(accountsIn(dir.path), ["1:alice:hash-of-Alice", "3:bob:hash-of-bob"]);
});

Deno.test("account refuses wrong words, a bad name, a missing file and a newer schema with exit 2 and one line", async () => {
  await using dir = await tempDir("chat-task-");
  await seed(dir.path, "alice");
  const usage = { code: 2, stdout: "", stderr: `${USAGE}\n` };
  for (
    const words of [
      [],
      ["list"],
      ["rename", "alice", "--data-dir", dir.path],
      ["delete", "--data-dir", dir.path],
      ["set-password", "--data-dir", dir.path],
      ["delete", "alice", "bob", "--data-dir", dir.path],
      ["delete", "alice", "--data-dir"],
      ["delete", "alice", "--data-dir", dir.path, "--force"],
    ]
  ) {
    assertEquals(await runTask(words), usage, words.join(" "));
  }
  assertEquals(await runTask(["delete", "a\u001b[2Jb", "--data-dir", dir.path]), {
    code: 2,
    stdout: "",
    stderr: "delete: not a valid name\n",
  });
  const empty = `${dir.path}/empty`;
  await Deno.mkdir(empty);
  assertEquals(await runTask(["list", "--data-dir", empty]), {
    code: 2,
    stdout: "",
    stderr:
      `list: ${empty}/chat.db: no such file (a server started with this --data-dir makes it)\n`,
  });
  assertEquals([...Deno.readDirSync(empty)], []);
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  db.exec("PRAGMA user_version = 99");
  db.close();
  assertEquals(await runTask(["delete", "alice", "--data-dir", dir.path]), {
    code: 2,
    stdout: "",
    stderr: `delete: ${dir.path}/chat.db: its schema version is 99, newer than this server's 3: ` +
      "run the newer server, or restore a backup made for this one\n",
  });
});

Deno.test("account set-password reads standard input, never prints it, and stores its scrypt hash", async () => {
  await using dir = await tempDir("chat-task-");
  await seed(dir.path, "alice");
  const secret = "correct-horse-battery";
  const set = await runTask(["set-password", "alice", "--data-dir", dir.path], `${secret}\n`);
  assertEquals(set, {
    code: 0,
    stdout: "",
    stderr: "set-password: password set for alice (id 1)\n",
  });
  const [stored] = accountsIn(dir.path);
  const hash = stored!.slice("1:alice:".length);
  assert(hash.startsWith("pbkdf2-sha256$600000$"), hash);
  assert(!hash.includes(secret));
  assert(await verifyPassword(secret, hash));
  assertEquals(await runTask(["set-password", "alice", "--data-dir", dir.path], "short\n"), {
    code: 2,
    stdout: "",
    stderr: "set-password: weak-password (8 to 128 characters, no whitespace)\n",
  });
  for (const stdin of ["", "\n", "\r\n"]) {
    assertEquals(await runTask(["set-password", "alice", "--data-dir", dir.path], stdin), {
      code: 2,
      stdout: "",
      stderr: "set-password: no password on standard input\n",
    });
  }
  assertEquals(await runTask(["set-password", "zed", "--data-dir", dir.path], `${secret}\n`), {
    code: 1,
    stdout: "",
    stderr: "set-password: no account named zed\n",
  });
  assertEquals(accountsIn(dir.path), [stored]);
});

/** The task in this process, its output kept, its password `typed`. */
async function runHere(
  args: string[],
  typed: string | undefined,
  hasher: PasswordHasher,
): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  const io: TaskIo = {
    readPassword: () => Promise.resolve(typed),
    out: (line) => stdout += `${line}\n`,
    err: (line) => stderr += `${line}\n`,
  };
  const code = await runAccountTask(args, io, hasher);
  return { code, stdout, stderr };
}

Deno.test("account set-password with a hasher stores the hash of what was typed, and refuses a weak one", async () => {
  await using dir = await tempDir("chat-task-");
  await seed(dir.path, "alice", "bob");
  const hasher: PasswordHasher = {
    hash: (password) => Promise.resolve(`hashed(${password.length})`),
    problem: (password) => password.length < 8 ? "weak-password" : undefined,
  };
  const args = ["set-password", "Bob", "--data-dir", dir.path];
  assertEquals(await runHere(args, "short", hasher), {
    code: 2,
    stdout: "",
    stderr: "set-password: weak-password (8 to 128 characters, no whitespace)\n",
  });
  assertEquals(await runHere(args, "long-enough-password", hasher), {
    code: 0,
    stdout: "",
    stderr: "set-password: password set for bob (id 2)\n",
  });
  assertEquals(accountsIn(dir.path), ["1:alice:hash-of-alice", "2:bob:hashed(20)"]);
});

Deno.test("account delete beside a running server holding the file: the account is gone for it, its history goes on", async () => {
  await using dir = await tempDir("chat-task-");
  await seed(dir.path, "alice", "bob");
  const server = await withDeadline(
    spawnServer(["--host", "127.0.0.1", "--port", "0", "--rate", "0", "--data-dir", dir.path]),
    10_000,
    "server start",
  );
  try {
    await using writer = await TestClient.login(server.port, "writer");
    // Messages written while the task runs: the server's batches and the task's delete share the file.
    const sending = (async () => {
      for (let i = 0; i < 50; i++) await writer.send(`MSG m${i}`);
    })();
    assertEquals(await runTask(["delete", "alice", "--data-dir", dir.path]), {
      code: 0,
      stdout: "",
      stderr: "delete: deleted account alice (id 1)\n",
    });
    await sending;
    await writer.send("HISTORY 50");
    const lines = await writer.readLines(51);
    assertEquals(lines.at(-1), "HIST END");
    const sent = Array.from({ length: 50 }, (_, i) => `writer m${i}`);
    assertEquals(lines.slice(0, -1).map((line) => line.split(" ").slice(2).join(" ")), sent);
    assertEquals(accountsIn(dir.path), ["2:bob:hash-of-bob"]);
  } finally {
    await stopServer(server);
  }
  // The server wrote all its history beside the task and stopped cleanly; nothing brought alice back.
  assertEquals(accountsIn(dir.path), ["2:bob:hash-of-bob"]);
  const db = new DatabaseSync(`${dir.path}/chat.db`, { readOnly: true });
  const stored = db.prepare("SELECT sum(count) AS n FROM batches").get();
  db.close();
  assertEquals(stored?.n, 50);
});

Deno.test("account delete beside an open store: the store's next find sees it gone, and a new account gets a new id", async () => {
  await using dir = await tempDir("chat-task-");
  const store = await SqliteStore.open(`${dir.path}/chat.db`, KEEP_ALL, { now: () => T0 });
  try {
    const alice = await store.accounts.create("alice", "alice", "h", T0);
    assertEquals(alice, { id: 1, name: "alice", key: "alice", hash: "h", createdMs: T0 });
    await store.append([{ conversation: CHAT, sender: "alice", text: "hi", id: `${T0}-0` }]);
    assertEquals((await runTask(["delete", "alice", "--data-dir", dir.path])).code, 0);
    assertEquals(await store.accounts.find("alice"), undefined);
    assertEquals(await store.accounts.setHash(1, "x"), false);
    const again = await store.accounts.create("Alice", "alice", "h2", T0);
    assert(again !== "already-registered");
    assertEquals(again.id, 2);
    assertEquals((await store.read({ conversation: CHAT, limit: 5, from: "latest" })).length, 1);
  } finally {
    await store.close();
  }
});
