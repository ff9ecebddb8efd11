/**
 * Direct-message history for accounts, end to end over real sockets with a
 * real SQLite file in a temporary `--data-dir`: the copies each account
 * party keeps, `HISTORY @<name>`, its bounds, `UNREGISTER` and the
 * operator's delete, a later account under a freed name, and a restart.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { type Config, DEFAULT_CONFIG } from "../lib/config.ts";
import { openAccountsFile } from "../lib/history/accounts_table.ts";
import { HISTORY_FILE, openHistory } from "../lib/history/open_history.ts";
import { SILENT_LOGGER } from "../lib/log.ts";
import { ChatServer } from "../lib/server.ts";
import { CHEAP_HASHER, withAccounts } from "./accounts_rig.ts";
import { TestClient } from "./helpers.ts";
import { historyOf } from "./history_reply.ts";
import { CAPABILITIES, IrcClient, registerWith } from "./irc_client.ts";
import { tempDir } from "./temp_dir.ts";

/** Logs in as `name` with `password`, registering the name first when `register`. */
async function account(
  server: ChatServer,
  name: string,
  password: string,
  register = false,
): Promise<TestClient> {
  const client = await TestClient.connect(server);
  if (register) {
    await client.send(`LOGIN ${name}`);
    await client.expect("OK");
    await client.send(`REGISTER ${password}`);
    await client.expect("OK registered");
  } else {
    await client.send(`LOGIN ${name} ${password}`);
    await client.expect("OK");
  }
  return client;
}

/** Sends a DM from `from` to `to` (named `toName`) and waits for it to arrive. */
async function dm(
  from: TestClient,
  fromName: string,
  to: TestClient,
  toName: string,
  text: string,
) {
  await from.send(`DM ${toName} ${text}`);
  await to.expect(`DM ${fromName} ${text}`);
}

/** A server on `dir` (kept across calls: a restart), with accounts and a cheap hash. */
async function serve(
  dir: string,
  overrides: Partial<Config>,
  body: (server: ChatServer) => Promise<void>,
): Promise<void> {
  const config: Config = {
    ...DEFAULT_CONFIG,
    host: "127.0.0.1",
    port: 0,
    rate: 0,
    dataDir: dir,
    ...overrides,
  };
  const { history, accounts } = await openHistory(config, SILENT_LOGGER);
  const server = ChatServer.listen(config, {
    log: SILENT_LOGGER,
    history: history!,
    accounts: accounts!,
    hasher: CHEAP_HASHER,
  });
  try {
    await body(server);
  } finally {
    await server.shutdown();
  }
}

Deno.test("DM history: both accounts keep both directions; HISTORY @name answers each its own", async () => {
  await withAccounts({}, async (server) => {
    await using alice = await account(server, "alice", "password-a", true);
    await using bob = await account(server, "Bob", "password-b", true);
    await dm(alice, "alice", bob, "Bob", "hi bob");
    await dm(bob, "Bob", alice, "alice", "hi  alice\tthere ");
    await dm(alice, "alice", bob, "bob", "third");
    // A NOTICE is not history (the line door has none; the chat is not DM history either).
    await alice.send("MSG to everyone");
    await bob.expect("MSG alice to everyone");
    const a = await historyOf(alice, "HISTORY @bob");
    assertEquals(a.lines, ["alice hi bob", "Bob hi  alice\tthere ", "alice third"]);
    const b = await historyOf(bob, "HISTORY @ALICE");
    assertEquals(b.lines, a.lines);
    // Two copies, each with its own id in its own conversation.
    assert(a.ids.every((id) => !b.ids.includes(id)));
    // Bounds and paging as for the chat.
    assertEquals((await historyOf(alice, "HISTORY @bob 2")).lines, [
      "Bob hi  alice\tthere ",
      "alice third",
    ]);
    assertEquals((await historyOf(alice, `HISTORY @bob 5 ${a.ids[1]}`)).lines, ["alice hi bob"]);
    assertEquals((await historyOf(alice, `HISTORY @bob 5 ${a.ids[0]}`)).lines, []);
    assertEquals((await historyOf(alice, "HISTORY @carol")).lines, []);
    assertEquals((await historyOf(alice, "HISTORY")).lines, ["alice to everyone"]);
    await alice.send("HISTORY @bob x");
    await alice.expect("ERR invalid-history");
  });
});

