/**
 * History and IRCv3 on the IRC door, over real sockets: capability
 * negotiation, server-time and msgid tags, echo-message, the bounds of a
 * tagged line, TAGMSG, every CHATHISTORY subcommand and error, and the
 * replay on JOIN, each reply exactly once against messages sent meanwhile.
 * The history's clock is the test's, so every id and time is known.
 */
import { assert, assertEquals } from "@std/assert";
import { type RemoteDelivery, Standalone } from "../lib/cluster.ts";
import { DEFAULT_CONFIG } from "../lib/config.ts";
import { ChatHistory } from "../lib/history/chat_history.ts";
import { MemoryStore } from "../lib/history/memory_store.ts";
import type { Entry, HistoryStore, Range, StoredMessage } from "../lib/history/store.ts";
import { ECHO_MESSAGE } from "../lib/irc/irc_caps.ts";
import { ircWires } from "../lib/irc/irc_wire.ts";
import { ChatServer } from "../lib/server.ts";
import { TestClient, withServer } from "./helpers.ts";
import { Harness } from "./hub_harness.ts";
import {
  CLOCK_START,
  type HistoryClock,
  IrcClient,
  registerWith,
  withClockedServer,
} from "./irc_client.ts";

const MS = CLOCK_START;
const iso = (ms: number) => new Date(ms).toISOString();

const TIME_TAG = /time=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)/;

/** `line` with a time tag of the last minute (a live line's, not the history's clock's) as `time=NOW`. */
function live(line: string | null): string | null {
  const match = line === null ? null : TIME_TAG.exec(line);
  if (match === null) return line;
  const at = Date.parse(match[1]!);
  if (Math.abs(Date.now() - at) > 60_000) return line;
  assertEquals(iso(at), match[1], line!);
  return line!.replace(match[0], "time=NOW");
}

/** Reads lines up to the `PONG` of a fresh `PING`, live times as `time=NOW`. */
async function liveSync(irc: IrcClient): Promise<(string | null)[]> {
  return (await irc.sync()).map(live);
}

/** Joins `#chat` as `nick` and reads the answer up to 366, live times as `time=NOW`. */
async function joinChat(irc: IrcClient, nick: string): Promise<(string | null)[]> {
  await irc.send("JOIN #chat");
  const lines: (string | null)[] = [];
  while (lines.at(-1) !== `:chat 366 ${nick} #chat :End of /NAMES list.`) {
    lines.push(live(await irc.readLine()));
    assert(lines.at(-1) !== null, "closed while joining");
  }
  return lines;
}

/** Reads a batch of `type`: its opening, `body` (`{ref}` standing for its reference), its end. */
async function expectBatch(irc: IrcClient, type: string, body: readonly string[]): Promise<void> {
  const open = (await irc.readLine())!;
  const match = /^:chat BATCH \+([0-9a-z]+) (.*)$/.exec(open);
  assert(match !== null && match[2] === type, `a ${type} batch: ${open}`);
  const ref = match[1]!;
  await irc.expectLines([
    ...body.map((line) => line.replaceAll("{ref}", ref)),
    `:chat BATCH -${ref}`,
  ]);
}

/** `alice` says each text at its time (the clock set first; each applied before the next). */
async function say(alice: TestClient, clock: HistoryClock, said: readonly [number, string][]) {
  for (const [at, text] of said) {
    clock.now = at;
    await alice.send(`MSG ${text}`);
    assertEquals(await alice.sync(), []);
  }
}

/** Five messages: two in one millisecond, then one a second. */
const FIVE: readonly [number, string][] = [
  [MS, "m0"],
  [MS, "m1"],
  [MS + 1000, "m2"],
  [MS + 2000, "m3"],
  [MS + 3000, "m4"],
];
const IDS = [`${MS}-0`, `${MS}-1`, `${MS + 1000}-0`, `${MS + 2000}-0`, `${MS + 3000}-0`];

/** Message `i` of {@linkcode FIVE} as a batch line with every tag. */
const tagged = (i: number) =>
  `@batch={ref};time=${iso(FIVE[i]![0])};msgid=${IDS[i]} :alice!alice@chat PRIVMSG #chat :m${i}`;

const FULL = "server-time message-tags batch draft/chathistory";

