/**
 * Memory of one idle TLS session on the server's side, by the way it is
 * served: holds N sessions of one kind, each with a pending 512-byte read (as
 * an idle client's is), and prints the RSS and JavaScript heap each costs,
 * read before and after, each after a full collection. The peers are N
 * connections from one `python3` process (TLS 1.3, nothing sent), so their
 * side is not counted.
 *
 * - `plain`: a `Deno.Conn`, no TLS (the base the others are above);
 * - `duplex`: `node:tls` over the accepted `Deno.Conn`, through the server's
 *   own `TlsHandshakes` (what the TLS ports serve);
 * - `listentls`: `Deno.listenTls` (what the TLS ports served before issue 14).
 *
 * Run: deno run -A --v8-flags=--expose-gc,--max-semi-space-size=1 bench/tls_session_memory.ts --kind=duplex [--sessions=1000]
 *
 * @module
 */
import { parseFlagsOrExit } from "../lib/flags.ts";
import { SILENT_LOGGER } from "../lib/log.ts";
import { HandshakeLimits, TlsHandshakes } from "../lib/tls_handshakes.ts";
import { makeCertificate } from "../tests/certificates.ts";

const KINDS = ["plain", "duplex", "listentls"];
const { values } = parseFlagsOrExit("tls_session_memory", Deno.args, {
  values: ["kind", "sessions"],
  switches: [],
});
const kind = values.kind ?? "duplex";
const sessions = Number(values.sessions ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined || !KINDS.includes(kind) || !(sessions > 0)) {
  console.error(`tls_session_memory: --kind=${KINDS.join("|")}, run with --v8-flags=--expose-gc`);
  Deno.exit(2);
}

/** The peers: `sessions` connections, over TLS unless plain, held until stdin closes. */
const PEERS = `
import socket, ssl, sys
kind, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tls = ssl.create_default_context(); tls.check_hostname = False; tls.verify_mode = ssl.CERT_NONE
held = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    held.append(s if kind == "plain" else tls.wrap_socket(s, server_hostname="localhost"))
sys.stdin.read()
`;

/** A certificate and key made for this run (the tests' own, signed by a throwaway CA). */
async function certificate(dir: string): Promise<{ cert: string; key: string }> {
  const files = await makeCertificate(dir);
  return { cert: await Deno.readTextFile(files.cert), key: await Deno.readTextFile(files.key) };
}

async function settledMemory(): Promise<Deno.MemoryUsage> {
  gc!();
  await new Promise((resolve) => setTimeout(resolve, 300));
  gc!();
  return Deno.memoryUsage();
}

const dir = await Deno.makeTempDir({ prefix: "tls-session-memory-" });
try {
  const material = await certificate(dir);
  const listener = kind === "listentls"
    ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...material })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const handshakes = new TlsHandshakes({
    material,
    handshakeMs: 60_000,
    limits: new HandshakeLimits(sessions + 1, 0, () => true),
    failed: () => {},
    log: SILENT_LOGGER,
  });
  const held: unknown[] = [];
  const { promise: whenAllHeld, resolve: allHeld } = Promise.withResolvers<void>();
  const before = await settledMemory();
  (async () => {
    for await (const conn of listener) {
      (async () => {
        let reader: { read(buffer: Uint8Array): Promise<number | null> } = conn;
        if (kind === "duplex") reader = (await handshakes.start(conn, "tls"))!;
        if (kind === "listentls") await (conn as Deno.TlsConn).handshake();
        held.push(reader);
        reader.read(new Uint8Array(512)).catch(() => {});
        if (held.length === sessions) allHeld();
      })();
    }
  })();
  const peers = new Deno.Command("python3", {
    args: ["-c", PEERS, kind, String(sessions), String((listener.addr as Deno.NetAddr).port)],
    stdin: "piped",
  }).spawn();
  await whenAllHeld;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await settledMemory();
  const each = (bytes: number) => Math.round(bytes / sessions / 102.4) / 10;
  console.log(JSON.stringify({
    kind,
    sessions,
    rss_kb_each: each(after.rss - before.rss),
    heap_kb_each: each(after.heapUsed - before.heapUsed),
  }));
  await peers.stdin.close();
  await peers.status;
} finally {
  await Deno.remove(dir, { recursive: true });
}
Deno.exit(0);
