/** Unit tests of configuration: flags over environment over defaults, and clear errors. */
import { assert, assertEquals, assertMatch, assertStrictEquals, assertThrows } from "@std/assert";
import { CidrList } from "../lib/address.ts";
import {
  type Config,
  ConfigError,
  DEFAULT_CONFIG,
  ENV_NAMES,
  parseConfig,
  usage,
} from "../lib/config.ts";

/** An environment lookup backed by `vars`. */
function envOf(vars: Record<string, string> = {}): (name: string) => string | undefined {
  return (name) => Object.hasOwn(vars, name) ? vars[name] : undefined;
}

/** The config that `args` and `vars` ask for; fails when they ask for help. */
function configOf(args: string[], vars: Record<string, string> = {}): Config {
  const request = parseConfig(args, envOf(vars));
  assertEquals(request.kind, "run");
  if (request.kind !== "run") throw new Error("unreachable");
  return request.config;
}

/** Asserts that `args` and `vars` are refused with a one-line ConfigError mentioning each of `mentions`. */
function assertRefused(args: string[], vars: Record<string, string>, mentions: string[]): void {
  const label = JSON.stringify({ args, vars });
  let caught: unknown;
  try {
    parseConfig(args, envOf(vars));
  } catch (error) {
    caught = error;
  }
  assert(caught instanceof ConfigError, `${label} should throw a ConfigError, got ${caught}`);
  const message = caught.message;
  assert(message.length > 0, `${label}: empty message`);
  assert(
    !/[\r\n]/.test(message),
    `${label}: message is not one line: ${JSON.stringify(message)}`,
  );
  for (const mention of mentions) {
    assert(message.includes(mention), `${label}: ${JSON.stringify(message)} lacks "${mention}"`);
  }
}

/** The networks `items` name, as config should parse them. */
function cidrs(...items: string[]): CidrList {
  return CidrList.from(items);
}

const FLAGS = [
  "--host",
  "--port",
  "--idle-timeout",
  "--max-line-bytes",
  "--max-clients",
  "--max-queue-bytes",
  "--max-clients-per-ip",
  "--ip-limit-exempt",
  "--trusted-proxies",
  "--rate",
  "--burst",
  "--tls-cert",
  "--tls-key",
  "--tls-port",
  "--metrics-port",
  "--web-port",
  "--web-origins",
  "--irc-port",
  "--irc-tls-port",
  "--irc-channel",
  "--server-name",
  "--log-format",
  "--log-level",
  "--redis-url",
  "--data-dir",
  "--history-lines",
  "--history-days",
];