Deno.test("IRC CAP REQ is acknowledged whole or refused whole; CAP LIST shows the set; -name turns one off", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using irc = await IrcClient.register(server, "bob", { join: false });
    await irc.send("CAP REQ :server-time batch");
    await irc.send("CAP LIST");
    await irc.send("CAP REQ :echo-message sasl");
    await irc.send("CAP REQ :-batch echo-message");
    await irc.send("CAP LIST");
    await irc.send("CAP REQ :-server-time -echo-message");
    await irc.send("CAP LIST");
    assertEquals(await irc.sync(), [
      ":chat CAP bob ACK :server-time batch",
      ":chat CAP bob LIST :server-time batch",
      ":chat CAP bob NAK :echo-message sasl",
      ":chat CAP bob ACK :-batch echo-message",
      ":chat CAP bob LIST :server-time echo-message",
      ":chat CAP bob ACK :-server-time -echo-message",
      ":chat CAP bob LIST :",
    ]);
  });
});

Deno.test("IRC server-time and message-tags: a channel message carries its id's time and its msgid", async () => {
  await withClockedServer({}, async (server, clock) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await registerWith(server, "bob", "server-time message-tags");
    assertEquals(await joinChat(bob, "bob"), [
      "@time=NOW :bob!bob@chat JOIN #chat",
      ":chat 353 bob = #chat :alice bob",
      ":chat 366 bob #chat :End of /NAMES list.",
    ]);
    await say(alice, clock, [[MS, "hello"], [MS, "again, same millisecond"], [
      MS + 61_000,
      "/me waves",
    ]]);
    await using _carol = await TestClient.login(server, "carol");
    assertEquals(await liveSync(bob), [
      `@time=${iso(MS)};msgid=${MS}-0 :alice!alice@chat PRIVMSG #chat :hello`,
      `@time=${iso(MS)};msgid=${MS}-1 :alice!alice@chat PRIVMSG #chat :again, same millisecond`,
      `@time=${iso(MS + 61_000)};msgid=${
        MS + 61_000
      }-0 :alice!alice@chat PRIVMSG #chat :\x01ACTION waves\x01`,
      "@time=NOW :carol!carol@chat JOIN #chat",
    ]);
    // A DM and a NOTICE are no history: no msgid. A DM's time is when it is sent; a NOTICE to the
    // channel is a chat message, stamped by the same clock as the history (here the test's).
    await alice.send("DM bob psst");
    assertEquals(await alice.sync(), []);
    await using dave = await IrcClient.register(server, "dave");
    await dave.send("NOTICE #chat :heads up");
    // Dave, without capabilities, had the messages replayed on joining, their times in front.
    assertEquals(await dave.sync(), [
      ":alice!alice@chat PRIVMSG #chat :[03:04] hello",
      ":alice!alice@chat PRIVMSG #chat :[03:04] again, same millisecond",
      ":alice!alice@chat PRIVMSG #chat :\x01ACTION [03:05] waves\x01",
    ]);
    assertEquals(await liveSync(bob), [
      "@time=NOW :alice!alice@chat PRIVMSG bob :psst",
      "@time=NOW :dave!dave@chat JOIN #chat",
      `@time=${iso(MS + 61_000)} :dave!dave@chat NOTICE #chat :heads up`,
    ]);
  });
});

Deno.test("IRC echo-message: the sender hears its PRIVMSG and NOTICE back, with msgid; DMs too, to itself once", async () => {
  await withClockedServer({}, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await registerWith(server, "bob", "echo-message server-time message-tags");
    await joinChat(bob, "bob");
    await bob.send("PRIVMSG #chat :hi all");
    await bob.send("NOTICE #chat :a notice");
    await bob.send("PRIVMSG alice :psst");
    await bob.send("NOTICE alice :n");
    await bob.send("PRIVMSG bob :note to self");
    await bob.send("PRIVMSG nobody :lost");
    assertEquals(await liveSync(bob), [
      `@time=${iso(MS)};msgid=${MS}-0 :bob!bob@chat PRIVMSG #chat :hi all`,
      `@time=${iso(MS)} :bob!bob@chat NOTICE #chat :a notice`,
      "@time=NOW :bob!bob@chat PRIVMSG alice :psst",
      "@time=NOW :bob!bob@chat NOTICE alice :n",
      "@time=NOW :bob!bob@chat PRIVMSG bob :note to self",
      ":chat 401 bob nobody :No such nick/channel",
    ]);
    assertEquals(await alice.sync(), [
      "MSG bob hi all",
      "MSG bob a notice",
      "DM bob psst",
      "DM bob n",
    ]);
    // Without echo-message, nothing comes back.
    await using carol = await IrcClient.register(server, "carol");
    await carol.send("PRIVMSG #chat :unechoed");
    await carol.send("PRIVMSG alice :unechoed too");
    assertEquals(await carol.sync(), [":bob!bob@chat PRIVMSG #chat :[03:04] hi all"]);
  });
});

