/**
 * Server configuration: command-line flags over environment variables over
 * defaults, validated before anything listens.
 *
 * @module
 */
import { FlagError, parseFlags } from "./flags.ts";
import { CidrList } from "./address.ts";
import {
  ConfigError,
  oneOf,
  type Parse,
  parseChannel,
  parseCidrList,
  parseHost,
  parseNonNegativeInteger,
  parseOrigins,
  parsePath,
  parsePort,
  parsePositiveDays,
  parsePositiveInteger,
  parsePositiveSeconds,
  parseRate,
  parseRedisUrl,
  parseServerName,
} from "./config_values.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";

export { ConfigError };

/** Validated settings of one server process. */
export interface Config {
  /** Address to listen on. */
  readonly host: string;
  /** TCP port; 0 picks any free port. */
  readonly port: number;
  /** Seconds without a complete line before a client is closed (fractions allowed). */
  readonly idleTimeout: number;
  /** Longest line a client may send, in bytes, without its end. */
  readonly maxLineBytes: number;
  /** Open connections at most, logged in or not. */
  readonly maxClients: number;
  /** Bytes the server holds for one client, not yet handed to the kernel, before it is dropped. */
  readonly maxQueueBytes: number;
  /** Open connections from one address at most; 0: no limit. */
  readonly maxClientsPerIp: number;
  /** Addresses and CIDR networks the per-address limit does not apply to. */
  readonly ipLimitExempt: CidrList;
  /** Addresses and CIDR networks whose connections start with a PROXY protocol header. */
  readonly trustedProxies: CidrList;
  /** Lines a second one client may send, on average; 0 turns flood control off. */
  readonly rate: number;
  /** Lines one client may send at once before its rate applies. */
  readonly burst: number;
  /** PEM certificate file for TLS; TLS is on when this and {@linkcode Config.tlsKey} are set. */
  readonly tlsCert: string | undefined;
  /** PEM private key file for TLS. */
  readonly tlsKey: string | undefined;
  /** Port of the TLS listener (plaintext stays on {@linkcode Config.port}). */
  readonly tlsPort: number;
  /** HTTP port for `/healthz` and `/metrics`; undefined: no metrics listener. */
  readonly metricsPort: number | undefined;
  /** HTTP port for the browser client and its WebSocket; undefined: no web listener. */
  readonly webPort: number | undefined;
  /** Origins besides the server's own whose pages may open a WebSocket (`scheme://host[:port]`). */
  readonly webOrigins: readonly string[];
  /** Port for IRC clients; undefined: no IRC listener. */
  readonly ircPort: number | undefined;
  /** Port for IRC over TLS, when the TLS files and the IRC port are given. */
  readonly ircTlsPort: number;
  /** The one IRC channel the chat is. */
  readonly ircChannel: string;
  /** The server's name on IRC: the source of numerics and the host in every prefix. */
  readonly serverName: string;
  /** How log lines are written. */
  readonly logFormat: LogFormat;
  /** The least severe log level written. */
  readonly logLevel: LogLevel;
  /** Redis to join other instances through (`redis://host:port`); undefined: a lone server. */
  readonly redisUrl: string | undefined;
  /** The directory the server keeps its history in (SQLite); undefined: in memory, or Redis. */
  readonly dataDir: string | undefined;
  /** Chat messages kept, the oldest dropped first; 0: no history at all. */
  readonly historyLines: number;
  /** Days a message is kept (fractions allowed). */
  readonly historyDays: number;
}

/** The settings used when neither a flag nor an environment variable gives one. */
export const DEFAULT_CONFIG: Config = {
  host: "0.0.0.0",
  port: 4000,
  idleTimeout: 60,
  maxLineBytes: 4096,
  maxClients: 10000,
  maxQueueBytes: 1048576,
  maxClientsPerIp: 16,
  ipLimitExempt: CidrList.from(["127.0.0.0/8", "::1"]),
  trustedProxies: new CidrList([]),
  rate: 20,
  burst: 50,
  tlsCert: undefined,
  tlsKey: undefined,
  tlsPort: 4001,
  metricsPort: undefined,
  webPort: undefined,
  webOrigins: [],
  ircPort: undefined,
  ircTlsPort: 6697,
  ircChannel: "#chat",
  serverName: "chat",
  logFormat: "text",
  logLevel: "info",
  redisUrl: undefined,
  dataDir: undefined,
  historyLines: 10000,
  historyDays: 30,
};

