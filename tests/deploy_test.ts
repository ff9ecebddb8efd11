/**
 * The container, compose file and compiled binary agree with `deno task
 * start`, and the server runs exactly as the image and the binary would run
 * it. `deno compile` cannot download its runtime here, so the binary is
 * checked only this way; tests/compose_test.ts also builds and runs the
 * image, where a container engine is available.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStrictEquals,
} from "@std/assert";
import { parse as parseYaml } from "yaml";
import { DEFAULT_CONFIG, ENV_NAMES, LIBRARY_ENV_NAMES } from "../lib/config.ts";
import { TestClient, withDeadline } from "./helpers.ts";
import { OutputLog } from "./output_log.ts";
import { freeFixedPort } from "./ports.ts";
import { tempDir } from "./temp_dir.ts";

const root = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, root));

function taskWords(name: string): string[] {
  return String(JSON.parse(read("deno.json")).tasks[name]).split(/\s+/);
}

/** The Dockerfile's exec-form instruction `name` (CMD, HEALTHCHECK … CMD), as its argument list. */
function dockerfileExec(pattern: RegExp): string[] {
  const text = read("Dockerfile").replace(/\\\n\s*/g, "");
  const match = text.match(pattern);
  assert(match, `Dockerfile lacks ${pattern}`);
  return JSON.parse(match[1]!);
}

/** Runtime flags (permissions and V8 settings) in the order given. */
function runtimeFlags(words: string[]): string[] {
  return words.filter((w) => /^--(allow|deny|v8-flags)/.test(w) || w === "-A");
}

// deno-lint-ignore no-explicit-any
const compose = (): any => parseYaml(read("compose.yaml"), { merge: true });

/** The cluster instances' health check: /readyz, with no more permissions than it needs. */
const READY_CHECK = [
  "CMD",
  "deno",
  "run",
  "--allow-net=127.0.0.1",
  "--allow-env=PORT,METRICS_PORT",
  "healthcheck.ts",
  "--ready",
];