Deno.test("IRC a CAP REQ after registration changes the wire in the hub's order: untagged before the ACK, tagged after", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await IrcClient.register(server, "bob");
    const count = 300;
    const burst = Array.from({ length: count }, (_, i) => `MSG n${i}\n`).join("");
    await Promise.all([alice.sendRaw(burst), bob.send("CAP REQ :server-time")]);
    let acked = false;
    for (let heard = 0; heard < count;) {
      const line = (await bob.readLine())!;
      if (line === ":chat CAP bob ACK :server-time") {
        assert(!acked, "one ACK");
        acked = true;
        continue;
      }
      const expected = `:alice!alice@chat PRIVMSG #chat :n${heard++}`;
      assertEquals(
        acked ? line.replace(TIME_TAG, "time=T") : line,
        acked ? `@time=T ${expected}` : expected,
      );
    }
    if (!acked) await bob.expect(":chat CAP bob ACK :server-time");
  });
});

Deno.test("IRC the 512 bytes are counted after the tags, which may take 4094; past either bound 417, the line dropped", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await IrcClient.register(server, "bob");
    const tags = "@+draft/reply=" + "r".repeat(4094 - 15) + " ";
    assertEquals(new TextEncoder().encode(tags).length, 4094);
    const head = "PRIVMSG #chat :";
    const text = "a".repeat(510 - head.length);
    await bob.send(tags + head + text);
    await bob.send("@+x=1 " + head + text);
    assertEquals(await bob.sync(), []);
    // Client tags are not relayed: the text is.
    assertEquals(await alice.sync(), [`MSG bob ${text}`, `MSG bob ${text}`]);
    await bob.send("@+x=1" + tags.slice(1) + head + "too many tags");
    await bob.send("@+x=1 " + head + text + "b");
    await bob.send(head + text + "c");
    // Past tags and line together (a 5 KB line), the framer's own cap: 417 as it passes.
    await bob.sendRaw(tags + head + "d".repeat(1024) + "\r\n");
    assertEquals(await bob.sync(), Array(4).fill(":chat 417 bob :Input line was too long"));
    await bob.send("@+x=1 PRIVMSG #chat :still here");
    assertEquals(await alice.sync(), ["MSG bob still here"]);
  });
});

Deno.test("IRC TAGMSG is taken and dropped: nothing relayed, nothing answered; 461 without a target, 451 before registration", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using alice = await IrcClient.register(server, "alice");
    await using bob = await registerWith(server, "bob", "message-tags echo-message");
    await bob.send("JOIN #chat");
    await bob.send("@+typing=active TAGMSG #chat");
    await bob.send("@+typing=active TAGMSG alice");
    await bob.send("TAGMSG");
    const lines = await bob.sync();
    assertEquals(lines.slice(-1), [":chat 461 bob TAGMSG :Not enough parameters"]);
    assert(
      !lines.some((line) => line.includes("TAGMSG #chat") || line.includes("typing")),
      lines.join("\n"),
    );
    assertEquals(await alice.sync(), [":bob!bob@chat JOIN #chat"]);
    await using early = await IrcClient.connect(server);
    await early.send("@+typing=active TAGMSG #chat");
    assertEquals(await early.sync(), [":chat 451 * :You have not registered"]);
  });
});

