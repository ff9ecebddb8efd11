/**
 * End-to-end tests of `HISTORY` over real sockets: exact replies on TCP and
 * WebSocket, the settings that bound it, its reply budget, a flood of
 * requests, and the exactly-once rule raced by many writers.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { type Config, DEFAULT_CONFIG } from "../lib/config.ts";
import { openHistory } from "../lib/history/open_history.ts";
import { SILENT_LOGGER } from "../lib/log.ts";
import { ChatServer } from "../lib/server.ts";
import { TestClient, withServer } from "./helpers.ts";
import { tempDir } from "./temp_dir.ts";
import { WsClient } from "./ws_client.ts";
import { ID } from "./history_reply.ts";

/** The HIST lines of one reply up to `HIST END`, each split into id and the rest. */
async function historyOf(client: TestClient, ask = "HISTORY"): Promise<[string, string][]> {
  await client.send(ask);
  const lines: [string, string][] = [];
  for (;;) {
    const line = await client.readLine();
    assert(line !== null, "closed before HIST END");
    if (line === "HIST END") return lines;
    const match = /^HIST (\S+) (.*)$/.exec(line);
    assert(match !== null, `not a HIST line: ${line}`);
    lines.push([match[1]!, match[2]!]);
  }
}

Deno.test("HISTORY over TCP: the latest messages with their ids, oldest first, text as delivered", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    await alice.send("MSG  hello,\tworld ");
    await bob.expect("MSG alice  hello,\tworld ");
    await bob.send("MSG Zo\u00e9 \u{1F600}");
    await alice.expect("MSG bob Zo\u00e9 \u{1F600}");
    await bob.send("DM alice not for history");
    await alice.expect("DM bob not for history");
    await using late = await TestClient.login(server, "late");
    const reply = await historyOf(late);
    assertEquals(reply.map(([, rest]) => rest), [
      "alice  hello,\tworld ",
      "bob Zo\u00e9 \u{1F600}",
    ]);
    for (const [id] of reply) assertMatch(id, ID);
    assert(reply[0]![0] < reply[1]![0] || reply[0]![0].length < reply[1]![0].length);
    // Paging back from the newest id gives the one before it, and nothing before the first.
    assertEquals(await historyOf(late, `HISTORY 5 ${reply[1]![0]}`), [reply[0]!]);
    assertEquals(await historyOf(late, `HISTORY 5 ${reply[0]![0]}`), []);
    assertEquals(await historyOf(late, "HISTORY 1"), [reply[1]!]);
  });
});

Deno.test("HISTORY needs a login and answers malformed asks with ERR invalid-history", async () => {
  await withServer({}, async (server) => {
    await using client = await TestClient.connect(server);
    await client.send("HISTORY");
    await client.expect("ERR login-required");
    await client.send("LOGIN carol");
    await client.expect("OK");
    for (
      const bad of ["HISTORY 0", "HISTORY -3", "HISTORY 2 abc", "HISTORY 2 1-2 3", "HISTORY x"]
    ) {
      await client.send(bad);
      await client.expect("ERR invalid-history");
    }
    await client.send("HISTORY @bob");
    await client.expect("ERR account-required");
    await client.send("HISTORY 99999");
    await client.expect("HIST END");
  });
});

Deno.test("HISTORY over a WebSocket: one text frame per line", async () => {
  await withServer({ webPort: 0 }, async (server) => {
    await using web = await WsClient.login(server.webAddr!.port, "webby");
    await using tcp = await TestClient.login(server, "tcp");
    await tcp.send("MSG from tcp");
    await web.expect("MSG tcp from tcp");
    await web.send("HISTORY");
    const line = await web.readLine();
    assertMatch(line ?? "", /^HIST \d{13}-\d+ tcp from tcp$/);
    await web.expect("HIST END");
    await web.send("HISTORY nonsense");
    await web.expect("ERR invalid-history");
  });
});

Deno.test("--history-lines bounds what is kept; 0 keeps nothing", async () => {
  await withServer({ historyLines: 3 }, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    for (let i = 1; i <= 5; i++) await alice.send(`MSG m${i}`);
    assertEquals((await historyOf(alice)).map(([, rest]) => rest), [
      "alice m3",
      "alice m4",
      "alice m5",
    ]);
  });
  await withServer({ historyLines: 0 }, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await alice.send("MSG kept nowhere");
    assertEquals(await historyOf(alice), []);
  });
});

Deno.test("a HISTORY reply stops early, its oldest lines left out, within half of --max-queue-bytes", async () => {
  const maxQueueBytes = 64 * 1024;
  await withServer({ maxQueueBytes }, async (server) => {
    await using writer = await TestClient.login(server, "writer");
    const padding = "x".repeat(1000);
    for (let i = 0; i < 100; i++) await writer.send(`MSG ${String(i).padStart(3, "0")} ${padding}`);
    await using reader = await TestClient.login(server, "reader");
    const reply = await historyOf(reader, "HISTORY 1000");
    const bytes = reply.reduce((sum, [id, rest]) => sum + `HIST ${id} ${rest}\n`.length, 9);
    assert(bytes <= maxQueueBytes / 2, `${bytes} bytes`);
    // Each line is about 1,030 bytes: 31 fit in 32 KiB; they are the newest, in order.
    assertEquals(reply.length, 31);
    assertEquals(
      reply.map(([, rest]) => rest.slice(7, 10)),
      Array.from({ length: 31 }, (_, i) => String(69 + i).padStart(3, "0")),
    );
  });
});

