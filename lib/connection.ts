/**
 * One TCP client: a read loop that turns bytes into hub events, an outbox
 * drained by its own writer, and one idempotent way to close.
 *
 * @module
 */
import { type CidrList, formatIp, parseIp } from "./address.ts";
import type { ClientLink } from "./client_link.ts";
import type { HubEvent } from "./hub.ts";
import { LineFramer, type LineSink } from "./line_framer.ts";
import type { Logger } from "./log.ts";
import { Outbox } from "./outbox.ts";
import { type CloseReason, closingLine, type Command, parseLine } from "./protocol.ts";
import { parseProxyHeader, type ProxySource } from "./proxy_protocol.ts";
import type { Stats } from "./stats.ts";

/** Limits and collaborators of one connection. */
export interface ConnectionOptions {
  readonly maxLineBytes: number;
  readonly maxQueueBytes: number;
  /** Lines a second, on average; 0: no flood control. */
  readonly rate: number;
  /** Lines at once before the rate applies. */
  readonly burst: number;
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
  /**
   * How long a client's backlog may stay full, its socket unread, before it
   * is dropped with `ERR excess-flood`: past that, a hang-up could go unseen
   * for as long as its backlog takes to drain.
   */
  readonly excessFloodMs: number;
  /** Longest wait for a trusted proxy's header, in milliseconds. */
  readonly proxyHeaderTimeoutMs: number;
  /** Called once, when the socket has been released. */
  readonly released: (connection: Connection) => void;
  readonly log: Logger;
}

const IGNORED: Command = { kind: "ignored" };

/** Where a closing connection reads to (and drops) input, to see the peer's close. */
const DISCARD = new Uint8Array(4096);
/** Bytes a held-back client may have read ahead of its rate before reading stops. */
const BACKLOG_BYTES = 64 * 1024;
/** Bytes read at a time into the backlog. */
const BACKLOG_CHUNK = 4096;

type State = "open" | "closing" | "closed";

function canonicalIp(hostname: string): string {
  // Dotted IPv4, as the runtime reports it, is canonical already: no parsing, no garbage.
  if (!hostname.includes(":")) return hostname;
  const bytes = parseIp(hostname);
  return bytes === undefined ? hostname : formatIp(bytes);
}

/**
 * A client on a socket. The hub sees it as a {@linkcode ClientLink}; the
 * server calls {@linkcode Connection.run} once and hears of the end through
 * `options.released`. The options object is shared by every connection, and
 * nothing here is allocated per connection that an idle one does not need.
 */
export class Connection implements ClientLink, LineSink {
  /** A number unique in this process, for logs. */
  readonly id: number;
  readonly #conn: Deno.Conn;
  readonly #options: ConnectionOptions;
  readonly #framer: LineFramer;
  readonly #outbox: Outbox;
  #state: State = "open";
  #readEnded = false;
  #reported = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** Flood control: a token bucket, refilled at `rate` up to `burst`. */
  #tokens: number;
  #refilledAt = 0;
  #refillTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Bytes read but not yet framed: those read while flood control holds the
   * client back (so that a hang-up is still seen at once), and any that came
   * with a PROXY header. Bounded by {@linkcode BACKLOG_BYTES}; allocated only when used.
   */
  #backlog: Uint8Array[] | undefined;
  #backlogBytes = 0;
  /** Since when the backlog has been full (until it drains to half). */
  #fullSince: number | undefined;
  #excessTimer: ReturnType<typeof setTimeout> | undefined;
  #roomInBacklog: (() => void) | undefined;
  /** The real client behind a trusted proxy, from its PROXY header. */
  #proxied: ProxySource | undefined;