Deno.test("IRC CHATHISTORY: every subcommand, msgid and timestamp references, exact batches", async () => {
  await withClockedServer({}, async (server, clock) => {
    await using alice = await TestClient.login(server, "alice");
    await say(alice, clock, FIVE);
    await using bob = await registerWith(server, "bob", FULL);
    // With draft/chathistory, the client asks: nothing is replayed on JOIN.
    assertEquals(await joinChat(bob, "bob"), [
      "@time=NOW :bob!bob@chat JOIN #chat",
      ":chat 353 bob = #chat :alice bob",
      ":chat 366 bob #chat :End of /NAMES list.",
    ]);
    assertEquals(await bob.sync(), []);
    const ts = (ms: number) => `timestamp=${iso(ms)}`;
    const asks: [string, number[]][] = [
      ["LATEST #chat * 10", [0, 1, 2, 3, 4]],
      ["LATEST #chat * 2", [3, 4]],
      [`LATEST #chat msgid=${IDS[1]} 10`, [2, 3, 4]],
      // A timestamp's whole millisecond is left out: m0 and m1 share it.
      [`LATEST #chat ${ts(MS)} 10`, [2, 3, 4]],
      [`BEFORE #chat msgid=${IDS[3]} 2`, [1, 2]],
      [`BEFORE #chat ${ts(MS + 1000)} 10`, [0, 1]],
      [`AFTER #chat msgid=${IDS[0]} 2`, [1, 2]],
      [`AFTER #chat ${ts(MS)} 10`, [2, 3, 4]],
      // Half up to and including the reference, half after it.
      [`AROUND #chat msgid=${IDS[2]} 3`, [1, 2, 3]],
      [`AROUND #chat ${ts(MS + 2000)} 4`, [2, 3, 4]],
      [`BETWEEN #chat msgid=${IDS[0]} msgid=${IDS[4]} 2`, [1, 2]],
      [`BETWEEN #chat msgid=${IDS[4]} msgid=${IDS[0]} 2`, [2, 3]],
      [`BETWEEN #chat ${ts(MS)} ${ts(MS + 3000)} 10`, [2, 3]],
      ["BEFORE #chat msgid=1-0 10", []],
      ["chathistory latest #CHAT * 1", [4]],
    ];
    for (const [ask, expected] of asks) {
      await bob.send(ask.startsWith("chathistory") ? ask : `CHATHISTORY ${ask}`);
      await expectBatch(bob, "chathistory #chat", expected.map(tagged));
    }
    await bob.send(`CHATHISTORY TARGETS ${ts(MS - 1000)} ${ts(MS + 10_000)} 5`);
    await expectBatch(bob, "draft/chathistory-targets", [
      `@batch={ref} :chat CHATHISTORY TARGETS #chat ${iso(MS + 3000)}`,
    ]);
    await bob.send(`CHATHISTORY TARGETS ${ts(MS + 3000)} ${ts(MS + 2000)} 5`);
    await expectBatch(bob, "draft/chathistory-targets", []);
    assertEquals(await bob.sync(), []);
  });
});

Deno.test("IRC CHATHISTORY errors: UNKNOWN_COMMAND, INVALID_PARAMS, INVALID_TARGET for a guest's nick, 451 before login", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using _alice = await TestClient.login(server, "alice");
    await using bob = await registerWith(server, "bob", FULL);
    const fails: [string, string][] = [
      ["CHATHISTORY", "INVALID_PARAMS :Insufficient parameters"],
      ["CHATHISTORY FOO #chat * 5", "UNKNOWN_COMMAND FOO :Unknown command"],
      ["CHATHISTORY LATEST #chat *", "INVALID_PARAMS LATEST :Insufficient parameters"],
      ["CHATHISTORY LATEST #chat * 5 6", "INVALID_PARAMS LATEST :Too many parameters"],
      ["CHATHISTORY LATEST #chat * 0", "INVALID_PARAMS LATEST 0 :Invalid limit"],
      ["CHATHISTORY BEFORE #chat * 5", "INVALID_PARAMS BEFORE * :Invalid message reference"],
      ["CHATHISTORY AFTER #chat msgid=x 5", "INVALID_PARAMS AFTER msgid=x :Invalid msgid"],
      [
        "CHATHISTORY AROUND #chat timestamp=yesterday 5",
        "INVALID_PARAMS AROUND timestamp=yesterday :Invalid timestamp",
      ],
      [
        "CHATHISTORY TARGETS msgid=1-0 timestamp=2026-01-01T00:00:00.000Z 5",
        "INVALID_PARAMS TARGETS msgid=1-0 :Invalid message reference",
      ],
      [
        "CHATHISTORY LATEST alice * 5",
        "INVALID_TARGET LATEST alice :Messages could not be retrieved",
      ],
      ["CHATHISTORY LATEST * * 5", "INVALID_TARGET LATEST * :Messages could not be retrieved"],
      [
        "CHATHISTORY LATEST #other * 5",
        "INVALID_TARGET LATEST #other :Messages could not be retrieved",
      ],
    ];
    for (const [line] of fails) await bob.send(line);
    assertEquals(await bob.sync(), fails.map(([, fail]) => `:chat FAIL CHATHISTORY ${fail}`));
    await using early = await IrcClient.connect(server);
    await early.send("CHATHISTORY LATEST #chat * 5");
    await early.send("CHATHISTORY FOO");
    assertEquals(await early.sync(), Array(2).fill(":chat 451 * :You have not registered"));
  });
});

