/**
 * What the cluster tests start and stop: a throwaway Redis with a relay in
 * front of it, server processes joined through either (started as `deno task
 * start` starts them), and clients, all stopped after each test.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { spawnServer, type StartedServer } from "./server_process.ts";
import { TestClient, withDeadline } from "./helpers.ts";
import { hasRedisServer, RedisProcess } from "./redis_process.ts";
import { TcpRelay } from "./tcp_relay.ts";

// CI installs redis-server, and fails rather than skips without it.
export const ignore = !(await hasRedisServer()) && Deno.env.get("CI") !== "true";

/** Longest wait for the cluster to notice something (a join, an outage) in these tests. */
export const NOTICE_MS = 10_000;

/** How a test instance starts. */
export interface StartOptions {
  /** Wait for its `cluster joined` line (default true). */
  readonly waitToJoin?: boolean;
  /** More flags. */
  readonly args?: string[];
}

/** One server process joined to `redis`. */
export class Instance {
  readonly server: StartedServer;
  /** Set once the test has killed it: it will not exit 0. */
  killed = false;
  #terminated = false;

  private constructor(server: StartedServer) {
    this.server = server;
  }

  get port(): number {
    return this.server.port;
  }

  /** Starts a server joined through `redisUrl`, and waits until it has joined (unless told not to). */
  static async start(redisUrl: string, options: StartOptions = {}): Promise<Instance> {
    const { waitToJoin = true, args = [] } = options;
    const server = await withDeadline(
      spawnServer([
        ...["--host", "127.0.0.1", "--port", "0", "--rate", "0", "--metrics-port", "0"],
        ...["--redis-url", redisUrl, ...args],
      ]),
      NOTICE_MS,
      "server start",
    );
    const instance = new Instance(server);
    if (waitToJoin) await instance.logged(/cluster joined/);
    return instance;
  }

  /** Waits for a log line. */
  async logged(pattern: RegExp): Promise<void> {
    await withDeadline(this.server.logged(pattern), NOTICE_MS, `log line ${pattern}`);
  }

  /** Waits until `text` has been logged `times` times in all. */
  async loggedTimes(text: string, times: number): Promise<void> {
    const once = text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    await this.logged(new RegExp(Array(times).fill(once).join("[^]*")));
  }

  /** `GET path` on the metrics port: the status and the body. */
  async http(path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${this.server.metricsPort}${path}`);
    return { status: response.status, body: await response.text() };
  }

  /** The cluster's samples from `/metrics`. */
  async clusterMetrics(): Promise<Record<string, number>> {
    return await this.metrics("chat_cluster_");
  }

  /** The samples from `/metrics` whose names start with `prefix`. */
  async metrics(prefix: string): Promise<Record<string, number>> {
    const response = await fetch(`http://127.0.0.1:${this.server.metricsPort}/metrics`);
    const samples: Record<string, number> = {};
    for (const line of (await response.text()).split("\n")) {
      const match = line.match(/^(\w+) (\d+)$/);
      if (match !== null && match[1]!.startsWith(prefix)) samples[match[1]!] = Number(match[2]);
    }
    return samples;
  }

  /** Kills the process outright, as a crash or an OOM kill would. */
  kill(): void {
    this.killed = true;
    this.server.child.kill("SIGKILL");
  }

  /** Asks it to shut down, once: a second SIGTERM during the shutdown's tail would find no handler. */
  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.server.child.kill("SIGTERM");
  }

  /** SIGTERM (unless the test sent it already), and the exit status (0 expected). */
  async stop(): Promise<number> {
    try {
      this.terminate();
    } catch {
      // Already gone (killed by the test).
    }
    const { code } = await this.server.child.status;
    await this.server.logClosed;
    return code;
  }
}

/** What a test starts: Redis, a relay in front of it, instances and clients, all stopped after. */
export interface Rig {
  readonly redis: RedisProcess;
  /** A relay to Redis, for instances that the test will cut off or silence. */
  readonly relay: TcpRelay;
  /** Starts an instance joined through `url`; by default, waits until it has joined. */
  start(url: string, options?: StartOptions): Promise<Instance>;
  /** Logs a client in on `instance`; the rig closes it before stopping the instances. */
  login(instance: Instance, name: string): Promise<TestClient>;
  /** Connects a client to `instance` without logging in; closed as {@linkcode login}'s are. */
  connect(instance: Instance): Promise<TestClient>;
}

