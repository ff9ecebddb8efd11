/**
 * A small HTTP/1.1 server for the metrics port: one request per connection,
 * answered whole and closed. `Deno.serve` has no header timeout, no bound on
 * an idle keep-alive and no connection cap, so a few hundred clients that
 * send half a request and stop hold their sockets for ever. Here every
 * connection has one deadline for its whole exchange, and the number of
 * connections is capped: past the cap, the oldest connection still sending
 * its head is dropped (a 408) to make room, so a health check always gets in.
 *
 * @module
 */
import type { Logger } from "./log.ts";
import { LogThrottle } from "./log_throttle.ts";
import { errorResponse, headEnd, parseRequestHead, response } from "./web/http_request.ts";

/** The longest request head read, as on the web port. */
const MAX_HEAD_BYTES = 8192;

/** Pause after a failed accept (out of descriptors) before the next try. */
const ACCEPT_RETRY_MS = 100;
/** Least time between two `metrics accept failed` lines: out of descriptors, each retry fails. */
const ACCEPT_LOG_INTERVAL_MS = 1000;

/** Reason phrases of the statuses this server sends. */
const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

const TIMED_OUT = errorResponse(408, "Request Timeout");
const TOO_LARGE = errorResponse(431, "Request Header Fields Too Large");
const BAD = errorResponse(400, "Bad Request");
const FULL = errorResponse(503, "Service Unavailable", { "Retry-After": "1" });

/** Where and how {@linkcode serveHttp} listens. */
export interface HttpServerOptions {
  readonly hostname: string;
  readonly port: number;
  /** Milliseconds a connection has from its accept to its answer being written. */
  readonly deadlineMs: number;
  /** Most connections held at once; at least 1. */
  readonly maxConnections: number;
}

/** A running {@linkcode serveHttp} listener. */
export interface HttpServer {
  /** The address it listens on. */
  readonly addr: Deno.NetAddr;
  /** Stops accepting, closes every connection, and resolves once all are released. Idempotent. */
  shutdown(): Promise<void>;
}

/** One accepted connection: still reading its head, or answering. */
interface Exchange {
  readonly conn: Deno.Conn;
  phase: "head" | "answer" | "closed";
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Ends an exchange once: writes `lastWords` first when given (a short error
 * answer, which fits an empty socket buffer, so a peer that reads nothing
 * cannot hold the socket with it), then closes, which ends a pending read.
 * Resolves once the socket is closed.
 */
async function finish(exchange: Exchange, lastWords?: Uint8Array): Promise<void> {
  if (exchange.phase === "closed") return;
  const wasHead = exchange.phase === "head";
  exchange.phase = "closed";
  clearTimeout(exchange.timer);
  if (lastWords !== undefined && wasHead) await exchange.conn.write(lastWords).catch(() => 0);
  try {
    exchange.conn.close();
  } catch {
    // Already closed by the runtime: nothing is held.
  }
}

/** The answer's bytes: its headers as given, plus `Date`; for `HEAD`, the head alone. */
async function encode(answer: Response, head: boolean): Promise<Uint8Array> {
  const body = new Uint8Array(await answer.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const [name, value] of answer.headers) {
    if (name !== "content-length" && name !== "connection") headers[name] = value;
  }
  headers["date"] = new Date().toUTCString();
  const reason = REASONS[answer.status] ?? "";
  const bytes = response(answer.status, reason, headers, body);
  return head ? bytes.subarray(0, bytes.length - body.length) : bytes;
}

/**
 * Serves `handler` on `hostname:port`: each connection sends one request
 * (GET or HEAD, no body read), gets one whole response with
 * `Connection: close`, and is closed. A head not complete within
 * `deadlineMs` gets 408; over 8 KB, 431; malformed, 400. `onError` answers a
 * handler that throws.
 */
export function serveHttp(
  options: HttpServerOptions,
  handler: (request: Request) => Response,
  log: Logger,
  onError: (error: unknown) => Response,
): HttpServer {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  /** Open exchanges, oldest first (a Set keeps insertion order). */
  const open = new Set<Exchange>();
  const tasks = new Set<Promise<void>>();
  let stopping = false;

  const answer = async (exchange: Exchange, bytes: Uint8Array): Promise<void> => {
    const head = parseRequestHead(bytes);
    if (head === undefined) return finish(exchange, BAD);
    exchange.phase = "answer";
    let request: Request;
    try {
      // A fixed origin: only the path matters, and an IPv6 listen address is no URL host.
      request = new Request(`http://localhost${head.path}`, { method: head.method });
    } catch {
      // A method the Fetch API forbids (CONNECT, TRACE) is not one this server serves.
      return void await exchange.conn.write(BAD);
    }
    let reply: Response;
    try {
      reply = handler(request);
    } catch (error) {
      reply = onError(error);
    }
    const out = await encode(reply, head.method === "HEAD");
    if (exchange.phase !== "answer") return;
    await exchange.conn.write(out);
  };

  const serve = async (exchange: Exchange): Promise<void> => {
    const buffer = new Uint8Array(MAX_HEAD_BYTES + 1);
    let end = 0;
    try {
      while (exchange.phase === "head") {
        const count = await exchange.conn.read(buffer.subarray(end));
        if (count === null) return;
        const before = end;
        end += count;
        const at = headEnd(buffer, before, end);
        if (at !== -1) {
          await answer(exchange, buffer.subarray(0, at));
          return;
        }
        if (end > MAX_HEAD_BYTES) return await finish(exchange, TOO_LARGE);
      }
    } catch (error) {
      // A read or write cut by our own close, or a peer gone, is an ordinary end.
      if (
        !(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted ||
          error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe)
      ) log.error("metrics connection failed", { error: String(error) });
    } finally {
      await finish(exchange);
      open.delete(exchange);
    }
  };

  /** Room for one more connection: drops the oldest still sending its head; false if none is. */
  const makeRoom = (): boolean => {
    if (open.size < options.maxConnections) return true;
    for (const exchange of open) {
      if (exchange.phase !== "head") continue;
      open.delete(exchange);
      track(finish(exchange, TIMED_OUT));
      return true;
    }
    return false;
  };

  const track = (task: Promise<void>): void => {
    tasks.add(task);
    task.finally(() => tasks.delete(task));
  };

  const failures = new LogThrottle(ACCEPT_LOG_INTERVAL_MS);
  const accept = async (): Promise<void> => {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (stopping) return;
        // Out of descriptors, say: the listener works again once some are freed. No event
        // announces that, so wait a little rather than spin on the failing accept.
        const count = failures.count();
        if (count > 0) {
          log.error("metrics accept failed", { error: String(error), failures: count });
        }
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      const exchange: Exchange = { conn, phase: "head", timer: undefined };
      if (!makeRoom()) {
        track(finish(exchange, FULL));
        continue;
      }
      open.add(exchange);
      exchange.timer = setTimeout(() => track(finish(exchange, TIMED_OUT)), options.deadlineMs);
      track(serve(exchange));
    }
  };
  const accepting = accept();

  let stopped: Promise<void> | undefined;
  return {
    addr: listener.addr as Deno.NetAddr,
    shutdown() {
      stopped ??= (async () => {
        stopping = true;
        listener.close();
        await accepting;
        for (const exchange of open) track(finish(exchange));
        await Promise.all(tasks);
      })();
      return stopped;
    },
  };
}
