/**
 * Accounts end to end, over real sockets (TCP and WebSocket), a real
 * SQLite file in a temporary `--data-dir`, and a cheap scrypt (N=2^10)
 * injected through the server's test-only option; one test keeps the real cost.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { hashPassword, verifyPassword } from "../lib/accounts/password_hash.ts";
import { Standalone } from "../lib/cluster.ts";
import { createLogger, SILENT_LOGGER } from "../lib/log.ts";
import { ChatServer, type ServerOptions } from "../lib/server.ts";
import { TestClient } from "./helpers.ts";
import { withAccounts } from "./accounts_rig.ts";
import { runTask } from "./account_task_rig.ts";
import { HeldHash, isCurrent, rehashHasher } from "./rehash_hasher.ts";
import { WsClient } from "./ws_client.ts";

/** Sends each line and expects each answer, in order. */
async function exchange(client: TestClient | WsClient, pairs: [string, string][]): Promise<void> {
  for (const [line, answer] of pairs) {
    await client.send(line);
    await client.expect(answer);
  }
}

Deno.test("accounts: every command and error on the line door, in order", async () => {
  await withAccounts({}, async (server) => {
    await using a = await TestClient.connect(server);
    await exchange(a, [
      ["REGISTER password1", "ERR login-required"],
      ["PASSWORD password1 password2", "ERR login-required"],
      ["UNREGISTER password1", "ERR login-required"],
      // The services' names are taken with a password too, before any lookup or throttle.
      ["LOGIN NickServ password1", "ERR username-taken"],
      ["LOGIN alice", "OK"],
      ["PASSWORD password1 password2", "ERR account-required"],
      ["UNREGISTER password1", "ERR account-required"],
      ["REGISTER short", "ERR weak-password"],
      ["REGISTER has space1", "ERR weak-password"],
      [`REGISTER ${"x".repeat(129)}`, "ERR weak-password"],
      ["REGISTER password1", "OK registered"],
      ["REGISTER password1", "ERR already-registered"],
      ["PASSWORD wrongpass password2", "ERR bad-password"],
      ["PASSWORD password1 short", "ERR weak-password"],
      ["PASSWORD password1", "ERR weak-password"],
      ["PASSWORD password1 password2", "OK password-changed"],
      ["LOGIN alice password2", "ERR already-logged-in"],
    ]);
    await using b = await TestClient.connect(server);
    await exchange(b, [
      ["LOGIN alice", "ERR password-required"],
      ["LOGIN alice password1", "ERR bad-password"],
      ["LOGIN bob password1", "ERR unknown-account"],
      ["LOGIN bob", "OK"],
    ]);
    await using c = await TestClient.connect(server);
    await exchange(c, [
      ["LOGIN bob", "ERR username-taken"],
      ["LOGIN bob password1", "ERR unknown-account"],
      ["LOGIN NickServ", "ERR username-taken"],
      [`LOGIN ${"x".repeat(40)} password1`, "ERR invalid-username"],
      // Names compare as names do; the account is shown as registered.
      ["LOGIN  ALICE   password2 ", "OK"],
    ]);
    await a.expect("ERR session-replaced");
    await a.expectClosed();
    await exchange(c, [
      ["UNREGISTER wrongpass", "ERR bad-password"],
      ["UNREGISTER password2", "OK unregistered"],
      ["UNREGISTER password2", "ERR account-required"],
    ]);
    await c.send("MSG still here");
    await b.expect("INFO alice disconnected");
    await b.expect("MSG alice still here");
    await using d = await TestClient.connect(server);
    await exchange(d, [
      ["LOGIN alice password2", "ERR unknown-account"],
      ["LOGIN alice", "ERR username-taken"],
    ]);
    await c.send("QUIT");
    await c.expectClosed();
    await exchange(d, [["LOGIN alice", "OK"], ["REGISTER password3", "OK registered"]]);
  });
});

