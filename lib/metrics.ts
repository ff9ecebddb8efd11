/**
 * `/healthz`, `/readyz` and `/metrics` over HTTP, for container supervisors,
 * load balancers and Prometheus.
 *
 * @module
 */
import { type HttpServer, serveHttp } from "./http_server.ts";
import type { Logger } from "./log.ts";
import type { ClusterStatus } from "./cluster.ts";
import type { HistoryCounts } from "./history/chat_history.ts";
import type { Stats } from "./stats.ts";

/** What a scrape reads: the counters, and gauges taken at scrape time. */
export interface MetricsSnapshot {
  readonly stats: Stats;
  readonly connections: number;
  readonly users: number;
  readonly outboxQueuedBytes: number;
  readonly uptimeSeconds: number;
  readonly residentBytes: number;
  /** V8 heap in use (live objects and garbage not yet collected). */
  readonly heapUsedBytes: number;
  /** The cluster's state, when the server is joined to others. */
  readonly cluster?: ClusterStatus | undefined;
  /** TLS handshakes under way on every TLS port, when TLS is on. */
  readonly tlsHandshakes?: number | undefined;
  /** The history's counters and what waits to be written, when history is on. */
  readonly history?: (HistoryCounts & { readonly pending: number }) | undefined;
  /** Login tries and registrations Redis failed to decide (or settle), with `--redis-url`. */
  readonly accountRedisErrors?: number | undefined;
}

type Sample = readonly [labels: string, value: number];

function family(
  name: string,
  type: "counter" | "gauge",
  help: string,
  samples: readonly Sample[],
): string {
  let text = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  for (const [labels, value] of samples) text += `${name}${labels} ${value}\n`;
  return text;
}

function byLabel(label: string, counts: Readonly<Record<string, number>>): Sample[] {
  return Object.entries(counts).map(([key, value]) => [`{${label}="${key}"}`, value]);
}

/** The Prometheus text exposition (format 0.0.4) of a snapshot. */
function renderMetrics(m: MetricsSnapshot): string {
  const s = m.stats;
  return [
    family("chat_connections", "gauge", "Open connections, logged in or not.", [[
      "",
      m.connections,
    ]]),
    family("chat_users", "gauge", "Logged-in users.", [["", m.users]]),
    family(
      "chat_lines_received_total",
      "counter",
      "Complete lines received, by command (ignored: empty, unknown or dropped too-long lines, WebSocket pings and pongs; answered: IRC lines the IRC door answered itself).",
      byLabel("command", s.linesReceived),
    ),
    family(
      "chat_lines_delivered_total",
      "counter",
      "Lines queued for clients.",
      [["", s.linesDelivered]],
    ),
    family(
      "chat_line_too_long_total",
      "counter",
      "Lines that passed --max-line-bytes.",
      [["", s.linesTooLong]],
    ),
    family(
      "chat_throttled_total",
      "counter",
      "Times a client passed --rate and its reading was paused.",
      [["", s.throttled]],
    ),
    family("chat_received_bytes_total", "counter", "Bytes read from clients.", [["", s.bytesIn]]),
    family("chat_sent_bytes_total", "counter", "Bytes written to clients.", [["", s.bytesOut]]),
    family(
      "chat_connections_accepted_total",
      "counter",
      "Connections accepted, refused ones included.",
      [["", s.connectionsAccepted]],
    ),
    family(
      "chat_disconnects_total",
      "counter",
      "Connections ended, by reason.",
      byLabel("reason", s.disconnects),
    ),
    family(
      "chat_outbox_queued_bytes",
      "gauge",
      "Bytes queued for clients and not yet taken by the kernel.",
      [["", m.outboxQueuedBytes]],
    ),
    family("process_uptime_seconds", "gauge", "Seconds since the server started.", [[
      "",
      m.uptimeSeconds,
    ]]),
    family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [[
      "",
      m.residentBytes,
    ]]),
    family("process_heap_used_bytes", "gauge", "V8 heap in use, in bytes.", [[
      "",
      m.heapUsedBytes,
    ]]),
    ...(m.tlsHandshakes === undefined ? [] : [
      family("chat_tls_handshakes", "gauge", "TLS handshakes under way.", [[
        "",
        m.tlsHandshakes,
      ]]),
      family(
        "chat_tls_handshakes_failed_total",
        "counter",
        "TLS handshakes that did not finish, by why: timeout, refused (too many under way), failed.",
        byLabel("reason", s.tlsHandshakesFailed),
      ),
    ]),
    ...(m.history === undefined ? [] : [
      family("chat_history_written_total", "counter", "Messages written to the history's store.", [
        ["", m.history.written],
      ]),
      family(
        "chat_history_pending",
        "gauge",
        "Messages delivered and not yet known to be written to the store.",
        [["", m.history.pending]],
      ),
      family(
        "chat_history_write_failures_total",
        "counter",
        "Batches the history's store failed to write (each tried again).",
        [["", m.history.writeFailures]],
      ),
      family(
        "chat_history_dropped_total",
        "counter",
        "Messages dropped unwritten: more waited for a failing or slow store than the bound.",
        [["", m.history.dropped]],
      ),
      family(
        "chat_history_read_failures_total",
        "counter",
        "History reads that failed or timed out, answered from what this instance held.",
        [["", m.history.readFailures]],
      ),
    ]),
    ...(m.cluster === undefined ? [] : [
      family("chat_cluster_up", "gauge", "1 while other instances can be reached through Redis.", [[
        "",
        m.cluster.available ? 1 : 0,
      ]]),
      family("chat_cluster_remote_users", "gauge", "Users known on other instances.", [[
        "",
        m.cluster.remoteUsers,
      ]]),
      family(
        "chat_cluster_dropped_batches_total",
        "counter",
        "Batches of lines for other instances dropped because Redis did not keep up.",
        [["", m.cluster.droppedBatches]],
      ),
    ]),
    ...(m.accountRedisErrors === undefined ? [] : [
      family(
        "chat_account_redis_errors_total",
        "counter",
        "Login throttle and registration limit calls Redis failed: tries refused (ERR login-throttled) or settlements lost.",
        [["", m.accountRedisErrors]],
      ),
    ]),
  ].join("");
}

