/**
 * Entry point: configuration from flags and environment, then the server
 * until SIGINT or SIGTERM.
 *
 * @module
 */
import { type Config, ConfigError, parseConfig, usage } from "./lib/config.ts";
import { installProcessGuards } from "./lib/guard.ts";
import { redisHistory, retentionOf } from "./lib/history/open_history.ts";
import { createLogger, type Logger } from "./lib/log.ts";
import { ChatServer, ListenError, type ServerOptions } from "./lib/server.ts";
import { readTlsMaterial, TlsFileError, type TlsMaterial } from "./lib/tls.ts";
import { loadPage, type PageResponses } from "./lib/web/page_files.ts";

function fail(message: string, status: number): never {
  console.error(message);
  Deno.exit(status);
}

type ClusterModule = typeof import("./lib/redis/redis_cluster.ts");

interface Setup {
  readonly config: Config;
  readonly tls: TlsMaterial | undefined;
  /** The Redis adapter, loaded only when asked for: a lone server runs no Redis code at all. */
  readonly clusterModule: ClusterModule | undefined;
  /** The browser client's files, when the web port is on. */
  readonly pages: PageResponses | undefined;
}

/** The configuration, TLS files and cluster code, or one line and exit 2. */
async function configure(): Promise<Setup | undefined> {
  try {
    const request = parseConfig(Deno.args, (name) => Deno.env.get(name));
    if (request.kind === "help") return undefined;
    const { config } = request;
    const tls = config.tlsCert !== undefined && config.tlsKey !== undefined
      ? readTlsMaterial(config.tlsCert, config.tlsKey)
      : undefined;
    // Read before read access is revoked; without a web port no file is read.
    const pages = config.webPort === undefined ? undefined : loadPage();
    // Loaded before read access is revoked: the module's files are read now.
    const clusterModule = config.redisUrl === undefined
      ? undefined
      : await import("./lib/redis/redis_cluster.ts");
    return { config, tls, clusterModule, pages };
  } catch (error) {
    if (error instanceof ConfigError || error instanceof TlsFileError) fail(error.message, 2);
    // A variable or file the runtime flags do not allow: a packaging mistake, said in one line.
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      fail(`Cannot start: ${error.message}`, 2);
    }
    throw error;
  } finally {
    // Files are read only here, at startup: the running server keeps no read access at all.
    Deno.permissions.revokeSync({ name: "read" });
  }
}

function serverOptions(setup: Setup, log: Logger): ServerOptions {
  const { config, tls, clusterModule, pages } = setup;
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
    ...(tls === undefined ? {} : { tls }),
    ...(pages === undefined ? {} : { pages }),
    ...(redis === undefined ? {} : {
      cluster: (post) => redis.start(post),
      history: redisHistory(redis.store, log),
    }),
  };
}

async function main(): Promise<void> {
  const setup = await configure();
  if (setup === undefined) {
    console.log(usage());
    return;
  }
  const { config } = setup;
  const log = createLogger({ format: config.logFormat, level: config.logLevel });
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
    server = ChatServer.listen(config, serverOptions(setup, log));
  } catch (error) {
    if (error instanceof ListenError) fail(error.message, 1);
    throw error;
  }
  if (stopRequested) server.shutdown();
  await server.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
}

if (import.meta.main) {
  await main();
}
