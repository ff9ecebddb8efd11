/**
 * Debian's `haproxy` in the foreground, for the balancer tests: its
 * configuration written to a temporary folder with a stats socket added,
 * server states read through that socket, and its warnings (a server marked
 * DOWN or UP) read off stderr as they come.
 *
 * @module
 */
import { OutputLog } from "./output_log.ts";

/** Longest wait for haproxy's stats socket to answer after it is started. */
const START_MS = 10_000;

/** Where Debian puts haproxy, for a PATH without the sbin folders. */
const SBIN_HAPROXY = "/usr/sbin/haproxy";

/** The haproxy binary that runs: the one on the PATH, or Debian's; undefined without either. */
const binary: Promise<string | undefined> = (async () => {
  for (const candidate of ["haproxy", SBIN_HAPROXY]) {
    try {
      const { success } = await new Deno.Command(candidate, {
        args: ["-v"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (success) return candidate;
    } catch {
      // Not there; try the next.
    }
  }
  return undefined;
})();

/** True when haproxy can be run (on the PATH, or in /usr/sbin). */
export async function hasHaproxy(): Promise<boolean> {
  return await binary !== undefined;
}

async function haproxyBinary(): Promise<string> {
  const found = await binary;
  if (found === undefined) throw new Error(`haproxy is not installed (nor ${SBIN_HAPROXY})`);
  return found;
}

/** One server of a backend, as `show stat` reports it. */
export interface ServerState {
  /** `UP`, `DOWN`, or a transition such as `UP 1/2`. */
  readonly status: string;
  /** The last check's result: `L7OK`, `L7STS` (a bad HTTP status), `L4CON` (refused), ... */
  readonly checkStatus: string;
}

/** Checks `config` with `haproxy -c`; resolves with what it printed, rejects if it is invalid. */
export async function validateHaproxyConfig(config: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "haproxy-check-" });
  try {
    const path = `${dir}/haproxy.cfg`;
    await Deno.writeTextFile(path, config);
    const output = await new Deno.Command(await haproxyBinary(), {
      args: ["-c", "-f", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    const said = decoder.decode(output.stdout) + decoder.decode(output.stderr);
    if (!output.success) throw new Error(`haproxy -c rejected the configuration:\n${said}`);
    return said;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** An `haproxy -db` process; {@linkcode HaproxyProcess.stop} it before the test ends. */
export class HaproxyProcess {
  readonly #dir: string;
  readonly #child: Deno.ChildProcess;
  readonly #stderr: OutputLog;
  readonly #stdout: OutputLog;

  private constructor(dir: string, child: Deno.ChildProcess) {
    this.#dir = dir;
    this.#child = child;
    this.#stderr = new OutputLog(child.stderr);
    this.#stdout = new OutputLog(child.stdout);
  }

  /**
   * Runs haproxy in the foreground with `config`, plus a stats socket in its
   * `global` section. Resolves once the socket answers (the listeners are
   * bound by then); rejects with what haproxy said if it exits first.
   */
  static async start(config: string): Promise<HaproxyProcess> {
    const dir = await Deno.makeTempDir({ prefix: "haproxy-" });
    if (!/^global\n/m.test(config)) throw new Error("the configuration has no global section");
    const withSocket = config.replace(
      /^global\n/m,
      `global\n    stats socket ${dir}/stats.sock mode 600 level admin\n`,
    );
    await Deno.writeTextFile(`${dir}/haproxy.cfg`, withSocket);
    const child = new Deno.Command(await haproxyBinary(), {
      args: ["-db", "-f", `${dir}/haproxy.cfg`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const haproxy = new HaproxyProcess(dir, child);
    let exited = false;
    child.status.then(() => exited = true);
    const giveUpAt = performance.now() + START_MS;
    while (true) {
      try {
        await haproxy.command("show info");
        return haproxy;
      } catch (error) {
        if (exited || performance.now() > giveUpAt) {
          await haproxy.stop();
          throw new Error(`haproxy did not start: ${haproxy.output()}`, { cause: error });
        }
        // Not bound yet: haproxy binds its listeners, the stats socket among them, at once.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  /** Everything haproxy wrote, stderr then stdout, for a failing test's report. */
  output(): string {
    return `--- haproxy stderr ---\n${this.#stderr.text}--- haproxy stdout ---\n${this.#stdout.text}`;
  }

  /** Resolves with stderr once it matches `pattern` (already, or when the line comes). */
  logged(pattern: RegExp): Promise<string> {
    return this.#stderr.matches(pattern);
  }

  /** Sends one command to the stats socket and returns the whole answer. */
  async command(line: string): Promise<string> {
    using conn = await Deno.connect({ transport: "unix", path: `${this.#dir}/stats.sock` });
    let data = new TextEncoder().encode(`${line}\n`);
    while (data.length > 0) data = data.subarray(await conn.write(data));
    const buffer = new Uint8Array(16384);
    const decoder = new TextDecoder();
    let answer = "";
    while (true) {
      const count = await conn.read(buffer);
      if (count === null) return answer + decoder.decode();
      answer += decoder.decode(buffer.subarray(0, count), { stream: true });
    }
  }

  /** The servers of `backend` by name, from `show stat`. */
  async servers(backend: string): Promise<Map<string, ServerState>> {
    const [header, ...rows] = (await this.command("show stat")).trim().split("\n");
    const columns = header!.replace(/^# /, "").split(",");
    const column = (name: string) => columns.indexOf(name);
    const servers = new Map<string, ServerState>();
    for (const row of rows.map((line) => line.split(","))) {
      const name = row[column("svname")]!;
      if (row[column("pxname")] !== backend || name === "BACKEND" || name === "FRONTEND") continue;
      servers.set(name, {
        status: row[column("status")]!,
        checkStatus: row[column("check_status")]!,
      });
    }
    return servers;
  }

  /**
   * Resolves once every server of `backend` has passed a check (servers
   * start UP, before any); rejects after `ms`. Asks the stats socket every
   * 20 ms: haproxy logs no line for a first check that passes.
   */
  async checked(backend: string, ms: number): Promise<void> {
    const giveUpAt = performance.now() + ms;
    while (true) {
      const states = [...(await this.servers(backend)).values()];
      if (states.length > 0 && states.every((s) => s.checkStatus === "L7OK")) return;
      if (performance.now() > giveUpAt) {
        throw new Error(
          `Timed out after ${ms} ms: first checks of ${backend}: ${JSON.stringify(states)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops haproxy (SIGTERM), waits for it to exit, and removes its folder. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await this.#child.status;
    await Promise.all([this.#stderr.closed, this.#stdout.closed]);
    await Deno.remove(this.#dir, { recursive: true });
  }
}
