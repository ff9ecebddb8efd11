/**
 * The reading half of the tests' socket clients (line, IRC, WebSocket): one
 * read at a time, resumed rather than doubled after a timed-out wait, a
 * reset counted as the end, and a way to let a pending read finish so that
 * no op outlives a test.
 *
 * @module
 */

/** Reads a socket chunk by chunk. */
export class SocketReader {
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(65536);
  #reading: Promise<number | null> | undefined;
  #ended = false;

  /** Reads from `conn`. */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** True once the peer closed or reset. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next bytes (a view, valid until the next call); null at the end of the stream. */
  async next(): Promise<Uint8Array | null> {
    if (this.#ended) return null;
    // A read left pending by a timed-out wait is resumed rather than doubled.
    this.#reading ??= this.#conn.read(this.#buffer);
    let count: number | null;
    try {
      count = await this.#reading;
    } catch (error) {
      if (
        !(error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BadResource)
      ) throw error;
      count = null;
    } finally {
      this.#reading = undefined;
    }
    if (count === null) {
      this.#ended = true;
      return null;
    }
    return this.#buffer.subarray(0, count);
  }

  /** Waits for a pending read to end (after the socket is closed). */
  async settle(): Promise<void> {
    if (this.#reading !== undefined) await this.#reading.catch(() => null);
  }
}