Deno.test("IRC CHATHISTORY without batch or tags: the lines alone, each with [HH:MM] in front", async () => {
  await withClockedServer({}, async (server, clock) => {
    await using alice = await TestClient.login(server, "alice");
    await say(alice, clock, [[MS, "early"], [MS + 3_600_000, "/me later"]]);
    await using bob = await registerWith(server, "bob", "draft/chathistory");
    await joinChat(bob, "bob");
    await bob.send("CHATHISTORY LATEST #chat * 10");
    assertEquals(await bob.sync(), [
      ":alice!alice@chat PRIVMSG #chat :[03:04] early",
      ":alice!alice@chat PRIVMSG #chat :\x01ACTION [04:04] later\x01",
    ]);
  });
});

Deno.test("IRC JOIN replays the latest 20 to a client without draft/chathistory: [HH:MM], @time, in a batch, as negotiated", async () => {
  await withClockedServer({}, async (server, clock) => {
    await using alice = await TestClient.login(server, "alice");
    const said: [number, string][] = Array.from(
      { length: 25 },
      (_, i) => [MS + i * 60_000, `n${i}`],
    );
    await say(alice, clock, said);
    const latest = said.slice(5);
    const hhmm = (ms: number) => iso(ms).slice(11, 16);

    // No capability: the time in front of the text, after the names.
    await using plain = await IrcClient.register(server, "plain", { join: false });
    await plain.join("plain");
    await plain.expectLines(
      latest.map(([at, text]) => `:alice!alice@chat PRIVMSG #chat :[${hhmm(at)}] ${text}`),
    );
    assertEquals(await plain.sync(), []);
    // JOIN again is no news: no replay either.
    await plain.send("JOIN #chat");
    assertEquals(await plain.sync(), []);

    // batch and server-time: tagged lines in a chathistory batch.
    await using tagged = await registerWith(server, "tagged", "batch server-time");
    await joinChat(tagged, "tagged");
    await expectBatch(
      tagged,
      "chathistory #chat",
      latest.map(([at, text]) =>
        `@batch={ref};time=${iso(at)} :alice!alice@chat PRIVMSG #chat :${text}`
      ),
    );
    assertEquals(await tagged.sync(), []);

    // message-tags alone: the msgid, and the time in front.
    await using ids = await registerWith(server, "ids", "message-tags");
    await joinChat(ids, "ids");
    await ids.expectLines(
      latest.map(([at, text]) =>
        `@msgid=${at}-0 :alice!alice@chat PRIVMSG #chat :[${hhmm(at)}] ${text}`
      ),
    );

    // PART and JOIN again: the replay again, with what was said meanwhile.
    assertEquals(await plain.sync(), [
      ":tagged!tagged@chat JOIN #chat",
      ":ids!ids@chat JOIN #chat",
    ]);
    await plain.send("PART #chat");
    await plain.expect(":plain!plain@chat PART #chat");
    await say(alice, clock, [[MS + 30 * 60_000, "while away"]]);
    await plain.join("plain");
    const again = [...latest.slice(1), [MS + 30 * 60_000, "while away"] as const];
    await plain.expectLines(
      again.map(([at, text]) => `:alice!alice@chat PRIVMSG #chat :[${hhmm(at)}] ${text}`),
    );
  });
});

/**
 * A store that answers at once (in memory) but, while `hold` is set, makes
 * every read wait for its release: a slow SQLite or Redis read, on cue.
 */
class HeldStore implements HistoryStore {
  readonly kind = "held";
  readonly assignsIds = false;
  readonly lastId = undefined;
  readonly #memory: MemoryStore;
  /** Set: reads wait. Its `started` settles when a read began, `release` lets reads go on. */
  hold: { started: PromiseWithResolvers<void>; release: PromiseWithResolvers<void> } | undefined;

  constructor(now: () => number) {
    this.#memory = new MemoryStore({ lines: 100, maxAgeMs: 86_400_000 }, now);
  }