Deno.test("parseConfig uses the documented defaults when nothing is given", () => {
  const expected: Config = {
    host: "0.0.0.0",
    port: 4000,
    idleTimeout: 60,
    maxLineBytes: 4096,
    maxClients: 10000,
    maxQueueBytes: 1048576,
    maxClientsPerIp: 16,
    ipLimitExempt: cidrs("127.0.0.0/8", "::1"),
    trustedProxies: cidrs(),
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
  assertEquals(DEFAULT_CONFIG, expected);
  assertEquals(parseConfig([], envOf()), { kind: "run", config: expected });
});

Deno.test("parseConfig reads every flag in both its --x=1 and --x 1 forms", () => {
  const expected: Config = {
    host: "127.0.0.1",
    port: 5000,
    idleTimeout: 2.5,
    maxLineBytes: 100,
    maxClients: 7,
    maxQueueBytes: 2048,
    maxClientsPerIp: 0,
    ipLimitExempt: cidrs("10.0.0.0/8", "fd00::/8"),
    trustedProxies: cidrs("192.0.2.10"),
    rate: 0.5,
    burst: 3,
    tlsCert: "c.pem",
    tlsKey: "k.pem",
    tlsPort: 4443,
    metricsPort: 9100,
    webPort: 8080,
    webOrigins: ["https://chat.example.com", "http://localhost:3000"],
    ircPort: 6667,
    ircTlsPort: 7000,
    ircChannel: "#lobby",
    serverName: "irc.example.test",
    logFormat: "json",
    logLevel: "debug",
    redisUrl: "redis://:secret@redis.example:6380/2",
    dataDir: "/var/lib/chat",
    historyLines: 0,
    historyDays: 0.5,
  };
  const values = [
    "127.0.0.1",
    "5000",
    "2.5",
    "100",
    "7",
    "2048",
    "0",
    "10.0.0.0/8,fd00::/8",
    "192.0.2.10",
    "0.5",
    "3",
    "c.pem",
    "k.pem",
    "4443",
    "9100",
    "8080",
    "https://chat.example.com/, http://LOCALHOST:3000",
    "6667",
    "7000",
    "#lobby",
    "irc.example.test",
    "json",
    "debug",
    "redis://:secret@redis.example:6380/2",
    "/var/lib/chat",
    "0",
    "0.5",
  ];
  const joined = FLAGS.map((flag, i) => `${flag}=${values[i]}`);
  const separate = FLAGS.flatMap((flag, i) => [flag, values[i]!]);
  assertEquals(configOf(joined), expected);
  assertEquals(configOf(separate), expected);
});

Deno.test("parseConfig reads every environment variable", () => {
  const config = configOf([], {
    HOST: "::1",
    PORT: "0",
    IDLE_TIMEOUT: "30",
    MAX_LINE_BYTES: "512",
    MAX_CLIENTS: "3",
    MAX_QUEUE_BYTES: "65536",
    MAX_CLIENTS_PER_IP: "4",
    IP_LIMIT_EXEMPT: "none",
    TRUSTED_PROXIES: "10.1.2.3, 10.9.0.0/16",
    RATE: "0",
    BURST: "10",
    TLS_CERT: "/certs/c.pem",
    TLS_KEY: "/certs/k.pem",
    TLS_PORT: "0",
    METRICS_PORT: "9100",
    WEB_PORT: "80",
    WEB_ORIGINS: "none",
    IRC_PORT: "6668",
    IRC_TLS_PORT: "0",
    IRC_CHANNEL: " #Room ",
    SERVER_NAME: "chat-2.local",
    LOG_FORMAT: "json",
    LOG_LEVEL: "error",
    REDIS_URL: "rediss://cache.internal",
    DATA_DIR: "/data",
    HISTORY_LINES: "500",
    HISTORY_DAYS: "7",
  });
  assertEquals(config, {
    host: "::1",
    port: 0,
    idleTimeout: 30,
    maxLineBytes: 512,
    maxClients: 3,
    maxQueueBytes: 65536,
    maxClientsPerIp: 4,
    ipLimitExempt: cidrs(),
    trustedProxies: cidrs("10.1.2.3", "10.9.0.0/16"),
    rate: 0,
    burst: 10,
    tlsCert: "/certs/c.pem",
    tlsKey: "/certs/k.pem",
    tlsPort: 0,
    metricsPort: 9100,
    webPort: 80,
    webOrigins: [],
    ircPort: 6668,
    ircTlsPort: 0,
    ircChannel: "#Room",
    serverName: "chat-2.local",
    logFormat: "json",
    logLevel: "error",
    redisUrl: "rediss://cache.internal",
    dataDir: "/data",
    historyLines: 500,
    historyDays: 7,
  });
});

Deno.test("parseConfig lets a flag win over its environment variable", () => {
  const vars = {
    HOST: "10.0.0.1",
    PORT: "1111",
    IDLE_TIMEOUT: "11",
    MAX_LINE_BYTES: "111",
    MAX_CLIENTS: "11",
    MAX_QUEUE_BYTES: "1111",
    LOG_LEVEL: "warn",
  };
  assertEquals(
    configOf(
      [
        "--host=127.0.0.1",
        "--port",
        "2222",
        "--idle-timeout=22",
        "--max-clients=22",
        "--log-level=debug",
      ],
      vars,
    ),
    // Everything else stays at the defaults, which the first test pins field by field.
    {
      ...DEFAULT_CONFIG,
      host: "127.0.0.1",
      port: 2222,
      idleTimeout: 22,
      maxLineBytes: 111,
      maxClients: 22,
      maxQueueBytes: 1111,
      logLevel: "debug",
    },
  );
});

Deno.test("parseConfig accepts a bad environment value that a valid flag overrides", () => {
  const config = configOf(
    ["--port=5000", "--idle-timeout=1", "--max-line-bytes=10", "--max-clients=2"],
    { PORT: "abc", IDLE_TIMEOUT: "-1", MAX_LINE_BYTES: "1.5", MAX_CLIENTS: "0" },
  );
  assertEquals(config.port, 5000);
  assertEquals(config.idleTimeout, 1);
  assertEquals(config.maxLineBytes, 10);
  assertEquals(config.maxClients, 2);
});

Deno.test("parseConfig accepts the edges of every range", () => {
  assertEquals(configOf(["--port=0"]).port, 0);
  assertEquals(configOf(["--port=65535"]).port, 65535);
  assertEquals(configOf(["--idle-timeout=0.5"]).idleTimeout, 0.5);
  assertEquals(configOf(["--idle-timeout=0.001"]).idleTimeout, 0.001);
  assertEquals(configOf(["--max-line-bytes=1"]).maxLineBytes, 1);
  assertEquals(configOf(["--max-clients=1"]).maxClients, 1);
  assertEquals(configOf(["--max-queue-bytes=1"]).maxQueueBytes, 1);
});

Deno.test("parseConfig refuses bad flag values with a one-line ConfigError naming the flag", () => {
  const cases: [string, string][] = [
    ["--port=abc", "abc"],
    ["--port=70000", "70000"],
    ["--port=65536", "65536"],
    ["--port=-1", "-1"],
    ["--port=1.5", "1.5"],
    ["--port=", ""],
    ["--idle-timeout=-1", "-1"],
    ["--idle-timeout=0", "0"],
    ["--idle-timeout=abc", "abc"],
    ["--idle-timeout=Infinity", "Infinity"],
    ["--max-line-bytes=1.5", "1.5"],
    ["--max-line-bytes=0", "0"],
    ["--max-clients=0", "0"],
    ["--max-clients=-3", "-3"],
    ["--max-queue-bytes=1e6", "1e6"],
    ["--max-queue-bytes=0", "0"],
  ];
  for (const [arg, value] of cases) {
    const flag = arg.slice(0, arg.indexOf("="));
    assertRefused([arg], {}, [flag, `"${value}"`]);
  }
});

Deno.test("parseConfig refuses bad environment values with a one-line ConfigError naming the variable", () => {
  assertRefused([], { PORT: "abc" }, ["PORT", "abc"]);
  assertRefused([], { PORT: "70000" }, ["PORT", "70000"]);
  assertRefused([], { IDLE_TIMEOUT: "0" }, ["IDLE_TIMEOUT"]);
  assertRefused([], { MAX_LINE_BYTES: "many" }, ["MAX_LINE_BYTES", "many"]);
  assertRefused([], { MAX_CLIENTS: "0" }, ["MAX_CLIENTS"]);
  assertRefused([], { MAX_QUEUE_BYTES: "-1" }, ["MAX_QUEUE_BYTES"]);
});

Deno.test("parseConfig refuses an unknown flag, a positional argument, a switch with a value and a flag without one", () => {
  const refused: [string[], string][] = [
    [["--bogus=1"], 'Cannot start: unknown flag "--bogus" (see --help)'],
    [["--verbose"], 'Cannot start: unknown flag "--verbose" (see --help)'],
    [["-h"], 'Cannot start: unknown flag "-h" (see --help)'],
    [["--no-help"], 'Cannot start: unknown flag "--no-help" (see --help)'],
    // parseArgs alone reads --no-port=5 as --port=5, and --help=no as --help.
    [["--no-port=5"], 'Cannot start: unknown flag "--no-port" (see --help)'],
    [["--help=no"], "Cannot start: --help takes no value (see --help)"],
    // parseArgs alone gives "" for each of these, and --ip-limit-exempt "" would empty the list.
    [["--port"], "Cannot start: --port needs a value: --port=<value> (see --help)"],
    [["--port", "-1"], "Cannot start: --port needs a value: --port=<value> (see --help)"],
    [["--port", "--host=x"], "Cannot start: --port needs a value: --port=<value> (see --help)"],
    [
      ["--ip-limit-exempt", ""],
      "Cannot start: --ip-limit-exempt needs a value: --ip-limit-exempt=<value> (see --help)",
    ],
    [["extra"], 'Cannot start: unexpected argument "extra" (see --help)'],
    [["--port=5000", "4000"], 'Cannot start: unexpected argument "4000" (see --help)'],
    [["--", "stray"], 'Cannot start: unexpected argument "stray" (see --help)'],
    [["--", "a\nb"], 'Cannot start: unexpected argument "a\\nb" (see --help)'],
  ];
  for (const [args, message] of refused) {
    const error = assertThrows(() => parseConfig(args, envOf()), ConfigError);
    assertEquals(error.message, message, JSON.stringify(args));
  }
});

Deno.test("parseConfig refuses every flag without its value, and takes an empty list written with =", () => {
  for (const flag of FLAGS) {
    assertRefused([flag], {}, [`${flag} needs a value: ${flag}=<value>`]);
    assertRefused([flag, "--help"], {}, [`${flag} needs a value`]);
  }
  assertRefused(["--port="], {}, ['--port must be a port from 0 to 65535, got ""']);
  assertEquals(configOf(["--ip-limit-exempt="]).ipLimitExempt.networks, []);
  assertEquals(configOf(["--trusted-proxies=", "--web-origins="]).webOrigins, []);
});

Deno.test("parseConfig returns kind help for --help", () => {
  assertEquals(parseConfig(["--help"], envOf()), { kind: "help" });
  assertEquals(parseConfig(["--port=5000", "--help"], envOf({ PORT: "abc" })), {
    kind: "help",
  });
});

Deno.test("usage mentions every flag and every environment variable", () => {
  const text = usage();
  for (const flag of [...FLAGS, "--help"]) assert(text.includes(flag), `usage lacks ${flag}`);
  const envNames = [
    "HOST",
    "PORT",
    "IDLE_TIMEOUT",
    "MAX_LINE_BYTES",
    "MAX_CLIENTS",
    "MAX_QUEUE_BYTES",
    "MAX_CLIENTS_PER_IP",
    "IP_LIMIT_EXEMPT",
    "TRUSTED_PROXIES",
    "RATE",
    "BURST",
    "TLS_CERT",
    "TLS_KEY",
    "TLS_PORT",
    "METRICS_PORT",
    "WEB_PORT",
    "WEB_ORIGINS",
    "IRC_PORT",
    "IRC_TLS_PORT",
    "IRC_CHANNEL",
    "SERVER_NAME",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "REDIS_URL",
    "DATA_DIR",
    "HISTORY_LINES",
    "HISTORY_DAYS",
  ];
  assertEquals([...ENV_NAMES].sort(), [...envNames].sort());
  for (const name of envNames) assert(text.includes(name), `usage lacks ${name}`);
});

Deno.test("usage puts at least two spaces between every flag and its text, in one column", () => {
  const rows = usage().split("\n").filter((line) => line.startsWith("  --"));
  assertStrictEquals(rows.length, FLAGS.length + 1);
  const columns = new Set<number>();
  for (const row of rows) {
    const match = /^ {2}(--[a-z-]+(?:=<value>)?) {2,}\S/.exec(row);
    assert(match !== null, `no two spaces after the flag in ${JSON.stringify(row)}`);
    columns.add(match[0].length - 1);
  }
  assertEquals(columns.size, 1, "the texts do not start in one column");
  assertMatch(usage(), /^ {2}--max-clients-per-ip=<value> {2}open connections from one address/m);
  assertMatch(usage(), /default 127\.0\.0\.0\/8,::1\)$/m);
});

