/**
 * `HISTORY` latency from a Redis stream of many messages: a throwaway
 * `redis-server` filled through a pipeline (not through the chat), one
 * instance joined to it keeping as many lines, and `HISTORY <n>` asked one
 * after the other by a logged-in client, each timed to its `HIST END`. With
 * `--load`, workload B of `bench/chatload` (build it first: see README.md)
 * runs against the same instance meanwhile. Talks only to 127.0.0.1; needs
 * `redis-server`.
 *
 *   deno run --allow-all bench/redis_history.ts [--messages=1000000] [--asks=300] [--n=1000] [--load]
 *
 * @module
 */
import { parseFlagsOrExit } from "../lib/flags.ts";
import { KEYS } from "../lib/redis/keys.ts";
import { RedisProcess } from "../tests/redis_process.ts";
import { spawnServer, stopServer } from "../tests/server_process.ts";

/** Commands written at once while filling. */
const FILL_BATCH = 10_000;

function whole(text: string | undefined, fallback: number, flag: string): number {
  const n = Number(text ?? fallback);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`redis_history: --${flag} must be a whole number from 1 (see --help)`);
    Deno.exit(2);
  }
  return n;
}

/** One command in RESP. */
function resp(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${arg.length}\r\n${arg}\r\n`;
  return out;
}

/**
 * Adds `count` messages of 64 characters to the chat's stream, written as raw
 * RESP, `FILL_BATCH` commands at a time. A Redis client's promise per command
 * left this process a heap of hundreds of megabytes, whose collections were
 * then timed as the server's latency (p99 40-66 ms where the server's own
 * part stayed under 12 ms). Returns a time (ms) about halfway through the
 * messages, by this machine's clock, which Redis's ids are made of too.
 */
async function fill(port: number, count: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const stream = KEYS.history("chat:", "chat");
  const text = "x".repeat(64);
  const encoder = new TextEncoder();
  const buffer = new Uint8Array(1 << 16);
  let middle = Date.now();
  try {
    for (let at = 0; at < count; at += FILL_BATCH) {
      if (at <= count / 2) middle = Date.now();
      const size = Math.min(FILL_BATCH, count - at);
      let commands = "";
      for (let i = at; i < at + size; i++) {
        commands += resp(["XADD", stream, "*", "s", `u${i % 100}`, "t", text, "o", `f:${i}`]);
      }
      let bytes = encoder.encode(commands);
      while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
      // Each reply is an id as a bulk string: two line ends.
      let ends = 0;
      while (ends < 2 * size) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error("Redis closed the connection while filling");
        for (let i = 0; i < n; i++) if (buffer[i] === 10) ends++;
      }
    }
  } finally {
    conn.close();
  }
  return middle;
}

/**
 * A logged-in client that times replies by their bytes: it reads whole
 * chunks and looks for `HIST END`, so that the measure is the server's,
 * not a line reader's.
 */
class Reader {
  readonly #conn: Deno.TcpConn;
  readonly #buffer = new Uint8Array(1 << 20);
  #text = "";

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async login(port: number): Promise<Reader> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const reader = new Reader(conn);
    await reader.#write("LOGIN reader\n");
    await reader.#until("OK\n");
    return reader;
  }

  /** Asks `HISTORY <n>` and reads up to its end; returns how many `HIST` lines came. */
  async history(n: number, before?: string): Promise<number> {
    await this.#write(before === undefined ? `HISTORY ${n}\n` : `HISTORY ${n} ${before}\n`);
    const reply = await this.#until("HIST END\n");
    return reply.split("\nHIST ").length - (reply.startsWith("HIST ") ? 0 : 1) - 1;
  }

  close(): void {
    this.#conn.close();
  }

  async #write(text: string): Promise<void> {
    let bytes = new TextEncoder().encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(await this.#conn.write(bytes));
  }

  /** Reads until `end` has come; returns everything up to it (live lines before the reply too). */
  async #until(end: string): Promise<string> {
    const decoder = new TextDecoder();
    while (!this.#text.includes(end)) {
      const count = await this.#conn.read(this.#buffer);
      if (count === null) throw new Error(`closed before ${JSON.stringify(end)}`);
      this.#text += decoder.decode(this.#buffer.subarray(0, count), { stream: true });
    }
    const at = this.#text.indexOf(end) + end.length;
    const got = this.#text.slice(0, at);
    this.#text = this.#text.slice(at);
    return got;
  }
}

/** The `p`th percentile of sorted `values`. */
function percentile(values: readonly number[], p: number): number {
  return values[Math.min(values.length - 1, Math.floor(values.length * p))]!;
}

async function main(): Promise<void> {
  const flags = parseFlagsOrExit("redis_history", Deno.args, {
    values: ["messages", "asks", "n"],
    switches: ["help", "load", "old"],
  });
  if (flags.switches.help) {
    console.log(
      "Usage: deno run --allow-all bench/redis_history.ts [--messages=1000000] [--asks=300]\n" +
        "         [--n=1000] [--load] [--old]\n" +
        "HISTORY <n> latency from a Redis stream of --messages messages; --load runs\n" +
        "chatload's workload B against the instance meanwhile (timed after 2 s of it, once\n" +
        "the instance holds the latest messages itself); --old asks from halfway back\n" +
        "(HISTORY <n> <id>), which only Redis holds. Exits 2 on a usage error.",
    );
    return;
  }
  const messages = whole(flags.values.messages, 1_000_000, "messages");
  const asks = whole(flags.values.asks, 300, "asks");
  const n = whole(flags.values.n, 1000, "n");
  const redis = await RedisProcess.start();
  try {
    const filled = performance.now();
    const middle = await fill(redis.port, messages);
    const before = flags.switches.old ? `${middle}-0` : undefined;
    const memory = await redis.command(
      "MEMORY",
      "USAGE",
      KEYS.history("chat:", "chat"),
      "SAMPLES",
      "0",
    );
    console.error(
      `filled ${messages} messages in ${Math.round(performance.now() - filled)} ms; ` +
        `stream ${memory.slice(1)} bytes`,
    );
    const server = await spawnServer([
      ...["--host", "127.0.0.1", "--port", "0", "--rate", "0"],
      ...["--redis-url", redis.url, "--history-lines", String(messages)],
    ]);
    await server.logged(/cluster joined/);
    // Workload B for as long as the asks take (each about 60 ms), at 100 messages a second a sender.
    const loadMessages = Math.ceil(asks * 0.07 + 7) * 100;
    const load = flags.switches.load
      ? new Deno.Command(new URL("chatload", import.meta.url), {
        args: [
          ...["--proto", "seed", "--port", String(server.port), "--clients", "100"],
          ...["--senders", "10", "--messages", String(loadMessages), "--rate", "100"],
          ...["--payload", "64"],
        ],
        stdout: "piped",
        stderr: "null",
      }).spawn()
      : undefined;
    const reader = await Reader.login(server.port);
    // What B sends in its first 2 s (2,000 messages) is the latest the instance holds itself.
    if (load !== undefined) await new Promise((resolve) => setTimeout(resolve, 2000));
    const times: number[] = [];
    for (let i = 0; i < asks; i++) {
      const asked = performance.now();
      const lines = await reader.history(n, before);
      times.push(performance.now() - asked);
      if (lines !== Math.min(n, messages)) throw new Error(`HISTORY ${n} gave ${lines} lines`);
      // A reader paging back, not a flood: one request every 50 ms (as bench/history_latency.ts).
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    reader.close();
    const loadReport = load === undefined
      ? undefined
      : new TextDecoder().decode((await load.output()).stdout).trim().split("\n").at(-1);
    await stopServer(server);
    times.sort((a, b) => a - b);
    const report = {
      messages,
      n,
      asks,
      load: load !== undefined,
      reads: before === undefined ? "latest" : "old",
      p50Ms: Math.round(percentile(times, 0.5) * 100) / 100,
      p99Ms: Math.round(percentile(times, 0.99) * 100) / 100,
      maxMs: Math.round(times.at(-1)! * 100) / 100,
      ...(loadReport === undefined ? {} : { chatload: JSON.parse(loadReport) }),
    };
    console.log(JSON.stringify(report));
  } finally {
    await redis.stop();
  }
}

if (import.meta.main) await main();