Deno.test("accounts: a takeover is a departure and an arrival to the others, WATCHers included", async () => {
  await withAccounts({}, async (server) => {
    await using w = await TestClient.login(server, "w");
    await w.send("WATCH");
    await using holder = await TestClient.login(server, "carol");
    await exchange(holder, [["REGISTER password1", "OK registered"]]);
    await using next = await TestClient.connect(server);
    await exchange(next, [["LOGIN carol password1", "OK"]]);
    await holder.expect("ERR session-replaced");
    await holder.expectClosed();
    assertEquals(await w.sync(), [
      "INFO carol connected",
      "INFO carol disconnected",
      "INFO carol connected",
    ]);
    await next.send("WHO");
    assertEquals(await next.readLines(2), ["USER w", "USER carol"]);
  });
});

Deno.test("accounts: the 6th wrong password in a row is throttled, and so is the right one then", async () => {
  await withAccounts({}, async (server) => {
    await using owner = await TestClient.login(server, "dave");
    await exchange(owner, [["REGISTER password1", "OK registered"]]);
    await using guesser = await TestClient.connect(server);
    for (let i = 0; i < 5; i++) {
      await exchange(guesser, [[`LOGIN dave wrong${i}xx`, "ERR bad-password"]]);
    }
    await exchange(guesser, [
      ["LOGIN dave wrong5xx", "ERR login-throttled"],
      ["LOGIN dave password1", "ERR login-throttled"],
      // Another account from the same address is counted apart.
      ["LOGIN erin password1", "ERR unknown-account"],
    ]);
  });
});

Deno.test("accounts: 100 wrong passwords in one pipeline: 5 checked, 95 throttled, in order", async () => {
  await withAccounts({}, async (server) => {
    await using owner = await TestClient.login(server, "fay");
    await exchange(owner, [["REGISTER password1", "OK registered"]]);
    await using guesser = await TestClient.connect(server);
    let burst = "";
    for (let i = 0; i < 100; i++) burst += `LOGIN fay guess${i}xxx\n`;
    await guesser.sendRaw(burst);
    const answers = await guesser.readLines(100);
    assertEquals(answers.slice(0, 5), Array(5).fill("ERR bad-password"));
    assertEquals(answers.slice(5), Array(95).fill("ERR login-throttled"));
  });
});

Deno.test("accounts: on the WebSocket door, and a takeover across doors", async () => {
  await withAccounts({ overrides: { webPort: 0 } }, async (server) => {
    await using tcp = await TestClient.login(server, "gus");
    await using ws = await WsClient.open(server.webAddr!.port);
    await exchange(ws, [
      ["REGISTER password1", "ERR login-required"],
      ["LOGIN gus", "ERR username-taken"],
    ]);
    await exchange(tcp, [["REGISTER password1", "OK registered"]]);
    await exchange(ws, [
      ["LOGIN gus", "ERR password-required"],
      ["LOGIN gus wrongpass", "ERR bad-password"],
      ["LOGIN gus password1", "OK"],
    ]);
    await tcp.expect("ERR session-replaced");
    await tcp.expectClosed();
    await exchange(ws, [
      ["PASSWORD password1 password2", "OK password-changed"],
      ["UNREGISTER password2", "OK unregistered"],
      ["REGISTER x", "ERR weak-password"],
    ]);
  });
});

Deno.test("accounts are off without --data-dir: REGISTER gets ERR accounts-off, LOGIN is one name", async () => {
  await withAccounts({}, async (server) => {
    await using a = await TestClient.connect(server);
    await exchange(a, [
      ["REGISTER password1", "ERR login-required"],
      ["LOGIN a b", "ERR invalid-username"],
      ["LOGIN a", "OK"],
      ["REGISTER password1", "ERR accounts-off"],
      ["PASSWORD password1 password2", "ERR accounts-off"],
      ["UNREGISTER password1", "ERR accounts-off"],
    ]);
  }, false);
});

Deno.test("accounts are on for an instance in a cluster given an account store", async () => {
  const options: ServerOptions = { cluster: () => new Standalone() };
  await withAccounts({ options }, async (server) => {
    await using a = await TestClient.connect(server);
    await exchange(a, [
      ["LOGIN a b", "ERR unknown-account"],
      ["LOGIN a", "OK"],
      ["REGISTER password1", "OK registered"],
    ]);
  });
});

