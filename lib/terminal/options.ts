/**
 * The chat client's command line. Pure: it reads arguments, not files.
 *
 * @module
 */
import { FlagError, parseFlags } from "../flags.ts";

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
  /** Read the password from the first line of standard input (there is no flag that takes one). */
  readonly passwordStdin: boolean;
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
    "  --password-stdin  read the account's password from the first line of standard input",
    "                    (for scripts; on a terminal the client asks, without echo)",
    "  --help            print this help and exit",
    "",
  ].join("\n");
}

/** Reads the command line; throws {@linkcode UsageError} for anything it cannot use. */
export function parseOptions(args: readonly string[]): OptionsRequest {
  let flags;
  try {
    flags = parseFlags(args, {
      values: ["name", "host", "port", "ca", "ping"],
      switches: ["tls", "help", "password-stdin"],
    });
  } catch (error) {
    if (error instanceof FlagError) throw new UsageError(`chat: ${error.message} (see --help)`);
    throw error;
  }
  const { values, switches } = flags;
  if (switches.help) return { kind: "help" };
  const name = values.name?.trim() ?? "";
  if (name === "") throw new UsageError("chat: --name=<name> is required (see --help)");
  const host = values.host?.trim() ?? "localhost";
  if (host === "" || /\s/.test(host)) {
    throw new UsageError(`chat: --host must be a host name or address, got "${values.host}"`);
  }
  const tls = switches.tls;
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
  const passwordStdin = switches["password-stdin"];
  return {
    kind: "run",
    options: { name, host, port, tls, ca: values.ca, pingSeconds, passwordStdin },
  };
}