Deno.test("DM history: a guest party keeps none, and a guest's HISTORY @name is ERR account-required", async () => {
  await withAccounts({}, async (server) => {
    await using alice = await account(server, "alice", "password-a", true);
    await using guest = await TestClient.login(server, "guest");
    await using other = await TestClient.login(server, "other");
    await dm(guest, "guest", alice, "alice", "from a guest");
    await dm(alice, "alice", guest, "guest", "to a guest");
    await dm(guest, "guest", other, "other", "guest to guest");
    assertEquals((await historyOf(alice, "HISTORY @guest")).lines, [
      "guest from a guest",
      "alice to a guest",
    ]);
    await guest.send("HISTORY @alice");
    await guest.expect("ERR account-required");
    await other.send("HISTORY @guest 5");
    await other.expect("ERR account-required");
    // The guest registers now: what came before stays unkept for it.
    await guest.send("REGISTER password-g");
    await guest.expect("OK registered");
    assertEquals((await historyOf(guest, "HISTORY @alice")).lines, []);
    assertEquals((await historyOf(guest, "HISTORY @other")).lines, []);
    // A DM to oneself is kept once.
    await alice.send("DM alice note to self");
    await alice.expect("DM alice note to self");
    assertEquals((await historyOf(alice, "HISTORY @alice")).lines, ["alice note to self"]);
  });
});

Deno.test("DM history: --history-lines bounds each conversation, as stored across a restart", async () => {
  await using dir = await tempDir("chat-dm-");
  await serve(dir.path, { historyLines: 3 }, async (server) => {
    await using alice = await account(server, "alice", "password-a", true);
    await using bob = await TestClient.login(server, "bob");
    await using carol = await TestClient.login(server, "carol");
    for (let i = 1; i <= 7; i++) await dm(alice, "alice", bob, "bob", `b${i}`);
    await dm(carol, "carol", alice, "alice", "c1");
    // At once, some maybe still waiting to be written: the bound holds all the same.
    assertEquals((await historyOf(alice, "HISTORY @bob 1000")).lines, [
      "alice b5",
      "alice b6",
      "alice b7",
    ]);
  });
  await serve(dir.path, { historyLines: 3 }, async (server) => {
    await using alice = await account(server, "alice", "password-a");
    assertEquals((await historyOf(alice, "HISTORY @bob 1000")).lines, [
      "alice b5",
      "alice b6",
      "alice b7",
    ]);
    assertEquals((await historyOf(alice, "HISTORY @carol")).lines, ["carol c1"]);
  });
});

Deno.test("DM history: UNREGISTER deletes only its copies; a new account of the freed name sees none", async () => {
  await withAccounts({}, async (server) => {
    await using alice = await account(server, "alice", "password-a", true);
    await using bob = await account(server, "bob", "password-b", true);
    await dm(alice, "alice", bob, "bob", "one");
    await dm(bob, "bob", alice, "alice", "two");
    await alice.send("UNREGISTER password-a");
    await alice.expect("OK unregistered");
    await alice.send("HISTORY @bob");
    await alice.expect("ERR account-required");
    // Bob's copy stays; a DM to alice, a guest now, is kept by bob alone.
    await dm(bob, "bob", alice, "alice", "three");
    assertEquals((await historyOf(bob, "HISTORY @alice")).lines, [
      "alice one",
      "bob two",
      "bob three",
    ]);
    await alice.send("REGISTER password-n");
    await alice.expect("OK registered");
    assertEquals((await historyOf(alice, "HISTORY @bob")).lines, []);
    await dm(bob, "bob", alice, "alice", "four");
    assertEquals((await historyOf(alice, "HISTORY @bob")).lines, ["bob four"]);
  });
});

