/** TLS beside plaintext: one hub, two transports, real TLS clients. */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { type Config, DEFAULT_CONFIG } from "../lib/config.ts";
import { ChatServer } from "../lib/server.ts";
import { spawnServer, startTaskArgs } from "./server_process.ts";
import { TestClient, withDeadline } from "./helpers.ts";
import { makeCertificate } from "./certificates.ts";

const root = new URL("../", import.meta.url);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A line client over TLS, trusting `caCert`. */
async function tlsClient(port: number, caCert: string) {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] });
  let pending = "";
  const buffer = new Uint8Array(4096);
  return {
    conn,
    async send(line: string) {
      await conn.write(encoder.encode(line + "\n"));
    },
    async expect(expected: string) {
      const line = await withDeadline(
        (async () => {
          while (!pending.includes("\n")) {
            const count = await conn.read(buffer);
            if (count === null) return null;
            pending += decoder.decode(buffer.subarray(0, count), { stream: true });
          }
          const lf = pending.indexOf("\n");
          const line = pending.slice(0, lf);
          pending = pending.slice(lf + 1);
          return line;
        })(),
        5000,
        `TLS client waiting for ${expected}`,
      );
      assertStrictEquals(line, expected);
    },
  };
}

/**
 * An in-process server with TLS on and `overrides` applied, and a TLS client
 * of its TLS port (not logged in), given to `body`; all closed after.
 */
async function withTlsServer(
  overrides: Partial<Config>,
  body: (server: ChatServer, secure: Awaited<ReturnType<typeof tlsClient>>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const files = await makeCertificate(dir);
    const tls = {
      cert: await Deno.readTextFile(files.cert),
      key: await Deno.readTextFile(files.key),
    };
    const server = ChatServer.listen(
      { ...DEFAULT_CONFIG, host: "127.0.0.1", port: 0, tlsPort: 0, ...overrides },
      { tls },
    );
    try {
      const secure = await tlsClient(server.tlsAddr!.port, await Deno.readTextFile(files.ca));
      try {
        await body(server, secure);
      } finally {
        secure.conn.close();
      }
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("TLS and plaintext clients share one hub", async () => {
  await withTlsServer({}, async (server, secure) => {
    await using plain = await TestClient.login(server, "plain");
    await secure.send("LOGIN secure");
    await secure.expect("OK");
    await secure.send("MSG over tls");
    await plain.expect("MSG secure over tls");
    await plain.send("DM secure back in the clear");
    await secure.expect("DM plain back in the clear");
    await secure.send("WHO");
    await secure.expect("USER plain");
    await secure.expect("USER secure");
  });
});

Deno.test("a TLS client that never reads is dropped with ERR slow-consumer, its queue bounded", async () => {
  await withTlsServer({ maxQueueBytes: 256 * 1024, rate: 0 }, async (server, sink) => {
    await sink.send("LOGIN sink");
    await sink.expect("OK");
    await using sender = await TestClient.login(server, "sender");
    const padding = "p".repeat(4000);
    // Far more than the kernel's buffers and the queue hold together: the sink reads nothing.
    let dropped = false;
    for (let sent = 0; sent < 5000 && !dropped; sent += 50) {
      let batch = "";
      for (let i = sent; i < sent + 50; i++) batch += `MSG ${i} ${padding}\n`;
      await sender.sendRaw(batch);
      dropped = (await sender.sync()).includes("INFO sink disconnected");
    }
    assert(dropped, "the sink was dropped");
    // What the kernel held reaches the sink, then the reason it was dropped.
    const received = await withDeadline(readToEnd(sink.conn), 10_000, "the sink's lines");
    assert(received.endsWith("\nERR slow-consumer\n"), received.slice(-200));
  });
});

/** Everything `conn` reads until the server hangs up. */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  for (let count = await conn.read(buffer); count !== null; count = await conn.read(buffer)) {
    chunks.push(buffer.slice(0, count));
  }
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return decoder.decode(all);
}

Deno.test("openssl s_client chats over TLS with the server started as `deno task start` starts it", async () => {
  const dir = await Deno.makeTempDir();
  const files = await makeCertificate(dir);
  const server = await withDeadline(
    spawnServer([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--tls-port",
      "0",
      "--tls-cert",
      files.cert,
      "--tls-key",
      files.key,
    ]),
    10_000,
    "TLS server start",
  );
  try {
    const port = server.tlsPort!;
    const client = new Deno.Command("openssl", {
      args: [
        "s_client",
        "-connect",
        `127.0.0.1:${port}`,
        "-CAfile",
        files.ca,
        "-verify_return_error",
        "-quiet",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const writer = client.stdin.getWriter();
    await writer.write(encoder.encode("PING\nLOGIN viaopenssl\nWHO\nQUIT\n"));
    const output = await withDeadline(client.output(), 10_000, "openssl s_client");
    assertEquals(decoder.decode(output.stdout), "PONG\nOK\nUSER viaopenssl\n");
    await writer.close().catch(() => {});
  } finally {
    server.child.kill("SIGTERM");
    assertEquals((await server.child.status).code, 0);
    await server.logClosed;
    await Deno.remove(dir, { recursive: true });
  }
});

async function runWith(args: string[]): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...await startTaskArgs(), "--host", "127.0.0.1", "--port", "0", ...args],
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: decoder.decode(output.stderr) };
}

Deno.test("unusable TLS files are one line on stderr and exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = await makeCertificate(dir, "good");
    const other = await makeCertificate(dir, "other");
    const cases: [string[], RegExp][] = [
      [
        ["--tls-cert", `${dir}/missing.crt`, "--tls-key", good.key],
        /--tls-cert .*missing\.crt: no such file/,
      ],
      [
        ["--tls-cert", good.cert, "--tls-key", `${dir}/missing.key`],
        /--tls-key .*missing\.key: no such file/,
      ],
      [
        ["--tls-cert", good.cert, "--tls-key", other.key, "--tls-port", "0"],
        /TLS certificate and key cannot be used/,
      ],
      [
        ["--tls-cert", good.key, "--tls-key", good.key, "--tls-port", "0"],
        /TLS certificate and key cannot be used/,
      ],
      [["--tls-cert", good.cert], /--tls-cert and --tls-key go together/],
    ];
    for (const [args, expected] of cases) {
      const { code, stderr } = await runWith(args);
      assertEquals(code, 2, `${args.join(" ")}: ${stderr}`);
      const lines = stderr.trimEnd().split("\n");
      assertEquals(lines.length, 1, `${args.join(" ")}: ${stderr}`);
      assertMatch(lines[0]!, expected);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
