/**
 * The chat client's command line. Pure: it reads arguments, not files.
 *
 * @module
 */
import { parseArgs } from "@std/cli/parse-args";

/** What the client was asked to do. */
export interface ChatOptions {
  /** The name to log in as. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Connect with TLS. */
  readonly tls: boolean;
  /** A PEM file of a private CA to trust for TLS. */
  readonly ca: string | undefined;
  /** Seconds between keepalive pings. */
  readonly pingSeconds: number;
}

/** Run with options, or print the usage. */
export type OptionsRequest =
  | { readonly kind: "run"; readonly options: ChatOptions }
  | { readonly kind: "help" };

/** A bad command line; its message is the one line shown. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The server's defaults: plaintext on 4000, TLS on 4001. */
export const DEFAULT_PORT = 4000;
/** The port `--tls` uses unless `--port` says otherwise. */
export const DEFAULT_TLS_PORT = 4001;
/**
 * Seconds between keepalive pings: well under the server's default idle
 * timeout (60 s), so a client that only reads is never cut off.
 */
export const DEFAULT_PING_SECONDS = 20;

/** The text `--help` prints. */
export function usage(): string {
  return [
    "Usage: deno task chat --name=<name> [options]",
    "",
    "A terminal chat client: type to talk to everyone, /help for commands.",
    "On a terminal it edits the bottom line; with pipes it reads and writes plain lines.",
    "",
    "Options:",
    "  --name=<name>     the name to log in as (required)",
    "  --host=<host>     server host (default localhost)",
    `  --port=<port>     server port (default ${DEFAULT_PORT}, or ${DEFAULT_TLS_PORT} with --tls)`,
    "  --tls             connect with TLS",
    "  --ca=<file>       also trust this PEM CA certificate (with --tls)",
    `  --ping=<seconds>  seconds between keepalive pings (default ${DEFAULT_PING_SECONDS})`,
    "  --help            print this help and exit",
    "",
  ].join("\n");
}

/** The flags that take a value. */
const VALUED = ["name", "host", "port", "ca", "ping"] as const;
/** The flags that take none. */
const SWITCHES = ["tls", "help"] as const;

/** Reads the command line; throws {@linkcode UsageError} for anything it cannot use. */
export function parseOptions(args: readonly string[]): OptionsRequest {
  const { joined, problem } = joinValues(args, VALUED, SWITCHES);
  // parseArgs refuses an unknown flag or a positional argument before the problem: it comes first.
  const values = parseArgs(joined, { string: VALUED, boolean: SWITCHES, unknown: refuseUnknown });
  if (problem !== undefined) throw refused(problem);
  // What follows `--` lands in `_` without passing through `unknown`.
  const stray = values._[0];
  if (stray !== undefined) throw refused(unexpected(String(stray)));
  if (values.help === true) return { kind: "help" };
  const name = values.name?.trim() ?? "";
  if (name === "") throw new UsageError("chat: --name=<name> is required (see --help)");
  const host = values.host?.trim() ?? "localhost";
  if (host === "" || /\s/.test(host)) {
    throw new UsageError(`chat: --host must be a host name or address, got "${values.host}"`);
  }
  const tls = values.tls === true;
  const port = values.port === undefined ? (tls ? DEFAULT_TLS_PORT : DEFAULT_PORT) : Number(
    /^\d+$/.test(values.port) ? values.port : NaN,
  );
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`chat: --port must be a port from 1 to 65535, got "${values.port}"`);
  }
  if (values.ca !== undefined && !tls) throw new UsageError("chat: --ca goes with --tls");
  if (values.ca === "") throw new UsageError("chat: --ca needs a file name");
  const pingSeconds = values.ping === undefined ? DEFAULT_PING_SECONDS : Number(values.ping);
  if (!Number.isFinite(pingSeconds) || pingSeconds <= 0 || values.ping?.trim() === "") {
    throw new UsageError(`chat: --ping must be a number of seconds above 0, got "${values.ping}"`);
  }
  return { kind: "run", options: { name, host, port, tls, ca: values.ca, pingSeconds } };
}

/** Called by parseArgs for every flag it was not told of and every argument not a flag. */
function refuseUnknown(arg: string, key?: string): never {
  if (key === undefined) throw refused(unexpected(arg));
  const flag = arg.startsWith("--") ? arg.replace(/^(--.+?)=.*$/s, "$1") : `-${key}`;
  throw refused(`Unknown option '${flag}'`);
}

/**
 * `args` with every flag in its `--flag=value` form, so parseArgs never looks ahead: it would
 * take "" for a missing value, skip a value "", and take a "true" or "false" after a switch as
 * its value. A flag with a value takes the next argument unless there is none or it looks like
 * a flag (a "-" and more); a switch takes none; `--no-<flag>=x`, which parseArgs reads as
 * `--<flag>=x`, is unknown. At the first problem it stops, `joined` holding what came before.
 * (lib/config.ts has the same for the server; the client imports nothing of the server.)
 */
function joinValues(
  args: readonly string[],
  valued: readonly string[],
  switches: readonly string[],
): { joined: string[]; problem: string | undefined } {
  const joined: string[] = [];
  const stop = (problem: string) => ({ joined, problem });
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return { joined: [...joined, ...args.slice(i)], problem: undefined };
    const [, negated, name, inline] = /^--(no-)?([^=]+)(=.*)?$/s.exec(arg) ?? [];
    const known = name !== undefined && (valued.includes(name) || switches.includes(name));
    if (known && negated !== undefined && inline !== undefined) {
      return stop(`Unknown option '--no-${name}'`);
    }
    if (!known || negated !== undefined) {
      joined.push(arg);
    } else if (switches.includes(name)) {
      if (inline !== undefined) return stop(`Option '--${name}' does not take an argument`);
      joined.push(`${arg}=true`);
    } else if (inline !== undefined) {
      joined.push(arg);
    } else {
      const value = args[++i];
      if (value === undefined) return stop(`Option '--${name} <value>' argument missing`);
      if (value.length > 1 && value.startsWith("-")) {
        return stop(`Option '--${name}' argument is ambiguous.`);
      }
      joined.push(`${arg}=${value}`);
    }
  }
  return { joined, problem: undefined };
}

function unexpected(arg: string): string {
  return `Unexpected argument '${arg}'. This command does not take positional arguments`;
}

/** The error for `problem`, cut at a line break an argument brought in, so it stays one line. */
function refused(problem: string): UsageError {
  return new UsageError(`chat: ${problem.split("\n")[0]} (see --help)`);
}
