/**
 * A throwaway Redis for the cluster tests: Debian's `redis-server` on a free
 * loopback port, with nothing saved, that a test can stop, freeze and start
 * again on the same port.
 *
 * @module
 */
import { withDeadline } from "./helpers.ts";

/** True when a `redis-server` binary is on the PATH. */
export async function hasRedisServer(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** A `redis-server` process; {@linkcode RedisProcess.stop} it before the test ends. */
export class RedisProcess {
  /** The loopback port, kept across restarts. */
  readonly port: number;
  #child: Deno.ChildProcess | undefined;
  #output: Promise<void> = Promise.resolve();

  private constructor(port: number) {
    this.port = port;
  }

  /** The URL servers join with. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts Redis on a free port and resolves once it accepts connections. */
  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(freePort());
    await redis.restart();
    return redis;
  }

  /** Starts Redis again on the same port (empty, like a restarted cache). */
  async restart(): Promise<void> {
    const child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#child = child;
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    await withDeadline(
      (async () => {
        while (!seen.includes("Ready to accept connections")) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`redis-server exited: ${seen}`);
          seen += value;
        }
      })(),
      5000,
      "redis-server start",
    );
    // Keep draining, so Redis never blocks on its own log.
    this.#output = (async () => {
      while (!(await reader.read()).done);
    })();
  }

  /** Pauses (SIGSTOP) or resumes (SIGCONT) Redis: connected but not answering. */
  freeze(frozen: boolean): void {
    this.#child?.kill(frozen ? "SIGSTOP" : "SIGCONT");
  }

  /** Stops Redis (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    try {
      child.kill("SIGCONT");
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await this.#output;
  }
}

/**
 * A loopback TCP relay in front of Redis that a test can cut and restore:
 * one instance behind it loses Redis while the others keep it (a partition).
 */
export class TcpRelay {
  readonly #listener: Deno.TcpListener;
  readonly #target: number;
  readonly #conns = new Set<Deno.Conn>();
  readonly #pumps = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  #cut = false;

  private constructor(target: number) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** Relays to `127.0.0.1:target`. */
  static start(target: number): TcpRelay {
    return new TcpRelay(target);
  }

  /** Where to connect instead of Redis. */
  get url(): string {
    return `redis://127.0.0.1:${this.#listener.addr.port}`;
  }

  /** Drops every relayed connection and refuses new ones until {@linkcode restore}. */
  cut(): void {
    this.#cut = true;
    for (const conn of this.#conns) closeQuietly(conn);
    this.#conns.clear();
  }

  /** Relays again. */
  restore(): void {
    this.#cut = false;
  }

  /** Stops relaying and waits for every connection to be released. */
  async close(): Promise<void> {
    this.cut();
    this.#listener.close();
    await this.#accepting;
    await Promise.all(this.#pumps);
  }

  async #accept(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // closed
      }
      if (this.#cut) {
        closeQuietly(conn);
        continue;
      }
      let upstream: Deno.Conn;
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
      } catch {
        closeQuietly(conn);
        continue;
      }
      this.#conns.add(conn);
      this.#conns.add(upstream);
      for (const [from, to] of [[conn, upstream], [upstream, conn]] as const) {
        const pump = this.#pump(from, to);
        this.#pumps.add(pump);
        pump.finally(() => this.#pumps.delete(pump));
      }
    }
  }

  async #pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(65536);
    try {
      while (true) {
        const count = await from.read(buffer);
        if (count === null) break;
        let data = buffer.subarray(0, count);
        while (data.length > 0) data = data.subarray(await to.write(data));
      }
    } catch {
      // Cut, or the other side went away.
    } finally {
      for (const conn of [from, to]) {
        if (this.#conns.delete(conn)) closeQuietly(conn);
      }
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
