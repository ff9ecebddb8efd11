/**
 * Stalled TLS handshakes: peers that connect to a TLS port and never send a
 * ClientHello. Deno 2.9.6 keeps such a socket until the peer acts, whatever
 * the server closes (docs/operations.md), so the server bounds how many it
 * holds: the test counts the server's own descriptors from outside.
 */
import { makeCertificate } from "./certificates.ts";
import { assert, TestClient, withDeadline } from "./helpers.ts";
import { descriptorCount } from "./process_stats.ts";
import { spawnServer } from "./server_process.ts";

/** The server's `--max-clients`: also its bound on unfinished handshakes. */
const MAX_CLIENTS = 40;
/** Silent connections opened to the TLS port, more than the bound. */
const SILENT = 100;
/** Descriptors the server may open besides the held handshakes (a login, the runtime's own). */
const SLACK = 8;

/** Resolves once `done()` holds, checking every 50 ms; /proc has no event to await. */
async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  await withDeadline(
    (async () => {
      while (!done()) await new Promise((resolve) => setTimeout(resolve, 50));
    })(),
    ms,
    what,
  );
}

Deno.test("stalled TLS handshakes hold at most --max-clients descriptors, and the TLS port accepts again once they go", async () => {
  const dir = await Deno.makeTempDir();
  const silent: Deno.Conn[] = [];
  try {
    const files = await makeCertificate(dir);
    const server = await withDeadline(
      spawnServer([
        ...["--host", "127.0.0.1", "--port", "0", "--tls-port", "0"],
        ...["--tls-cert", files.cert, "--tls-key", files.key],
        ...["--idle-timeout", "2", "--max-clients", String(MAX_CLIENTS), "--log-level", "debug"],
      ]),
      10_000,
      "server start",
    );
    const pid = server.child.pid;
    try {
      const baseline = await descriptorCount(pid);

      for (let i = 0; i < SILENT; i++) {
        silent.push(await Deno.connect({ hostname: "127.0.0.1", port: server.tlsPort! }));
      }
      // The hub lets them go as idle; their sockets stay, so the pause must too.
      await until(
        () => server.log().split(`reason="idle"`).length - 1 >= MAX_CLIENTS,
        10_000,
        "the idle disconnects",
      );
      // The hub's close lingers up to 2 s before it reaches the socket; nothing may be freed then, so
      // there is no event to await: a fixed wait past it, then the count must not have grown.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const held = await descriptorCount(pid) - baseline;
      assert.ok(held <= MAX_CLIENTS + SLACK, `${held} descriptors held for ${SILENT} peers`);
      assert.match(server.log(), /tls accepts paused/);
      // Plaintext clients are still served.
      await using plain = await TestClient.login(server.port, "plain");
      await plain.send("PING");
      await plain.expect("PONG");
      assert.ok(await descriptorCount(pid) - baseline <= MAX_CLIENTS + SLACK);

      for (const conn of silent.splice(0)) conn.close();
      // The stalled handshakes fail as their peers leave: the TLS port accepts a real client again.
      const secure = await withDeadline(
        Deno.connectTls({
          hostname: "127.0.0.1",
          port: server.tlsPort!,
          caCerts: [await Deno.readTextFile(files.ca)],
        }),
        5000,
        "a TLS connect",
      );
      try {
        await withDeadline(secure.handshake(), 5000, "a TLS handshake after the pause");
      } finally {
        secure.close();
      }
    } finally {
      for (const conn of silent) conn.close();
      server.child.kill("SIGTERM");
      const status = await withDeadline(server.child.status, 10_000, "server exit");
      const log = await server.logClosed;
      assert.equal(status.code, 0, log.slice(-3000));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
