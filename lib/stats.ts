/**
 * Counters for `/metrics`: plain numbers that the hub and the connections
 * increment in place, so counting costs an add and never an allocation.
 *
 * @module
 */
import type { CloseReason, Command } from "./protocol.ts";

/** Command kinds, as counted: every complete line is exactly one of these. */
export type CommandKind = Command["kind"];

/**
 * Why a TLS handshake did not finish: `timeout`, not within its deadline;
 * `refused`, hung up on at once because too many were under way (in all or
 * from its address); `failed`, not TLS, or the peer left.
 */
export type TlsHandshakeFailure = "timeout" | "refused" | "failed";

/** Everything counted since the server started. */
export class Stats {
  /** Complete lines received, by the command they carried. */
  readonly linesReceived: Record<CommandKind, number> = {
    login: 0,
    msg: 0,
    who: 0,
    dm: 0,
    ping: 0,
    quit: 0,
    watch: 0,
    join: 0,
    part: 0,
    answered: 0,
    history: 0,
    register: 0,
    password: 0,
    unregister: 0,
    ignored: 0,
  };
  /** Connections ended, by why. */
  readonly disconnects: Record<CloseReason, number> = {
    quit: 0,
    eof: 0,
    reset: 0,
    idle: 0,
    "slow-consumer": 0,
    shutdown: 0,
    "server-full": 0,
    "too-many-connections": 0,
    "excess-flood": 0,
    "name-conflict": 0,
    "session-replaced": 0,
    "protocol-error": 0,
    served: 0,
    error: 0,
  };
  /** Server lines handed to outboxes (a `WHO` reply counts one per user). */
  linesDelivered = 0;
  /** Times a client's reading was paused because it passed `--rate`. */
  throttled = 0;
  /** Lines that passed `--max-line-bytes`. */
  linesTooLong = 0;
  /** Bytes read from clients. */
  bytesIn = 0;
  /** Bytes the kernel took for clients. */
  bytesOut = 0;
  /** Connections accepted, refused ones included (TLS ones once their handshake has finished). */
  connectionsAccepted = 0;
  /** TLS handshakes that did not finish, by why. */
  readonly tlsHandshakesFailed: Record<TlsHandshakeFailure, number> = {
    timeout: 0,
    refused: 0,
    failed: 0,
  };
}
