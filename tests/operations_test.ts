/** Health, metrics and logs, over real HTTP and real TCP. */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { DEFAULT_CONFIG } from "../lib/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { ChatServer } from "../lib/server.ts";
import { startServer, TestClient, withDeadline } from "./helpers.ts";

async function get(server: ChatServer, path: string): Promise<{ status: number; body: string }> {
  const addr = server.metricsAddr!;
  const response = await fetch(`http://127.0.0.1:${addr.port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** The samples of a Prometheus text body, by series (`name{labels}`). */
async function scrape(server: ChatServer): Promise<Map<string, number>> {
  const { status, body } = await get(server, "/metrics");
  assertEquals(status, 200);
  const samples = new Map<string, number>();
  for (const line of body.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

Deno.test("/metrics counts connections, users, lines, bytes and disconnects as clients come and go", async () => {
  const server = startServer({ metricsPort: 0, maxLineBytes: 64 });
  try {
    const before = await scrape(server);
    assertEquals(before.get("chat_connections"), 0);
    assertEquals(before.get("chat_users"), 0);
    assertEquals(before.get('chat_lines_received_total{command="msg"}'), 0);
    assertEquals(before.get("chat_cluster_up"), undefined, "a lone server reports no cluster");

    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    await using anonymous = await TestClient.connect(server);
    await anonymous.sync();
    await alice.send("MSG hello");
    await bob.expect("MSG alice hello");
    await alice.send("WHO");
    await alice.readLines(2);
    await alice.send("x".repeat(100));
    await alice.expect("ERR line-too-long");

    const during = await scrape(server);
    assertEquals(during.get("chat_connections"), 3);
    assertEquals(during.get("chat_users"), 2);
    assertEquals(during.get('chat_lines_received_total{command="login"}'), 2);
    assertEquals(during.get('chat_lines_received_total{command="msg"}'), 1);
    assertEquals(during.get('chat_lines_received_total{command="who"}'), 1);
    assertEquals(during.get('chat_lines_received_total{command="ping"}'), 1);
    assertEquals(during.get('chat_lines_received_total{command="ignored"}'), 1);
    assertEquals(during.get("chat_line_too_long_total"), 1);
    // OK, OK, PONG, the MSG to bob, two USER lines, ERR line-too-long.
    assertEquals(during.get("chat_lines_delivered_total"), 7);
    assert(during.get("chat_received_bytes_total")! >= 100);
    assert(during.get("chat_sent_bytes_total")! > 0);
    assertEquals(during.get("chat_outbox_queued_bytes"), 0);
    assert(during.get("process_uptime_seconds")! >= 0);
    assert(during.get("process_resident_memory_bytes")! > 0);
    assert(during.get("process_heap_used_bytes")! > 0);

    await alice.send("QUIT");
    await alice.expectClosed();
    await bob.expect("INFO alice disconnected");
    await anonymous.dispose();
    await bob.sync(); // the hub has seen the anonymous client leave once bob's PONG is back

    const after = await scrape(server);
    assertEquals(after.get("chat_connections"), 1);
    assertEquals(after.get("chat_users"), 1);
    assertEquals(after.get('chat_disconnects_total{reason="quit"}'), 1);
    assertEquals(after.get('chat_disconnects_total{reason="eof"}'), 1);
    assertEquals(after.get('chat_disconnects_total{reason="slow-consumer"}'), 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("/metrics counts refused connections as server-full disconnects", async () => {
  const server = startServer({ metricsPort: 0, maxClients: 1 });
  try {
    await using first = await TestClient.connect(server);
    await first.sync();
    await using refused = await TestClient.connect(server);
    await refused.expect("ERR server-full");
    const samples = await scrape(server);
    assertEquals(samples.get('chat_disconnects_total{reason="server-full"}'), 1);
    assertEquals(samples.get("chat_connections"), 1);
    assertEquals(samples.get("chat_connections_accepted_total"), 2);
  } finally {
    await server.shutdown();
  }
});

Deno.test("/healthz and /readyz are 200 while a lone server serves and 503 once shutdown has begun", async () => {
  const server = startServer({ metricsPort: 0 });
  let stopping: Promise<void> | undefined;
  try {
    assertEquals(await get(server, "/healthz"), { status: 200, body: "ok\n" });
    assertEquals(await get(server, "/readyz"), { status: 200, body: "ready\n" });
    assertEquals((await get(server, "/nowhere")).status, 404);
    // A client that does not hang up keeps the server in its shutdown for a while.
    await using lingering = await TestClient.login(server, "lingering");
    stopping = server.shutdown();
    await lingering.expect("ERR server-shutdown");
    assertEquals(await get(server, "/healthz"), { status: 503, body: "shutting down\n" });
    assertEquals(await get(server, "/readyz"), { status: 503, body: "shutting down\n" });
  } finally {
    await (stopping ?? server.shutdown());
  }
});

/** A logger that keeps its lines, for assertions. */
function capture(format: "text" | "json", level: "debug" | "info") {
  const lines: string[] = [];
  const waiting: { test: (line: string) => boolean; resolve: () => void }[] = [];
  const log = createLogger({
    format,
    level,
    write: (line) => {
      lines.push(line);
      for (const waiter of waiting.filter((w) => w.test(line))) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
  });
  /** Resolves once a line passing `test` has been logged (or already was); fails after 5 s. */
  const logged = (test: (line: string) => boolean) =>
    lines.some(test) ? Promise.resolve() : withDeadline(
      new Promise<void>((resolve) => waiting.push({ test, resolve })),
      5000,
      "a log line",
    );
  return { lines, log, logged };
}

async function chatAndLeave(server: ChatServer): Promise<void> {
  await using alice = await TestClient.login(server, "alice");
  const bob = await TestClient.login(server, "bob");
  await bob.send("MSG a secret about the launch");
  await alice.expect("MSG bob a secret about the launch");
  await bob.send("DM alice another secret");
  await alice.expect("DM bob another secret");
  await bob.dispose();
  await alice.expect("INFO bob disconnected");
}

/** A server on a free loopback port that logs to `log`. */
function loggedServer(log: Logger, overrides: Partial<typeof DEFAULT_CONFIG> = {}): ChatServer {
  return ChatServer.listen(
    { ...DEFAULT_CONFIG, host: "127.0.0.1", port: 0, rate: 0, ...overrides },
    {
      log,
    },
  );
}

Deno.test("logs in text: listening, login, disconnect with reason and duration, shutdown; no message text", async () => {
  const { lines, log } = capture("text", "info");
  const chat = loggedServer(log);
  await chatAndLeave(chat);
  await chat.shutdown();
  const text = lines.join("\n");
  const iso = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
  assertMatch(
    lines[0]!,
    new RegExp(`^${iso} info listening address="127\\.0\\.0\\.1:${chat.addr.port}"$`),
  );
  assertMatch(
    text,
    new RegExp(`^${iso} info login name="alice" address="127\\.0\\.0\\.1:\\d+"$`, "m"),
  );
  assertMatch(
    text,
    new RegExp(
      `^${iso} info disconnect name="bob" address="127\\.0\\.0\\.1:\\d+" reason="eof" seconds=[\\d.]+$`,
      "m",
    ),
  );
  assertMatch(text, /info shutdown begun connections=\d+/);
  assertMatch(lines.at(-1)!, /info shutdown finished seconds=[\d.]+$/);
  assert(!text.includes("secret"), "message text leaked into the log");
});

Deno.test("logs in JSON: one object per line with time, level, msg and fields; debug adds anonymous disconnects", async () => {
  const { lines, log, logged } = capture("json", "debug");
  const chat = loggedServer(log);
  const full = loggedServer(log, { maxClients: 1 });
  try {
    await chatAndLeave(chat);
    const anonymous = await TestClient.connect(full);
    await anonymous.sync();
    await using refused = await TestClient.connect(full);
    await refused.expect("ERR server-full");
    await anonymous.dispose();
    await logged((l) => l.includes('"level":"debug","msg":"disconnect"'));
  } finally {
    await chat.shutdown();
    await full.shutdown();
  }
  const records = lines.map((line) => JSON.parse(line));
  for (const record of records) {
    assertMatch(record.time, /^\d{4}-\d\d-\d\dT/);
    assert(["debug", "info", "warn", "error"].includes(record.level));
  }
  const find = (msg: string, extra: Record<string, unknown> = {}) =>
    records.find((r) => r.msg === msg && Object.entries(extra).every(([k, v]) => r[k] === v));
  assertEquals(find("listening")?.address, `127.0.0.1:${chat.addr.port}`);
  assert(find("login", { name: "bob", level: "info" }));
  assert(find("disconnect", { name: "bob", reason: "eof", level: "info" }));
  assert(find("refused: server full", { level: "warn", maxClients: 1 }));
  assert(find("disconnect", { name: undefined, reason: "eof", level: "debug" }));
  assert(find("shutdown finished"));
  assert(!lines.join("\n").includes("secret"), "message text leaked into the log");
});

Deno.test("a slow consumer's drop is logged as a warning", async () => {
  const { lines, log } = capture("text", "info");
  const chat = loggedServer(log, { maxQueueBytes: 64 * 1024 });
  try {
    await using sender = await TestClient.login(chat, "sender");
    await using sink = await TestClient.login(chat, "sink");
    const line = `MSG ${"z".repeat(4000)}\n`;
    // Far more than the kernel buffers and the 64 KiB queue hold; the sender syncs each round.
    await withDeadline(
      (async () => {
        for (let round = 0; round < 100; round++) {
          await sender.sendRaw(line.repeat(50));
          const heard = await sender.sync();
          if (heard.includes("INFO sink disconnected")) return;
        }
        throw new Error("the sink was never dropped");
      })(),
      20_000,
      "slow consumer drop",
    );
    void sink;
  } finally {
    await chat.shutdown();
  }
  assert(
    lines.some((l) => / warn disconnect name="sink" .*reason="slow-consumer"/.test(l)),
    lines.join("\n"),
  );
});

Deno.test("the first log line is the chat listener's, then the metrics listener's", async () => {
  const { lines, log } = capture("text", "info");
  const chat = loggedServer(log, { metricsPort: 0 });
  await chat.shutdown();
  assertMatch(lines[0]!, / info listening address="127\.0\.0\.1:\d+"$/);
  assertMatch(lines[1]!, / info metrics listening address="127\.0\.0\.1:\d+"$/);
});
