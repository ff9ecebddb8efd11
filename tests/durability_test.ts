/**
 * The history on disk, over real server processes started as `deno task
 * start` starts them, with `--data-dir`: it survives a restart, SIGTERM
 * writes what is pending, SIGKILL loses at most the last second, a
 * directory that cannot be used stops the server before it listens, and a
 * store that fails at run time (its file locked by another program) leaves
 * the chat going, counted and logged. Also: the store keeps working once
 * read and write access are revoked, across a checkpoint of its log.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { TextLineStream } from "@std/streams/text-line-stream";
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION } from "../lib/history/sqlite_schema.ts";
import { pollUntil, TestClient, withDeadline } from "./helpers.ts";
import { spawnServer, type StartedServer, startTaskArgs, stopServer } from "./server_process.ts";
import { tempDir } from "./temp_dir.ts";

const root = new URL("../", import.meta.url);

/**
 * A server on free loopback ports, its history in `dataDir`, metrics on;
 * flood control off unless `args` set it (tests send faster than people).
 */
function startWith(dataDir: string, ...args: string[]): Promise<StartedServer> {
  return withDeadline(
    spawnServer([
      ...["--host", "127.0.0.1", "--port", "0", "--metrics-port", "0"],
      ...(args.includes("--rate") ? [] : ["--rate", "0"]),
      ...["--data-dir", dataDir, ...args],
    ]),
    10_000,
    "server start",
  );
}

/** One value of the server's /metrics. */
async function metric(server: StartedServer, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  const match = text.match(new RegExp(`^${name} (\\d+)$`, "m"));
  assert(match !== null, `no ${name} in /metrics`);
  return Number(match[1]);
}

/**
 * Asks /metrics until `name` satisfies `wanted`: the store works in its own
 * thread and says nothing on any socket when it is done.
 */
async function metricReaches(
  server: StartedServer,
  name: string,
  wanted: (value: number) => boolean,
): Promise<number> {
  return await pollUntil(`${name} to reach the value wanted`, () => metric(server, name), wanted, {
    ms: 10_000,
    everyMs: 20,
  });
}

/**
 * The whole chat history as `client` pages back through it, oldest first:
 * `sender text` each. A page may stop short of 1000 (a reply stays within
 * half the client's queue), so it pages until one comes back empty.
 */
async function wholeHistory(client: TestClient): Promise<string[]> {
  const all: string[] = [];
  let before = "";
  while (true) {
    await client.send(`HISTORY 1000${before}`);
    const page: string[] = [];
    let oldest: string | undefined;
    while (true) {
      const line = await client.readLine();
      if (line === "HIST END") break;
      const match = line?.match(/^HIST (\d+-\d+) (\S+) (.*)$/);
      assert(match, `not a HIST line: ${line}`);
      oldest ??= match[1];
      page.push(`${match[2]} ${match[3]}`);
    }
    if (page.length === 0) return all;
    all.unshift(...page);
    before = ` ${oldest}`;
  }
}

/** alice sends each of `texts` with MSG, pipelined; resolves once `bob` has been delivered them all. */
async function chat(alice: TestClient, bob: TestClient, texts: readonly string[]): Promise<void> {
  await alice.sendRaw(texts.map((text) => `MSG ${text}\n`).join(""));
  for (const text of texts) await bob.expect(`MSG alice ${text}`);
}

/**
 * SIGTERM: every client told `ERR server-shutdown`, then, once `meanwhile`
 * has run, closed; resolves with the log of an exit 0 within 5 s.
 */
async function terminate(
  server: StartedServer,
  clients: readonly TestClient[],
  meanwhile: () => void = () => {},
): Promise<string> {
  const stopped = performance.now();
  server.child.kill("SIGTERM");
  for (const client of clients) await client.expect("ERR server-shutdown");
  meanwhile();
  for (const client of clients) await client.dispose();
  const log = await stopServer(server);
  assert(performance.now() - stopped < 5000, "exits within 5 s");
  return log;
}

/**
 * The server started again on `dataDir`: the whole history a new client
 * pages through, and the log of a clean start and stop (no warning, no error).
 */
async function historyAfterRestart(dataDir: string, ...args: string[]): Promise<string[]> {
  const again = await startWith(dataDir, ...args);
  const reader = await TestClient.login(again.port, "reader");
  try {
    return await wholeHistory(reader);
  } finally {
    await reader.dispose();
    const log = await stopServer(again);
    assert(!/ (warn|error) /.test(log), `a clean start and stop:\n${log}`);
  }
}

