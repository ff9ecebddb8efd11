/**
 * One client on a socket, whatever its door: a read loop that hands bytes
 * to the door's framer, flood control between them, an outbox drained by its
 * own writer, and one idempotent close that lingers for the last line.
 *
 * @module
 */
import { canonicalIp, type CidrList } from "./address.ts";
import type { Door, DoorClient, Framer } from "./door.ts";
import { type FloodClient, FloodControl, type FloodOptions } from "./flood_control.ts";
import type { HubEvent } from "./hub.ts";
import type { Logger } from "./log.ts";
import { Outbox, type WriteFailureListener } from "./outbox.ts";
import type { CloseReason } from "./protocol.ts";
import { type ProxySource, readProxyHeader } from "./proxy_protocol.ts";
import type { Stats } from "./stats.ts";
import type { Ident, Wire } from "./wire.ts";

/**
 * What a connection uses of its socket: a `Deno.Conn`, or a TLS socket of
 * `node:tls` seen as one (lib/tls_socket_conn.ts).
 */
export type ClientSocket = Pick<
  Deno.Conn,
  "read" | "write" | "closeWrite" | "close" | "remoteAddr"
>;

/** Limits and collaborators of one connection. */
export interface ConnectionOptions {
  /** How bytes become hub events, and the last line on closing. */
  readonly door: Door;
  readonly maxQueueBytes: number;
  /** Rate, burst and excess-flood limits. */
  readonly flood: FloodOptions;
  /**
   * Longest wait, in milliseconds, between being closed and the socket being
   * released: time for the last line to be written and the peer to hang up.
   */
  readonly lingerMs: number;
  readonly post: (event: HubEvent) => void;
  /** Shared counters: bytes in and out. */
  readonly stats: Stats;
  /** Peers whose connections start with a PROXY protocol header. */
  readonly trustedProxies: CidrList;
  /** Longest wait for a trusted proxy's header, in milliseconds. */
  readonly proxyHeaderTimeoutMs: number;
  /** Called once, when the socket has been released. */
  readonly released: (connection: Connection) => void;
  readonly log: Logger;
}

/** Bytes read at a time while flood control holds the client back, or while closing. */
const READ_ASIDE_BYTES = 4096;
/** Where a closing connection reads to (and drops) input, to see the peer's close. */
const DISCARD = new Uint8Array(READ_ASIDE_BYTES);

type State = "open" | "closing" | "closed";

/**
 * A client on a socket. The hub sees it as a {@linkcode ClientLink}; the
 * server calls {@linkcode Connection.run} once and hears of the end through
 * `options.released`. The options object is shared by every connection, and
 * nothing here is allocated per connection that an idle one does not need.
 */
export class Connection implements DoorClient, FloodClient, WriteFailureListener {
  /** A number unique in this process, for logs. */
  readonly id: number;
  readonly #conn: ClientSocket;
  readonly #options: ConnectionOptions;
  readonly #framer: Framer;
  readonly #flood: FloodControl;
  readonly #outbox: Outbox;
  #state: State = "open";
  #readEnded = false;
  #reported = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** The real client behind a trusted proxy, from its PROXY header or `X-Forwarded-For`. */
  #proxied: ProxySource | undefined;
  /** True once the hub has been told of this client (behind a trusted proxy, only once it is named). */
  #joined = false;
  /** The wire its door chose for it (IRC's capabilities); undefined: the door's own. */
  #wire: Wire | undefined;
  /** Part of {@linkcode ClientLink}: what an IRC client said of itself (`USER`). */
  ident: Ident | undefined;