  append(entries: readonly Entry[]): void {
    this.#memory.append(entries);
  }

  read(range: Range): readonly StoredMessage[] | Promise<readonly StoredMessage[]> {
    const hold = this.hold;
    if (hold === undefined) return this.#memory.read(range);
    hold.started.resolve();
    return hold.release.promise.then(() => this.#memory.read(range));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("IRC exactly once with a slow store: what is said while CHATHISTORY or the JOIN replay waits comes after the reply, never in it", async () => {
  const clock = { now: MS };
  const now = () => clock.now;
  const store = new HeldStore(now);
  const history = new ChatHistory({ store, now, readTimeoutMs: 10_000 });
  const config = { ...DEFAULT_CONFIG, host: "127.0.0.1", port: 0, rate: 0, ircPort: 0 };
  const server = ChatServer.listen(config, { history });
  try {
    await using alice = await TestClient.login(server, "alice");
    await say(alice, clock, [[MS, "before"]]);
    await using bob = await registerWith(server, "bob", FULL);
    await joinChat(bob, "bob");
    const hold = () => {
      const held = {
        started: Promise.withResolvers<void>(),
        release: Promise.withResolvers<void>(),
      };
      store.hold = held;
      return held;
    };

    let held = hold();
    await bob.send("CHATHISTORY LATEST #chat * 10");
    await bob.send("PING behind-the-read");
    await held.started.promise;
    await say(alice, clock, [[MS + 1000, "during the read"]]);
    store.hold = undefined;
    held.release.resolve();
    await expectBatch(bob, "chathistory #chat", [
      `@batch={ref};time=${iso(MS)};msgid=${MS}-0 :alice!alice@chat PRIVMSG #chat :before`,
    ]);
    await bob.expect(
      `@time=${iso(MS + 1000)};msgid=${
        MS + 1000
      }-0 :alice!alice@chat PRIVMSG #chat :during the read`,
    );
    await bob.expect(":chat PONG chat :behind-the-read");

    // The replay on JOIN waits the same way, after the names.
    await using carol = await IrcClient.register(server, "carol", { join: false });
    held = hold();
    const joined = carol.join("carol");
    await held.started.promise;
    await say(alice, clock, [[MS + 2000, "during the replay"]]);
    store.hold = undefined;
    held.release.resolve();
    await joined;
    await carol.expectLines([
      ":alice!alice@chat PRIVMSG #chat :[03:04] before",
      ":alice!alice@chat PRIVMSG #chat :[03:04] during the read",
      ":alice!alice@chat PRIVMSG #chat :during the replay",
    ]);
    assertEquals(await carol.sync(), []);
  } finally {
    await server.shutdown();
  }
});

Deno.test("IRC with --history-lines 0: CHATHISTORY answers an empty batch, and JOIN replays nothing", async () => {
  await withServer({ ircPort: 0, historyLines: 0 }, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await alice.send("MSG not kept");
    assertEquals(await alice.sync(), []);
    await using bob = await registerWith(server, "bob", "batch draft/chathistory");
    await bob.send("CHATHISTORY LATEST #chat * 10");
    await expectBatch(bob, "chathistory #chat", []);
    await using carol = await IrcClient.register(server, "carol");
    assertEquals(await carol.sync(), []);
  });
});

/** A cluster where every other name is on another instance, and a DM there gets `answer`. */
class Elsewhere extends Standalone {
  answer: RemoteDelivery = "sent";
  override directMessage(): RemoteDelivery {
    return this.answer;
  }
}

Deno.test("hub: a DM to another instance is echoed once sent there, and not when it went nowhere", () => {
  const cluster = new Elsewhere();
  const harness = new Harness({ cluster });
  const link = harness.open("bob");
  link.wire = ircWires({ server: "chat", channel: "#chat" })(ECHO_MESSAGE);
  harness.send(link, "LOGIN bob");
  link.take();
  harness.send(link, "DM Zoë far away");
  assertEquals(link.take(), [":bob!bob@chat PRIVMSG Zo|eb| :far away\r"]);
  cluster.answer = "not-found";
  harness.send(link, "DM nobody lost");
  assertEquals(link.take(), [":chat 401 bob nobody :No such nick/channel\r"]);
  cluster.answer = "unavailable";
  harness.send(link, "DM somebody lost too");
  assertEquals(link.take(), [
    ":chat NOTICE bob :The chat cannot reach its other servers; try again\r",
  ]);
});
