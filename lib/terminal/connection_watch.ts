/**
 * The timers that watch one connection: the deadline for the server's
 * answer to a `LOGIN`, and the keepalive that pings it and notices when it
 * has gone silent (a server gone without a FIN).
 *
 * @module
 */

/** What the watch needs of the connection. */
export interface Watched {
  /** Sends a keepalive `PING`. */
  ping(): void;
  /** Ends the connection: the watch saw it fail, for the reason it then gives in {@linkcode ConnectionWatch.why}. */
  close(): void;
}

/** How long the server may take to answer `LOGIN` (it waits up to 3 s for Redis) before the try counts as failed. */
export const LOGIN_TIMEOUT_MS = 10_000;

/**
 * One connection's timers. The keepalive runs from the start, so a password
 * prompt keeps the connection alive too; it notes when it pings, and a ping
 * with no line at all from the server before the next one means the
 * connection is dead.
 */
export class ConnectionWatch {
  readonly #watched: Watched;
  readonly #keepalive: ReturnType<typeof setInterval>;
  #login: ReturnType<typeof setTimeout> | undefined;
  #heard = true;
  #why: string | undefined;

  /** Starts the keepalive, a `PING` every `pingMs`. */
  constructor(watched: Watched, pingMs: number) {
    this.#watched = watched;
    this.#keepalive = setInterval(() => {
      if (!this.#heard) return this.#fail("The server stopped answering.");
      this.#heard = false;
      watched.ping();
    }, pingMs);
  }

  /** Why the watch closed the connection, if it did. */
  get why(): string | undefined {
    return this.#why;
  }

  /** A line came from the server. */
  heard(): void {
    this.#heard = true;
  }

  /** A `LOGIN` went out: its answer is due within {@linkcode LOGIN_TIMEOUT_MS}. */
  awaitLogin(): void {
    clearTimeout(this.#login);
    this.#login = setTimeout(
      () => this.#fail("The server did not answer the login."),
      LOGIN_TIMEOUT_MS,
    );
  }

  /** The login was answered, or the user is being asked: no deadline for now. */
  loginAnswered(): void {
    clearTimeout(this.#login);
  }

  /** Stops every timer (the connection ended). */
  stop(): void {
    clearTimeout(this.#login);
    clearInterval(this.#keepalive);
  }

  #fail(why: string): void {
    this.#why = why;
    this.#watched.close();
  }
}