/** A v1 conversation that never touches accounts: every line both clients get. */
async function v1Conversation(server: ChatServer): Promise<string[]> {
  await using a = await TestClient.connect(server);
  await a.sendRaw(`LOGIN\nLOGIN ${"x".repeat(40)}\nWHO\nLOGIN amy\nMSG early\n`);
  const first = await a.readLines(4);
  await using b = await TestClient.connect(server);
  await b.sendRaw("LOGIN amy\nLOGIN  \nLOGIN bo\nWHO\nMSG hi all\nDM amy psst\nDM nobody x\n");
  const second = await b.readLines(6);
  await a.send("DM bo back");
  const third = [...await a.sync(), ...await b.sync()];
  await a.send("QUIT");
  await a.expectClosed();
  return [...first, "--", ...second, "--", ...third, "--", ...await b.sync()];
}

Deno.test("a v1 client that never touches accounts sees the same bytes with and without --data-dir", async () => {
  let without: string[] = [];
  await withAccounts({}, async (server) => {
    without = await v1Conversation(server);
  }, false);
  await withAccounts({}, async (server) => {
    assertEquals(await v1Conversation(server), without);
  });
  assertEquals(without, [
    "ERR invalid-username",
    "ERR invalid-username",
    "ERR login-required",
    "OK",
    "--",
    "ERR username-taken",
    "ERR invalid-username",
    "OK",
    "USER amy",
    "USER bo",
    "ERR user-not-found",
    "--",
    "MSG bo hi all",
    "DM bo psst",
    "DM amy back",
    "--",
    "INFO amy disconnected",
  ]);
});

Deno.test("no password reaches the log, /metrics or the data directory other than hashed", async () => {
  const lines: string[] = [];
  const log = createLogger({ format: "json", level: "debug", write: (line) => lines.push(line) });
  const passwords = Array.from({ length: 8 }, (_, i) => `Secret${i}-${crypto.randomUUID()}`);
  let files: Uint8Array[] = [];
  let metrics = "";
  await withAccounts({ log, overrides: { metricsPort: 0 } }, async (server, dataDir) => {
    await using a = await TestClient.login(server, "hal");
    await exchange(a, [
      [`REGISTER ${passwords[0]}`, "OK registered"],
      [`PASSWORD ${passwords[1]} ${passwords[2]}`, "ERR bad-password"],
      [`PASSWORD ${passwords[0]} ${passwords[3]}`, "OK password-changed"],
    ]);
    await using b = await TestClient.connect(server);
    await exchange(b, [
      [`LOGIN hal ${passwords[4]}`, "ERR bad-password"],
      [`LOGIN nobody ${passwords[5]}`, "ERR unknown-account"],
      [`LOGIN hal ${passwords[3]}`, "OK"],
      [`UNREGISTER ${passwords[6]}`, "ERR bad-password"],
      [`UNREGISTER ${passwords[3]}`, "OK unregistered"],
      [`REGISTER ${passwords[7]}`, "OK registered"],
    ]);
    await a.expect("ERR session-replaced");
    await a.expectClosed();
    const response = await fetch(`http://127.0.0.1:${server.metricsAddr!.port}/metrics`);
    metrics = await response.text();
    assert(metrics.includes('command="register"} 2'), metrics);
    await server.shutdown();
    files = [];
    for await (const entry of Deno.readDir(dataDir)) {
      if (entry.isFile) files.push(await Deno.readFile(`${dataDir}/${entry.name}`));
    }
  });
  const logText = lines.join("\n");
  assert(logText.includes('"msg":"login"'), "the log was written");
  assert(files.length > 0, "the data directory holds files");
  const encoder = new TextEncoder();
  for (const password of passwords) {
    assert(!logText.includes(password), "a password is in the log");
    assert(!metrics.includes(password), "a password is in /metrics");
    const bytes = encoder.encode(password);
    for (const file of files) assert(indexOf(file, bytes) === -1, "a password is in the data dir");
  }
});