Deno.test("parseConfig treats an empty environment variable as unset", () => {
  const config = configOf([], { HOST: "", PORT: "" });
  assertStrictEquals(config.host, DEFAULT_CONFIG.host);
  assertStrictEquals(config.port, DEFAULT_CONFIG.port);
});

Deno.test("parseConfig reads the operator settings and refuses unknown log formats and levels", () => {
  const config = configOf([], { METRICS_PORT: "0", LOG_FORMAT: "json", LOG_LEVEL: "warn" });
  assertEquals(config.metricsPort, 0);
  assertEquals(config.logFormat, "json");
  assertEquals(config.logLevel, "warn");
  assertEquals(configOf([], { METRICS_PORT: "" }).metricsPort, undefined);
  for (const args of [["--log-format=xml"], ["--log-level=verbose"], ["--metrics-port=x"]]) {
    assertThrows(() => parseConfig(args, envOf()), ConfigError);
  }
});

Deno.test("parseConfig wants --tls-cert and --tls-key together", () => {
  assertThrows(() => parseConfig(["--tls-cert=c.pem"], envOf()), ConfigError);
  assertThrows(() => parseConfig([], envOf({ TLS_KEY: "k.pem" })), ConfigError);
  const config = configOf(["--tls-cert=c.pem"], { TLS_KEY: "k.pem" });
  assertEquals(config.tlsCert, "c.pem");
  assertEquals(config.tlsKey, "k.pem");
});

