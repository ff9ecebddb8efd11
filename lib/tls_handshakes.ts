/**
 * TLS connections whose handshake has neither finished nor failed, counted
 * so that the server can stop accepting on its TLS ports while there are too
 * many. In Deno 2.9.6 closing such a connection frees nothing: its socket
 * belongs to the runtime's handshake task until the peer sends or hangs up
 * (docs/operations.md has the reproduction).
 *
 * @module
 */

/** Counts unfinished TLS handshakes, up to a bound the accept loops wait under. */
export class UnfinishedHandshakes {
  /** The most unfinished handshakes before {@linkcode UnfinishedHandshakes.room} waits. */
  readonly max: number;
  #count = 0;
  #wake: (() => void) | undefined;
  #room: Promise<void> | undefined;
  #stopped = false;

  /** Counts none yet; `max` is the bound. */
  constructor(max: number) {
    this.max = max;
  }

  /** How many handshakes are unfinished now. */
  get count(): number {
    return this.#count;
  }

  /** True when another TLS connection may be accepted now. */
  get hasRoom(): boolean {
    return this.#count < this.max || this.#stopped;
  }

  /**
   * Counts `conn` until its handshake settles, and holds back its `close()`
   * until then: a close during the handshake would not free the socket, and
   * would make `handshake()` reject at once, so the count would lie.
   */
  track(conn: Deno.TlsConn): void {
    this.#count++;
    const close = conn.close.bind(conn);
    let settled = false;
    let closeWanted = false;
    conn.close = () => settled ? close() : void (closeWanted = true);
    const done = () => {
      settled = true;
      this.#count--;
      this.#wakeAll();
      if (!closeWanted) return;
      try {
        close();
      } catch {
        // Already closed by the runtime.
      }
    };
    conn.handshake().then(done, done);
  }

  /** Resolves once {@linkcode UnfinishedHandshakes.hasRoom} holds (or after {@linkcode stop}). */
  async room(): Promise<void> {
    while (!this.hasRoom) await (this.#room ??= new Promise((resolve) => this.#wake = resolve));
  }

  /** Lets every waiter go, now and from now on: the server is shutting down. */
  stop(): void {
    this.#stopped = true;
    this.#wakeAll();
  }

  #wakeAll(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    this.#room = undefined;
    wake?.();
  }
}