Deno.test("DM history: kept across a restart; the operator's delete removes only that account's copies", async () => {
  await using dir = await tempDir("chat-dm-");
  await serve(dir.path, {}, async (server) => {
    await using alice = await account(server, "alice", "password-a", true);
    await using bob = await account(server, "bob", "password-b", true);
    await using carol = await account(server, "carol", "password-c", true);
    await dm(alice, "alice", bob, "bob", "ab");
    await dm(carol, "carol", alice, "alice", "ca");
    await dm(bob, "bob", carol, "carol", "bc");
  });
  await serve(dir.path, {}, async (server) => {
    await using alice = await account(server, "alice", "password-a");
    assertEquals((await historyOf(alice, "HISTORY @bob")).lines, ["alice ab"]);
    assertEquals((await historyOf(alice, "HISTORY @carol")).lines, ["carol ca"]);
  });
  {
    // As `chat-server accounts delete alice` does, the server stopped.
    using file = openAccountsFile(`${dir.path}/${HISTORY_FILE}`, 1000);
    const id = file.table.find("alice")!.id;
    assertEquals(file.table.remove(id), true);
  }
  await serve(dir.path, {}, async (server) => {
    await using bob = await account(server, "bob", "password-b");
    await using carol = await account(server, "carol", "password-c");
    assertEquals((await historyOf(bob, "HISTORY @alice")).lines, ["alice ab"]);
    assertEquals((await historyOf(carol, "HISTORY @alice")).lines, ["carol ca"]);
    assertEquals((await historyOf(carol, "HISTORY @bob")).lines, ["bob bc"]);
    await using alice = await account(server, "alice", "password-z", true);
    assertEquals((await historyOf(alice, "HISTORY @bob")).lines, []);
    assertEquals((await historyOf(alice, "HISTORY @carol")).lines, []);
  });
});

/** An IRC client as `nick` with `caps`, its nick then registered with NickServ: an account holder. */
async function ircAccount(server: ChatServer, nick: string, caps: string): Promise<IrcClient> {
  const irc = await registerWith(server, nick, caps, `${CAPABILITIES} sasl=PLAIN account-tag`);
  await irc.send("PRIVMSG NickServ :REGISTER password-i");
  await irc.expect(
    `:NickServ!NickServ@services NOTICE ${nick} :${nick} is registered to you now; log in with SASL or PASS`,
  );
  return irc;
}

/** The lines before `PONG`, each `[HH:MM] ` taken out (the wall clock's). */
async function untimed(irc: IrcClient): Promise<string[]> {
  return (await irc.sync()).map((line) => line.replace(/:\[\d\d:\d\d\] /, ":"));
}

Deno.test("DM history over IRC: CHATHISTORY with a nick answers the account's conversation, each line to its receiver", async () => {
  await withAccounts({ overrides: { ircPort: 0 } }, async (server) => {
    await using alice = await account(server, "alice", "password-a", true);
    await using bob = await ircAccount(server, "bob", "draft/chathistory");
    await alice.send("DM bob hi bob");
    await bob.expect(":alice!alice@chat PRIVMSG bob :hi bob");
    await bob.send("PRIVMSG alice :hi alice");
    await alice.expect("DM bob hi alice");
    await bob.send("CHATHISTORY LATEST ALICE * 10");
    assertEquals(await untimed(bob), [
      ":alice!alice@chat PRIVMSG bob :hi bob",
      ":bob!bob@chat PRIVMSG ALICE :hi alice",
    ]);
    await bob.send("CHATHISTORY BEFORE alice timestamp=2000-01-01T00:00:00.000Z 10");
    assertEquals(await bob.sync(), []);
    assertEquals((await historyOf(alice, "HISTORY @bob")).lines, ["alice hi bob", "bob hi alice"]);
    // A guest's is refused as any other target is; `*` (every conversation) is not kept.
    await using carol = await IrcClient.register(server, "carol", { join: false });
    await carol.send("CHATHISTORY LATEST alice * 5");
    await bob.send("CHATHISTORY LATEST * * 5");
    const invalid = (target: string) =>
      `:chat FAIL CHATHISTORY INVALID_TARGET LATEST ${target} :Messages could not be retrieved`;
    assertEquals(await carol.sync(), [invalid("alice")]);
    assertEquals(await bob.sync(), [invalid("*")]);
  });
});
