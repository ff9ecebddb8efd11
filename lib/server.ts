/**
 * The server: a TCP listener whose accepted connections feed one hub, an
 * idle checker, the optional health and metrics listener, and an ordered
 * shutdown.
 *
 * @module
 */
import type { Cluster, ClusterEvent } from "./cluster.ts";
import type { Config } from "./config.ts";
import { remembered } from "./address.ts";
import { type ClientSocket, Connection, type ConnectionOptions } from "./connection.ts";
import type { ChatHistory } from "./history/chat_history.ts";
import { memoryHistory } from "./history/open_history.ts";
import { Hub, type HubEvent } from "./hub.ts";
import { Inbox } from "./inbox.ts";
import type { Door } from "./door.ts";
import { ircDoor } from "./irc/irc_door.ts";
import { lineDoor } from "./line_door.ts";
import { type Logger, SILENT_LOGGER } from "./log.ts";
import { LogThrottle } from "./log_throttle.ts";
import { type MetricsSnapshot, readinessOf, serveMetrics } from "./metrics.ts";
import { Stats } from "./stats.ts";
import type { TlsMaterial } from "./tls.ts";
import { ListenError, peerGaveUp } from "./listen_errors.ts";
import {
  type ConnListener,
  type Entrance,
  idleCheckIntervalMs,
  type ListenerRole,
  type Listening,
  setNoDelay,
} from "./entrances.ts";
import type { AccountStore } from "./accounts/account_store.ts";
import { AccountDesk, type Throttle } from "./accounts/account_desk.ts";
import type { Registrations } from "./accounts/registration_limit.ts";
import type { RedisFailures } from "./accounts/redis_failures.ts";
import { PasswordChecks, type PasswordHasher } from "./accounts/password_checks.ts";
import { HandshakeLimits, TlsHandshakes } from "./tls_handshakes.ts";
import { loadPage, type PageResponses } from "./web/page_files.ts";
import { HEAD_TIMEOUT_MS, webDoor } from "./web/web_door.ts";

export { ListenError } from "./listen_errors.ts";
export type { ConnListener } from "./entrances.ts";

/** Longest wait for a closed client's last line and its hang-up before its socket is released. */
const LINGER_MS = 2000;
/** How long a held-back client's backlog may stay full, its socket unread, before ERR excess-flood. */
const EXCESS_FLOOD_MS = 10_000;
/** Longest wait for a trusted proxy's PROXY header. */
const PROXY_HEADER_TIMEOUT_MS = 5000;
/** Pause before accepting again after an accept error (out of file descriptors and the like). */
const ACCEPT_RETRY_MS = 100;
/** Least time between two `accept failed` lines of one listener: out of descriptors, each retry fails. */
const ACCEPT_LOG_INTERVAL_MS = 1000;
/** Longest a TLS peer has to finish its handshake (never longer than the idle timeout). */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Addresses whose exemption from the per-address limit is remembered before the memo starts over. */
const EXEMPT_MEMO_ENTRIES = 4096;

/** Collaborators of a server, all optional. */
export interface ServerOptions {
  readonly log?: Logger;
  /** The hub's clock, in milliseconds. */
  readonly now?: () => number;
  /** Certificate and key: also listen with TLS on `config.tlsPort`. */
  readonly tls?: TlsMaterial;
  /** How long a flooder's backlog may stay full before `ERR excess-flood`; tests shorten it. */
  readonly excessFloodMs?: number;
  /** Opens the plaintext listener; tests wrap it to inject accept faults. */
  readonly listen?: (options: Deno.TcpListenOptions) => ConnListener;
  /** Joins the chat to other instances: given where to post its events, returns the cluster. */
  readonly cluster?: (post: (event: ClusterEvent) => void) => Cluster;
  /** The browser client's files, read before the server gave up read access; by default read now. */
  readonly pages?: PageResponses;
  /** Where messages are kept, its store already open; by default in memory, as `config` bounds it. */
  readonly history?: ChatHistory;
  /** Where accounts are kept (`--data-dir`, or Redis with a cluster); by default accounts are off. */
  readonly accounts?: AccountStore;
  /** Counts login tries (Redis's with a cluster); by default, in this process. */
  readonly loginThrottle?: Throttle;
  /** Counts registrations per address (Redis's with a cluster); by default, in this process. */
  readonly registrations?: Registrations;
  /** The shared throttle's and limit's Redis failures, shown on `/metrics` when set. */
  readonly accountRedisFailures?: RedisFailures;
  /** What hashes passwords; for tests only (a cheaper hash), never an operator's setting. */
  readonly hasher?: PasswordHasher;
}

