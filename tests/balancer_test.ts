/**
 * The chat behind a real load balancer, as operators run it: Debian's
 * `haproxy` with docs/balancer.md's configuration (loopback addresses, free
 * ports, and checks every 100 ms that mark a server down or up at the first
 * answer) in front of two server processes joined through a throwaway
 * `redis-server`, started as `deno task start` starts them, each trusting the
 * balancer's PROXY header. Without `haproxy` or `redis-server` these tests
 * are skipped, except in CI (`.ci/run` installs both).
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import { spawnServer, type StartedServer } from "./server_process.ts";
import { TestClient, withDeadline } from "./helpers.ts";
import { HaproxyProcess, hasHaproxy, validateHaproxyConfig } from "./haproxy_process.ts";
import { freeFixedPort } from "./ports.ts";
import { hasRedisServer, RedisProcess } from "./redis_process.ts";
import { TcpRelay } from "./tcp_relay.ts";

// CI installs haproxy and redis-server, and fails rather than skips without them.
const ignore = !(await hasHaproxy() && await hasRedisServer()) && Deno.env.get("CI") !== "true";

/** Longest wait for the balancer or an instance to notice something in these tests. */
const NOTICE_MS = 10_000;
/** New clients sent through the balancer while one instance is out. */
const NEWCOMERS = 6;

/** The fenced `haproxy` block of docs/balancer.md: what an operator copies. */
async function documentedConfig(): Promise<string> {
  const doc = await Deno.readTextFile(new URL("../docs/balancer.md", import.meta.url));
  const fence = "```haproxy\n";
  const start = doc.indexOf(fence);
  assert(start !== -1, "docs/balancer.md has an haproxy block");
  return doc.slice(start + fence.length, doc.indexOf("```", start + fence.length));
}

/** `text` with `from`, which must occur exactly once, replaced by `to`. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  assert(at !== -1 && text.indexOf(from, at + 1) === -1, `the config has "${from}" once`);
  return text.replace(from, to);
}

/** The documented configuration, on loopback ports, checking every 100 ms. */
function testConfig(documented: string, port: number, instances: StartedServer[]): string {
  let config = replaceOnce(documented, "bind :4000", `bind 127.0.0.1:${port}`);
  config = replaceOnce(config, "inter 2s fall 2 rise 2", "inter 100ms fall 1 rise 1");
  for (const [i, instance] of instances.entries()) {
    config = replaceOnce(
      config,
      `server chat-${i + 1} 10.0.0.1${i + 1}:4000 check port 9464`,
      `server chat-${i + 1} 127.0.0.1:${instance.port} check port ${instance.metricsPort}`,
    );
  }
  return config;
}

/** A client logged in through the balancer, and where it landed. */
interface Landed {
  readonly name: string;
  readonly client: TestClient;
  /** Which instance logged its login: 0 for chat-1, 1 for chat-2. */
  readonly at: number;
  /** The address that instance logged for it. */
  readonly address: string;
}

/** What a balancer test starts; everything is stopped after, clients first. */
interface Rig {
  readonly redis: RedisProcess;
  /** chat-1 reaches Redis through it, so a test can cut chat-1 alone off. */
  readonly relay: TcpRelay;
  /** chat-1 and chat-2. */
  readonly instances: readonly StartedServer[];
  readonly haproxy: HaproxyProcess;
  /** Logs `name` in through the balancer and finds which instance took it. */
  login(name: string): Promise<Landed>;
  /** Resolves with the line haproxy writes when `server` is marked `state` (DOWN or UP). */
  marked(server: string, state: "DOWN" | "UP"): Promise<string>;
  /** `GET path` on an instance's metrics port. */
  http(at: number, path: string): Promise<{ status: number; body: string }>;
}

/** Starts an instance joined through `redisUrl`, adds it to `instances`, and waits until it has joined. */
async function startInstance(redisUrl: string, instances: StartedServer[]): Promise<void> {
  const server = await withDeadline(
    spawnServer([
      ...["--host", "127.0.0.1", "--port", "0", "--rate", "0", "--metrics-port", "0"],
      ...["--trusted-proxies", "127.0.0.1/32", "--redis-url", redisUrl],
    ]),
    NOTICE_MS,
    "server start",
  );
  instances.push(server);
  await withDeadline(server.logged(/cluster joined/), NOTICE_MS, "cluster joined");
}