/**
 * Whether this instance takes logins now, as `/readyz` says it: `ready`, or
 * why not. `shutting down`: a SIGINT or SIGTERM has arrived (the chat
 * listener is closed). `cluster not joined`: started with `--redis-url`, and
 * not yet joined through Redis. `cluster unavailable`: joined once, and Redis
 * is away (stopped, unreachable, not answering) or the rejoin is not done.
 * In the last two, a `LOGIN` would wait and get `ERR cluster-unavailable`.
 */
export type Readiness = "ready" | "shutting down" | "cluster not joined" | "cluster unavailable";

/**
 * The readiness of a server that is `stopping` (or not), joined through a
 * cluster reporting `cluster` (undefined for a lone server, always joined).
 */
export function readinessOf(stopping: boolean, cluster: ClusterStatus | undefined): Readiness {
  if (stopping) return "shutting down";
  if (cluster === undefined || cluster.available) return "ready";
  return cluster.everJoined ? "cluster unavailable" : "cluster not joined";
}

/** What the HTTP endpoints read from the chat server. */
export interface MetricsSource {
  /** True while the chat listener accepts; false once shutdown has begun. */
  healthy(): boolean;
  /** Whether logins are taken now, or why not. */
  readiness(): Readiness;
  snapshot(): MetricsSnapshot;
}

/**
 * Answers `GET /healthz` (200 `ok` while healthy, 503 `shutting down` after),
 * `GET /readyz` (200 `ready` while the source is ready, 503 with the reason
 * otherwise) and `GET /metrics` from `source`; other paths 404, other
 * methods 405.
 */
export function metricsHandler(source: MetricsSource): (request: Request) => Response {
  return (request) => {
    const path = new URL(request.url).pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (path === "/healthz") {
      return source.healthy()
        ? new Response("ok\n")
        : new Response("shutting down\n", { status: 503 });
    }
    if (path === "/readyz") {
      const readiness = source.readiness();
      return new Response(`${readiness}\n`, { status: readiness === "ready" ? 200 : 503 });
    }
    if (path === "/metrics") {
      return new Response(renderMetrics(source.snapshot()), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    return new Response("not found\n", { status: 404 });
  };
}

/** Most connections the metrics port holds at once: far more than supervisors and scrapers open. */
export const METRICS_MAX_CONNECTIONS = 64;

/**
 * Serves {@linkcode metricsHandler} on `hostname:port` with
 * {@linkcode serveHttp}: each connection gets `deadlineMs` to send its
 * request and is closed after its answer, and at most
 * {@linkcode METRICS_MAX_CONNECTIONS} are held, so slow clients cannot keep
 * a `/healthz` out. Returns the running HTTP server.
 */
export function serveMetrics(
  hostname: string,
  port: number,
  deadlineMs: number,
  source: MetricsSource,
  log: Logger,
): HttpServer {
  return serveHttp(
    { hostname, port, deadlineMs, maxConnections: METRICS_MAX_CONNECTIONS },
    metricsHandler(source),
    log,
    (error) => {
      log.error("metrics request failed", { error: String(error) });
      return new Response("internal error\n", { status: 500 });
    },
  );
}
