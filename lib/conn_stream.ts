/**
 * A `Deno.Conn` as a `node:stream` Duplex, so that `node:tls` can run a
 * server-side TLS session over a socket the server accepted itself.
 *
 * @module
 */
import { Duplex } from "node:stream";

/**
 * Bytes read from the socket at once while the peer sends little: what every
 * idle client's pending read holds.
 */
const SMALL_READ_BYTES = 512;

/**
 * Bytes read at once once a read has filled its buffer. A TLS record is at
 * most 16 KB; a smaller buffer costs a few more reads on a long burst.
 */
const LARGE_READ_BYTES = 4096;

/** A `Deno.Conn` read and written as a Duplex; destroying it closes the socket. */
export class ConnStream extends Duplex {
  readonly #conn: Deno.Conn;
  #reading = false;
  /**
   * The size of the next read: large once a read fills its buffer, small again
   * after a read of less than the small size, so an idle client holds little.
   */
  #readBytes = SMALL_READ_BYTES;

  /** Takes over `conn`: from now on only this stream reads, writes and closes it. */
  constructor(conn: Deno.Conn) {
    super();
    this.#conn = conn;
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    const buffer = new Uint8Array(this.#readBytes);
    this.#conn.read(buffer).then(
      (count) => {
        this.#reading = false;
        if (count === buffer.byteLength) this.#readBytes = LARGE_READ_BYTES;
        else if (count !== null && count < SMALL_READ_BYTES) this.#readBytes = SMALL_READ_BYTES;
        if (count === null) this.push(null);
        else if (this.push(buffer.subarray(0, count))) this._read();
      },
      (error) => this.destroy(error),
    );
  }

  override _write(
    chunk: Uint8Array,
    _encoding: string,
    done: (error?: Error | null) => void,
  ): void {
    this.#writeAll(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#conn.closeWrite().then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
    done(error);
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.byteLength) written += await this.#conn.write(bytes.subarray(written));
  }
}