/** Servers already sent SIGTERM: a second one could land after the handlers are removed. */
const terminated = new WeakSet<StartedServer>();

/** Sends `server` SIGTERM, once. */
function terminate(server: StartedServer): void {
  if (terminated.has(server)) return;
  terminated.add(server);
  server.child.kill("SIGTERM");
}

/** Stops a server with SIGTERM (unless it has exited or been sent one) and returns its exit status. */
async function stopInstance(server: StartedServer): Promise<number> {
  try {
    terminate(server);
  } catch {
    // Already gone.
  }
  const { code } = await server.child.status;
  await server.logClosed;
  return code;
}

/** Runs `body` with Redis, two instances and haproxy in front of them. */
async function withBalancer(body: (rig: Rig) => Promise<void>): Promise<void> {
  const config = await documentedConfig();
  const redis = await RedisProcess.start();
  const relay = TcpRelay.start(redis.port);
  const instances: StartedServer[] = [];
  const clients: TestClient[] = [];
  let haproxy: HaproxyProcess | undefined;
  try {
    await startInstance(relay.url, instances);
    await startInstance(redis.url, instances);
    // haproxy cannot listen on port 0 and say which port it got.
    const port = freeFixedPort();
    haproxy = await HaproxyProcess.start(testConfig(config, port, instances));
    const balancer = haproxy;
    await balancer.checked("chat", NOTICE_MS);
    const rig: Rig = {
      redis,
      relay,
      instances,
      haproxy: balancer,
      async login(name) {
        // The name may have logged in before (a reconnection): look for one more login line.
        const line = ` login name="${name}" address="([^"]+)"`;
        const count = (log: string) => [...log.matchAll(new RegExp(line, "g"))].length;
        const before = instances.map((server) => count(server.log()));
        const client = await TestClient.connect(port);
        clients.push(client);
        await client.send(`LOGIN ${name}`);
        await client.expect("OK");
        // Any instance whose log still runs: a stopped one's wait fails at once, its log ended.
        const at = await withDeadline(
          Promise.any(instances.map((server, i) => {
            const again = new RegExp(Array(before[i]! + 1).fill(line).join("[^]*"));
            return server.logged(again).then(() => i);
          })),
          NOTICE_MS,
          `the login of ${name} in an instance's log`,
        );
        const address = [...instances[at]!.log().matchAll(new RegExp(line, "g"))].at(-1)![1]!;
        return { name, client, at, address };
      },
      marked(server, state) {
        const pattern = new RegExp(`^.*Server chat/${server} is ${state}.*$`, "m");
        return withDeadline(
          balancer.logged(pattern).then((seen) => seen.match(pattern)![0]),
          NOTICE_MS,
          `haproxy marking ${server} ${state}`,
        );
      },
      async http(at, path) {
        const response = await fetch(`http://127.0.0.1:${instances[at]!.metricsPort}${path}`);
        return { status: response.status, body: await response.text() };
      },
    };
    try {
      await body(rig);
    } catch (error) {
      for (const [i, instance] of instances.entries()) {
        console.error(`--- chat-${i + 1} log ---\n${instance.log()}`);
      }
      console.error(haproxy.output());
      throw error;
    }
    for (const client of clients.splice(0)) await client.dispose();
    await haproxy.stop();
    haproxy = undefined;
    for (const instance of instances.splice(0)) {
      assertEquals(await stopInstance(instance), 0, "SIGTERM ends an instance cleanly");
    }
  } finally {
    for (const client of clients) await client.dispose();
    await haproxy?.stop();
    for (const instance of instances) await stopInstance(instance);
    await relay.close();
    await redis.stop();
  }
}

/** Milliseconds since `start`, rounded. */
function since(start: number): number {
  return Math.round(performance.now() - start);
}

Deno.test({
  name: "balancer: docs/balancer.md's HAProxy configuration, as printed, passes haproxy -c",
  ignore: !(await hasHaproxy()) && Deno.env.get("CI") !== "true",
  async fn() {
    assertMatch(
      await validateHaproxyConfig(await documentedConfig()),
      /Configuration file is valid/,
    );
  },
});

