/**
 * One connection to the server, TCP or TLS: lines in, lines out. It knows
 * nothing of the protocol's commands.
 *
 * @module
 */

/** Where the server is. */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** PEM certificates trusted beyond the usual roots (a private CA), for TLS. */
  readonly caCerts: readonly string[];
}

/** How long connecting (and the TLS handshake) may take before it counts as failed. */
export const CONNECT_TIMEOUT_MS = 10_000;

const encoder = new TextEncoder();

/** A connection could not be made; its message says why, in one line. */
export class ConnectError extends Error {
  override name = "ConnectError";
}

/** Errors that only mean the connection is gone. */
function isDisconnect(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionAborted || error instanceof Deno.errors.NotConnected;
}

/** A line connection to the server. */
export class ServerConnection {
  readonly #conn: Deno.Conn;
  #closed = false;
  /** Text waiting to be written; what arrives while a write is under way goes out with the next. */
  #unsent = "";
  #writing = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to `target`, completing the TLS handshake so a bad certificate fails here. */
  static async open(target: Target): Promise<ServerConnection> {
    const where = `${target.host}:${target.port}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const connecting = target.tls
      ? Deno.connectTls({
        hostname: target.host,
        port: target.port,
        caCerts: [...target.caCerts],
      }).then(async (conn) => {
        try {
          await conn.handshake();
          return conn;
        } catch (error) {
          conn.close();
          throw error;
        }
      })
      : Deno.connect({ hostname: target.host, port: target.port }).then((conn) => {
        // Chat lines are small and typed one by one: send each at once.
        conn.setNoDelay(true);
        return conn;
      });
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new ConnectError(`Cannot connect to ${where}: no answer within 10 s`));
      }, CONNECT_TIMEOUT_MS);
    });
    try {
      const conn = await Promise.race([connecting, deadline]);
      return new ServerConnection(conn);
    } catch (error) {
      if (timedOut) {
        // A connection that comes after the deadline is not wanted.
        connecting.then((conn) => conn.close(), () => {});
        throw error;
      }
      // "Connection refused (os error 111)": the number helps nobody reading it.
      const reason = (error instanceof Error ? error.message : String(error))
        .replace(/ \(os error \d+\)$/, "");
      throw new ConnectError(`Cannot connect to ${where}: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Queues `line` and its `\n`; lines queued while a write is under way go out together. */
  send(line: string): void {
    if (this.#closed) return;
    this.#unsent += line + "\n";
    if (!this.#writing) this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#unsent !== "" && !this.#closed) {
        let bytes = encoder.encode(this.#unsent);
        this.#unsent = "";
        while (bytes.length > 0) bytes = bytes.subarray(await this.#conn.write(bytes));
      }
    } catch (error) {
      // A failed write means the connection is gone; the reader sees it end.
      if (!isDisconnect(error)) console.error(`write failed: ${error}`);
      this.close();
    } finally {
      this.#writing = false;
    }
  }

  /**
   * The server's lines, without their `\n` (or `\r\n`), until the server
   * closes, the connection fails, or {@linkcode close} is called.
   */
  async *lines(): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(16384);
    let pending = "";
    while (!this.#closed) {
      let count: number | null;
      try {
        count = await this.#conn.read(buffer);
      } catch (error) {
        if (isDisconnect(error) || this.#closed) return;
        throw error;
      }
      if (count === null) return;
      pending += decoder.decode(buffer.subarray(0, count), { stream: true });
      let lf: number;
      while ((lf = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, pending[lf - 1] === "\r" ? lf - 1 : lf);
        pending = pending.slice(lf + 1);
        yield line;
      }
    }
  }

  /** Closes the connection; safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}