/** Asserts `actual` is `expected`, naming the first difference rather than printing both. */
function assertSameLines(actual: readonly string[], expected: readonly string[]): void {
  const differs = actual.findIndex((line, i) => line !== expected[i]);
  const at = differs === -1 ? Math.min(actual.length, expected.length) : differs;
  const cut = (line: string | undefined) => line?.slice(0, 60);
  assert(
    actual.length === expected.length && differs === -1,
    `${actual.length} lines, ${expected.length} expected; line ${at} is ` +
      `${JSON.stringify(cut(actual[at]))}, expected ${JSON.stringify(cut(expected[at]))}`,
  );
}

/** Holds the file's write lock, as another program writing to it would (a `sqlite3` shell). */
function lockFile(path: string): Disposable & { release(): void } {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("BEGIN IMMEDIATE");
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    db.exec("ROLLBACK");
    db.close();
  };
  return { release, [Symbol.dispose]: release };
}

/** Runs the server to its exit (for runs that must exit by themselves). */
async function runToExit(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await withDeadline(
    new Deno.Command(Deno.execPath(), {
      args: [...await startTaskArgs(), "--host", "127.0.0.1", "--port", "0", ...args],
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output(),
    10_000,
    `server ${args.join(" ")}`,
  );
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("with --data-dir, HISTORY after a restart shows the messages from before, and the store writes across checkpoints", async () => {
  await using dir = await tempDir("chat-durable-");
  const server = await startWith(dir.path);
  assertMatch(
    await server.logged(/ history /),
    new RegExp(` history store="sqlite" path="${dir.path}/chat\\.db" lines=10000 days=30\\n`),
  );
  await using alice = await TestClient.login(server.port, "alice");
  await using bob = await TestClient.login(server.port, "bob");
  // 5 MB of text: more than the 1000 pages after which SQLite checkpoints its log into the file.
  const padding = "p".repeat(1700);
  const sent = Array.from({ length: 3000 }, (_, i) => `${i} ${padding}`);
  for (let i = 0; i < sent.length; i += 100) {
    await alice.sendRaw(sent.slice(i, i + 100).map((text) => `MSG ${text}\n`).join(""));
    for (const text of sent.slice(i, i + 100)) await bob.expect(`MSG alice ${text}`);
  }
  await metricReaches(server, "chat_history_pending", (n) => n === 0);
  // Only a checkpoint moves pages from the log into the file while the server runs.
  assert((await Deno.stat(`${dir.path}/chat.db`)).size > 4_000_000, "the log was checkpointed");
  assertSameLines(await wholeHistory(bob), sent.map((text) => `alice ${text}`));
  await alice.dispose();
  await bob.dispose();
  await stopServer(server);

  const again = await startWith(dir.path);
  await using carol = await TestClient.login(again.port, "carol");
  await carol.send("MSG after the restart");
  assertSameLines(await wholeHistory(carol), [
    ...sent.map((text) => `alice ${text}`),
    "carol after the restart",
  ]);
  await carol.dispose();
  const log = await stopServer(again);
  assert(!/ (warn|error) /.test(log), log);
});

Deno.test("SIGTERM with messages pending writes them all before the exit", async () => {
  await using dir = await tempDir("chat-durable-");
  const server = await startWith(dir.path);
  await using alice = await TestClient.login(server.port, "alice");
  await using bob = await TestClient.login(server.port, "bob");
  const lock = lockFile(`${dir.path}/chat.db`);
  const sent = Array.from({ length: 50 }, (_, i) => `pending ${i}`);
  await chat(alice, bob, sent);
  // Delivered, and none written: the file is locked.
  assertEquals(await metric(server, "chat_history_pending"), sent.length);
  assertEquals(await metric(server, "chat_history_written_total"), 0);
  // The lock goes once the shutdown is underway, with everything still pending.
  const log = await terminate(server, [alice, bob], () => lock.release());
  assert(!log.includes("history not written"), log);

  assertEquals(await historyAfterRestart(dir.path), sent.map((text) => `alice ${text}`));
});

Deno.test("SIGTERM while the store cannot write: exits within 5 s and logs how many messages were lost", async () => {
  await using dir = await tempDir("chat-durable-");
  const server = await startWith(dir.path);
  await using alice = await TestClient.login(server.port, "alice");
  await using bob = await TestClient.login(server.port, "bob");
  using _lock = lockFile(`${dir.path}/chat.db`);
  await chat(alice, bob, ["one", "two", "three"]);
  const log = await terminate(server, [alice, bob]);
  assertMatch(
    log,
    / error history not written at shutdown messages=3 error="database is locked"\n/,
  );
});

Deno.test("SIGKILL while 10 clients send: after a restart the history holds every message delivered up to a second before, with none missing between", async () => {
  await using dir = await tempDir("chat-durable-");
  // 200 lines a second each at most, so that 10 clients are still sending after two seconds.
  const paced = ["--rate", "200", "--burst", "200", "--history-lines", "100000"];
  const server = await startWith(dir.path, ...paced);
  await using watcher = await TestClient.login(server.port, "watcher");
  const senders = await Promise.all(
    Array.from({ length: 10 }, (_, k) => TestClient.login(server.port, `s${k}`)),
  );
  /** What the watcher was delivered, in order, and when. */
  const delivered: { line: string; at: number }[] = [];
  let ready!: () => void;
  const enough = new Promise<void>((resolve) => ready = resolve);
  const watching = (async () => {
    while (true) {
      const line = await watcher.readLine(10_000);
      if (line === null) return;
      if (!line.startsWith("MSG ")) continue;
      const at = performance.now();
      delivered.push({ line: line.slice("MSG ".length), at });
      // Two seconds of messages, the senders still going: time to kill.
      if (at - delivered[0]!.at >= 2000) ready();
    }
  })();
  let killed = false;
  const sending = senders.map(async (sender, k) => {
    // Bounded: at most 3000 messages each, in rounds of 10, each round waiting for its PONG.
    for (let i = 0; i < 3000 && !killed; i += 10) {
      const round = Array.from({ length: 10 }, (_, j) => `MSG ${k}-${i + j}\n`).join("");
      try {
        await sender.sendRaw(round);
        await sender.sync(10_000);
      } catch (error) {
        if (killed) return; // the server was killed
        throw error;
      }
    }
  });
  await withDeadline(enough, 30_000, "2 s of messages");
  const killedAt = performance.now();
  killed = true;
  server.child.kill("SIGKILL");
  await server.child.status;
  await server.logClosed;
  await Promise.all(sending);
  // Once the server is killed the watcher's read may fail; before that, a failure is the test's.
  await watching.catch((error) => {
    if (!killed) throw error;
  });
  for (const sender of senders) await sender.dispose();
  await watcher.dispose();

  const history = await historyAfterRestart(dir.path, ...paced);
  const seen = delivered.map((d) => d.line);
  const safe = delivered.filter((d) => d.at < killedAt - 1000).length;
  assert(safe >= 1000, `${safe} messages delivered more than a second before the kill`);
  assert(history.length >= safe, `${history.length} in the history, ${safe} delivered in time`);
  // The same order, none missing: the history starts as the watcher's stream does.
  const common = Math.min(history.length, seen.length);
  assertSameLines(history.slice(0, common), seen.slice(0, common));
});

Deno.test("a store that fails at run time (its file locked by another program): chat goes on, the failure is counted and logged once, and nothing is lost once it works again", async () => {
  await using dir = await tempDir("chat-durable-");
  const server = await startWith(dir.path);
  await using alice = await TestClient.login(server.port, "alice");
  await using bob = await TestClient.login(server.port, "bob");
  await alice.send("MSG before");
  await bob.expect("MSG alice before");
  await metricReaches(server, "chat_history_written_total", (n) => n === 1);

  const lock = lockFile(`${dir.path}/chat.db`);
  // Each write now waits a second for the lock, then fails; the hub waits for none of it.
  for (let i = 0; i < 5; i++) {
    const sentAt = performance.now();
    await alice.send(`MSG during ${i}`);
    await bob.expect(`MSG alice during ${i}`);
    const took = performance.now() - sentAt;
    assert(took < 500, `delivered in ${Math.round(took)} ms while the store is stuck`);
  }
  await server.logged(/ error history write failed; retrying store="sqlite" failures=1 /);
  // Retried every second, failing each time: counted each time, logged once a minute at most.
  await metricReaches(server, "chat_history_write_failures_total", (n) => n >= 2);
  assertEquals(server.log().match(/history write failed/g)?.length, 1, server.log());
  assertEquals(await metric(server, "chat_history_pending"), 5);
  // HISTORY still answers, from what the server holds, within its read timeout.
  await using carol = await TestClient.login(server.port, "carol");
  await carol.send("HISTORY");
  const reply = await carol.readLines(7, 3000);
  assertEquals(reply.map((line) => line.replace(/^HIST \d+-\d+ /, "")), [
    "alice before",
    ...Array.from({ length: 5 }, (_, i) => `alice during ${i}`),
    "HIST END",
  ]);

  lock.release();
  await metricReaches(server, "chat_history_pending", (n) => n === 0);
  assertEquals(await metric(server, "chat_history_written_total"), 6);
  assertEquals(await metric(server, "chat_history_dropped_total"), 0);
  for (const client of [alice, bob, carol]) await client.dispose();
  await stopServer(server);

  assertEquals(await historyAfterRestart(dir.path), [
    "alice before",
    ...Array.from({ length: 5 }, (_, i) => `alice during ${i}`),
  ]);
});

/** What `--data-dir` is given, made ready in `dir`, and what the one line says of it. */
interface BadDataDir {
  readonly label: string;
  readonly make: (dir: string) => Promise<string>;
  readonly says: string;
}

const badDataDirs: BadDataDir[] = [
  {
    label: "a path under a file (it cannot be created)",
    make: async (dir) => {
      await Deno.writeTextFile(`${dir}/file`, "");
      return `${dir}/file/history`;
    },
    says: "not a directory",
  },
  {
    label: "a file where the database should be",
    make: async (dir) => {
      await Deno.writeTextFile(`${dir}/chat.db`, "not a database, only some text long enough\n");
      return dir;
    },
    says: "file is not a database",
  },
  {
    label: "a database of a newer schema",
    make: (dir) => {
      const db = new DatabaseSync(`${dir}/chat.db`);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      return Promise.resolve(dir);
    },
    says: `its schema version is ${SCHEMA_VERSION + 1}, newer than this server's ${SCHEMA_VERSION}`,
  },
];

for (const { label, make, says } of badDataDirs) {
  Deno.test(`--data-dir: ${label} is one line on stderr and exit 2, before anything listens`, async () => {
    await using dir = await tempDir("chat-bad-data-");
    const dataDir = await make(dir.path);
    const { code, stdout, stderr } = await runToExit(["--data-dir", dataDir]);
    assertEquals(code, 2);
    assertEquals(stdout, "");
    assertEquals(stderr.trimEnd().split("\n").length, 1, stderr);
    assert(
      stderr.startsWith(`Cannot start: --data-dir ${dataDir}: ${says}`),
      `"${stderr.trimEnd()}" does not say ${says}`,
    );
  });
}

Deno.test("the store keeps writing, reading and checkpointing after read and write access are revoked", async () => {
  await using dir = await tempDir("chat-revoked-");
  const path = `${dir.path}/chat.db`;
  // 60 batches of 100 messages of 1 KB: 6 MB, past the 1000 pages after which SQLite checkpoints.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "tests/revoked_store.ts", path, "60", "100"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
    new TextLineStream(),
  );
  const reader = lines.getReader();
  const found = await withDeadline(reader.read(), 30_000, "the child's report");
  assertEquals(JSON.parse(found.value!), {
    readRefused: true,
    readGranted: false,
    writeGranted: false,
    mismatches: 0,
  });
  // Still open: only a checkpoint, made after the revocation, puts pages in the file itself (it
  // holds a few KB of schema before; the first checkpoint, at 1000 pages of log, about 3.5 MB).
  assert((await Deno.stat(path)).size > 2_000_000, "the log was checkpointed into the file");
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("close\n"));
  await writer.close();
  assertEquals((await withDeadline(child.status, 10_000, "the child's exit")).code, 0);
  reader.releaseLock();
  await lines.cancel();
  const db = new DatabaseSync(path, { readOnly: true });
  assertEquals(db.prepare("SELECT sum(count) AS n FROM batches").get(), { n: 6000 });
  db.close();
});

/** Runs `mount`/`umount` with `args`; true when it worked. */
async function mountCommand(command: "mount" | "umount", args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stderr: "null" }).output();
    return success;
  } catch {
    return false;
  }
}

