/**
 * A loopback TCP relay that a test can cut and restore, for partitions.
 *
 * @module
 */
/**
 * A loopback TCP relay in front of Redis that a test can cut and restore:
 * one instance behind it loses Redis while the others keep it (a partition).
 */
export class TcpRelay {
  readonly #listener: Deno.TcpListener;
  readonly #target: number;
  readonly #conns = new Set<Deno.Conn>();
  /** Connections whose bytes are read and thrown away. */
  readonly #silenced = new Set<Deno.Conn>();
  /** Redis's side of each relayed connection whose client has sent SUBSCRIBE. */
  readonly #subscriptions = new Set<Deno.Conn>();
  readonly #pumps = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  #cut = false;

  private constructor(target: number) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** Relays to `127.0.0.1:target`. */
  static start(target: number): TcpRelay {
    return new TcpRelay(target);
  }

  /** Where to connect instead of Redis. */
  get url(): string {
    return `redis://127.0.0.1:${this.#listener.addr.port}`;
  }

  /** Drops every relayed connection and refuses new ones until {@linkcode restore}. */
  cut(): void {
    this.#cut = true;
    for (const conn of this.#conns) closeQuietly(conn);
    this.#conns.clear();
  }

  /** Relays again. */
  restore(): void {
    this.#cut = false;
  }

  /**
   * Lets every relayed connection fall silent, open but carrying nothing (a
   * NAT or load balancer that forgot it); new connections are relayed.
   */
  silence(): void {
    for (const conn of this.#conns) this.#silenced.add(conn);
  }

  /** Lets only what Redis sends to subscribers fall silent; commands still get their replies. */
  silenceSubscriptions(): void {
    for (const conn of this.#subscriptions) this.#silenced.add(conn);
  }

  /** Stops relaying and waits for every connection to be released. */
  async close(): Promise<void> {
    this.cut();
    this.#listener.close();
    await this.#accepting;
    await Promise.all(this.#pumps);
  }

  async #accept(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // closed
      }
      if (this.#cut) {
        closeQuietly(conn);
        continue;
      }
      let upstream: Deno.Conn;
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
      } catch {
        closeQuietly(conn);
        continue;
      }
      this.#conns.add(conn);
      this.#conns.add(upstream);
      for (const [from, to] of [[conn, upstream], [upstream, conn]] as const) {
        const pump = this.#pump(from, to, from === conn ? upstream : undefined);
        this.#pumps.add(pump);
        pump.finally(() => this.#pumps.delete(pump));
      }
    }
  }

  /** Copies `from` to `to`; `upstream` is set when `from` is the client, to spot subscribers. */
  async #pump(from: Deno.Conn, to: Deno.Conn, upstream: Deno.Conn | undefined): Promise<void> {
    const buffer = new Uint8Array(65536);
    try {
      while (true) {
        const count = await from.read(buffer);
        if (count === null) break;
        if (upstream !== undefined && !this.#subscriptions.has(upstream)) {
          const text = new TextDecoder().decode(buffer.subarray(0, count));
          if (text.toUpperCase().includes("SUBSCRIBE")) this.#subscriptions.add(upstream);
        }
        if (this.#silenced.has(from)) continue;
        let data = buffer.subarray(0, count);
        while (data.length > 0) data = data.subarray(await to.write(data));
      }
    } catch {
      // Cut, or the other side went away.
    } finally {
      for (const conn of [from, to]) {
        this.#silenced.delete(conn);
        this.#subscriptions.delete(conn);
        if (this.#conns.delete(conn)) closeQuietly(conn);
      }
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