Deno.test("parseConfig takes a rate of 0 (no flood control) and fractions, and refuses a negative one", () => {
  assertEquals(configOf(["--rate=0"]).rate, 0);
  assertEquals(configOf(["--rate=2.5"]).rate, 2.5);
  assertThrows(() => parseConfig(["--rate=-1"], envOf()), ConfigError);
  assertThrows(() => parseConfig(["--burst=0"], envOf()), ConfigError);
});

Deno.test("parseConfig reads address lists, takes an empty flag as none, and refuses a bad network", () => {
  assertEquals(configOf(["--ip-limit-exempt="]).ipLimitExempt.networks, []);
  assertEquals(configOf(["--ip-limit-exempt=none"]).ipLimitExempt.networks, []);
  const trusted = configOf(["--trusted-proxies= ::1, 127.0.0.1/32"]).trustedProxies;
  assertEquals(trusted.networks, [
    { bytes: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), bits: 128 },
    { bytes: Uint8Array.of(127, 0, 0, 1), bits: 32 },
  ]);
  assertEquals(String(trusted), "::1,127.0.0.1");
  assertEquals(
    String(configOf([], { TRUSTED_PROXIES: "10.9.0.0/16" }).trustedProxies),
    "10.9.0.0/16",
  );
  for (const bad of ["300.1.1.1", "10.0.0.0/33", "::1/129", "proxy.example", "1.2.3.4/8/9"]) {
    assertThrows(() => parseConfig([`--trusted-proxies=${bad}`], envOf()), ConfigError, `"${bad}"`);
  }
});