async function metric(server: ChatServer, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsAddr!.port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert(line !== undefined, `no ${name}`);
  return Number(line.slice(name.length + 1));
}

Deno.test("a client asking for 1,000 lines a thousand times is slowed by flood control and dropped at its queue limit; others chat on", async () => {
  const settings: Partial<Config> = {
    rate: 20,
    burst: 50,
    metricsPort: 0,
    maxQueueBytes: 256 * 1024,
  };
  await withServer(settings, async (server) => {
    // Five writers stay within their burst: 100 messages of 4 KB in the history.
    const writers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => TestClient.login(server, `w${i}`)),
    );
    const padding = "y".repeat(4000);
    for (const [i, writer] of writers.entries()) {
      let batch = "";
      for (let j = 0; j < 20; j++) batch += `MSG ${i}.${j} ${padding}\n`;
      await writer.sendRaw(batch);
    }
    await using bystander = await TestClient.login(server, "bystander");
    for (const writer of writers) await writer.sync();
    await using hog = await TestClient.login(server, "hog");
    // It never reads: a thousand HISTORY 1000 at once.
    await hog.sendRaw("HISTORY 1000\n".repeat(1000));
    await writers[0]!.expect("INFO hog disconnected", 10_000);
    assert(await metric(server, "chat_throttled_total") >= 1, "flood control paused it");
    assertEquals(await metric(server, 'chat_disconnects_total{reason="slow-consumer"}'), 1);
    await writers[1]!.send("MSG still here");
    await bystander.expect("INFO hog disconnected");
    await bystander.expect("MSG w1 still here");
    for (const writer of writers) await writer.dispose();
  });
});

/** One reader's view of the chat: replies' lines and live lines after its first reply. */
interface ReaderView {
  readonly fromHistory: string[];
  readonly live: string[];
}

/**
 * Logs `name` in while others write, asks `HISTORY <page>` and pages back
 * to the beginning, reading live lines meanwhile until `total` messages are
 * seen; live lines before the first reply are dropped, as a client that
 * redraws from the history does.
 */
async function readWhileWritten(
  server: ChatServer,
  name: string,
  page: number,
  total: number,
): Promise<ReaderView> {
  await using reader = await TestClient.login(server, name);
  const view: ReaderView = { fromHistory: [], live: [] };
  let replied = false;
  let oldest: string | undefined;
  let asking = true;
  await reader.send(`HISTORY ${page}`);
  while (view.fromHistory.length + view.live.length < total || asking) {
    const line = await reader.readLine(10_000);
    assert(line !== null, `${name} was closed`);
    if (line.startsWith("MSG ")) {
      if (replied) view.live.push(line.slice(4));
      continue;
    }
    if (line === "HIST END") {
      replied = true;
      if (!asking) continue;
      if (oldest === undefined) asking = false;
      else await reader.send(`HISTORY ${page} ${oldest}`);
      oldest = undefined;
      continue;
    }
    const match = /^HIST (\S+) (.*)$/.exec(line);
    if (match === null) continue; // INFO lines
    oldest ??= match[1]!;
    view.fromHistory.push(match[2]!);
  }
  return view;
}

/** Runs `body` against a server whose history is in memory, or in SQLite in a fresh --data-dir. */
async function withStore(
  store: "memory" | "sqlite",
  body: (server: ChatServer) => Promise<void>,
): Promise<void> {
  await using dir = await tempDir("chat-history-");
  const config: Config = {
    ...DEFAULT_CONFIG,
    host: "127.0.0.1",
    port: 0,
    rate: 0,
    dataDir: store === "sqlite" ? dir.path : undefined,
  };
  const { history } = await openHistory(config, SILENT_LOGGER);
  const server = ChatServer.listen(config, { history: history! });
  try {
    await body(server);
  } finally {
    await server.shutdown();
  }
}

for (const store of ["memory", "sqlite"] as const) {
  Deno.test(`exactly once (${store}): readers paging back while ten writers send see every message once, in a reply or live`, async () => {
    const writers = 10;
    const each = 150;
    await withStore(store, async (server) => {
      const clients = await Promise.all(
        Array.from({ length: writers }, (_, i) => TestClient.login(server, `w${i}`)),
      );
      // Readers log in a third and two thirds of the way through the writing.
      const third = Promise.withResolvers<void>();
      const twoThirds = Promise.withResolvers<void>();
      const writing = Promise.all(clients.map(async (client, i) => {
        for (let j = 0; j < each; j += 10) {
          let batch = "";
          for (let k = j; k < j + 10; k++) batch += `MSG ${i}:${k}\n`;
          await client.sendRaw(batch);
          // Paced by a round trip, so that the readers arrive in the middle of the stream.
          await client.sync(10_000);
          if (i === 0 && j === each / 3) third.resolve();
          if (i === 0 && j === (2 * each) / 3) twoThirds.resolve();
        }
      }));
      const total = writers * each;
      const views = await Promise.all([
        third.promise.then(() => readWhileWritten(server, "early", 25, total)),
        twoThirds.promise.then(() => readWhileWritten(server, "late", 40, total)),
      ]);
      await writing;
      const expected = Array.from(
        { length: writers },
        (_, i) => Array.from({ length: each }, (_, k) => `w${i} ${i}:${k}`),
      ).flat().sort();
      for (const view of views) {
        const seen = [...view.fromHistory, ...view.live].sort();
        assertEquals(seen.length, total);
        assertEquals(seen, expected);
        assert(view.fromHistory.length > 0 && view.live.length > 0, "both paths were raced");
      }
      for (const client of clients) await client.dispose();
    });
  });
}
