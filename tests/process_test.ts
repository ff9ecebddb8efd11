/**
 * The server as a process: started with the permission flags of `deno task
 * start`, stopped by signals, refusing bad configuration.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { spawnServer, type StartedServer, startTaskArgs } from "./server_process.ts";
import { ENV_NAMES, LIBRARY_ENV_NAMES } from "../lib/config.ts";
import { TestClient, withDeadline } from "./helpers.ts";

const root = new URL("../", import.meta.url);

Deno.test("deno task start runs deno with scoped permissions, never -A", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const words = String(config.tasks.start).split(/\s+/);
  assert(!words.includes("-A") && !words.some((w) => w.startsWith("--allow-all")));
  // Environment access is scoped to exactly the variables the server and its Redis client read.
  assertEquals(words, [
    "deno",
    "run",
    "--allow-net",
    "--allow-read",
    // The --data-dir given at run time: Deno cannot scope a permission to it in advance.
    "--allow-write",
    `--allow-env=${[...ENV_NAMES, ...LIBRARY_ENV_NAMES].join(",")}`,
    "--v8-flags=--max-semi-space-size=1",
    "main.ts",
  ]);
});

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the server to completion (for runs that must exit by themselves). */
async function runServer(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  const command = new Deno.Command(Deno.execPath(), {
    args: [...await startTaskArgs(), ...args],
    cwd: root,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const output = await withDeadline(command.output(), 10_000, `server ${args.join(" ")}`);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A server process listening on a free port, found from its "listening" log line. */
class ServerProcess {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  readonly #stderr: Promise<string>;

  private constructor(server: StartedServer) {
    this.child = server.child;
    this.port = server.port;
    this.#stderr = server.logClosed;
  }

  static async start(args: string[] = []): Promise<ServerProcess> {
    const server = spawnServer(["--host", "127.0.0.1", "--port", "0", ...args]);
    return new ServerProcess(await withDeadline(server, 10_000, "server start"));
  }

  /** Waits for the process to exit; returns its status and everything it logged. */
  async exit(ms: number): Promise<{ code: number; stderr: string }> {
    const status = await withDeadline(this.child.status, ms, "server exit");
    return { code: status.code, stderr: await this.#stderr };
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} sends ERR server-shutdown to every client, closes them, and exits 0 within 5 s`, async () => {
    const server = await ServerProcess.start();
    await using alice = await TestClient.login(server.port, "alice");
    await using bob = await TestClient.login(server.port, "bob");
    await using anonymous = await TestClient.connect(server.port);
    assertEquals(await anonymous.sync(), []);
    const started = performance.now();
    server.child.kill(signal);
    for (const client of [alice, bob, anonymous]) {
      await client.expect("ERR server-shutdown");
      await client.expectClosed();
      await client.dispose();
    }
    const { code, stderr } = await server.exit(5000);
    assertEquals(code, 0);
    assert(performance.now() - started < 5000);
    assertMatch(stderr, /shutdown finished/);
  });
}

Deno.test("a server with a client that never hangs up still exits within 5 s of SIGTERM", async () => {
  const server = await ServerProcess.start();
  await using stubborn = await TestClient.login(server.port, "stubborn");
  const started = performance.now();
  server.child.kill("SIGTERM");
  await stubborn.expect("ERR server-shutdown");
  // The client neither reads on nor closes: the server must not wait for it.
  const { code } = await server.exit(5000);
  assertEquals(code, 0);
  assert(performance.now() - started < 5000);
});

Deno.test("a lone server process is ready at once, and /readyz and /healthz are 503 from SIGTERM on", async () => {
  const server = await withDeadline(
    spawnServer(["--host", "127.0.0.1", "--port", "0", "--metrics-port", "0"]),
    10_000,
    "server start",
  );
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${server.metricsPort}${path}`);
    return { status: response.status, body: await response.text() };
  };
  // Asked as soon as the listening lines are out: nothing to wait for without a cluster.
  assertEquals(await get("/readyz"), { status: 200, body: "ready\n" });
  await using stubborn = await TestClient.login(server.port, "stubborn");
  server.child.kill("SIGTERM");
  await stubborn.expect("ERR server-shutdown");
  // The client does not hang up: the server lingers in its shutdown, metrics port still open.
  assertEquals(await get("/readyz"), { status: 503, body: "shutting down\n" });
  assertEquals(await get("/healthz"), { status: 503, body: "shutting down\n" });
  await stubborn.dispose();
  assertEquals((await withDeadline(server.child.status, 5000, "exit")).code, 0);
  await server.logClosed;
});

Deno.test("--help prints the usage on stdout and exits 0", async () => {
  const { code, stdout } = await runServer(["--help"]);
  assertEquals(code, 0);
  for (const flag of ["--host", "--port", "--idle-timeout", "--max-line-bytes", "--max-clients"]) {
    assert(stdout.includes(flag), `usage lacks ${flag}`);
  }
  assert(stdout.includes("--max-queue-bytes"));
});

const badConfigurations: { args: string[]; env?: Record<string, string>; mentions: string }[] = [
  { args: ["--port=abc"], mentions: "--port" },
  { args: ["--port=70000"], mentions: "--port" },
  { args: ["--port=-1"], mentions: "--port" },
  { args: ["--idle-timeout=-1"], mentions: "--idle-timeout" },
  { args: ["--idle-timeout=0"], mentions: "--idle-timeout" },
  { args: ["--max-line-bytes=0"], mentions: "--max-line-bytes" },
  { args: ["--max-clients=ten"], mentions: "--max-clients" },
  { args: ["--max-queue-bytes=1.5"], mentions: "--max-queue-bytes" },
  { args: ["--colour=blue"], mentions: 'unknown flag "--colour"' },
  { args: ["stray"], mentions: "stray" },
  { args: ["--", "stray"], mentions: "stray" },
  { args: ["--port"], mentions: "--port needs a value" },
  { args: [], env: { PORT: "abc" }, mentions: "PORT" },
  { args: [], env: { IDLE_TIMEOUT: "soon" }, mentions: "IDLE_TIMEOUT" },
];

for (const { args, env, mentions } of badConfigurations) {
  const label = [...Object.entries(env ?? {}).map(([k, v]) => `${k}=${v}`), ...args].join(" ");
  Deno.test(`a bad setting (${label}) prints one line on stderr and exits 2`, async () => {
    const { code, stderr, stdout } = await runServer(args, env);
    assertEquals(code, 2);
    assertEquals(stdout, "");
    const lines = stderr.trimEnd().split("\n");
    assertEquals(lines.length, 1, `expected one line, got: ${stderr}`);
    assert(lines[0]!.includes(mentions), `"${lines[0]}" does not mention ${mentions}`);
    assert(!stderr.includes("listening"));
  });
}

Deno.test("a valid flag overrides a bad environment value", async () => {
  // spawnServer rejects, with the log, if the server exits before listening.
  const server = await withDeadline(
    spawnServer(["--host", "127.0.0.1", "--port", "0"], { PORT: "not-a-port" }),
    10_000,
    "listening",
  );
  server.child.kill("SIGTERM");
  assertEquals((await server.child.status).code, 0);
  assertMatch(await server.logClosed, / listening address="127\.0\.0\.1:\d+"/);
});

Deno.test("a chat or metrics port already in use is one line on stderr and exit 1", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String(taken.addr.port);
  for (const flags of [["--port", port], ["--port", "0", "--metrics-port", port]]) {
    const result = await runServer(["--host", "127.0.0.1", ...flags]);
    assertEquals(result, {
      code: 1,
      stdout: "",
      stderr: `Cannot listen on 127.0.0.1:${port}: address already in use\n`,
    }, flags.join(" "));
  }
});