/** A small tmpfs at `path` that the caller fills and unmounts: a disk that can run full. */
async function smallDisk(path: string): Promise<boolean> {
  return await mountCommand("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", path]);
}

/** Whether this machine lets the tests mount a tmpfs (root, with the right to mount). */
const canMount = await (async () => {
  const probe = await Deno.makeTempDir({ prefix: "chat-mount-probe-" });
  try {
    return await smallDisk(probe) && await mountCommand("umount", [probe]);
  } finally {
    await Deno.remove(probe, { recursive: true });
  }
})();

/** Writes to `path` until the disk is full; returns how many bytes it took. */
async function fillDisk(path: string): Promise<number> {
  using file = await Deno.open(path, { write: true, create: true });
  let written = 0;
  for (const size of [65536, 4096, 1]) {
    const chunk = new Uint8Array(size);
    while (true) {
      try {
        written += await file.write(chunk);
      } catch {
        break; // full, at this chunk size
      }
    }
  }
  return written;
}

Deno.test({
  name:
    "a store whose disk fills at run time: chat goes on, the failure is counted and logged, and nothing is lost once there is room",
  // Mounting a small tmpfs needs root and the right to mount, as on CI's machines.
  ignore: !canMount,
  async fn() {
    await using dir = await tempDir("chat-full-disk-");
    assert(await smallDisk(dir.path), "mount a 1 MiB tmpfs");
    try {
      const server = await startWith(dir.path);
      await using alice = await TestClient.login(server.port, "alice");
      await using bob = await TestClient.login(server.port, "bob");
      await chat(alice, bob, ["before"]);
      await metricReaches(server, "chat_history_written_total", (n) => n === 1);
      assert(await fillDisk(`${dir.path}/filler`) > 0);
      const during = Array.from({ length: 20 }, (_, i) => `during ${i} ${"x".repeat(200)}`);
      await chat(alice, bob, during);
      await server.logged(/ error history write failed; retrying .*database or disk is full/);
      assert(await metric(server, "chat_history_write_failures_total") >= 1);
      assertEquals(await metric(server, "chat_history_pending"), during.length);
      await Deno.remove(`${dir.path}/filler`);
      await metricReaches(server, "chat_history_pending", (n) => n === 0);
      assertEquals(await metric(server, "chat_history_written_total"), 1 + during.length);
      await alice.dispose();
      await bob.dispose();
      await stopServer(server);
      assertEquals(await historyAfterRestart(dir.path), [
        "alice before",
        ...during.map((text) => `alice ${text}`),
      ]);
    } finally {
      assert(await mountCommand("umount", [dir.path]), "unmount the tmpfs");
    }
  },
});