Deno.test({
  name:
    "balancer: a client through HAProxy chats with one on the other instance, logged with its own address",
  ignore,
  async fn() {
    await withBalancer(async (rig) => {
      const alice = await rig.login("alice");
      const bob = await rig.login("bob");
      assertNotEquals(alice.at, bob.at, "leastconn sends the second client to the other instance");
      for (const { client, address } of [alice, bob]) {
        // The PROXY header names the client's own socket, not haproxy's connection to the instance.
        assertEquals(address, `127.0.0.1:${client.conn.localAddr.port}`);
      }
      await alice.client.send("MSG hello through the balancer");
      await bob.client.expect("MSG alice hello through the balancer");
      await bob.client.send("DM alice hello back");
      await alice.client.expect("DM bob hello back");
      await alice.client.send("WHO");
      assertEquals(await alice.client.readLines(2), ["USER alice", "USER bob"]);
    });
  },
});

Deno.test({
  name:
    "balancer: an instance cut from Redis is marked down by /readyz, new clients land on the other, and it comes back",
  ignore,
  async fn() {
    await withBalancer(async (rig) => {
      const first = await rig.login("alice");
      const second = await rig.login("bob");
      const onCut = first.at === 0 ? first : second;

      const cutAt = performance.now();
      rig.relay.cut();
      const down = await rig.marked("chat-1", "DOWN");
      const downMs = since(cutAt);
      assertMatch(down, /code: 503/, "the instance answers: not ready, rather than gone");
      assertEquals(await rig.http(0, "/readyz"), {
        status: 503,
        body: "cluster unavailable\n",
      });
      assertEquals(await rig.http(0, "/healthz"), { status: 200, body: "ok\n" });
      assertEquals((await rig.haproxy.servers("chat")).get("chat-1")?.status, "DOWN");

      const newcomers: Landed[] = [];
      for (let i = 0; i < NEWCOMERS; i++) newcomers.push(await rig.login(`newcomer${i}`));
      assertEquals(newcomers.map((c) => c.at), Array(NEWCOMERS).fill(1), "all on chat-2");
      // Marked down is not cut off: its user still has the connection, and local chat.
      assertEquals(await onCut.client.sync(), []);

      const restoredAt = performance.now();
      rig.relay.restore();
      await rig.marked("chat-1", "UP");
      const upMs = since(restoredAt);
      const back = await rig.login("carol");
      assertEquals(back.at, 0, "the instance with fewer clients takes the next one");
      await back.client.send("MSG back on chat-1");
      for (const { client } of newcomers) await client.expect("MSG carol back on chat-1");
      console.log(
        `  chat-1 marked DOWN ${downMs} ms after the cut, UP ${upMs} ms after the restore`,
      );
    });
  },
});

Deno.test({
  name:
    "balancer: an instance stopped with SIGTERM is marked down, and new clients, its user among them, land on the other",
  ignore,
  async fn() {
    await withBalancer(async (rig) => {
      const first = await rig.login("alice");
      const second = await rig.login("bob");
      const [stays, leaves] = first.at === 0 ? [first, second] : [second, first];
      assertEquals(leaves.at, 1);

      const stoppedAt = performance.now();
      terminate(rig.instances[1]!);
      await leaves.client.expect("ERR server-shutdown");
      await leaves.client.expectClosed();
      await leaves.client.dispose();
      await rig.marked("chat-2", "DOWN");
      const downMs = since(stoppedAt);
      // The instance said goodbye for its user: the name is free again.
      await stays.client.expect(`INFO ${leaves.name} disconnected`);

      const newcomers: Landed[] = [];
      for (let i = 0; i < NEWCOMERS; i++) newcomers.push(await rig.login(`newcomer${i}`));
      assertEquals(newcomers.map((c) => c.at), Array(NEWCOMERS).fill(0), "all on chat-1");
      const again = await rig.login(leaves.name);
      assertEquals(again.at, 0, "the disconnected user reconnects to the other instance");
      await again.client.send("MSG back again");
      await stays.client.expect(`MSG ${leaves.name} back again`);
      assertEquals((await rig.instances[1]!.child.status).code, 0);
      console.log(`  chat-2 marked DOWN ${downMs} ms after SIGTERM`);
    });
  },
});
