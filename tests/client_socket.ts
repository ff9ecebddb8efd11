/**
 * The socket under the tests' clients (line, IRC, WebSocket): every byte
 * written, one read at a time (resumed rather than doubled after a timed-out
 * wait, a reset counted as the end), one close however often it is asked,
 * and a way to let a pending read finish so that no op outlives a test.
 *
 * @module
 */

const encoder = new TextEncoder();

/** A test client's connection, read chunk by chunk. */
export class ClientSocket {
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(65536);
  #reading: Promise<number | null> | undefined;
  #ended = false;

  /** Reads and writes `conn`. */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Writes all of `bytes` (a string as UTF-8), however many writes that takes. */
  async write(bytes: Uint8Array | string): Promise<void> {
    let data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    while (data.length > 0) data = data.subarray(await this.#conn.write(data));
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

  /** Closes the connection; safe to call twice, and after the server closed it. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed, by an earlier call or by the runtime: BadResource.
    }
  }

  /** Waits for a pending read to end (after the socket is closed). */
  async settle(): Promise<void> {
    if (this.#reading !== undefined) await this.#reading.catch(() => null);
  }
}
