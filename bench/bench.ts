/**
 * `deno task bench`: starts the server as a subprocess (a fresh one per run),
 * drives it with a load generator spread over Workers, and prints deliveries
 * per second, latency percentiles and memory per connection, as a table and
 * as JSON. Talks only to 127.0.0.1; every run is bounded and stops by itself.
 *
 * Workloads (the same shapes as the neutral C generator's A to D):
 *   A  fan-out, max throughput: 100 clients, 10 senders × 2000 messages, window 50, 64 B
 *   B  latency at a fixed rate: 100 clients, 10 senders × 100 msg/s for 10 s, 64 B
 *   C  a big room: 1000 clients, 2 senders × 500 messages, window 50, 32 B
 *   D  idle memory: 5000 clients logged in and held; RSS growth per connection, then PING each
 *   H  held: 10000 clients logged in, every one PINGed, every PONG counted
 *
 * `--instances=1,2` runs each workload against one lone server and against
 * two servers joined through a throwaway `redis-server`, alternating, with
 * client n connected to instance n mod 2 (so half of every fan-out crosses
 * Redis). Rows for several instances are named like `A x2`.
 *
 * @module
 */
import { parseFlagsOrExit } from "../lib/flags.ts";
import type { WorkerCommand, WorkerReport } from "./load_worker.ts";
import { RedisProcess } from "../tests/redis_process.ts";
import { spawnServer, type StartedServer } from "../tests/server_process.ts";

interface FanoutShape {
  readonly clients: number;
  readonly senders: number;
  readonly messages: number;
  readonly window: number;
  readonly rate: number;
  readonly payload: number;
}

const FANOUT: Readonly<Record<string, FanoutShape>> = {
  A: { clients: 100, senders: 10, messages: 2000, window: 50, rate: 0, payload: 64 },
  B: { clients: 100, senders: 10, messages: 1000, window: 0, rate: 100, payload: 64 },
  C: { clients: 1000, senders: 2, messages: 500, window: 50, rate: 0, payload: 32 },
};
const HELD: Readonly<Record<string, number>> = { D: 5000, H: 10000 };

/** One run's figures. */
interface RunResult {
  workload: string;
  rep: number;
  deliveriesPerSec?: number;
  deliveries?: number;
  lost?: number;
  outOfOrder?: number;
  p50Ms?: number;
  p99Ms?: number;
  clients?: number;
  kbPerConn?: number;
  pongs?: number;
  serverRssKb: number;
}

/**
 * Server subprocesses started with the `start` task's permission flags: one
 * lone server, or several joined through their own `redis-server`.
 */
class ServerProcesses {
  readonly #servers: StartedServer[];
  readonly #redis: RedisProcess | undefined;

  private constructor(servers: StartedServer[], redis: RedisProcess | undefined) {
    this.#servers = servers;
    this.#redis = redis;
  }

  /** The chat ports, one per instance. */
  get ports(): number[] {
    return this.#servers.map((server) => server.port);
  }

  static async start(instances = 1): Promise<ServerProcesses> {
    const args = ["--host", "127.0.0.1", "--port", "0", "--max-clients", "20000", "--rate", "0"];
    if (instances === 1) return new ServerProcesses([await spawnServer(args)], undefined);
    const redis = await RedisProcess.start();
    const servers: StartedServer[] = [];
    try {
      for (let i = 0; i < instances; i++) {
        const server = await spawnServer([...args, "--redis-url", redis.url]);
        servers.push(server);
        await server.logged(/cluster joined/);
      }
    } catch (error) {
      for (const server of servers) server.child.kill("SIGTERM");
      await redis.stop();
      throw error;
    }
    return new ServerProcesses(servers, redis);
  }

  /** The servers' resident memory together, from `ps` (Deno grants /proc only with -A). */
  async rssKb(): Promise<number> {
    const { stdout } = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", this.#servers.map((server) => server.child.pid).join(",")],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(stdout).trim().split(/\s+/).reduce(
      (n, kb) => n + Number(kb),
      0,
    );
  }

  async stop(): Promise<void> {
    for (const server of this.#servers) server.child.kill("SIGTERM");
    for (const server of this.#servers) await server.child.status;
    await this.#redis?.stop();
  }
}

/** A worker and a way to wait for its next report of a given kind. */
class LoadWorker {
  readonly #worker: Worker;
  #waiting: { ev: string; resolve: (r: WorkerReport) => void; reject: (e: Error) => void }[] = [];

  constructor() {
    this.#worker = new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<WorkerReport>) => {
      const report = event.data;
      const waiter = this.#waiting.shift();
      if (waiter === undefined) return;
      if (report.ev === "error") waiter.reject(new Error(report.message));
      else if (report.ev !== waiter.ev) waiter.reject(new Error(`unexpected ${report.ev}`));
      else waiter.resolve(report);
    };
  }

  ask<E extends WorkerReport["ev"]>(
    command: WorkerCommand,
    ev: E,
  ): Promise<Extract<WorkerReport, { ev: E }>> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ ev, resolve: resolve as (r: WorkerReport) => void, reject });
      this.#worker.postMessage(command);
    });
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

