/**
 * The server: a TCP listener whose accepted connections feed one hub, an
 * idle checker, the optional health and metrics listener, and an ordered
 * shutdown.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { Connection, type ConnectionOptions } from "./connection.ts";
import { Hub, type HubEvent } from "./hub.ts";
import { Inbox } from "./inbox.ts";
import { type Logger, SILENT_LOGGER } from "./log.ts";
import { type MetricsSnapshot, serveMetrics } from "./metrics.ts";
import { Stats } from "./stats.ts";

/** Longest wait for a closed client's last line and its hang-up before its socket is released. */
export const LINGER_MS = 2000;
/** Pause before accepting again after an accept error (out of file descriptors and the like). */
const ACCEPT_RETRY_MS = 100;

/** Collaborators of a server, all optional. */
export interface ServerOptions {
  readonly log?: Logger;
  /** The hub's clock, in milliseconds. */
  readonly now?: () => number;
}

/** A listener could not be opened; `address` says which, `cause` why. */
export class ListenError extends Error {
  override name = "ListenError";
  /** The `host:port` that could not be listened on. */
  readonly address: string;

  /** Wraps what `Deno.listen` or `Deno.serve` threw for `address`. */
  constructor(address: string, cause: unknown) {
    const reason = cause instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    super(`Cannot listen on ${address}: ${reason}`, { cause });
    this.address = address;
  }
}

/** The room between idle checks: at most 10 s, and a quarter of the timeout. */
export function idleCheckIntervalMs(idleTimeoutSeconds: number): number {
  return Math.min(10_000, (idleTimeoutSeconds * 1000) / 4);
}

/** A running chat server. Start it with {@linkcode ChatServer.listen}. */
export class ChatServer {
  /** The address actually listened on (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** The health and metrics address, when `config.metricsPort` is set. */
  readonly metricsAddr: Deno.NetAddr | undefined;
  /** Resolves once shutdown has finished and every socket is released. */
  readonly finished: Promise<void>;
  readonly #listener: Deno.TcpListener;
  readonly #metrics: Deno.HttpServer<Deno.NetAddr> | undefined;
  readonly #log: Logger;
  readonly #hub: Hub;
  readonly #stats = new Stats();
  readonly #startedAt = performance.now();
  readonly #inbox = new Inbox<HubEvent>();
  readonly #connections = new Set<Connection>();
  readonly #connectionOptions: ConnectionOptions;
  readonly #hubDone: Promise<void>;
  readonly #idleTimer: ReturnType<typeof setInterval>;
  #acceptDone: Promise<void> = Promise.resolve();
  #nextId = 1;
  #stopping = false;
  #finish!: () => void;
  #allReleased: (() => void) | undefined;

  private constructor(listener: Deno.TcpListener, config: Config, options: ServerOptions) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.#log = options.log ?? SILENT_LOGGER;
    this.#hub = new Hub({
      maxClients: config.maxClients,
      idleTimeoutMs: config.idleTimeout * 1000,
      now: options.now ?? performance.now.bind(performance),
      log: this.#log,
      stats: this.#stats,
    });
    this.#hubDone = this.#hub.run(this.#inbox);
    this.#connectionOptions = {
      maxLineBytes: config.maxLineBytes,
      maxQueueBytes: config.maxQueueBytes,
      lingerMs: LINGER_MS,
      stats: this.#stats,
      post: (event) => this.#inbox.push(event),
      released: (connection) => this.#released(connection),
      log: this.#log,
    };
    this.#idleTimer = setInterval(
      () => this.#inbox.push({ kind: "tick" }),
      idleCheckIntervalMs(config.idleTimeout),
    );
    if (config.metricsPort !== undefined) {
      try {
        this.#metrics = serveMetrics(config.host, config.metricsPort, {
          healthy: () => !this.#stopping,
          snapshot: () => this.#snapshot(),
        }, this.#log);
      } catch (error) {
        clearInterval(this.#idleTimer);
        this.#inbox.close();
        throw new ListenError(`${config.host}:${config.metricsPort}`, error);
      }
      this.metricsAddr = this.#metrics.addr;
    }
    this.finished = new Promise((resolve) => this.#finish = resolve);
  }

  /**
   * Listens on `config.host:config.port` (and the metrics port, if set) and
   * starts accepting. Throws a {@linkcode ListenError} naming the address
   * that failed, with nothing left open.
   */
  static listen(config: Config, options: ServerOptions = {}): ChatServer {
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname: config.host, port: config.port, transport: "tcp" });
    } catch (error) {
      throw new ListenError(`${config.host}:${config.port}`, error);
    }
    let server: ChatServer;
    try {
      server = new ChatServer(listener, config, options);
    } catch (error) {
      listener.close();
      throw error;
    }
    server.#acceptDone = server.#acceptLoop();
    server.#log.info("listening", { address: `${server.addr.hostname}:${server.addr.port}` });
    return server;
  }

  /**
   * Stops accepting, turns `/healthz` to 503, sends every client
   * `ERR server-shutdown`, and resolves once every socket is released (at
   * most {@linkcode LINGER_MS} later). Idempotent.
   */
  shutdown(): Promise<void> {
    if (this.#stopping) return this.finished;
    this.#stopping = true;
    this.#log.info("shutdown begun", { connections: this.#connections.size });
    this.#listener.close();
    clearInterval(this.#idleTimer);
    this.#inbox.push({ kind: "shutdown" });
    this.#inbox.close();
    this.#drain().then(this.#finish);
    return this.finished;
  }

  async #drain(): Promise<void> {
    await this.#acceptDone;
    await this.#hubDone;
    // Every connection now lingers at most LINGER_MS; any the hub never saw is closed here.
    for (const connection of this.#connections) connection.close("shutdown");
    if (this.#connections.size > 0) {
      await new Promise<void>((resolve) => this.#allReleased = resolve);
    }
    await this.#metrics?.shutdown();
    this.#log.info("shutdown finished", {
      seconds: Math.round(performance.now() - this.#startedAt) / 1000,
    });
  }

  #snapshot(): MetricsSnapshot {
    let outboxQueuedBytes = 0;
    for (const connection of this.#connections) outboxQueuedBytes += connection.pendingBytes;
    return {
      stats: this.#stats,
      connections: this.#hub.connectionCount,
      users: this.#hub.userCount,
      outboxQueuedBytes,
      uptimeSeconds: Math.round(performance.now() - this.#startedAt) / 1000,
      residentBytes: Deno.memoryUsage().rss,
    };
  }

  #released(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) this.#allReleased?.();
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#stopping) return;
        this.#log.error("accept failed; retrying", { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      this.#admit(conn);
    }
  }

  #admit(conn: Deno.TcpConn): void {
    this.#stats.connectionsAccepted++;
    try {
      conn.setNoDelay(true);
    } catch {
      // The peer is already gone; the read loop will see it.
    }
    const connection = new Connection(conn, this.#nextId++, this.#connectionOptions);
    this.#connections.add(connection);
    this.#inbox.push({ kind: "open", link: connection });
    if (this.#stopping) connection.close("shutdown");
    connection.run();
  }
}
