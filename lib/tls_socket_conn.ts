/**
 * A `node:tls` server socket seen as the part of a `Deno.Conn` that a
 * connection uses: `read` into a buffer, `write` resolving once the bytes
 * are taken, `closeWrite`, `close`. TLS handshakes end in these, so a door
 * never knows its bytes are decrypted by `node:tls`.
 *
 * @module
 */
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";

/** Decrypted bytes held for a reader before the socket is paused until it catches up. */
const HIGH_WATER_BYTES = 64 * 1024;

/** The errors of `node:net`, as the `Deno.errors` a connection already tells apart. */
function asDenoError(error: Error): Error {
  switch ((error as { code?: string }).code) {
    case "ECONNRESET":
      return new Deno.errors.ConnectionReset(error.message);
    case "EPIPE":
      return new Deno.errors.BrokenPipe(error.message);
    case "ECONNABORTED":
      return new Deno.errors.ConnectionAborted(error.message);
    case "ERR_STREAM_DESTROYED":
    case "ERR_STREAM_WRITE_AFTER_END":
      return new Deno.errors.BadResource(error.message);
    default:
      return error;
  }
}

/** One client's TLS socket, read and written as a `Deno.Conn` is. */
export class TlsSocketConn {
  /** The peer, as `Deno.Conn` names it. */
  readonly remoteAddr: Deno.Addr;
  readonly #socket: TLSSocket;
  /** The plain socket below: closing it is what frees the descriptor. */
  readonly #conn: Deno.Conn;
  readonly #chunks: Uint8Array[] = [];
  /** Bytes of `#chunks[0]` already read. */
  #offset = 0;
  #buffered = 0;
  #ended = false;
  #closed = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  /**
   * Takes over `socket`, whose handshake has finished, running over `stream`,
   * which reads and writes `conn`.
   */
  constructor(socket: TLSSocket, stream: Duplex, conn: Deno.Conn) {
    this.#socket = socket;
    this.#conn = conn;
    this.remoteAddr = conn.remoteAddr;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.byteLength;
      if (this.#buffered >= HIGH_WATER_BYTES) socket.pause();
      this.#wakeReader();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#wakeReader();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#wakeReader();
    });
    const failed = (error: Error) => {
      this.#error ??= asDenoError(error);
      this.#wakeReader();
    };
    socket.on("error", failed);
    // The socket below fails first (a reset); the TLS socket above may only report its close.
    stream.on("error", failed);
  }

  /** Reads into `buffer`: the count, `null` once the peer has finished, or the socket's error. */
  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#buffered === 0) {
      if (this.#closed) throw new Deno.errors.BadResource("closed");
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    if (this.#closed) throw new Deno.errors.BadResource("closed");
    let count = 0;
    while (count < buffer.byteLength && this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!;
      const taken = Math.min(buffer.byteLength - count, chunk.byteLength - this.#offset);
      buffer.set(chunk.subarray(this.#offset, this.#offset + taken), count);
      count += taken;
      this.#offset += taken;
      if (this.#offset === chunk.byteLength) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#buffered -= count;
    if (this.#buffered < HIGH_WATER_BYTES && this.#socket.isPaused()) this.#socket.resume();
    return count;
  }

  /** Writes all of `bytes`, resolving once the socket has taken them (not merely queued them). */
  write(bytes: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    return new Promise((resolve, reject) => {
      this.#socket.write(
        bytes,
        (error) => error ? reject(asDenoError(error)) : resolve(bytes.byteLength),
      );
    });
  }

  /** Sends close_notify and FIN once everything written is out; reading goes on. */
  closeWrite(): Promise<void> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    return new Promise((resolve) => {
      this.#socket.once("close", resolve);
      this.#socket.end(resolve);
    });
  }

  /** Frees the socket and its descriptor at once; a pending read then throws `BadResource`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    try {
      this.#conn.close();
    } catch {
      // Closed already, through the stream.
    }
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