/** Runs a compose health check's command (after "CMD", "deno") with `env`. */
async function runCheck(
  test: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string }> {
  assertEquals(test.slice(0, 2), ["CMD", "deno"]);
  const output = await new Deno.Command(Deno.execPath(), {
    args: test.slice(2),
    cwd: root,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assertEquals(decoder.decode(output.stderr), "", "the check needs no more permissions");
  return { code: output.code, stdout: decoder.decode(output.stdout) };
}

/** Where the image keeps the history: the one directory its server may write. */
const IMAGE_DATA_DIR = "/data";

Deno.test("the image, the binary and `deno task start` run main.ts with the same runtime flags, but the image writes only /data", () => {
  const start = taskWords("start");
  const compile = taskWords("compile");
  const image = dockerfileExec(/^CMD (\[.*\])$/m);
  assertEquals(start.slice(0, 2), ["deno", "run"]);
  assertEquals(compile.slice(0, 2), ["deno", "compile"]);
  assertEquals(image[0], "run");
  for (const words of [start, compile, image]) assertEquals(words.at(-1), "main.ts");
  const flags = runtimeFlags(start);
  assert(flags.includes("--allow-net"));
  assert(!flags.includes("-A") && !flags.some((f) => f.startsWith("--allow-all")));
  assertEquals(runtimeFlags(compile), flags);
  // --data-dir is chosen at run time, and Deno cannot scope a permission to it then: the task
  // and the binary may write anywhere; the image knows its directory, and writes only there.
  assert(flags.includes("--allow-write"), "the task can write its --data-dir");
  assertEquals(
    runtimeFlags(image),
    flags.map((f) => f === "--allow-write" ? `--allow-write=${IMAGE_DATA_DIR}` : f),
  );
  // Every environment variable the server reads is allowed, and nothing else.
  const allowEnv = flags.find((f) => f.startsWith("--allow-env="))!;
  assertEquals(
    allowEnv.slice("--allow-env=".length).split(",").sort(),
    [
      ...ENV_NAMES,
      ...LIBRARY_ENV_NAMES,
    ].sort(),
  );
  assert(
    compile.includes("--output") && compile[compile.indexOf("--output") + 1] === "dist/chat",
  );
  assertMatch(read(".gitignore"), /^dist\/$/m);
});

Deno.test("the binary embeds the history store's worker module, which main.ts's graph does not import", () => {
  const compile = taskWords("compile");
  const included = compile.flatMap((w, i) => compile[i - 1] === "--include" ? [w] : []);
  const workers = [
    ...read("lib/history/sqlite_store.ts").matchAll(/new Worker\(new URL\("\.\/([^"]+)"/g),
  ].map((m) => `lib/history/${m[1]}`);
  assertEquals(workers, ["lib/history/sqlite_worker.ts"]);
  for (const worker of workers) assert(included.includes(worker), `--include ${worker}`);
});

Deno.test("the Dockerfile pins Deno 2.9.6, runs as the deno user, exposes 4000 and checks health", () => {
  const text = read("Dockerfile");
  assertMatch(text, /^FROM denoland\/deno:2\.9\.6$/m);
  assertMatch(text, /^USER deno$/m);
  assertMatch(text, /^EXPOSE 4000$/m);
  assert(!/^ENTRYPOINT/m.test(text), "keep the image's tini entry point");
  // The history's directory, the deno user's before it takes over: a named volume mounted
  // there starts as a copy of it; one owned by root would be unwritable (exit 2).
  const image = dockerfileStages()[1]!;
  const made = image.search(/^RUN mkdir \/data && chown deno:deno \/data && chmod 700 \/data$/m);
  assert(made > 0, "the image makes /data, the deno user's");
  assert(made < image.search(/^USER deno$/m), "as root, before USER deno");
  const health = dockerfileExec(/^HEALTHCHECK .*?CMD (\[.*\])$/m);
  assertEquals(health, compose().services.chat.healthcheck.test.slice(1));
});

/** The Dockerfile's stages, each as its text from its FROM line on. */
function dockerfileStages(): string[] {
  return read("Dockerfile").replace(/\\\n\s*/g, "").split(/^(?=FROM )/m).slice(1);
}

Deno.test("the image holds every dependency, dynamic imports and the vendored std included, and never the build CA", () => {
  const stages = dockerfileStages();
  assertEquals(stages.length, 2, "a stage that fetches, and the image");
  const [deps, image] = stages as [string, string];
  for (const stage of stages) assertMatch(stage, /^FROM denoland\/deno:2\.9\.6\b/);
  // Every npm package of the lock file, then each entry point's graph: main.ts
  // imports the Redis adapter dynamically, which `deno cache main.ts` does not fetch.
  const run = deps.match(/^RUN .*$/m)?.[0] ?? "";
  assertMatch(run, /deno install --frozen( |$)/);
  const cached = run.match(/deno cache --frozen ([^&]*)/)?.[1]?.trim().split(/\s+/) ?? [];
  const dynamic = [...read("main.ts").matchAll(/await import\("\.\/([^"]+)"\)/g)].map((m) => m[1]!);
  assert(dynamic.includes("lib/redis/redis_chat.ts"));
  assertEquals(cached, ["main.ts", "healthcheck.ts", ...dynamic]);
  // A CA given for the build is trusted while fetching, and only there.
  assertMatch(run, /DENO_CERT="\$PWD\/certs\/build-ca\.pem"/);
  assertMatch(read(".dockerignore"), /^!certs\/build-ca\.pem$/m);
  assertMatch(read(".gitignore"), /^certs\/$/m);
  assert(!/certs|COPY [^\n]*\s\.\s/.test(image), "the image copies named files, never certs/");
  assertMatch(image, /^COPY --from=deps --chown=deno:deno \/deno-dir\/ \/deno-dir\/$/m);
  assert(!/DENO_CERT/.test(image));
  // The standard library resolves from vendor/ through deno.json's links, in both stages.
  const links: string[] = JSON.parse(read("deno.json")).links;
  assert(links.length > 0 && links.every((link) => link.startsWith("vendor/std/")), String(links));
  assertMatch(read(".dockerignore"), /^!vendor\/$/m);
  assertMatch(image, /^COPY --chown=deno:deno vendor\/ \.\/vendor\/$/m);
});

Deno.test("compose.yaml writes out every setting at its default, restarts, and waits for shutdown", () => {
  const chat = compose().services.chat;
  const env: Record<string, string> = chat.environment;
  const defaults: Record<string, string> = {
    HOST: DEFAULT_CONFIG.host,
    PORT: String(DEFAULT_CONFIG.port),
    IDLE_TIMEOUT: String(DEFAULT_CONFIG.idleTimeout),
    MAX_LINE_BYTES: String(DEFAULT_CONFIG.maxLineBytes),
    MAX_CLIENTS: String(DEFAULT_CONFIG.maxClients),
    MAX_QUEUE_BYTES: String(DEFAULT_CONFIG.maxQueueBytes),
    MAX_CLIENTS_PER_IP: String(DEFAULT_CONFIG.maxClientsPerIp),
    IP_LIMIT_EXEMPT: String(DEFAULT_CONFIG.ipLimitExempt),
    RATE: String(DEFAULT_CONFIG.rate),
    BURST: String(DEFAULT_CONFIG.burst),
    TLS_PORT: String(DEFAULT_CONFIG.tlsPort),
    LOG_LEVEL: DEFAULT_CONFIG.logLevel,
  };
  for (const [name, value] of Object.entries(defaults)) assertStrictEquals(env[name], value, name);
  assertEquals(env.REDIS_URL, "", "the lone server joins no cluster");
  // Its history in the image's /data, a named volume: `down` and `up` keep it.
  assertEquals(env.DATA_DIR, IMAGE_DATA_DIR);
  assertEquals(env.HISTORY_LINES, String(DEFAULT_CONFIG.historyLines));
  assertEquals(env.HISTORY_DAYS, String(DEFAULT_CONFIG.historyDays));
  assertEquals(chat.volumes, [`chat-data:${IMAGE_DATA_DIR}`]);
  assert("chat-data" in compose().volumes, "a named volume, not a directory of the host");
  assertEquals(Object.keys(env).sort(), [...ENV_NAMES].sort());
  assert(chat.ports.includes("4000:4000"));
  assert(chat.ports.includes(`${env.METRICS_PORT}:${env.METRICS_PORT}`));
  assert(
    chat.ports.includes(`${env.WEB_PORT}:${env.WEB_PORT}`),
    "the browser client is published",
  );
  assertEquals(chat.restart, "unless-stopped");
  assert(parseInt(chat.stop_grace_period) > 5, "the shutdown takes up to 5 s");
  assertEquals(chat.build, ".");
});

const composeBinary = ["docker-compose", "/usr/bin/docker-compose"];
async function hasCompose(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(composeBinary[0]!, { args: ["version"] }).output();
    return success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "docker-compose config accepts compose.yaml",
  // CI installs Debian's docker-compose; elsewhere the test runs where it is present.
  ignore: !(await hasCompose()) && Deno.env.get("CI") !== "true",
  async fn() {
    for (const profile of [[], ["--profile", "cluster"]]) {
      const output = await new Deno.Command("docker-compose", {
        args: ["-f", "compose.yaml", ...profile, "config", "-q"],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
    }
  },
});

Deno.test("compose.yaml's cluster profile adds Redis and two instances joined to it", () => {
  const { services } = compose();
  assertEquals(services.redis.profiles, ["cluster"]);
  // Redis keeps the history: an append-only file synced every second, in a named volume.
  const command: string[] = services.redis.command;
  const option = (name: string) => command[command.indexOf(name) + 1];
  assertEquals([option("--appendonly"), option("--appendfsync")], ["yes", "everysec"]);
  assertEquals(services.redis.volumes, ["redis-data:/data"]);
  assert("redis-data" in compose().volumes);
  assertEquals(services.chat.profiles, undefined, "a plain `up` still starts the lone server");
  const { REDIS_URL: _lone, ...shared } = services.chat.environment;
  for (const [name, port] of [["chat-1", "4010"], ["chat-2", "4012"]] as const) {
    const instance = services[name];
    assertEquals(instance.profiles, ["cluster"], name);
    assertEquals(instance.environment.REDIS_URL, "redis://redis:6379", name);
    const { REDIS_URL: _joined, DATA_DIR: dataDir, ...settings } = instance.environment;
    const { DATA_DIR: _file, ...sharedSettings } = shared;
    assertEquals(settings, sharedSettings, `${name} runs with the lone server's settings`);
    // Its history is in Redis: no file, and not the lone server's volume.
    assertEquals(dataDir, "", name);
    assertEquals(instance.volumes, [], name);
    assertStrictEquals(instance.build, services.chat.build);
    // Healthy means ready (joined through Redis), checked as often as the lone server's PING.
    const { test, ...timing } = instance.healthcheck;
    const { test: _ping, ...loneTiming } = services.chat.healthcheck;
    assertEquals(timing, loneTiming, name);
    assertEquals(test, READY_CHECK, name);
    assert(instance.ports.includes(`${port}:4000`), name);
  }
});

/**
 * The server started as the image's `CMD` starts it, with only `env`, its log
 * read as it comes. Given `volume`, the image's /data is that directory
 * instead, as if the volume were mounted there: the write permission and a
 * `DATA_DIR` of /data follow it.
 */
class AsImage implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Its log. */
  readonly log: OutputLog;

  constructor(env: Record<string, string>, volume?: string) {
    const cmd = dockerfileExec(/^CMD (\[.*\])$/m);
    const moved = (value: string, prefix: string) =>
      volume !== undefined && value === `${prefix}${IMAGE_DATA_DIR}` ? `${prefix}${volume}` : value;
    this.child = new Deno.Command(Deno.execPath(), {
      args: cmd.map((word) => moved(word, "--allow-write=")),
      cwd: root,
      env: { ...env, ...(env.DATA_DIR === undefined ? {} : { DATA_DIR: moved(env.DATA_DIR, "") }) },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.log = new OutputLog(this.child.stderr);
  }

  /** Waits until `until` matches the log, within 10 s. */
  async logged(until: RegExp): Promise<void> {
    await withDeadline(this.log.matches(until), 10_000, String(until));
  }

  /**
   * `env` with every port it moved to 0 replaced by the one the server logged it
   * listens on: what a check run beside it is given.
   */
  async listening(env: Record<string, string>): Promise<Record<string, string>> {
    const msgs = {
      PORT: "listening",
      METRICS_PORT: "metrics listening",
      WEB_PORT: "listening web",
    };
    const bound = { ...env };
    for (const [name, msg] of Object.entries(msgs)) {
      if (env[name] !== "0") continue;
      const line = new RegExp(`"msg":"${msg}","address":"[^"]*:(\\d+)"`);
      const text = await withDeadline(this.log.matches(line), 10_000, `the ${msg} line`);
      bound[name] = text.match(line)![1]!;
    }
    return bound;
  }

  /** Kills it if it still runs, and drains its log. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.child.status;
    await this.log.closed;
  }
}

/** compose.yaml's settings for `service`, every port it publishes moved to one the server picks. */
function composedEnv(service: string): Record<string, string> {
  const composed: Record<string, string> = { ...compose().services[service].environment };
  // Tests run beside other servers.
  for (const port of ["PORT", "METRICS_PORT", "WEB_PORT", "IRC_PORT"]) composed[port] = "0";
  return composed;
}

Deno.test("the server runs as the image and the binary run it: compose's settings, JSON logs, health, metrics, SIGTERM", async () => {
  const composed = composedEnv("chat");
  await using volume = await tempDir("chat-image-data-");
  await using server = new AsImage(composed, volume.path);
  const { child } = server;
  const env = await server.listening(composed);
  const port = Number(env.PORT);
  await using alice = await TestClient.login(port, "alice");
  await using bob = await TestClient.login(port, "bob");
  await alice.send("MSG hi from the container");
  await bob.expect("MSG alice hi from the container");

  const metrics = `http://127.0.0.1:${env.METRICS_PORT}`;
  assertEquals(await (await fetch(`${metrics}/healthz`)).text(), "ok\n");
  assertMatch(await (await fetch(`${metrics}/metrics`)).text(), /^chat_users 2$/m);

  const health = dockerfileExec(/^HEALTHCHECK .*?CMD (\[.*\])$/m);
  assertEquals(health[0], "deno");
  const check = await new Deno.Command(Deno.execPath(), {
    args: health.slice(1),
    cwd: root,
    env: { PORT: env.PORT! },
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(check.code, 0, new TextDecoder().decode(check.stderr));
  // The cluster instances' readiness check, with the same environment: a lone server is ready.
  const ready = await runCheck(compose().services["chat-1"].healthcheck.test, env);
  assertEquals(ready, { code: 0, stdout: "200 ready\n" });

  child.kill("SIGTERM");
  await alice.expect("ERR server-shutdown");
  await bob.expect("ERR server-shutdown");
  await alice.dispose();
  await bob.dispose();
  assertEquals((await withDeadline(child.status, 5000, "exit")).code, 0);
  await server.logged(/"msg":"shutdown finished"/);
  for (const line of server.log.text.trimEnd().split("\n")) JSON.parse(line);
  // The history went where the volume is, in the one file, and nowhere else.
  assertMatch(server.log.text, /"msg":"history","store":"sqlite","path":"[^"]*\/chat\.db"/);
  assertEquals([...Deno.readDirSync(volume.path)].map((entry) => entry.name), ["chat.db"]);

  // Started again on the same volume, it remembers.
  await using again = new AsImage(composed, volume.path);
  const port2 = Number((await again.listening(composed)).PORT);
  await using carol = await TestClient.login(port2, "carol");
  await carol.send("HISTORY");
  const [hist, end] = await carol.readLines(2);
  assertMatch(hist!, /^HIST \d+-\d+ alice hi from the container$/);
  assertEquals(end, "HIST END");
  again.child.kill("SIGTERM");
  await carol.expect("ERR server-shutdown");
  assertEquals((await withDeadline(again.child.status, 5000, "exit")).code, 0);
});

Deno.test("the image's server refuses a DATA_DIR outside /data: one line on stderr, exit 2, nothing listening", async () => {
  await using elsewhere = await tempDir("chat-not-data-");
  const composed = { ...composedEnv("chat"), DATA_DIR: `${elsewhere.path}/history` };
  // Not moved: the image may write /data only.
  await using server = new AsImage(composed);
  assertEquals((await withDeadline(server.child.status, 10_000, "exit")).code, 2);
  const lines = (await server.log.closed).trimEnd().split("\n");
  assertEquals(lines.length, 1, lines.join("\n"));
  assertMatch(
    lines[0]!,
    new RegExp(
      `^Cannot start: --data-dir ${composed.DATA_DIR}: the server's runtime flags do not allow it`,
    ),
  );
  assertEquals([...Deno.readDirSync(elsewhere.path)], [], "nothing was made");
});

Deno.test("the health check script fails when nothing answers on the port", async () => {
  const check = await new Deno.Command(Deno.execPath(), {
    args: dockerfileExec(/^HEALTHCHECK .*?CMD (\[.*\])$/m).slice(1),
    cwd: root,
    // Below the ephemeral range: no listener gets it meanwhile, and the check cannot meet itself.
    env: { PORT: String(freeFixedPort()) },
    stdout: "null",
    stderr: "null",
  }).output();
  assertEquals(check.code, 1);
});

Deno.test("the cluster instances' readiness check fails, saying why, until the instance has joined", async () => {
  // chat-1's settings, with a Redis that is not there: the instance listens, and is not ready.
  const composed = composedEnv("chat-1");
  // Below the ephemeral range: nothing gets it meanwhile, and no reconnection can meet itself.
  composed.REDIS_URL = `redis://127.0.0.1:${freeFixedPort()}`;
  await using server = new AsImage(composed);
  const env = await server.listening(composed);
  const test = compose().services["chat-1"].healthcheck.test;
  assertEquals(await runCheck(test, env), { code: 1, stdout: "503 cluster not joined\n" });
  // Liveness is unchanged: the chat port answers PING.
  const alive = await runCheck(compose().services.chat.healthcheck.test, env);
  assertEquals(alive.code, 0);
  server.child.kill("SIGTERM");
  assertEquals((await withDeadline(server.child.status, 5000, "exit")).code, 0);
});

Deno.test("the readiness check fails when nothing answers on the metrics port, or none is set", async () => {
  for (const env of [{ METRICS_PORT: String(freeFixedPort()) }, {}, { METRICS_PORT: "" }]) {
    const { code, stdout } = await runCheck(READY_CHECK, env);
    assertEquals(code, 1, JSON.stringify(env));
    assertNotEquals(stdout, "", "it says why");
  }
});