/** Where `needle` first occurs in `haystack`, or -1. */
function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("accounts at the real scrypt cost; a check under way does not hold shutdown past 5 s", async () => {
  await withAccounts({ hasher: undefined }, async (server) => {
    await using a = await TestClient.login(server, "ida");
    await exchange(a, [["REGISTER password1", "OK registered"]]);
    await using b = await TestClient.connect(server);
    await exchange(b, [["LOGIN ida password1", "OK"]]);
    await a.expect("ERR session-replaced");
    // Three checks queued behind one another, then the server is stopped.
    await using c = await TestClient.connect(server);
    await c.sendRaw("LOGIN ida wrong1xx\nLOGIN ida wrong2xx\nLOGIN ida wrong3xx\n");
    await using d = await TestClient.connect(server);
    await d.sendRaw("LOGIN ida wrong4xx\n");
    await c.expect("ERR bad-password");
    const started = performance.now();
    await server.shutdown();
    const seconds = (performance.now() - started) / 1000;
    assert(seconds < 5, `shutdown took ${seconds} s`);
  });
});

Deno.test("accounts: an address starts at most 10 registrations an hour; then ERR login-throttled", async () => {
  await withAccounts({}, async (server) => {
    const answers: (string | null)[] = [];
    for (let i = 0; i < 12; i++) {
      await using client = await TestClient.login(server, `squatter${i}`);
      // A weak password is refused before anything starts: it does not count.
      await client.send(i === 0 ? "REGISTER short" : "REGISTER password1");
      answers.push(await client.readLine());
    }
    assertEquals(answers, [
      "ERR weak-password",
      ...Array.from({ length: 10 }, () => "OK registered"),
      "ERR login-throttled",
    ]);
  });
});

Deno.test("accounts: a right password for an older hash is rehashed at login; a set-password landing before the rehash's write stands", async () => {
  let held: HeldHash | undefined;
  const hasher = rehashHasher(() => held);
  const heard = new Map<string, () => void>();
  const logged = (message: string) => new Promise<void>((resolve) => heard.set(message, resolve));
  const log = {
    ...SILENT_LOGGER,
    info: (message: string) => heard.get(message)?.(),
  };
  await withAccounts({ hasher, log }, async (server, dataDir) => {
    const db = new DatabaseSync(`${dataDir}/chat.db`);
    const stored = () =>
      (db.prepare("SELECT hash FROM accounts WHERE key = 'gus'").get() as { hash: string }).hash;
    const scrypt = await hashPassword("password1", { logN: 10, r: 8, p: 1 });
    try {
      await using owner = await TestClient.login(server, "gus");
      await exchange(owner, [["REGISTER password1", "OK registered"]]);
      // As an older server stored it.
      db.prepare("UPDATE accounts SET hash = ? WHERE key = 'gus'").run(scrypt);
      await using wrong = await TestClient.connect(server);
      await exchange(wrong, [["LOGIN gus password2", "ERR bad-password"]]);
      assertEquals(stored(), scrypt);
      const rehashed = logged("password rehashed");
      await using right = await TestClient.connect(server);
      await exchange(right, [["LOGIN gus password1", "OK"]]);
      await rehashed;
      assert(isCurrent(stored()));
      await using again = await TestClient.connect(server);
      await exchange(again, [["LOGIN gus password1", "OK"]]);

      // The race: the rehash is held after the login's check; the operator sets a new password.
      db.prepare("UPDATE accounts SET hash = ? WHERE key = 'gus'").run(scrypt);
      held = new HeldHash("password1");
      const skipped = logged("password rehash skipped: changed meanwhile");
      await using racer = await TestClient.connect(server);
      await exchange(racer, [["LOGIN gus password1", "OK"]]);
      await held.reached;
      const set = await runTask(["set-password", "gus", "--data-dir", dataDir], "password9\n");
      assertEquals(set.code, 0, set.stderr);
      held.open();
      await skipped;
      assert(await verifyPassword("password9", stored()), "the operator's password stands");
      await using after = await TestClient.connect(server);
      await exchange(after, [["LOGIN gus password1", "ERR bad-password"]]);
    } finally {
      held?.open();
      db.close();
    }
  });
});