/** A running chat server. Start it with {@linkcode ChatServer.listen}. */
export class ChatServer {
  /** The address actually listened on (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** The TLS address, when TLS is on. */
  readonly tlsAddr: Deno.NetAddr | undefined;
  /** The web address (page and WebSockets), when `config.webPort` is set. */
  readonly webAddr: Deno.NetAddr | undefined;
  /** The IRC address, when `config.ircPort` is set. */
  readonly ircAddr: Deno.NetAddr | undefined;
  /** The IRC over TLS address, when `config.ircPort` and TLS are on. */
  readonly ircTlsAddr: Deno.NetAddr | undefined;
  /** The health and metrics address, when `config.metricsPort` is set. */
  readonly metricsAddr: Deno.NetAddr | undefined;
  /** Resolves once shutdown has finished and every socket is released. */
  readonly finished: Promise<void>;
  readonly #entrances: readonly Entrance[];
  readonly #metrics: ReturnType<typeof serveMetrics> | undefined;
  readonly #log: Logger;
  readonly #hub: Hub;
  readonly #cluster: Cluster | undefined;
  readonly #stats: Stats;
  readonly #history: ChatHistory;
  readonly #desk: AccountDesk | undefined;
  readonly #accountRedisFailures: RedisFailures | undefined;
  readonly #startedAt = performance.now();
  readonly #inbox = new Inbox<HubEvent>();
  readonly #connections = new Set<Connection>();
  /** What connections coming in through each kind of listener are given: their door above all. */
  readonly #connectionOptions: Readonly<Record<ListenerRole, ConnectionOptions>>;
  readonly #hubDone: Promise<void>;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #acceptDone: Promise<unknown> = Promise.resolve();
  /** The TLS ports' handshakes, when TLS is on. */
  readonly #handshakes: TlsHandshakes | undefined;
  #nextId = 1;
  #stopping = false;
  #finish!: () => void;
  #allReleased: (() => void) | undefined;

