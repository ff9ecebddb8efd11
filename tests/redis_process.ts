/**
 * A throwaway Redis for the cluster tests and the clustered benchmark:
 * Debian's `redis-server` on a free loopback port (below the ephemeral range:
 * see tests/ports.ts), with nothing saved, that
 * a test can stop, freeze and start again on the same port.
 *
 * @module
 */
import { freeFixedPort } from "./ports.ts";
import { hasProgram } from "./programs.ts";

/** True when a `redis-server` binary is on the PATH. */
export async function hasRedisServer(): Promise<boolean> {
  return await hasProgram("redis-server");
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
    const redis = new RedisProcess(freeFixedPort());
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
    // redis-server says when it is ready, or exits (a port taken meanwhile, say).
    while (!seen.includes("Ready to accept connections")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`redis-server exited: ${seen}`);
      seen += value;
    }
    // Keep draining, so Redis never blocks on its own log.
    this.#output = (async () => {
      while (!(await reader.read()).done);
    })();
  }

  /** Sends one command and returns Redis's one-line reply (`+OK`, `:1`, ...). */
  async command(...words: string[]): Promise<string> {
    const encoder = new TextEncoder();
    const request = `*${words.length}\r\n` +
      words.map((word) => `$${encoder.encode(word).length}\r\n${word}\r\n`).join("");
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
    let data = encoder.encode(request);
    while (data.length > 0) data = data.subarray(await conn.write(data));
    const buffer = new Uint8Array(4096);
    let reply = "";
    while (!reply.includes("\r\n")) {
      const count = await conn.read(buffer);
      if (count === null) break;
      reply += new TextDecoder().decode(buffer.subarray(0, count));
    }
    return reply.split("\r\n")[0]!;
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
