/**
 * `HISTORY 1000` latency from a large store: fills a store with
 * `--messages` messages (straight into it, not through the chat), starts the
 * server on it, and times `HISTORY 1000` from the request to its `HIST END`,
 * first alone, then while workload B (chatload: 100 clients, 10 senders at
 * 100 messages a second) runs beside it. Prints one JSON line per phase.
 *
 * Run: deno run -A bench/history_latency.ts --store=sqlite [--messages=1000000] [--requests=200]
 *
 * @module
 */
import { parseFlagsOrExit } from "../lib/flags.ts";
import { SqliteStore } from "../lib/history/sqlite_store.ts";
import { CHAT, type Entry } from "../lib/history/store.ts";
import { spawnServer, stopServer } from "../tests/server_process.ts";

const { values } = parseFlagsOrExit("history_latency", Deno.args, {
  values: ["store", "messages", "requests"],
  switches: [],
});
const store = values.store ?? "sqlite";
const messages = Number(values.messages ?? 1_000_000);
const requests = Number(values.requests ?? 200);
if (store !== "sqlite") {
  console.error(`history_latency: --store=sqlite is what this measures (got ${store})`);
  Deno.exit(2);
}
const RETENTION = { lines: messages, maxAgeMs: 30 * 86_400_000 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes `messages` chat messages of about 60 bytes, ids one millisecond apart, ending now. */
async function fillSqlite(dir: string): Promise<number> {
  const started = performance.now();
  const sqlite = await SqliteStore.open(`${dir}/chat.db`, RETENTION);
  const first = Date.now() - messages;
  for (let at = 0; at < messages; at += 10_000) {
    const batch: Entry[] = [];
    for (let i = at; i < Math.min(messages, at + 10_000); i++) {
      batch.push({
        conversation: CHAT,
        sender: `user${i % 50}`,
        text: `message ${i} ${"x".repeat(40)}`,
        id: `${first + i}-0`,
      });
    }
    await sqlite.append(batch);
  }
  await sqlite.close();
  return (performance.now() - started) / 1000;
}

/** Times `count` HISTORY 1000 requests, one after another, on one connection. */
async function timeHistory(port: number, count: number): Promise<number[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const buffer = new Uint8Array(1 << 16);
  // Lines split a whole read at a time: slicing the rest off after each line would copy a
  // 64 KB read a thousand times and time this reader instead of the server.
  let lines: string[] = [];
  let next = 0;
  let partial = "";
  const nextLine = async (): Promise<string> => {
    while (next >= lines.length) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("server closed");
      const text = partial + decoder.decode(buffer.subarray(0, n), { stream: true });
      lines = text.split("\n");
      partial = lines.pop()!;
      next = 0;
    }
    return lines[next++]!;
  };
  await conn.write(encoder.encode("LOGIN timer\n"));
  while ((await nextLine()) !== "OK");
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await conn.write(encoder.encode("HISTORY 1000\n"));
    let received = 0;
    for (let line = await nextLine(); line !== "HIST END"; line = await nextLine()) {
      if (line.startsWith("HIST ")) received++;
    }
    times.push(performance.now() - started);
    if (received < 300) throw new Error(`only ${received} lines in a reply`);
    // A reader paging back, not a flood: one request every 50 ms.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  conn.close();
  return times;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function report(phase: string, times: number[], extra: Record<string, unknown> = {}): void {
  const sorted = [...times].sort((a, b) => a - b);
  const ms = (x: number) => Math.round(x * 100) / 100;
  console.log(JSON.stringify({
    store,
    messages,
    phase,
    requests: times.length,
    p50_ms: ms(quantile(sorted, 0.5)),
    p99_ms: ms(quantile(sorted, 0.99)),
    max_ms: ms(sorted.at(-1)!),
    ...extra,
  }));
}

const dir = await Deno.makeTempDir({ prefix: "chat-history-bench-" });
try {
  const fillSeconds = await fillSqlite(dir);
  const server = await spawnServer([
    "--host=127.0.0.1",
    "--port=0",
    "--rate=0",
    `--data-dir=${dir}`,
    `--history-lines=${messages}`,
  ]);
  try {
    report("alone", await timeHistory(server.port, requests), { fill_s: Math.round(fillSeconds) });
    // Workload B beside it, for as long as the timing takes (about requests x 60 ms).
    const seconds = Math.ceil((requests * 0.07) + 5);
    const load = new Deno.Command(new URL("chatload", import.meta.url).pathname, {
      args: [
        "--proto=seed",
        `--port=${server.port}`,
        "--clients=100",
        "--senders=10",
        `--messages=${seconds * 100}`,
        "--rate=100",
        "--payload=64",
        `--timeout=${seconds + 30}`,
        `--server-pid=${server.child.pid}`,
      ].flatMap((arg) => arg.split("=")),
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // Let its clients log in and start sending.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const times = await timeHistory(server.port, requests);
    const output = decoder.decode((await load.output()).stdout).trim().split("\n").at(-1) ?? "";
    const b = output.startsWith("{") ? JSON.parse(output) : {};
    report("with workload B", times, {
      b_deliv_per_s: b.deliv_per_s,
      b_p99_us: b.p99_us,
      b_lost: b.lost,
    });
  } finally {
    await stopServer(server);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