  private constructor(listening: Listening, config: Config, options: ServerOptions) {
    const { entrances, handshakes, exempt, stats } = listening;
    this.#entrances = entrances;
    this.#stats = stats;
    const addrOf = (role: ListenerRole) =>
      entrances.find((e) => e.role === role)?.listener.addr as Deno.NetAddr | undefined;
    this.addr = addrOf("chat")!;
    this.tlsAddr = addrOf("tls");
    this.webAddr = addrOf("web");
    this.ircAddr = addrOf("irc");
    this.ircTlsAddr = addrOf("irc-tls");
    this.#log = options.log ?? SILENT_LOGGER;
    this.#handshakes = handshakes;
    this.#cluster = options.cluster?.((event) => this.#inbox.push(event));
    const now = options.now ?? performance.now.bind(performance);
    this.#history = options.history ?? memoryHistory(config, this.#log);
    // With a cluster, the store must be one every instance shares (Redis's: see main.ts).
    this.#desk = options.accounts === undefined ? undefined : new AccountDesk(
      options.accounts,
      new PasswordChecks(options.hasher && { hasher: options.hasher }),
      this.#log,
      options.loginThrottle,
      undefined,
      options.registrations,
    );
    this.#accountRedisFailures = options.accountRedisFailures;
    this.#hub = new Hub({
      maxClients: config.maxClients,
      maxClientsPerIp: config.maxClientsPerIp,
      ipLimitExempt: exempt,
      idleTimeoutMs: config.idleTimeout * 1000,
      now,
      log: this.#log,
      stats: this.#stats,
      ...(this.#cluster === undefined ? {} : { cluster: this.#cluster }),
      history: this.#history,
      ...(this.#desk === undefined ? {} : { accounts: this.#desk }),
      maxQueueBytes: config.maxQueueBytes,
      post: (event) => this.#inbox.push(event),
    });
    this.#hubDone = this.#hub.run(this.#inbox);
    const through = (door: Door): ConnectionOptions => ({
      door,
      maxQueueBytes: config.maxQueueBytes,
      flood: {
        rate: config.rate,
        burst: config.burst,
        excessFloodMs: options.excessFloodMs ?? EXCESS_FLOOD_MS,
        maxMessageBytes: door.maxMessageBytes,
        stats: this.#stats,
      },
      trustedProxies: config.trustedProxies,
      proxyHeaderTimeoutMs: PROXY_HEADER_TIMEOUT_MS,
      lingerMs: LINGER_MS,
      stats: this.#stats,
      post: (event) => this.#inbox.push(event),
      released: (connection) => this.#released(connection),
      log: this.#log,
    });
    const chat = through(lineDoor(config.maxLineBytes));
    const irc = this.ircAddr === undefined ? chat : through(ircDoor(
      { server: config.serverName, channel: config.ircChannel },
      this.#desk !== undefined,
    ));
    this.#connectionOptions = {
      chat,
      tls: chat,
      irc,
      "irc-tls": irc,
      web: this.webAddr === undefined ? chat : through(webDoor({
        maxLineBytes: config.maxLineBytes,
        pages: options.pages ?? loadPage(),
        origins: config.webOrigins,
        headTimeoutMs: Math.min(HEAD_TIMEOUT_MS, config.idleTimeout * 1000),
      })),
    };
    this.#checkIdleEvery(idleCheckIntervalMs(config.idleTimeout), now);
    if (config.metricsPort !== undefined) {
      try {
        const deadlineMs = Math.min(HEAD_TIMEOUT_MS, config.idleTimeout * 1000);
        this.#metrics = serveMetrics(config.host, config.metricsPort, deadlineMs, {
          healthy: () => !this.#stopping,
          readiness: () => readinessOf(this.#stopping, this.#cluster?.status()),
          snapshot: () => this.#snapshot(),
        }, this.#log);
      } catch (error) {
        clearTimeout(this.#idleTimer);
        this.#inbox.close();
        void this.#cluster?.close();
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
    const entrances: Entrance[] = [];
    const closeAll = () => entrances.forEach((e) => e.listener.close());
    const open = options.listen ?? ((o: Deno.TcpListenOptions) => Deno.listen(o));
    const tls = options.tls;
    const listenOn = (role: ListenerRole, port: number, secure: boolean) => {
      try {
        entrances.push({ role, listener: open({ hostname: config.host, port }), secure });
      } catch (error) {
        closeAll();
        throw new ListenError(`${config.host}:${port}`, error);
      }
    };
    listenOn("chat", config.port, false);
    if (tls !== undefined) listenOn("tls", config.tlsPort, true);
    // With TLS files the web port is HTTPS (and WSS) only.
    if (config.webPort !== undefined) listenOn("web", config.webPort, tls !== undefined);
    if (config.ircPort !== undefined) {
      listenOn("irc", config.ircPort, false);
      if (tls !== undefined) listenOn("irc-tls", config.ircTlsPort, true);
    }
    const exempt = remembered(config.ipLimitExempt, EXEMPT_MEMO_ENTRIES);
    const stats = new Stats();
    const handshakes = tls === undefined ? undefined : new TlsHandshakes({
      material: tls,
      handshakeMs: Math.min(HANDSHAKE_TIMEOUT_MS, config.idleTimeout * 1000),
      limits: new HandshakeLimits(config.maxClients, config.maxClientsPerIp, exempt),
      failed: (reason) => stats.tlsHandshakesFailed[reason]++,
      log: options.log ?? SILENT_LOGGER,
    });
    let server: ChatServer;
    try {
      server = new ChatServer({ entrances, handshakes, exempt, stats }, config, options);
    } catch (error) {
      closeAll();
      throw error;
    }
    server.#acceptDone = Promise.all(entrances.map((entrance) => server.#acceptLoop(entrance)));
    server.#log.info("listening", { address: `${server.addr.hostname}:${server.addr.port}` });
    if (server.tlsAddr !== undefined) {
      server.#log.info("listening tls", {
        address: `${server.tlsAddr.hostname}:${server.tlsAddr.port}`,
      });
    }
    for (const [role, addr] of [["irc", server.ircAddr], ["irc tls", server.ircTlsAddr]] as const) {
      if (addr !== undefined) {
        server.#log.info(`listening ${role}`, { address: `${addr.hostname}:${addr.port}` });
      }
    }
    if (server.webAddr !== undefined) {
      server.#log.info("listening web", {
        address: `${server.webAddr.hostname}:${server.webAddr.port}`,
        tls: tls !== undefined,
      });
    }
    if (server.metricsAddr !== undefined) {
      server.#log.info("metrics listening", {
        address: `${server.metricsAddr.hostname}:${server.metricsAddr.port}`,
      });
    }
    return server;
  }

  /**
   * Stops accepting, turns `/healthz` and `/readyz` to 503, sends every client
   * `ERR server-shutdown`, and resolves once every socket is released (at
   * most the linger, 2 s, later). Idempotent.
   */
  shutdown(): Promise<void> {
    if (this.#stopping) return this.finished;
    this.#stopping = true;
    this.#log.info("shutdown begun", { connections: this.#connections.size });
    for (const { listener } of this.#entrances) listener.close();
    this.#handshakes?.stop();
    clearTimeout(this.#idleTimer);
    this.#inbox.push({ kind: "shutdown" });
    this.#inbox.close();
    this.#drain().then(this.#finish);
    return this.finished;
  }

  async #drain(): Promise<void> {
    await this.#acceptDone;
    await this.#hubDone;
    // The hub has said goodbye for every user; the cluster frees their names (bounded wait).
    await this.#cluster?.close();
    // Checks waiting are refused, the running one ends (under a second); then the store goes.
    await this.#desk?.close();
    // What waits to be written is written (or logged with its count), and the store let go.
    await this.#history.close();
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

  /**
   * Posts an idle check every `intervalMs`, each timer set when the previous
   * fired (never a burst of missed ones), and each tick saying when it was
   * due, so that the hub can tell a server that fell behind.
   */
  #checkIdleEvery(intervalMs: number, now: () => number): void {
    let due = now() + intervalMs;
    const fire = () => {
      const at = now();
      this.#inbox.push({ kind: "tick", at, due });
      due = at + intervalMs;
      this.#idleTimer = setTimeout(fire, intervalMs);
    };
    this.#idleTimer = setTimeout(fire, intervalMs);
  }

  #snapshot(): MetricsSnapshot {
    const memory = Deno.memoryUsage();
    let outboxQueuedBytes = 0;
    for (const connection of this.#connections) outboxQueuedBytes += connection.pendingBytes;
    return {
      stats: this.#stats,
      connections: this.#hub.connectionCount,
      users: this.#hub.userCount,
      outboxQueuedBytes,
      uptimeSeconds: Math.round(performance.now() - this.#startedAt) / 1000,
      residentBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      cluster: this.#cluster?.status(),
      accountRedisErrors: this.#accountRedisFailures?.count,
      tlsHandshakes: this.#handshakes?.underway,
      history: this.#history.enabled
        ? { ...this.#history.counts, pending: this.#history.pending }
        : undefined,
    };
  }

  #released(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) this.#allReleased?.();
  }

  async #acceptLoop({ role, listener, secure }: Entrance): Promise<void> {
    // Failures since the last line: out of descriptors, a line per retry would flood the log.
    const failures = new LogThrottle(ACCEPT_LOG_INTERVAL_MS);
    while (!this.#stopping) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#stopping) return;
        if (peerGaveUp(error)) {
          // A peer that reset before it was accepted: its problem alone; accept the next at once.
          this.#log.debug("peer left before accept", { error: String(error) });
          continue;
        }
        // Out of file descriptors and the like: established clients keep chatting meanwhile.
        const count = failures.count();
        if (count > 0) {
          this.#log.error("accept failed; retrying", {
            listener: role,
            error: String(error),
            failures: count,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      if (secure && this.#handshakes !== undefined) void this.#handshake(conn, role);
      else this.#acceptConnection(conn, this.#connectionOptions[role]);
    }
  }

  /** Serves `conn`, accepted on the TLS port `role`, once its handshake has finished. */
  async #handshake(conn: Deno.Conn, role: ListenerRole): Promise<void> {
    setNoDelay(conn);
    const secure = await this.#handshakes!.start(conn, role);
    if (secure !== undefined) this.#acceptConnection(secure, this.#connectionOptions[role]);
  }

  /** Wraps an accepted socket and starts reading it; it joins the hub once it knows who the client is. */
  #acceptConnection(conn: ClientSocket, options: ConnectionOptions): void {
    this.#stats.connectionsAccepted++;
    setNoDelay(conn);
    const connection = new Connection(conn, this.#nextId++, options);
    this.#connections.add(connection);
    if (this.#stopping) connection.close("shutdown");
    // The connection joins the hub itself: behind a trusted proxy, only once it knows who the client is.
    // run() never rejects (it logs what it does not expect), so its promise needs no handler here.
    void connection.run();
  }
}
