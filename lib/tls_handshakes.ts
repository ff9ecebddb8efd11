/**
 * Server-side TLS over sockets the server accepted itself: `node:tls` runs
 * the session over a plain `Deno.Conn`, and a connection is handed on only
 * once its handshake has finished. Why not `Deno.listenTls`: in Deno 2.9.6
 * it hands out the connection before the handshake, and a peer that never
 * sends its ClientHello keeps that socket open whatever the server closes
 * (docs/operations.md has the reproduction). Here the server owns the plain
 * socket, so a handshake has a deadline after which its descriptor really is
 * freed, and the handshakes under way are bounded in all and per address.
 *
 * @module
 */
import tls from "node:tls";
import { canonicalIp } from "./address.ts";
import { AddressCounts } from "./address_counts.ts";
import { ConnStream } from "./conn_stream.ts";
import type { Logger } from "./log.ts";
import type { TlsHandshakeFailure } from "./stats.ts";
import type { TlsMaterial } from "./tls.ts";
import { TlsSocketConn } from "./tls_socket_conn.ts";

/**
 * The handshakes under way on every TLS port together, against the same
 * limits as logged-in clients: `--max-clients` in all and
 * `--max-clients-per-ip` from one address. A peer past either is hung up on
 * before its handshake starts.
 */
export class HandshakeLimits {
  readonly #max: number;
  readonly #perAddress: AddressCounts;
  #underway = 0;

  /** At most `max` in all, and `maxPerAddress` from one address (0: no limit) unless `exempt`. */
  constructor(max: number, maxPerAddress: number, exempt: (ip: string) => boolean) {
    this.#max = max;
    this.#perAddress = new AddressCounts(maxPerAddress, exempt);
  }

  /** Counts one more from `ip`: whether to uncount its address later, or which limit it passed. */
  admit(ip: string): "counted" | "uncounted" | "all" | "address" {
    if (this.#underway >= this.#max) return "all";
    const count = this.#perAddress.add(ip);
    if (count === "full") return "address";
    this.#underway++;
    return count;
  }

  /** Uncounts a handshake that {@linkcode HandshakeLimits.admit} counted. */
  release(ip: string, addressCounted: boolean): void {
    this.#underway--;
    if (addressCounted) this.#perAddress.remove(ip);
  }
}

/** What the handshakes need to know. */
export interface TlsHandshakesOptions {
  readonly material: TlsMaterial;
  /** How long a peer has from its accept to the end of its handshake. */
  readonly handshakeMs: number;
  readonly limits: HandshakeLimits;
  /** Counts each handshake that did not finish, by why. */
  readonly failed: (reason: TlsHandshakeFailure) => void;
  readonly log: Logger;
}

/** A handshake under way: its socket, and how to give up on it. */
interface Underway {
  readonly conn: Deno.Conn;
  readonly secure: tls.TLSSocket;
  readonly ip: string;
  /** Counted against the per-address limit, so uncounted when it ends. */
  readonly counted: boolean;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly settle: (conn: TlsSocketConn | undefined) => void;
}

/** Runs the TLS handshakes of every TLS port, each under a deadline and the limits. */
export class TlsHandshakes {
  readonly #options: TlsHandshakesOptions;
  readonly #context: tls.SecureContext;
  readonly #underway = new Set<Underway>();
  #stopped = false;

  /** Nothing is under way yet. */
  constructor(options: TlsHandshakesOptions) {
    this.#options = options;
    this.#context = tls.createSecureContext({
      cert: options.material.cert,
      key: options.material.key,
    });
  }

  /** Handshakes under way now. */
  get underway(): number {
    return this.#underway.size;
  }

  /**
   * Runs the handshake on `conn`, accepted on `port` (its name in logs).
   * Resolves with the TLS connection once it finishes, or undefined if it
   * does not (not TLS, too slow, over a limit, shutdown): `conn` is closed then.
   */
  start(conn: Deno.Conn, port: string): Promise<TlsSocketConn | undefined> {
    const remoteAddr = conn.remoteAddr as Deno.NetAddr;
    const ip = canonicalIp(remoteAddr.hostname);
    const admitted = this.#stopped ? "all" : this.#options.limits.admit(ip);
    if (admitted === "all" || admitted === "address") {
      this.#options.failed("refused");
      this.#options.log.debug("tls handshake refused", { port, ip, over: admitted });
      conn.close();
      return Promise.resolve(undefined);
    }
    const stream = new ConnStream(conn);
    const secure = new tls.TLSSocket(stream, {
      isServer: true,
      secureContext: this.#context,
    });
    return new Promise((settle) => {
      const handshake: Underway = {
        conn,
        secure,
        ip,
        counted: admitted === "counted",
        timer: setTimeout(() => this.#fail(handshake, port, "timeout"), this.#options.handshakeMs),
        settle,
      };
      this.#underway.add(handshake);
      secure.once("secure", () => {
        if (!this.#end(handshake)) return;
        settle(new TlsSocketConn(secure, stream, conn));
      });
      secure.on("error", (error: Error) => this.#fail(handshake, port, "failed", error));
      secure.once("close", () => this.#fail(handshake, port, "failed"));
    });
  }

  /** Gives up every handshake under way, and refuses new ones: the server is shutting down. */
  stop(): void {
    this.#stopped = true;
    for (const handshake of this.#underway) this.#drop(handshake);
  }

  #fail(handshake: Underway, port: string, reason: TlsHandshakeFailure, error?: Error): void {
    if (!this.#underway.has(handshake)) return;
    this.#options.failed(reason);
    this.#options.log.debug("tls handshake failed", {
      port,
      ip: handshake.ip,
      reason,
      ...(error === undefined ? {} : { error: error.message }),
    });
    this.#drop(handshake);
  }

  /** Ends a handshake that did not finish: its socket, and so its descriptor, is freed now. */
  #drop(handshake: Underway): void {
    if (!this.#end(handshake)) return;
    handshake.secure.destroy();
    try {
      handshake.conn.close();
    } catch {
      // Closed already, through the stream.
    }
    handshake.settle(undefined);
  }

  /** Stops counting a handshake; false if it had ended already. */
  #end(handshake: Underway): boolean {
    if (!this.#underway.delete(handshake)) return false;
    clearTimeout(handshake.timer);
    this.#options.limits.release(handshake.ip, handshake.counted);
    return true;
  }
}
