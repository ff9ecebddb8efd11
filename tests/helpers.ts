/**
 * Test helpers: an in-process server on a free port, and a line
 * client that waits for what it expects under a deadline.
 *
 * @module
 */
import { assertEquals, assertStrictEquals } from "@std/assert";
import { type Config, DEFAULT_CONFIG } from "../lib/config.ts";
import { ChatServer, type ServerOptions } from "../lib/server.ts";
import { ClientSocket } from "./client_socket.ts";
import { LineReader } from "./line_reader.ts";

/** How long a test waits for an expected line before failing. */
export const DEADLINE_MS = 5000;

/**
 * A server on 127.0.0.1 with a free port, with `overrides` applied to the
 * defaults (and the server's test-only `options`, such as a shorter excess-flood
 * window). Flood control is off unless a test asks for it: tests send lines
 * far faster than a person would.
 */
export function startServer(
  overrides: Partial<Config> = {},
  options: ServerOptions = {},
): ChatServer {
  return ChatServer.listen({
    ...DEFAULT_CONFIG,
    host: "127.0.0.1",
    port: 0,
    rate: 0,
    ...overrides,
  }, options);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Rejects after `ms` with `message`, unless `work` settles first; the timer is always cleared. */
export async function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${message}`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** What `pollUntil` may be told besides what it waits for. */
export interface PollOptions<T> {
  /** How long to keep asking before failing (default `DEADLINE_MS`). */
  readonly ms?: number;
  /** Between two asks (default 50 ms). */
  readonly everyMs?: number;
  /** The last value in the failure message (default JSON). */
  readonly show?: (value: T) => string;
}

/**
 * Asks `probe` until `done` holds for its answer, and returns that answer; after `ms` fails
 * naming `what` and the last answer. Only for what has no event to await (/proc, /metrics, a
 * screen): anything a socket says is awaited, never polled.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => T | Promise<T>,
  done: (value: T) => boolean = Boolean,
  { ms = DEADLINE_MS, everyMs = 50, show = (value: T) => JSON.stringify(value) }: PollOptions<T> =
    {},
): Promise<T> {
  const giveUpAt = performance.now() + ms;
  while (true) {
    // A probe that hangs fails too, at the same deadline.
    const value = await withDeadline(
      Promise.resolve(probe()),
      Math.max(1, giveUpAt - performance.now()),
      `${what}: a probe's answer`,
    );
    if (done(value)) return value;
    const left = giveUpAt - performance.now();
    if (left <= 0) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}; last: ${show(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(everyMs, left)));
  }
}

/**
 * Reads `count` lines from `next` under one deadline: a client's `readLines`,
 * whatever its framing. Fails if the stream ends first.
 */
export async function readLines(
  next: () => Promise<string | null>,
  count: number,
  ms: number,
): Promise<string[]> {
  const lines: string[] = [];
  await withDeadline(
    (async () => {
      while (lines.length < count) {
        const line = await next();
        if (line === null) throw new Error(`Connection closed after ${lines.length} lines`);
        lines.push(line);
      }
    })(),
    ms,
    `waiting for ${count} lines (got ${lines.length})`,
  );
  return lines;
}

/** Where a server listens that a test did not start itself (a container, say). */
export interface ServerAddress {
  readonly hostname: string;
  readonly port: number;
}

/** A raw TCP client that reads the server's lines one by one. */
export class TestClient {
  readonly conn: Deno.TcpConn;
  readonly #socket: ClientSocket;
  readonly #lines: LineReader;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.#socket = new ClientSocket(conn);
    this.#lines = new LineReader(async () => {
      const bytes = await this.#socket.next();
      return bytes === null ? null : decoder.decode(bytes, { stream: true });
    }, "dropped");
  }

  /** Connects to `server`: a server, a port on 127.0.0.1, or an address elsewhere. */
  static async connect(server: ChatServer | number | ServerAddress): Promise<TestClient> {
    const { hostname, port } = typeof server === "number"
      ? { hostname: "127.0.0.1", port: server }
      : server instanceof ChatServer
      ? { hostname: "127.0.0.1", port: server.addr.port }
      : server;
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new TestClient(conn);
  }

  /** Connects and logs in as `name`, expecting `OK`. */
  static async login(
    server: ChatServer | number | ServerAddress,
    name: string,
  ): Promise<TestClient> {
    const client = await TestClient.connect(server);
    await client.send(`LOGIN ${name}`);
    await client.expect("OK");
    return client;
  }

  /** Sends `text` followed by `\n`. */
  async send(text: string): Promise<void> {
    await this.sendRaw(encoder.encode(text + "\n"));
  }

  /** Sends bytes as they are. */
  async sendRaw(bytes: Uint8Array | string): Promise<void> {
    await this.#socket.write(bytes);
  }

  /** The next line from the server, without its `\n`; null once the server has closed. */
  async readLine(ms = DEADLINE_MS): Promise<string | null> {
    return await withDeadline(this.#lines.next(), ms, "waiting for a line");
  }

  /** Reads one line and asserts it is `expected`. */
  async expect(expected: string, ms = DEADLINE_MS): Promise<void> {
    const line = await withDeadline(this.#lines.next(), ms, `waiting for "${expected}"`);
    assertStrictEquals(line, expected);
  }

  /** Reads `count` lines. */
  async readLines(count: number, ms = DEADLINE_MS): Promise<string[]> {
    return await readLines(() => this.#lines.next(), count, ms);
  }

  /** Asserts that the server closes the connection next, with no further line. */
  async expectClosed(ms = DEADLINE_MS): Promise<void> {
    const line = await withDeadline(this.#lines.next(), ms, "waiting for the server to close");
    assertEquals(line, null, `expected the connection to close, got line ${JSON.stringify(line)}`);
  }

  /** Reads until the server closes, each line under `ms`: the last line before the close. */
  async lastLineBeforeClose(ms = DEADLINE_MS): Promise<string | null> {
    let last: string | null = null;
    for (let line = await this.readLine(ms); line !== null; line = await this.readLine(ms)) {
      last = line;
    }
    return last;
  }

  /** Sends `PING` and reads up to its `PONG`, returning the lines before it. */
  async sync(ms = DEADLINE_MS): Promise<string[]> {
    await this.send("PING");
    const lines: string[] = [];
    await withDeadline(
      (async () => {
        while (true) {
          const line = await this.#lines.next();
          if (line === null) throw new Error("Connection closed before PONG");
          if (line === "PONG") return;
          lines.push(line);
        }
      })(),
      ms,
      "waiting for PONG",
    );
    return lines;
  }

  /** Closes the socket; safe to call twice, and after the server closed it. */
  close(): void {
    this.#socket.close();
  }

  /** Waits for a pending read to end (after close) so no op outlives the test. */
  async settle(): Promise<void> {
    await this.#socket.settle();
  }

  /** Closes and settles. */
  async dispose(): Promise<void> {
    this.close();
    await this.settle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** Runs `body` against a fresh server and always shuts the server down afterwards. */
export async function withServer(
  overrides: Partial<Config>,
  body: (server: ChatServer) => Promise<void>,
): Promise<void> {
  const server = startServer(overrides);
  try {
    await body(server);
  } finally {
    await server.shutdown();
  }
}
