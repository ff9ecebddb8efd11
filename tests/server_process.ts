/**
 * The server as a subprocess, started exactly as `deno task start` starts it
 * (the same runtime flags, read from deno.json), on free loopback ports, for
 * the benchmark, the soak and the process tests.
 *
 * @module
 */

import { withDeadline } from "./helpers.ts";
import { OutputLog } from "./output_log.ts";

const root = new URL("../", import.meta.url);

/** The words after `deno` in the `start` task: `run`, the runtime flags, `main.ts`. */
export async function startTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  return String(config.tasks.start).split(/\s+/).slice(1);
}

/** A running server process and the ports it logged. */
export interface StartedServer {
  readonly child: Deno.ChildProcess;
  /** The chat port, from the `listening` line. */
  readonly port: number;
  /** The `listening tls` port, when TLS is on. */
  readonly tlsPort: number | undefined;
  /** The `metrics listening` port, when metrics are on. */
  readonly metricsPort: number | undefined;
  /** The `listening web` port, when the web door is on. */
  readonly webPort: number | undefined;
  /** The `listening irc` port, when the IRC door is on. */
  readonly ircPort: number | undefined;
  /** The `listening irc tls` port, when IRC over TLS is on. */
  readonly ircTlsPort: number | undefined;
  /** Everything logged so far, and from now on until the process ends. */
  readonly log: () => string;
  /** Resolves with everything logged once stderr closes. */
  readonly logClosed: Promise<string>;
  /** Resolves with the log once it matches `pattern` (already, or when the line comes). */
  readonly logged: (pattern: RegExp) => Promise<string>;
}

/**
 * Starts the server with the start task's flags plus `args` (and `env` added
 * to the environment; under a hard descriptor limit of `fdLimit`, which Deno
 * raises its soft limit to), reads its log
 * up to the last of its `listening` lines (all are logged at once, at
 * startup), and keeps draining the log so the server never blocks on it.
 * Rejects with the log if the process exits first.
 */
export async function spawnServer(
  args: string[],
  env: Record<string, string> = {},
  fdLimit?: number,
): Promise<StartedServer> {
  const denoArgs = [...await startTaskArgs(), ...args];
  // Soft and hard at once (dash refuses a hard limit below the soft one); `exec` keeps the pid: the child is the server itself, whose /proc entry the tests read.
  const limited = ["-c", `ulimit -n ${fdLimit} && exec "$0" "$@"`, Deno.execPath(), ...denoArgs];
  const child = new Deno.Command(fdLimit === undefined ? Deno.execPath() : "sh", {
    args: fdLimit === undefined ? denoArgs : limited,
    cwd: root,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log = new OutputLog(child.stderr);
  const wants = [/ listening address=/];
  if (args.includes("--tls-cert")) wants.push(/ listening tls address=/);
  if (args.includes("--metrics-port")) wants.push(/ metrics listening address=/);
  if (args.includes("--web-port")) wants.push(/ listening web address=/);
  if (args.includes("--irc-port")) wants.push(/ listening irc address=/);
  if (args.includes("--irc-tls-port")) wants.push(/ listening irc tls address=/);
  const seen = await log.until(
    (text) => wants.every((want) => want.test(text)),
    "server exited before listening",
  );
  const portOf = (label: string) => {
    const match = seen.match(new RegExp(` ${label} address="[^"]*:(\\d+)"`));
    return match === null ? undefined : Number(match[1]);
  };
  return {
    child,
    port: portOf("listening")!,
    tlsPort: portOf("listening tls"),
    metricsPort: portOf("metrics listening"),
    webPort: portOf("listening web"),
    ircPort: portOf("listening irc"),
    ircTlsPort: portOf("listening irc tls"),
    log: () => log.text,
    logClosed: log.closed,
    logged: (pattern) => log.matches(pattern),
  };
}

/** Stops `server` with SIGTERM; resolves with its log, rejects unless it exits 0 within 10 s. */
export async function stopServer(server: StartedServer): Promise<string> {
  server.child.kill("SIGTERM");
  const status = await withDeadline(server.child.status, 10_000, "server exit");
  const log = await server.logClosed;
  if (status.code !== 0) throw new Error(`server exited with ${status.code}: ${log.slice(-3000)}`);
  return log;
}