  /** Wraps an accepted socket. Nothing is read until {@linkcode run}. */
  constructor(conn: Deno.Conn, id: number, options: ConnectionOptions) {
    this.#conn = conn;
    this.id = id;
    this.#options = options;
    this.#tokens = options.burst;
    this.#framer = new LineFramer(options.maxLineBytes);
    this.#outbox = new Outbox(
      conn,
      options.maxQueueBytes,
      (error) => this.#writeFailed(error),
      options.stats,
    );
  }

  /** The client's address as `host:port`, for logs (behind a trusted proxy: the real client's). */
  get remote(): string {
    if (this.#proxied !== undefined) return `${this.#proxied.ip}:${this.#proxied.port}`;
    const addr = this.#conn.remoteAddr as Deno.NetAddr;
    return `${addr.hostname}:${addr.port}`;
  }

  /** The client's address, canonical (behind a trusted proxy: the real client's). */
  get ip(): string {
    if (this.#proxied !== undefined) return this.#proxied.ip;
    return canonicalIp((this.#conn.remoteAddr as Deno.NetAddr).hostname);
  }

  /** True once the socket has been released. */
  get released(): boolean {
    return this.#state === "closed";
  }

  /** Bytes queued for this client and not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.#outbox.pendingBytes;
  }

  /**
   * Joins the hub (after a trusted proxy's header, if this peer is one), then
   * reads until the peer hangs up or the socket is closed, posting what it reads.
   */
  async run(): Promise<void> {
    const proxied = this.#options.trustedProxies.has(
      (this.#conn.remoteAddr as Deno.NetAddr).hostname,
    );
    if (proxied && !await this.#takeProxyHeader()) {
      this.#release();
      return;
    }
    this.#options.post({ kind: "open", link: this });
    this.#guarded(() => this.#feed());
    // This frame stays suspended for as long as the client is connected: it
    // holds only the fast path; everything else lives in methods it calls.
    let reason: CloseReason = "eof";
    try {
      while (true) {
        const count = this.#state === "open" && !this.#framer.paused && this.#backlogBytes === 0
          ? await this.#conn.read(this.#framer.space())
          : await this.#readAside();
        if (count === null) break;
        if (count > 0) this.#take(count);
      }
    } catch (error) {
      reason = this.#classify(error, "read");
    }
    this.#readDone(reason);
  }

  /** Frames `count` bytes just read into the framer's space. */
  #take(count: number): void {
    this.#options.stats.bytesIn += count;
    if (this.#state !== "open") return;
    this.#framer.commit(count, this);
    if (this.#framer.paused) this.#scheduleRefill();
  }

  /**
   * Reads when the fast path cannot: while closing (input only shows the
   * peer's close), and while flood control holds the client back (into a
   * bounded backlog, so that a hang-up is seen at once; once it is full,
   * reading stops and the kernel pushes back on this sender alone). Resolves
   * 0 when it handled what it read, null at the end of input.
   */
  async #readAside(): Promise<number | null> {
    if (this.#state !== "open") return await this.#conn.read(DISCARD) === null ? null : 0;
    if (this.#backlogBytes >= this.#backlogLimit()) {
      if (this.#fullSince === undefined) {
        this.#fullSince = performance.now();
        // Refills may be far apart at a low --rate: check the limit on time as well.
        this.#excessTimer = setTimeout(
          () => this.#guarded(() => this.#feed()),
          this.#options.excessFloodMs + 1,
        );
      }
      await new Promise<void>((resolve) => this.#roomInBacklog = resolve);
      return 0;
    }
    const chunk = new Uint8Array(BACKLOG_CHUNK);
    const count = await this.#conn.read(chunk);
    if (count === null) return null;
    this.#options.stats.bytesIn += count;
    if (this.#state === "open") {
      // An exact copy: a view would pin the whole chunk for every byte a trickler sends.
      this.#toBacklog(chunk.slice(0, count));
      this.#feed();
    }
    return 0;
  }

  #readDone(reason: CloseReason): void {
    this.#readEnded = true;
    if (this.#state === "open") {
      // A client that hangs up while held back leaves now, not when its backlog
      // would have drained; the lines it was not yet allowed to send are dropped.
      this.#backlog = undefined;
      this.#backlogBytes = 0;
      this.#report(reason);
    } else if (this.#state === "closing" && this.#outbox.pendingBytes === 0) {
      this.#release();
    }
  }

  #toBacklog(bytes: Uint8Array): void {
    (this.#backlog ??= []).push(bytes);
    this.#backlogBytes += bytes.length;
  }

  #backlogLimit(): number {
    return Math.max(BACKLOG_BYTES, this.#options.maxLineBytes + 2);
  }

  /**
   * Frames backlog bytes while the client may send, and schedules the next
   * refill when it may not. A client whose backlog has stayed full (refilled
   * by every read, never below half) for `excessFloodMs` floods past anything
   * flood control can absorb: it is reported gone with `excess-flood`.
   */
  #feed(): void {
    const backlog = this.#backlog;
    while (backlog !== undefined && backlog.length > 0 && !this.#framer.paused) {
      if (this.#state !== "open") return;
      const chunk = backlog[0]!;
      const space = this.#framer.space();
      const count = Math.min(space.length, chunk.length);
      space.set(chunk.subarray(0, count));
      if (count === chunk.length) backlog.shift();
      else backlog[0] = chunk.subarray(count);
      this.#backlogBytes -= count;
      this.#framer.commit(count, this);
    }
    if (backlog !== undefined && backlog.length === 0) this.#backlog = undefined;
    if (this.#backlogBytes < this.#backlogLimit() / 2) {
      this.#fullSince = undefined;
      clearTimeout(this.#excessTimer);
    } else if (
      this.#fullSince !== undefined &&
      performance.now() - this.#fullSince > this.#options.excessFloodMs
    ) {
      this.#report("excess-flood");
      return;
    }
    if (this.#framer.paused) this.#scheduleRefill();
    this.#wakeReader();
  }

  /** Wakes a read loop waiting for room in a full backlog. */
  #wakeReader(): void {
    const wake = this.#roomInBacklog;
    this.#roomInBacklog = undefined;
    wake?.();
  }

  /** Resumes the framer once the bucket holds a whole token again. */
  #scheduleRefill(): void {
    if (this.#refillTimer !== undefined || this.#state !== "open") return;
    const waitMs = Math.ceil(((1 - this.#tokens) * 1000) / this.#options.rate);
    this.#refillTimer = setTimeout(() => {
      this.#refillTimer = undefined;
      if (this.#state !== "open") return;
      this.#guarded(() => {
        this.#framer.resume(this);
        this.#feed();
      });
    }, waitMs);
  }

  /** Runs framing work outside the read loop's own try: a fault ends this client alone. */
  #guarded(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.#report(this.#classify(error, "frame"));
    }
  }

  /**
   * Reads the PROXY header a trusted proxy sends first; false (after logging
   * why) when it is missing, malformed, or slower than the timeout.
   */
  async #takeProxyHeader(): Promise<boolean> {
    let bytes = new Uint8Array(256);
    let filled = 0;
    const timer = setTimeout(() => this.#release(), this.#options.proxyHeaderTimeoutMs);
    try {
      while (true) {
        if (filled === bytes.length) {
          const bigger = new Uint8Array(bytes.length * 2);
          bigger.set(bytes);
          bytes = bigger;
        }
        const count = await this.#conn.read(bytes.subarray(filled));
        if (count === null) return false;
        filled += count;
        this.#options.stats.bytesIn += count;
        const header = parseProxyHeader(bytes.subarray(0, filled));
        if (header.kind === "incomplete") continue;
        if (header.kind === "invalid") {
          this.#options.log.warn("bad PROXY header", {
            address: this.remote,
            reason: header.reason,
          });
          return false;
        }
        this.#proxied = header.source;
        if (header.length < filled) this.#toBacklog(bytes.slice(header.length, filled));
        return this.#state === "open";
      }
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Part of {@linkcode ClientLink}: queues bytes, false past the byte budget. */
  send(bytes: Uint8Array): boolean {
    return this.#outbox.push(bytes);
  }

  /**
   * Part of {@linkcode ClientLink}: writes the reason's last line after what
   * is queued (in its place for a slow consumer), half-closes, waits up to
   * `lingerMs` for the peer to hang up, then releases the socket.
   */
  close(reason: CloseReason): void {
    if (this.#state !== "open") return;
    this.#state = "closing";
    this.#wakeReader();
    this.#lingerTimer = setTimeout(() => this.#release(), this.#options.lingerMs);
    this.#outbox.end(closingLine(reason), reason === "slow-consumer").then(() => this.#flushed());
  }

  /** Releases the socket now, whatever is unsent. Idempotent. */
  destroy(): void {
    this.#release();
  }

  /** Part of {@linkcode LineSink}: posts the line; false once the client is over its rate. */
  line(text: string): boolean {
    this.#options.post({ kind: "command", link: this, command: parseLine(text) });
    return this.#takeToken();
  }

  /** Part of {@linkcode LineSink}. */
  lineTooLong(): void {
    this.#options.post({ kind: "line-too-long", link: this });
  }

  /** Part of {@linkcode LineSink}: the end of a dropped line still counts as activity, and as a line. */
  tooLongLineEnded(): boolean {
    this.#options.post({ kind: "command", link: this, command: IGNORED });
    return this.#takeToken();
  }

  /** Spends a token for the line just taken; true while another line may follow at once. */
  #takeToken(): boolean {
    const rate = this.#options.rate;
    if (rate === 0) return true;
    const now = performance.now();
    this.#tokens = Math.min(
      this.#options.burst,
      this.#tokens + ((now - this.#refilledAt) * rate) / 1000,
    );
    this.#refilledAt = now;
    this.#tokens -= 1;
    if (this.#tokens >= 1) return true;
    this.#options.stats.throttled++;
    return false;
  }

  #flushed(): void {
    if (this.#state !== "closing") return;
    if (this.#readEnded) {
      this.#release();
      return;
    }
    // FIN after the last line; closing outright with unread input would send RST and lose it.
    this.#conn.closeWrite().catch(() => this.#release());
  }

  #writeFailed(error: unknown): void {
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
    clearTimeout(this.#refillTimer);
    this.#refillTimer = undefined;
    clearTimeout(this.#excessTimer);
    this.#wakeReader();
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
