/**
 * Stalled TLS handshakes: peers that connect to a TLS port and never send a
 * ClientHello. Each has min(10 s, idle timeout) to finish, then its socket is
 * freed while the peer is still there; meanwhile they count against
 * `--max-clients` and `--max-clients-per-ip`. The tests count the server's
 * own descriptors from outside.
 */
import { assert, assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import { makeCertificate } from "./certificates.ts";
import { pollUntil, TestClient, withDeadline } from "./helpers.ts";
import { descriptorCount } from "./process_stats.ts";
import { spawnServer, type StartedServer, stopServer } from "./server_process.ts";

/** Silent connections opened to the TLS port. */
const SILENT = 100;
/** Descriptors the server may open besides the peers' (a login, a scrape, the runtime's own). */
const SLACK = 8;

/** The value of one sample on the server's `/metrics`, or undefined. */
async function metric(server: StartedServer, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** Resolves with what a silent peer reads first: `null` once the server has hung up. */
async function firstRead(conn: Deno.Conn): Promise<number | null> {
  try {
    return await conn.read(new Uint8Array(16));
  } catch {
    return null;
  }
}

/** A server with TLS and metrics on and `args` added, given to `body`, then stopped cleanly. */
async function withTlsServer(
  args: string[],
  body: (server: StartedServer, pid: number, ca: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const files = await makeCertificate(dir);
    const server = await withDeadline(
      spawnServer([
        ...["--host", "127.0.0.1", "--port", "0", "--tls-port", "0", "--metrics-port", "0"],
        ...["--tls-cert", files.cert, "--tls-key", files.key, ...args],
      ]),
      10_000,
      "server start",
    );
    try {
      await body(server, server.child.pid, await Deno.readTextFile(files.ca));
    } finally {
      await stopServer(server);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens `count` connections to `port` that send nothing. */
async function silentPeers(port: number, count: number): Promise<Deno.Conn[]> {
  const peers: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) peers.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  return peers;
}

/** A TLS client that logs in as `name` and expects `OK`. */
async function tlsLogin(port: number, ca: string, name: string): Promise<void> {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [ca] });
  try {
    await conn.write(new TextEncoder().encode(`LOGIN ${name}\n`));
    const buffer = new Uint8Array(64);
    const count = await withDeadline(conn.read(buffer), 5000, "OK over TLS");
    assertEquals(new TextDecoder().decode(buffer.subarray(0, count ?? 0)), "OK\n");
  } finally {
    conn.close();
  }
}

Deno.test("a TLS handshake unfinished at its deadline frees its descriptor while the peer stays, and the peer sees the close", async () => {
  await withTlsServer(["--idle-timeout", "2"], async (server, pid, ca) => {
    const baseline = await descriptorCount(pid);
    const peers = await silentPeers(server.tlsPort!, SILENT);
    try {
      // /proc has no event to await.
      await pollUntil(
        "the server to hold every silent peer",
        () => descriptorCount(pid),
        (count) => count >= baseline + SILENT,
      );
      assertStrictEquals(await metric(server, "chat_tls_handshakes"), SILENT);
      // The deadline is the idle timeout here, 2 s; the peers have not hung up.
      await pollUntil(
        "the stalled handshakes' descriptors to be freed",
        () => descriptorCount(pid),
        (count) => count <= baseline + SLACK,
        { ms: 8000 },
      );
      const reads = await withDeadline(Promise.all(peers.map(firstRead)), 5000, "the closes");
      assert(reads.every((read) => read === null), "every silent peer was hung up on");
      assertStrictEquals(
        await metric(server, 'chat_tls_handshakes_failed_total{reason="timeout"}'),
        SILENT,
      );
      assertEquals(await metric(server, "chat_tls_handshakes"), 0);
      await tlsLogin(server.tlsPort!, ca, "after");
    } finally {
      for (const peer of peers) peer.close();
    }
  });
});

Deno.test("TLS handshakes under way count against --max-clients-per-ip: the rest are hung up on at once", async () => {
  const perAddress = 5;
  await withTlsServer(
    [
      ...["--idle-timeout", "60", "--max-clients-per-ip", String(perAddress)],
      // Loopback is exempt by default; here it stands for any one address.
      ...["--ip-limit-exempt", "10.0.0.0/8"],
    ],
    async (server, pid, ca) => {
      const baseline = await descriptorCount(pid);
      const peers = await silentPeers(server.tlsPort!, 20);
      try {
        // The 15 past the limit read their close long before the 10 s deadline.
        const refused = await withDeadline(
          Promise.all(peers.slice(perAddress).map(firstRead)),
          5000,
          "the refused peers' close",
        );
        assert(refused.every((read) => read === null));
        assert(await descriptorCount(pid) <= baseline + perAddress + SLACK);
        assertStrictEquals(await metric(server, "chat_tls_handshakes"), perAddress);
        assertEquals(
          await metric(server, 'chat_tls_handshakes_failed_total{reason="refused"}'),
          15,
        );
        // The address is full: a real TLS client from it is refused too, plaintext is not.
        await assertRejects(() => tlsLogin(server.tlsPort!, ca, "late"));
        await using plain = await TestClient.login(server.port, "plain");
        await plain.send("PING");
        await plain.expect("PONG");
      } finally {
        for (const peer of peers) peer.close();
      }
    },
  );
});

Deno.test("TLS handshakes under way count against --max-clients", async () => {
  const maxClients = 10;
  await withTlsServer(
    ["--idle-timeout", "60", "--max-clients", String(maxClients)],
    async (server, pid) => {
      const baseline = await descriptorCount(pid);
      const peers = await silentPeers(server.tlsPort!, 30);
      try {
        const refused = await withDeadline(
          Promise.all(peers.slice(maxClients).map(firstRead)),
          5000,
          "the refused peers' close",
        );
        assert(refused.every((read) => read === null));
        assertStrictEquals(await metric(server, "chat_tls_handshakes"), maxClients);
        assertEquals(
          await metric(server, 'chat_tls_handshakes_failed_total{reason="refused"}'),
          20,
        );
        // The peers' own sockets (30, in this process) are not the server's.
        assert(await descriptorCount(pid) <= baseline + maxClients + SLACK);
      } finally {
        for (const peer of peers) peer.close();
      }
    },
  );
});