/** Runs `body` with a fresh Redis; stops everything it started, clients first. */
export async function withRig(body: (rig: Rig) => Promise<void>): Promise<void> {
  const redis = await RedisProcess.start();
  const relay = TcpRelay.start(redis.port);
  const instances: Instance[] = [];
  const clients: TestClient[] = [];
  const rig: Rig = {
    redis,
    relay,
    async start(url, options = {}) {
      const instance = await Instance.start(url, options);
      instances.push(instance);
      return instance;
    },
    async login(instance, name) {
      const client = await TestClient.login(instance.port, name);
      clients.push(client);
      return client;
    },
    async connect(instance) {
      const client = await TestClient.connect(instance.port);
      clients.push(client);
      return client;
    },
  };
  try {
    try {
      await body(rig);
    } catch (error) {
      // What the servers saw is the first thing to read when a cluster test fails.
      for (const [i, instance] of instances.entries()) {
        console.error(`--- instance ${i} log ---\n${instance.server.log()}`);
      }
      throw error;
    }
    await disposeAll(clients.splice(0));
    for (const instance of instances.splice(0)) {
      const code = await instance.stop();
      if (!instance.killed) assertEquals(code, 0, "SIGTERM ends an instance cleanly");
    }
  } finally {
    await disposeAll(clients);
    for (const instance of instances) await instance.stop();
    await relay.close();
    await redis.stop();
  }
}

/** Runs `body` with Redis and `count` instances joined to it directly. */
export async function withCluster(
  count: number,
  body: (instances: Instance[], rig: Rig) => Promise<void>,
): Promise<void> {
  await withRig(async (rig) => {
    const instances: Instance[] = [];
    for (let i = 0; i < count; i++) instances.push(await rig.start(rig.redis.url));
    await body(instances, rig);
  });
}

/**
 * Clients of two instances: alice and carol on `a`, bob on `b`, each heard
 * everywhere; dave connected to `a`, not logged in.
 */
export async function fourClients(
  rig: Rig,
  a: Instance,
  b: Instance,
): Promise<Record<"alice" | "bob" | "carol" | "dave", TestClient>> {
  const alice = await rig.login(a, "alice");
  const bob = await rig.login(b, "bob");
  const carol = await rig.login(a, "carol");
  const dave = await rig.connect(a);
  await allHear({ alice, bob, carol });
  return { alice, bob, carol, dave };
}

/**
 * Two instances, `a` through the rig's relay (for the test to cut off or
 * silence) and `b` straight to Redis; alice on `a` and bob on `b`, each heard on both.
 */
export async function relayedPair(
  rig: Rig,
): Promise<{ a: Instance; b: Instance; alice: TestClient; bob: TestClient }> {
  const a = await rig.start(rig.relay.url);
  const b = await rig.start(rig.redis.url);
  const alice = await rig.login(a, "alice");
  const bob = await rig.login(b, "bob");
  await allHear({ alice, bob });
  return { a, b, alice, bob };
}

/** Everyone in `clients` sends a line and every other one receives it: presence is known everywhere. */
export async function allHear(clients: Record<string, TestClient>): Promise<void> {
  for (const [name, client] of Object.entries(clients)) {
    await client.send(`MSG here is ${name}`);
    for (const [other, peer] of Object.entries(clients)) {
      if (other !== name) await peer.expect(`MSG ${name} here is ${name}`);
    }
  }
}

/** Closes every client, one after the other. */
export async function disposeAll(clients: Iterable<TestClient>): Promise<void> {
  for (const client of clients) await client.dispose();
}

/** Reads `client`'s lines up to and including `line`; returns the ones before it. */
export async function readUntil(client: TestClient, line: string): Promise<string[]> {
  const skipped: string[] = [];
  while (true) {
    const next = await client.readLine();
    if (next === null) throw new Error(`closed before "${line}"`);
    if (next === line) return skipped;
    skipped.push(next);
  }
}