/** True when a directory's mode binds this user; root writes whatever the mode says. */
const modeBinds = (() => {
  const probe = Deno.makeTempDirSync({ prefix: "chat-mode-probe-" });
  try {
    Deno.chmodSync(probe, 0o500);
    Deno.writeTextFileSync(`${probe}/x`, "");
    return false;
  } catch {
    return true;
  } finally {
    Deno.chmodSync(probe, 0o700);
    Deno.removeSync(probe, { recursive: true });
  }
})();

Deno.test({
  name: "--data-dir: a directory the server cannot write is one line on stderr and exit 2",
  // An ordinary user is kept out by the directory's mode; root only by a read-only file system.
  ignore: !modeBinds && !canMount,
  async fn() {
    await using dir = await tempDir("chat-bad-data-");
    if (modeBinds) {
      await Deno.chmod(dir.path, 0o500);
    } else {
      const readOnly = ["-t", "tmpfs", "-o", "ro,size=1m,mode=0755", "tmpfs", dir.path];
      assert(await mountCommand("mount", readOnly), "mount a read-only tmpfs");
    }
    try {
      const { code, stderr } = await runToExit(["--data-dir", dir.path]);
      assertEquals(code, 2);
      const reason = modeBinds ? "permission denied" : "read-only file system";
      assertEquals(stderr, `Cannot start: --data-dir ${dir.path}: ${reason}\n`);
    } finally {
      if (modeBinds) await Deno.chmod(dir.path, 0o700);
      else assert(await mountCommand("umount", [dir.path]), "unmount the tmpfs");
    }
  },
});