Deno.test("parseConfig takes an idle timeout in exponent form", () => {
  assertEquals(configOf(["--idle-timeout=1e3"]).idleTimeout, 1000);
  assertEquals(configOf(["--idle-timeout=2.5E-1"]).idleTimeout, 0.25);
  assertThrows(() => parseConfig(["--idle-timeout=1e"], envOf()), ConfigError);
});

Deno.test("parseConfig refuses a Redis URL that is not redis:// or rediss:// with a host", () => {
  for (const raw of ["localhost:6379", "http://redis:6379", "redis://", "redis", " "]) {
    const error = assertThrows(() => parseConfig([`--redis-url=${raw}`], envOf()), ConfigError);
    assertEquals(
      error.message,
      `Cannot start: --redis-url must be a redis:// or rediss:// URL with a host, got "${raw}"`,
    );
  }
  // A refused URL's password never reaches the line on stderr.
  for (
    const [raw, shown] of [["http://:s3cret@redis", "http://***@redis"], [
      "redis://u:s3cret@",
      "redis://***@",
    ], ["u:s3cret@host", "***@host"]]
  ) {
    const error = assertThrows(() => parseConfig([`--redis-url=${raw}`], envOf()), ConfigError);
    assertEquals(
      error.message,
      `Cannot start: --redis-url must be a redis:// or rediss:// URL with a host, got "${shown}"`,
    );
  }
  assertEquals(configOf([], { REDIS_URL: "" }).redisUrl, undefined);
});

Deno.test("parseConfig refuses a server name that is not a hostname-like token", () => {
  for (const bad of ["irc example", "-irc", "irc_1", "a".repeat(64), "irc:6667", "ïrc"]) {
    assertThrows(
      () => configOf([`--server-name=${bad}`]),
      ConfigError,
      `Cannot start: --server-name must be a server name of letters, digits, "." and "-" (at most 63) like irc.example.com, got "${bad}"`,
    );
  }
  assertEquals(configOf(["--server-name", "a".repeat(63)]).serverName, "a".repeat(63));
});