/** What the command line asks for: run with a config, or print the usage. */
export type ConfigRequest =
  | { readonly kind: "run"; readonly config: Config }
  | { readonly kind: "help" };

interface Setting {
  readonly key: keyof Config;
  readonly flag: string;
  readonly env: string;
  readonly parse: Parse;
  readonly help: string;
}

const SETTINGS: readonly Setting[] = [
  {
    key: "host",
    flag: "host",
    env: "HOST",
    parse: parseHost,
    help: "address to listen on",
  },
  {
    key: "port",
    flag: "port",
    env: "PORT",
    parse: parsePort,
    help: "TCP port, 0 to 65535 (0: any free port)",
  },
  {
    key: "idleTimeout",
    flag: "idle-timeout",
    env: "IDLE_TIMEOUT",
    parse: parsePositiveSeconds,
    help: "seconds without a line before a client is closed",
  },
  {
    key: "maxLineBytes",
    flag: "max-line-bytes",
    env: "MAX_LINE_BYTES",
    parse: parsePositiveInteger,
    help: "longest accepted line in bytes, without its end",
  },
  {
    key: "maxClients",
    flag: "max-clients",
    env: "MAX_CLIENTS",
    parse: parsePositiveInteger,
    help: "open connections at most",
  },
  {
    key: "maxQueueBytes",
    flag: "max-queue-bytes",
    env: "MAX_QUEUE_BYTES",
    parse: parsePositiveInteger,
    help: "unsent bytes held for one client before it is dropped",
  },
  {
    key: "maxClientsPerIp",
    flag: "max-clients-per-ip",
    env: "MAX_CLIENTS_PER_IP",
    parse: parseNonNegativeInteger,
    help: "open connections from one address (0: no limit)",
  },
  {
    key: "ipLimitExempt",
    flag: "ip-limit-exempt",
    env: "IP_LIMIT_EXEMPT",
    parse: parseCidrList,
    help: "comma list of addresses/CIDRs without a per-address limit (none: empty)",
  },
  {
    key: "trustedProxies",
    flag: "trusted-proxies",
    env: "TRUSTED_PROXIES",
    parse: parseCidrList,
    help: "comma list of addresses/CIDRs that send a PROXY protocol header",
  },
  {
    key: "rate",
    flag: "rate",
    env: "RATE",
    parse: parseRate,
    help: "lines a second per client, on average (0: no flood control)",
  },
  {
    key: "burst",
    flag: "burst",
    env: "BURST",
    parse: parsePositiveInteger,
    help: "lines a client may send at once before --rate applies",
  },
  {
    key: "tlsCert",
    flag: "tls-cert",
    env: "TLS_CERT",
    parse: parsePath,
    help: "PEM certificate file; with --tls-key, also serve TLS",
  },
  {
    key: "tlsKey",
    flag: "tls-key",
    env: "TLS_KEY",
    parse: parsePath,
    help: "PEM private key file for --tls-cert",
  },
  {
    key: "tlsPort",
    flag: "tls-port",
    env: "TLS_PORT",
    parse: parsePort,
    help: "TLS port, 0 to 65535",
  },
  {
    key: "metricsPort",
    flag: "metrics-port",
    env: "METRICS_PORT",
    parse: parsePort,
    help: "HTTP port for /healthz, /readyz and /metrics (off when unset)",
  },
  {
    key: "webPort",
    flag: "web-port",
    env: "WEB_PORT",
    parse: parsePort,
    help: "HTTP port for the browser client and WebSockets at /ws (off when unset)",
  },
  {
    key: "webOrigins",
    flag: "web-origins",
    env: "WEB_ORIGINS",
    parse: parseOrigins,
    help: "comma list of other origins whose pages may use /ws (none: empty)",
  },
  {
    key: "ircPort",
    flag: "irc-port",
    env: "IRC_PORT",
    parse: parsePort,
    help: "port for IRC clients (off when unset)",
  },
  {
    key: "ircTlsPort",
    flag: "irc-tls-port",
    env: "IRC_TLS_PORT",
    parse: parsePort,
    help: "port for IRC over TLS, with the TLS files and --irc-port",
  },
  {
    key: "ircChannel",
    flag: "irc-channel",
    env: "IRC_CHANNEL",
    parse: parseChannel,
    help: "the IRC channel the chat is",
  },
  {
    key: "serverName",
    flag: "server-name",
    env: "SERVER_NAME",
    parse: parseServerName,
    help: "the server's name in IRC prefixes and numerics",
  },
  {
    key: "logFormat",
    flag: "log-format",
    env: "LOG_FORMAT",
    parse: oneOf(LOG_FORMATS),
    help: "log line format: text or json",
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: "LOG_LEVEL",
    parse: oneOf(LOG_LEVELS),
    help: "least severe level logged: debug, info, warn or error",
  },
  {
    key: "redisUrl",
    flag: "redis-url",
    env: "REDIS_URL",
    parse: parseRedisUrl,
    help: "redis:// URL joining instances into one chat (off when unset)",
  },
  {
    key: "dataDir",
    flag: "data-dir",
    env: "DATA_DIR",
    parse: parsePath,
    help:
      "directory for the history and accounts (SQLite), kept across restarts; unused with --redis-url",
  },
  {
    key: "historyLines",
    flag: "history-lines",
    env: "HISTORY_LINES",
    parse: parseNonNegativeInteger,
    help: "chat messages kept, oldest dropped first (0: no history)",
  },
  {
    key: "historyDays",
    flag: "history-days",
    env: "HISTORY_DAYS",
    parse: parsePositiveDays,
    help: "days a message is kept (fractions allowed)",
  },
];