  /** Wraps an accepted socket. Nothing is read until {@linkcode run}. */
  constructor(conn: ClientSocket, id: number, options: ConnectionOptions) {
    this.#conn = conn;
    this.id = id;
    this.#options = options;
    this.#framer = options.door.framer(this);
    this.#flood = new FloodControl(options.flood, this.#framer, this);
    this.#outbox = new Outbox(
      conn,
      options.maxQueueBytes,
      this,
      options.stats,
    );
  }

  /** Part of {@linkcode ClientLink}: how the hub's lines are encoded for this client. */
  get wire(): Wire {
    return this.#wire ?? this.#options.door.wire;
  }

  /** Part of {@linkcode ClientLink}: its door changes it, in the hub's turn. */
  set wire(wire: Wire) {
    this.#wire = wire;
  }

  /** The client's address as `host:port`, for logs (behind a trusted proxy: the real client's). */
  get remote(): string {
    if (this.#proxied !== undefined) {
      // X-Forwarded-For names no port.
      const { ip, port } = this.#proxied;
      return port === 0 ? ip : `${ip}:${port}`;
    }
    const addr = this.#conn.remoteAddr as Deno.NetAddr;
    return `${addr.hostname}:${addr.port}`;
  }

  /** The client's address, canonical (behind a trusted proxy: the real client's). */
  get ip(): string {
    if (this.#proxied !== undefined) return this.#proxied.ip;
    return canonicalIp((this.#conn.remoteAddr as Deno.NetAddr).hostname);
  }

  /** Bytes queued for this client and not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.#outbox.pendingBytes;
  }

  /**
   * Joins the hub (after a trusted proxy's header, if this peer is one), then
   * reads until the peer hangs up or the socket is closed, posting what it reads.
   * Never rejects: a fault it does not expect is logged and ends this client
   * alone, so the server need not attach a handler (and a closure) to every
   * connection's promise.
   */
  async run(): Promise<void> {
    try {
      const proxied = this.#options.trustedProxies.has(
        (this.#conn.remoteAddr as Deno.NetAddr).hostname,
      );
      const forwarding = this.#options.door.forwarding;
      if (proxied && forwarding === "proxy-header" && !await this.#takeProxyHeader()) {
        this.#release();
        return;
      }
      // Behind a trusted proxy that names its client in HTTP, the hub hears of it once named.
      if (!proxied || forwarding !== "http-header") this.#join();
      // Frames what came with a PROXY header; a fault ends this client alone.
      this.#flood.feedGuarded();
      // This frame stays suspended for as long as the client is connected: it
      // holds only the fast path; everything else lives in methods it calls.
      let reason: CloseReason = "eof";
      try {
        while (true) {
          const count =
            this.#state === "open" && !this.#framer.paused && this.#flood.heldBytes === 0
              ? await this.#conn.read(this.#framer.space())
              : await this.#readAside();
          if (count === null) break;
          if (count > 0) this.#take(count);
        }
      } catch (error) {
        reason = this.#classify(error, "read");
      }
      this.#readDone(reason);
    } catch (error) {
      this.#options.log.error("connection failed", { id: this.id, error: String(error) });
      this.#report("error");
      this.#release();
    }
  }

  /** Frames `count` bytes just read into the framer's space. */
  #take(count: number): void {
    this.#options.stats.bytesIn += count;
    if (this.#state !== "open") {
      // Closed while this read was under way: its bytes went to the framer's space all the same.
      this.#lingered(this.#framer.space().subarray(0, count));
      return;
    }
    this.#framer.commit(count);
    if (this.#framer.paused) this.#flood.scheduleResume();
  }

  /**
   * Reads when the fast path cannot: while closing (input only shows the
   * peer's close), and while flood control holds the client back (into its
   * bounded backlog, so that a hang-up is seen at once; once that is full,
   * reading stops and the kernel pushes back on this sender alone). Resolves
   * 0 when it handled what it read, null at the end of input.
   */
  async #readAside(): Promise<number | null> {
    if (this.#state !== "open") {
      const count = await this.#conn.read(DISCARD);
      if (count === null) return null;
      return this.#lingered(DISCARD.subarray(0, count)) ? null : 0;
    }
    if (this.#flood.full) {
      await this.#flood.roomInBacklog();
      return 0;
    }
    const chunk = new Uint8Array(READ_ASIDE_BYTES);
    const count = await this.#conn.read(chunk);
    if (count === null) return null;
    this.#options.stats.bytesIn += count;
    if (this.#state === "open") {
      // An exact copy: a view would pin the whole chunk for every byte a trickler sends.
      this.#flood.hold(chunk.slice(0, count));
      this.#flood.feed();
    }
    return 0;
  }

  /** Hands the door what came after closing; true when that released the socket. */
  #lingered(bytes: Uint8Array): boolean {
    if (this.#state !== "closing") return false;
    this.#framer.linger(bytes);
    if (!this.#framer.finished || this.#outbox.pendingBytes > 0) return false;
    this.#release();
    return true;
  }

  #readDone(reason: CloseReason): void {
    this.#readEnded = true;
    if (this.#state === "open") {
      // A client that hangs up while held back leaves now, not when its backlog would have drained.
      this.#flood.drop();
      this.#report(reason);
    } else if (this.#state === "closing" && this.#outbox.pendingBytes === 0) {
      this.#release();
    }
  }

  /**
   * Reads the PROXY header a trusted proxy sends first; false (after logging
   * why) when it is missing, malformed, or slower than the timeout.
   */
  async #takeProxyHeader(): Promise<boolean> {
    const timer = setTimeout(() => this.#release(), this.#options.proxyHeaderTimeoutMs);
    try {
      const header = await readProxyHeader(this.#conn, this.#options.stats);
      if (header.kind === "ended") return false;
      if (header.kind === "invalid") {
        this.#options.log.warn("bad PROXY header", { address: this.remote, reason: header.reason });
        return false;
      }
      this.#proxied = header.source;
      if (header.rest !== undefined) this.#flood.hold(header.rest);
      return this.#state === "open";
    } finally {
      clearTimeout(timer);
    }
  }

  /** Part of {@linkcode ClientLink}: queues bytes, false past the byte budget. */
  send(bytes: Uint8Array): boolean {
    return this.#outbox.push(bytes);
  }

  /**
   * Part of {@linkcode ClientLink}: writes the door's last line for the reason
   * after what is queued (in its place for a slow consumer), half-closes,
   * waits up to `lingerMs` for the peer to hang up, then releases the socket.
   */
  close(reason: CloseReason): void {
    this.#end(this.#framer.farewell(reason), reason === "slow-consumer");
  }

  #end(lastWords: Uint8Array | undefined, inPlaceOfQueued: boolean): void {
    if (this.#state !== "open") return;
    this.#state = "closing";
    this.#flood.stop();
    this.#lingerTimer = setTimeout(() => this.#release(), this.#options.lingerMs);
    this.#outbox.end(lastWords, inPlaceOfQueued).then(() => this.#flushed());
  }

  /** Part of {@linkcode ClientLink}: the door's keepalive, if it has one now. */
  keepalive(): void {
    const bytes = this.#framer.keepalive;
    if (bytes !== undefined && this.#state === "open") this.#outbox.push(bytes);
  }

  /** Part of {@linkcode DoorClient}. */
  forwardedFor(ip: string | undefined): void {
    if (this.#joined) return;
    if (ip !== undefined) this.#proxied = { ip, port: 0 };
    this.#join();
  }

  /** Part of {@linkcode DoorClient}: the door's own last words, then closing as {@linkcode close} does. */
  hangUp(reason: CloseReason, lastWords: Uint8Array | undefined): void {
    this.#end(lastWords, false);
    this.#report(reason);
  }

  #join(): void {
    this.#joined = true;
    this.#options.post({ kind: "open", link: this });
  }

  /** Part of {@linkcode DoorClient}: posts a message; false once the client is over its rate. */
  message(event: HubEvent): boolean {
    this.#options.post(event);
    return this.#flood.take();
  }

  /** Part of {@linkcode DoorClient}. */
  notice(event: HubEvent): void {
    this.#options.post(event);
  }

  /** Part of {@linkcode FloodClient}. */
  excessFlood(): void {
    this.#report("excess-flood");
  }

  /** Part of {@linkcode FloodClient}. */
  framingFailed(error: unknown): void {
    this.#report(this.#classify(error, "frame"));
  }

  #flushed(): void {
    if (this.#state !== "closing") return;
    if (this.#readEnded || this.#framer.finished) {
      this.#release();
      return;
    }
    // FIN after the last line; closing outright with unread input would send RST and lose it.
    this.#conn.closeWrite().catch(() => this.#release());
  }

  /** Part of {@linkcode WriteFailureListener}: the outbox could not write. */
  writeFailed(error: unknown): void {
    const reason = this.#classify(error, "write");
    if (this.#state === "open") this.#report(reason);
  }

  /** Tells the hub, once, that the connection ended on the client's side. */
  #report(reason: CloseReason): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#options.post({ kind: "closed", link: this, reason });
  }

  #release(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#lingerTimer);
    this.#flood.stop();
    this.#framer.release();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
    this.#options.released(this);
  }

  #classify(error: unknown, during: string): CloseReason {
    if (this.#state === "closed") return "eof";
    if (
      error instanceof Deno.errors.ConnectionReset ||
      error instanceof Deno.errors.BrokenPipe ||
      error instanceof Deno.errors.ConnectionAborted
    ) {
      return "reset";
    }
    if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
      return "eof";
    }
    this.#options.log.warn("connection error", { id: this.id, during, error: String(error) });
    return "error";
  }
}
