/**
 * Slow HTTP: hundreds of connections that send half a request head and stop,
 * on the metrics port and on the web port. The server must answer
 * `/healthz` meanwhile, and give back every descriptor at the head deadline:
 * counted in `/proc/self/fd` (the server runs in this process), not timed.
 */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { METRICS_MAX_CONNECTIONS } from "../lib/metrics.ts";
import { CidrList } from "../lib/address.ts";
import type { ChatServer } from "../lib/server.ts";
import { withDeadline, withServer } from "./helpers.ts";
import { socketInodes } from "./process_stats.ts";

/** Connections that send a partial head and stop. */
const SLOW_CLIENTS = 300;
/** The idle timeout in the tests, which makes the head deadline 1 s. */
const IDLE_TIMEOUT_S = 1;
/** Longest wait for every slow client to be answered and closed. */
const RELEASE_DEADLINE_MS = 8000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What `command` prints. */
async function output(command: string, args: string[]): Promise<string> {
  const { stdout, success } = await new Deno.Command(command, { args, stderr: "null" }).output();
  assert(success, `${command} ${args.join(" ")} failed`);
  return decoder.decode(stdout);
}

/**
 * The server's own descriptors for connections accepted on `port`: this
 * process's descriptors (`ls -l /proc/<pid>/fd`) that are TCP sockets
 * whose local port is `port`, its listener left out. Counted through
 * subprocesses because reading `/proc` from Deno needs `--allow-all`, and
 * by port because the clients' descriptors and the runtime's own share the
 * process with the server.
 */
async function serverDescriptors(port: number): Promise<number> {
  const inodes = await socketInodes(Deno.pid);
  const table = await output("cat", ["/proc/net/tcp", "/proc/net/tcp6"]);
  let count = 0;
  for (const line of table.split("\n")) {
    // sl, local address:port, remote address:port, state (0A: listening), …, inode (10th).
    const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
    if (local === undefined || inode === undefined || state === "0A") continue;
    if (parseInt(local.split(":")[1] ?? "", 16) === port && inodes.has(inode)) count++;
  }
  return count;
}

/** Everything `conn` receives until the server closes it (a reset counts as a close). */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(1024);
  let text = "";
  try {
    for (let count = await conn.read(buffer); count !== null; count = await conn.read(buffer)) {
      text += decoder.decode(buffer.subarray(0, count));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  }
  return text;
}

/** What `conn` receives until `text` has come, or the close. */
async function readUntil(conn: Deno.Conn, text: string): Promise<string> {
  const buffer = new Uint8Array(1024);
  let received = "";
  while (!received.includes(text)) {
    const count = await conn.read(buffer);
    if (count === null) break;
    received += decoder.decode(buffer.subarray(0, count));
  }
  return received;
}

/** One whole exchange on a fresh connection: `request` out, everything back until the close. */
async function exchange(port: number, request: string): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(request));
  return await readToEnd(conn);
}

/** `count` connections to `port`, each having sent `partial` (a head without its blank line). */
async function openSlowClients(port: number, partial: string): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < SLOW_CLIENTS; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(conn);
    await conn.write(encoder.encode(partial));
  }
  return conns;
}

/** Asserts `/healthz` is answered 200 `ok` now. */
async function assertHealthy(server: ChatServer): Promise<void> {
  const reply = await withDeadline(
    exchange(
      server.metricsAddr!.port,
      "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ),
    2000,
    "/healthz while slow clients hang",
  );
  assertMatch(reply, /^HTTP\/1\.1 200 OK\r\n/);
  assert(reply.endsWith("\r\n\r\nok\n"), reply);
}

/**
 * Waits for the server to close every slow client, asserts each was told 408
 * (or 429, or reset), and that the server then holds none of their
 * descriptors.
 */
async function assertAllReleased(conns: Deno.Conn[], port: number): Promise<void> {
  try {
    const replies = await withDeadline(
      Promise.all(conns.map(readToEnd)),
      RELEASE_DEADLINE_MS,
      "the server closing every slow client",
    );
    for (const reply of replies) {
      if (reply !== "") assertMatch(reply, /^HTTP\/1\.1 (408 Request Timeout|429 Too Many)/);
    }
    assertEquals(await serverDescriptors(port), 0, "server-side descriptors still held");
  } finally {
    for (const conn of conns) conn.close();
  }
}

Deno.test("300 partial requests on the metrics port: /healthz still answers, at most the cap is held, all are freed at the deadline", async () => {
  await withServer({ metricsPort: 0, idleTimeout: IDLE_TIMEOUT_S }, async (server) => {
    const port = server.metricsAddr!.port;
    const conns = await openSlowClients(
      port,
      "GET /metrics HTTP/1.1\r\nHost: x\r\n",
    );
    await assertHealthy(server);
    // The health check was accepted after every slow client, so all have reached the server.
    assert(await serverDescriptors(port) > 0, "the count sees the server's sockets");
    const held = await serverDescriptors(port);
    // One more than the cap: the oldest slow client, dropped for the health check, may be closing.
    assert(held <= METRICS_MAX_CONNECTIONS + 1, `the metrics port holds ${held} connections`);
    await assertAllReleased(conns, port);
    await assertHealthy(server);
  });
});

Deno.test("300 partial requests on the web port: each gets 408 at the deadline and its descriptor back; chat and /healthz go on", async () => {
  const overrides = {
    webPort: 0,
    metricsPort: 0,
    idleTimeout: IDLE_TIMEOUT_S,
    maxClientsPerIp: 1000,
    ipLimitExempt: new CidrList([]),
  };
  await withServer(overrides, async (server) => {
    const port = server.webAddr!.port;
    const conns = await openSlowClients(port, "GET / HTTP/1.1\r\nHost: x\r\n");
    await assertHealthy(server);
    const pong = await withDeadline(
      exchange(server.addr.port, "PING\nQUIT\n"),
      2000,
      "PONG on the chat port while slow clients hang",
    );
    assertMatch(pong, /^PONG\n/);
    const held = await serverDescriptors(port);
    assertStrictEquals(
      held,
      conns.length,
      "each slow client holds one descriptor until its deadline",
    );
    await assertAllReleased(conns, port);
  });
});

Deno.test("partial web requests from one address take only its --max-clients-per-ip slots, and its chat waits for the deadline", async () => {
  // A deadline of 2 s: the 16 held connections are still held while the test looks.
  // Loopback is exempt from the per-address limit by default: this test takes the exemption away.
  const overrides = {
    webPort: 0,
    idleTimeout: 2,
    maxClientsPerIp: 16,
    ipLimitExempt: new CidrList([]),
  };
  await withServer(overrides, async (server) => {
    const port = server.webAddr!.port;
    const conns = await openSlowClients(port, "GET / HTTP/1.1\r\nHost: x\r\n");
    try {
      // Past its 16 slots each is refused at once, long before the deadline (the socket
      // itself lingers for the peer's hang-up, as every refusal does).
      const refused = await withDeadline(
        Promise.all(conns.slice(16).map((conn) => readUntil(conn, "Too Many Requests\n"))),
        1500,
        "the refusals past the per-address limit",
      );
      for (const reply of refused) {
        if (reply !== "") assertMatch(reply, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
      }
      const held = await serverDescriptors(port);
      assert(held <= 16, `the server holds ${held} connections from one address`);
      // The limit counts every door: this address's chat waits for the deadline too.
      const chat = await exchange(server.addr.port, "PING\n");
      assertMatch(chat, /too-many-connections/);
    } finally {
      await assertAllReleased(conns, port);
    }
  });
});
