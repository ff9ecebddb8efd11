/**
 * Entry point: configuration from flags and environment, then the server
 * until SIGINT or SIGTERM.
 *
 * @module
 */
import { type Config, ConfigError, parseConfig, usage } from "./lib/config.ts";
import { installProcessGuards } from "./lib/guard.ts";
import type { ChatHistory } from "./lib/history/chat_history.ts";
import {
  HistoryOpenError,
  openHistory,
  redisHistory,
  retentionOf,
} from "./lib/history/open_history.ts";
import type { AccountStore } from "./lib/accounts/account_store.ts";
import { createLogger, type LogFields, type Logger } from "./lib/log.ts";
import { ChatServer, ListenError, type ServerOptions } from "./lib/server.ts";
import { readTlsMaterial, TlsFileError, type TlsMaterial } from "./lib/tls.ts";
import { loadPage, type PageResponses } from "./lib/web/page_files.ts";

function fail(message: string, status: number): never {
  console.error(message);
  Deno.exit(status);
}

type ClusterModule = typeof import("./lib/redis/redis_chat.ts");

interface Setup {
  readonly config: Config;
  readonly log: Logger;
  /** The history, its store open (the SQLite file and the worker's module read already); with Redis, made with the cluster. */
  readonly history: ChatHistory | undefined;
  /** The accounts, with `--data-dir` alone (in the history's file); with Redis, made with the cluster. */
  readonly accounts: AccountStore | undefined;
  /** What the startup `history` line says of it. */
  readonly historyFields: LogFields;
  readonly tls: TlsMaterial | undefined;
  /** The Redis adapter, loaded only when asked for: a lone server runs no Redis code at all. */
  readonly clusterModule: ClusterModule | undefined;
  /** The browser client's files, when the web port is on. */
  readonly pages: PageResponses | undefined;
}

/** The configuration, TLS files, history store and cluster code, or one line and exit 2. */
async function configure(): Promise<Setup | undefined> {
  try {
    const request = parseConfig(Deno.args, (name) => Deno.env.get(name));
    if (request.kind === "help") return undefined;
    const { config } = request;
    const log = createLogger({ format: config.logFormat, level: config.logLevel });
    // Opened before anything listens, and before read and write access are revoked: the
    // worker's module and the database file are opened now, and kept open.
    const { history, accounts, fields: historyFields } = await openHistory(config, log);
    const tls = config.tlsCert !== undefined && config.tlsKey !== undefined
      ? readTlsMaterial(config.tlsCert, config.tlsKey)
      : undefined;
    // Read before read access is revoked; without a web port no file is read.
    const pages = config.webPort === undefined ? undefined : loadPage();
    // Loaded before read access is revoked: the module's files are read now.
    const clusterModule = config.redisUrl === undefined
      ? undefined
      : await import("./lib/redis/redis_chat.ts");
    return { config, log, history, accounts, historyFields, tls, clusterModule, pages };
  } catch (error) {
    if (
      error instanceof ConfigError || error instanceof TlsFileError ||
      error instanceof HistoryOpenError
    ) {
      fail(error.message, 2);
    }
    // A variable or file the runtime flags do not allow: a packaging mistake, said in one line.
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      fail(`Cannot start: ${error.message}`, 2);
    }
    throw error;
  } finally {
    // Files are read and opened only here, at startup: the running server keeps no read or
    // write access at all. The history's worker shares these permissions (a worker that
    // inherits them shares them in Deno 2.9) and goes on through the file it holds open:
    // SQLite opens its -wal and -shm files itself, outside Deno's checks.
    Deno.permissions.revokeSync({ name: "read" });
    Deno.permissions.revokeSync({ name: "write" });
  }
}

function serverOptions(setup: Setup): ServerOptions {
  const { config, log, history, accounts, tls, clusterModule, pages } = setup;
  const url = config.redisUrl;
  // With Redis, the history lives there too, through the cluster's connections.
  const redis = clusterModule === undefined || url === undefined
    ? undefined
    : clusterModule.openRedisChat({
      url,
      log,
      retention: config.historyLines === 0 ? undefined : retentionOf(config),
    });
  return {
    log,
    ...(history === undefined ? {} : { history }),
    ...(accounts === undefined ? {} : { accounts }),
    ...(tls === undefined ? {} : { tls }),
    ...(pages === undefined ? {} : { pages }),
    ...(redis === undefined ? {} : {
      cluster: (post) => redis.start(post),
      history: redisHistory(redis.store, log),
      // Accounts live in Redis too, whatever --data-dir says: every instance sees one registration.
      accounts: redis.accounts,
      // So is the login throttle: a guesser spread over the instances gets one instance's tries.
      loginThrottle: redis.throttle,
      // And the registration limit: registrations spread over the instances meet one limit.
      registrations: redis.registrations,
      accountRedisFailures: redis.accountFailures,
    }),
  };
}

async function main(): Promise<void> {
  const setup = await configure();
  if (setup === undefined) {
    console.log(usage());
    return;
  }
  const { config, log } = setup;
  installProcessGuards(log);

  // Signals are watched before the "listening" line, so a supervisor that
  // stops the server as soon as it sees that line still gets a clean exit.
  let server: ChatServer | undefined;
  let stopRequested = false;
  const stop = () => {
    stopRequested = true;
    server?.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    server = ChatServer.listen(config, serverOptions(setup));
  } catch (error) {
    if (error instanceof ListenError) {
      // Nothing was written yet; the file is closed cleanly before the exit all the same.
      await setup.history?.close();
      fail(error.message, 1);
    }
    throw error;
  }
  // After the listening lines: a port that cannot be had is still the one line on stderr.
  log.info("history", setup.historyFields);
  if (stopRequested) server.shutdown();
  await server.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
}

if (import.meta.main) {
  await main();
}