/** Splits `total` clients over `workers` as [first, count] ranges, after `reserved` for worker 0. */
function spread(total: number, workers: number, reserved: number): [number, number][] {
  const ranges: [number, number][] = [[0, Math.min(reserved, total)]];
  let next = ranges[0]![1];
  const others = Math.max(1, workers - 1);
  for (let w = 0; w < others && next < total; w++) {
    const count = Math.ceil((total - next) / (others - w));
    if (workers === 1) ranges[0]![1] += count;
    else ranges.push([next, count]);
    next += count;
  }
  return ranges;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function runFanout(
  name: string,
  shape: FanoutShape,
  workerCount: number,
  rep: number,
  instances: number,
) {
  return await withLoad(instances, async (server, workers) => {
    const ranges = spread(shape.clients, workerCount, shape.senders + 1);
    for (const [first, count] of ranges) {
      const worker = new LoadWorker();
      workers.push(worker);
      await worker.ask({ cmd: "connect", ports: server.ports, first, count }, "connected");
    }
    const reports = await Promise.all(workers.map((worker, w) =>
      worker.ask({
        cmd: "fanout",
        senders: w === 0 ? shape.senders : 0,
        reference: w === 0,
        messages: shape.messages,
        window: shape.window,
        rate: shape.rate,
        payload: shape.payload,
        totalSenders: shape.senders,
        drainMs: 5000,
      }, "fanout-done")
    ));
    const deliveries = reports.reduce((n, r) => n + r.deliveries, 0);
    const expected = reports.reduce((n, r) => n + r.expected, 0);
    const secs = (Math.max(...reports.map((r) => r.lastDeliveryUs)) - reports[0]!.firstSendUs) /
      1e6;
    const all = new Float64Array(reports.reduce((n, r) => n + r.latenciesUs.length, 0));
    let offset = 0;
    for (const r of reports) {
      all.set(r.latenciesUs, offset);
      offset += r.latenciesUs.length;
    }
    all.sort();
    const result: RunResult = {
      workload: name,
      rep,
      deliveriesPerSec: Math.round(deliveries / secs),
      deliveries,
      lost: expected - deliveries,
      outOfOrder: reports.reduce((n, r) => n + r.outOfOrder, 0),
      p50Ms: percentile(all, 0.5) / 1000,
      p99Ms: percentile(all, 0.99) / 1000,
      serverRssKb: await server.rssKb(),
    };
    return result;
  });
}

async function runHeld(
  name: string,
  clients: number,
  workerCount: number,
  rep: number,
  instances: number,
) {
  return await withLoad(instances, async (server, workers) => {
    await settle();
    const before = await server.rssKb();
    const ranges = spread(clients, workerCount + 1, 0).filter(([, count]) => count > 0);
    await Promise.all(ranges.map(([first, count]) => {
      const worker = new LoadWorker();
      workers.push(worker);
      return worker.ask({ cmd: "connect", ports: server.ports, first, count }, "connected");
    }));
    await settle(5000);
    const after = await server.rssKb();
    const pinged = await Promise.all(workers.map((w) => w.ask({ cmd: "ping" }, "pinged")));
    const result: RunResult = {
      workload: name,
      rep,
      clients,
      kbPerConn: Math.round(((after - before) / clients) * 100) / 100,
      pongs: pinged.reduce((n, r) => n + r.answered, 0),
      serverRssKb: after,
    };
    return result;
  });
}

/**
 * Runs `load` against fresh servers; the workers it adds to the list close their clients
 * after it, and are ended with the servers whatever happens.
 */
async function withLoad<T>(
  instances: number,
  load: (server: ServerProcesses, workers: LoadWorker[]) => Promise<T>,
): Promise<T> {
  const server = await ServerProcesses.start(instances);
  const workers: LoadWorker[] = [];
  try {
    const result = await load(server, workers);
    for (const worker of workers) await worker.ask({ cmd: "close" }, "closed");
    return result;
  } finally {
    for (const worker of workers) worker.terminate();
    await server.stop();
  }
}

function settle(ms = 500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function summarize(results: RunResult[]): Record<string, Record<string, number>> {
  const byWorkload: Record<string, Record<string, number>> = {};
  for (const workload of new Set(results.map((r) => r.workload))) {
    const runs = results.filter((r) => r.workload === workload);
    const row: Record<string, number> = { runs: runs.length };
    for (
      const key of [
        "deliveriesPerSec",
        "lost",
        "outOfOrder",
        "p50Ms",
        "p99Ms",
        "kbPerConn",
        "pongs",
        "clients",
      ] as const
    ) {
      const values = runs.map((r) => r[key]).filter((v): v is number => v !== undefined);
      if (values.length > 0) row[key] = median(values);
    }
    byWorkload[workload] = row;
  }
  return byWorkload;
}

function printTable(summary: Record<string, Record<string, number>>): void {
  const fmt = (v: number | undefined, digits = 0) =>
    v === undefined ? "-" : v.toLocaleString("en-US", { maximumFractionDigits: digits });
  console.log(
    "workload | runs | deliveries/s | p50 ms | p99 ms | lost | reordered | KB/conn | PONGs",
  );
  console.log("---|---|---|---|---|---|---|---|---");
  for (const [workload, row] of Object.entries(summary)) {
    console.log(
      [
        workload,
        fmt(row.runs),
        fmt(row.deliveriesPerSec),
        fmt(row.p50Ms, 2),
        fmt(row.p99Ms, 2),
        fmt(row.lost),
        fmt(row.outOfOrder),
        fmt(row.kbPerConn, 2),
        row.pongs === undefined ? "-" : `${fmt(row.pongs)}/${fmt(row.clients)}`,
      ].join(" | "),
    );
  }
}

/** Says what was wrong with the command line, in one line, and exits 2. */
function usageError(message: string): never {
  console.error(`bench: ${message} (see --help)`);
  Deno.exit(2);
}

/** `text` as a whole number of at least 1, or undefined if it is not one. */
function count(text: string): number | undefined {
  const n = Number(text);
  return text.trim() !== "" && Number.isInteger(n) && n >= 1 ? n : undefined;
}

async function main(): Promise<void> {
  const flags = parseFlagsOrExit("bench", Deno.args, {
    values: ["workloads", "reps", "workers", "instances"],
    switches: ["help"],
  });
  const given = flags.values;
  const values = {
    workloads: given.workloads ?? "A,B,D",
    reps: given.reps ?? "3",
    workers: given.workers ?? "2",
    instances: given.instances ?? "1",
  };
  if (flags.switches.help) {
    console.log(
      "Usage: deno task bench [--workloads=A,B,C,D,H] [--reps=3] [--workers=2] [--instances=1,2]\n" +
        "Medians of --reps runs, a fresh server per run; a table, then one JSON line.\n" +
        "--instances: run each workload on 1 lone server, and on N servers joined\n" +
        "through a throwaway redis-server (needs redis-server), alternating.\n" +
        "Exits 2 on a usage error.",
    );
    return;
  }
  const workloads = values.workloads.split(",").map((w) => w.trim().toUpperCase());
  const unknown = workloads.find((w) => FANOUT[w] === undefined && HELD[w] === undefined);
  if (unknown !== undefined) {
    usageError(`unknown workload ${JSON.stringify(unknown)} in --workloads (A, B, C, D or H)`);
  }
  const reps = count(values.reps) ?? usageError(`--reps must be a whole number from 1`);
  const workerCount = count(values.workers) ??
    usageError(`--workers must be a whole number from 1`);
  const instanceCounts = values.instances.split(",").map((n) =>
    count(n) ?? usageError(`--instances must list whole numbers from 1, got ${values.instances}`)
  );
  const results: RunResult[] = [];
  for (const workload of workloads) {
    for (let rep = 1; rep <= reps; rep++) {
      // Alternating the setups within a rep spreads the machine's noise over all of them.
      for (const instances of instanceCounts) {
        const shape = FANOUT[workload];
        const held = HELD[workload];
        const label = instances === 1 ? workload : `${workload} x${instances}`;
        let result: RunResult;
        if (shape !== undefined) {
          result = await runFanout(label, shape, workerCount, rep, instances);
        } else if (held !== undefined) {
          result = await runHeld(label, held, workerCount, rep, instances);
        } else throw new Error(`unknown workload ${workload}`);
        console.error(`${label} rep ${rep}: ${JSON.stringify(result)}`);
        results.push(result);
      }
    }
  }
  const summary = summarize(results);
  printTable(summary);
  console.log(JSON.stringify({ deno: Deno.version.deno, summary, runs: results }));
}

if (import.meta.main) await main();
