/** Out of descriptors: the server, under a hard limit, keeps its clients, logs, and recovers. */
import { assert, assertEquals } from "@std/assert";
import { makeCertificate } from "./certificates.ts";
import { TestClient, withDeadline } from "./helpers.ts";
import { cpuTicks, descriptorCount } from "./process_stats.ts";
import { spawnServer, stopServer } from "./server_process.ts";

/** The server's hard descriptor limit: well below the connections the test opens. */
const FD_LIMIT = 256;
/** Connections opened across every port, to run the server out of descriptors. */
const FLOOD = 400;
/** How long the CPU time is measured while accepts fail. */
const MEASURE_MS = 3000;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

Deno.test("out of descriptors, the server logs once a second, keeps its clients, does not spin, and accepts again", async () => {
  const dir = await Deno.makeTempDir();
  const flood: Deno.Conn[] = [];
  try {
    const files = await makeCertificate(dir);
    const server = await withDeadline(
      spawnServer(
        [
          ...["--host", "127.0.0.1", "--port", "0", "--metrics-port", "0", "--web-port", "0"],
          ...["--irc-port", "0", "--irc-tls-port", "0", "--tls-port", "0"],
          ...["--tls-cert", files.cert, "--tls-key", files.key, "--idle-timeout", "60"],
        ],
        {},
        FD_LIMIT,
      ),
      10_000,
      "server start",
    );
    const pid = server.child.pid;
    try {
      const portOf = (label: string) =>
        Number(server.log().match(new RegExp(` ${label} address="[^"]*:(\\d+)"`))![1]);
      const ports = [
        server.port,
        server.tlsPort!,
        server.metricsPort!,
        portOf("listening web"),
        portOf("listening irc"),
        portOf("listening irc tls"),
      ];
      await using alice = await TestClient.login(server.port, "alice");
      await using bob = await TestClient.login(server.port, "bob");
      // Every port goes on accepting once descriptors free up, the metrics port included.
      for (let i = 0; flood.length < FLOOD; i++) {
        flood.push(await Deno.connect({ hostname: "127.0.0.1", port: ports[i % ports.length]! }));
      }
      await withDeadline(server.logged(/accept failed/), 10_000, "the accept failed line");
      assert(await descriptorCount(pid) <= FD_LIMIT);

      // A fixed wait is the measurement itself: CPU time spent while every accept fails.
      const before = await cpuTicks(pid);
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
      const seconds = (performance.now() - started) / 1000;
      const busy = (await cpuTicks(pid) - before) / TICKS_PER_SECOND / seconds;
      assert(busy < 0.5, `the server spun: ${Math.round(busy * 100)} % of a core`);
      const failedLines = server.log().split("\n").filter((l) => l.includes("accept failed"));
      // One line a second per listener at most, plus the first of each.
      assert(failedLines.length <= 6 * (seconds + 5), `${failedLines.length} lines`);

      await alice.send("PING");
      await alice.expect("PONG");
      await bob.send("MSG still here");
      await alice.expect("MSG bob still here");

      for (const conn of flood.splice(0)) conn.close();
      await using carol = await TestClient.login(server.port, "carol");
      await carol.send("PING");
      await carol.expect("PONG");
      // The TLS ports too: a handshake and a login over TLS.
      const secure = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.tlsPort!,
        caCerts: [await Deno.readTextFile(files.ca)],
      });
      try {
        await secure.write(new TextEncoder().encode("LOGIN dave\n"));
        const answer = new Uint8Array(16);
        const count = await withDeadline(secure.read(answer), 5000, "OK over TLS");
        assertEquals(new TextDecoder().decode(answer.subarray(0, count ?? 0)), "OK\n");
      } finally {
        secure.close();
      }
      const health = await fetch(`http://127.0.0.1:${server.metricsPort}/healthz`);
      assertEquals(health.status, 200, "the metrics port serves again");
      await health.body?.cancel();
      assert(await descriptorCount(pid) < FD_LIMIT);
    } finally {
      for (const conn of flood) conn.close();
      await stopServer(server);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