function describeDefault(value: Config[keyof Config]): string {
  if (value === undefined) return "off";
  if (value instanceof CidrList) return value.networks.length === 0 ? "none" : String(value);
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(",");
  return String(value);
}

/** The names of the environment variables the server reads. */
export const ENV_NAMES: readonly string[] = SETTINGS.map((s) => s.env);

/**
 * Variables the Redis client (node-redis) reads for its own diagnostics. The
 * runtime flags allow them, or the client fails when it connects.
 */
export const LIBRARY_ENV_NAMES: readonly string[] = [
  "REDIS_DEBUG_MAINTENANCE",
  "REDIS_EMIT_DIAGNOSTICS",
];

/** Spaces between the longest flag and its text in the usage. */
const USAGE_GAP = 2;

/** The usage text that `--help` prints. */
export function usage(): string {
  const options: [flag: string, help: string][] = [
    ...SETTINGS.map((s): [string, string] => [
      `--${s.flag}=<value>`,
      `${s.help} (env ${s.env}, default ${describeDefault(DEFAULT_CONFIG[s.key])})`,
    ]),
    ["--help", "print this help and exit"],
  ];
  const width = Math.max(...options.map(([flag]) => flag.length)) + USAGE_GAP;
  return [
    "Usage: main.ts [options]",
    "",
    "A line-based TCP chat server. Flags win over environment variables.",
    "",
    "Options:",
    ...options.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    "",
  ].join("\n");
}

/**
 * Reads the configuration from command-line arguments and an environment
 * lookup. Throws {@linkcode ConfigError} for an unknown flag, a stray
 * argument or a bad value.
 */
export function parseConfig(
  args: readonly string[],
  env: (name: string) => string | undefined,
): ConfigRequest {
  let flags;
  try {
    flags = parseFlags(args, { values: SETTINGS.map((s) => s.flag), switches: ["help"] });
  } catch (error) {
    if (error instanceof FlagError) {
      throw new ConfigError(`Cannot start: ${error.message} (see --help)`);
    }
    throw error;
  }
  if (flags.switches.help) return { kind: "help" };

  const config: Record<string, Config[keyof Config]> = { ...DEFAULT_CONFIG };
  for (const s of SETTINGS) {
    const flagValue = flags.values[s.flag];
    if (typeof flagValue === "string") {
      config[s.key] = s.parse(flagValue, `--${s.flag}`);
      continue;
    }
    const envValue = env(s.env);
    // An empty variable (`PORT=` in a compose file) means "not set", as in most servers.
    if (envValue !== undefined && envValue !== "") config[s.key] = s.parse(envValue, s.env);
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError(
      "Cannot start: --tls-cert and --tls-key go together; give both or neither",
    );
  }
  return { kind: "run", config: config as unknown as Config };
}
