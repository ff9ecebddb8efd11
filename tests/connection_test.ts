/** Unit tests of one connection over a fake socket: what it posts, how it closes, and the PROXY step. */
import { assert, assertEquals } from "@std/assert";
import { CidrList } from "../lib/address.ts";
import { Connection, type ConnectionOptions } from "../lib/connection.ts";
import type { HubEvent } from "../lib/hub.ts";
import { lineDoor } from "../lib/line_door.ts";
import { SILENT_LOGGER } from "../lib/log.ts";
import { Stats } from "../lib/stats.ts";
import { DEADLINE_MS, withDeadline } from "./helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A socket whose input the test sends, one read at a time, and whose output it keeps. */
class FakeConn {
  readonly remoteAddr: Deno.NetAddr;
  written = "";
  closes = 0;
  /** Resolves when the connection half-closes. */
  readonly halfClosed: Promise<void>;
  #halfClose!: () => void;
  #input: (Uint8Array | null)[] = [];
  #reader: (() => void) | undefined;

  constructor(hostname = "192.0.2.5", port = 40000) {
    this.remoteAddr = { transport: "tcp", hostname, port };
    this.halfClosed = new Promise((resolve) => this.#halfClose = resolve);
  }

  /** Queues `text` for the next read; null: the peer hangs up. */
  send(text: string | null): void {
    this.#input.push(text === null ? null : encoder.encode(text));
    const wake = this.#reader;
    this.#reader = undefined;
    wake?.();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#input.length === 0) {
      if (this.closes > 0) throw new Deno.errors.BadResource("closed");
      await new Promise<void>((resolve) => this.#reader = resolve);
    }
    const chunk = this.#input.shift()!;
    if (chunk === null) return null;
    buffer.set(chunk);
    return chunk.length;
  }

  write(bytes: Uint8Array): Promise<number> {
    this.written += decoder.decode(bytes);
    return Promise.resolve(bytes.length);
  }

  closeWrite(): Promise<void> {
    this.#halfClose();
    return Promise.resolve();
  }

  close(): void {
    this.closes++;
    this.send(null);
  }
}

/** A connection over `conn`, with the events it posts and a promise of its release. */
function connect(conn: FakeConn, overrides: Partial<ConnectionOptions> = {}) {
  const events: HubEvent[] = [];
  const door = lineDoor(32);
  let released!: () => void;
  const whenReleased = new Promise<void>((resolve) => released = resolve);
  const stats = new Stats();
  const connection = new Connection(conn as unknown as Deno.Conn, 1, {
    door,
    maxQueueBytes: 1024,
    flood: { rate: 0, burst: 1, excessFloodMs: 1000, maxMessageBytes: door.maxMessageBytes, stats },
    lingerMs: 2000,
    post: (event) => events.push(event),
    stats,
    trustedProxies: new CidrList([]),
    proxyHeaderTimeoutMs: 1000,
    released: () => released(),
    log: SILENT_LOGGER,
    ...overrides,
  });
  const running = connection.run();
  const releasedInTime = withDeadline(whenReleased, DEADLINE_MS, "the release");
  return { connection, events, stats, running, released: releasedInTime };
}

/** The events as short text: kind, and the command's kind or the close's reason. */
function summary(events: readonly HubEvent[]): string[] {
  return events.map((event) =>
    event.kind === "command"
      ? `command ${event.command.kind}`
      : event.kind === "closed"
      ? `closed ${event.reason}`
      : event.kind
  );
}

Deno.test("Connection posts open, one command per line, and closed at the end of input", async () => {
  const conn = new FakeConn();
  const { connection, events, stats, running, released } = connect(conn);
  conn.send("LOGIN ada\nPI");
  conn.send("NG\n" + "x".repeat(40) + "\n");
  conn.send(null);
  await running;
  assertEquals(summary(events), [
    "open",
    "command login",
    "command ping",
    "line-too-long",
    "command ignored",
    "closed eof",
  ]);
  assert(events.every((event) => !("link" in event) || event.link === connection));
  assertEquals(stats.bytesIn, 12 + 3 + 41);
  connection.close("eof");
  await released;
  assertEquals(conn.closes, 1);
});

Deno.test("Connection.close writes the last line, half-closes, and releases once the peer hangs up; once", async () => {
  const conn = new FakeConn();
  const { connection, events, running, released } = connect(conn);
  assertEquals(connection.send(encoder.encode("PONG\n")), true);
  connection.close("idle");
  connection.close("shutdown");
  await withDeadline(conn.halfClosed, DEADLINE_MS, "the half-close");
  assertEquals(conn.written, "PONG\nERR idle-timeout\n");
  assertEquals(conn.closes, 0, "the socket lingers for the peer's hang-up");
  conn.send("MSG too late\n");
  conn.send(null);
  await released;
  await running;
  assertEquals(conn.closes, 1);
  assertEquals(summary(events), ["open"], "nothing is posted after close");
  assertEquals(connection.send(encoder.encode("late\n")), true);
  assertEquals(conn.written, "PONG\nERR idle-timeout\n");
});

Deno.test("Connection releases the socket lingerMs after close when the peer never hangs up", async () => {
  const conn = new FakeConn();
  const { connection, running, released } = connect(conn, { lingerMs: 20 });
  const started = performance.now();
  connection.close("shutdown");
  await released;
  assert(performance.now() - started >= 19, "released before lingerMs");
  await running;
  assertEquals(conn.written, "ERR server-shutdown\n");
  assertEquals(conn.closes, 1);
});

Deno.test("Connection for a slow consumer sends only the last line in place of what was queued", async () => {
  const conn = new FakeConn();
  const { connection, running, released } = connect(conn, { lingerMs: 20 });
  // Queued in this task, so the writer has not started when the close comes.
  connection.send(encoder.encode("MSG a queued\n"));
  connection.close("slow-consumer");
  await released;
  await running;
  assertEquals(conn.written, "ERR slow-consumer\n");
});

Deno.test("Connection behind a trusted proxy joins with the real client's address, and frames what came with the header", async () => {
  const conn = new FakeConn("10.0.0.1", 5000);
  const { connection, events, running, released } = connect(conn, {
    trustedProxies: CidrList.from(["10.0.0.0/8"]),
  });
  conn.send("PROXY TCP6 ::ffff:203.0.113.7 ::1 5555 4000\r\nPING\n");
  conn.send(null);
  await running;
  assertEquals(summary(events), ["open", "command ping", "closed eof"]);
  assertEquals(connection.ip, "203.0.113.7");
  assertEquals(connection.remote, "203.0.113.7:5555");
  connection.close("eof");
  await released;
});

Deno.test("Connection from a trusted proxy without a header is released without joining", async () => {
  const conn = new FakeConn("10.0.0.1", 5000);
  const { events, running, released } = connect(conn, {
    trustedProxies: CidrList.from(["10.0.0.0/8"]),
  });
  conn.send("LOGIN sneaky\n");
  await released;
  await running;
  assertEquals(events, []);
  assertEquals(conn.closes, 1);
});

Deno.test("Connection gives an IPv4-mapped peer's address as IPv4", async () => {
  const conn = new FakeConn("::ffff:192.0.2.9", 7);
  const { connection, running, released } = connect(conn);
  assertEquals(connection.ip, "192.0.2.9");
  assertEquals(connection.remote, "::ffff:192.0.2.9:7");
  conn.send(null);
  await running;
  connection.close("eof");
  await released;
});
