/**
 * The server: a TCP listener whose accepted connections feed one hub, an
 * idle checker, and an ordered shutdown.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { Connection, type ConnectionOptions } from "./connection.ts";
import { Hub, type HubEvent } from "./hub.ts";
import { Inbox } from "./inbox.ts";
import { type Logger, SILENT_LOGGER } from "./log.ts";

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

/** The room between idle checks: at most 10 s, and a quarter of the timeout. */
export function idleCheckIntervalMs(idleTimeoutSeconds: number): number {
  return Math.min(10_000, (idleTimeoutSeconds * 1000) / 4);
}

/** A running chat server. Start it with {@linkcode ChatServer.listen}. */
export class ChatServer {
  /** The address actually listened on (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Resolves once shutdown has finished and every socket is released. */
  readonly finished: Promise<void>;
  readonly #listener: Deno.TcpListener;
  readonly #log: Logger;
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
    const hub = new Hub({
      maxClients: config.maxClients,
      idleTimeoutMs: config.idleTimeout * 1000,
      now: options.now ?? performance.now.bind(performance),
    });
    this.#hubDone = hub.run(this.#inbox);
    this.#connectionOptions = {
      maxLineBytes: config.maxLineBytes,
      maxQueueBytes: config.maxQueueBytes,
      lingerMs: LINGER_MS,
      post: (event) => this.#inbox.push(event),
      released: (connection) => this.#released(connection),
      log: this.#log,
    };
    this.#idleTimer = setInterval(
      () => this.#inbox.push({ kind: "tick" }),
      idleCheckIntervalMs(config.idleTimeout),
    );
    this.finished = new Promise((resolve) => this.#finish = resolve);
  }

  /**
   * Listens on `config.host:config.port` and starts accepting. Throws what
   * `Deno.listen` throws (`AddrInUse`, `PermissionDenied`, …).
   */
  static listen(config: Config, options: ServerOptions = {}): ChatServer {
    const listener = Deno.listen({ hostname: config.host, port: config.port, transport: "tcp" });
    const server = new ChatServer(listener, config, options);
    server.#acceptDone = server.#acceptLoop();
    server.#log.info("listening", { address: `${server.addr.hostname}:${server.addr.port}` });
    return server;
  }

  /**
   * Stops accepting, sends every client `ERR server-shutdown`, and resolves
   * once every socket is released (at most {@linkcode LINGER_MS} later).
   * Idempotent.
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
    this.#log.info("shutdown finished");
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
        this.#log.warn("accept failed", { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      this.#admit(conn);
    }
  }

  #admit(conn: Deno.TcpConn): void {
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
