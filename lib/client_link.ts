/**
 * The hub's view of one client, whatever door it came in by: a way to send
 * it bytes and a way to end it. Its own module so that the hub, the cluster
 * seam and every transport can name it without importing each other.
 *
 * @module
 */
import type { CloseReason } from "./protocol.ts";
import type { Ident, Wire } from "./wire.ts";

/** What the hub knows of a client: a way to send it bytes and a way to end it. */
export interface ClientLink {
  /** Where the client is, for logs (`host:port`). */
  readonly remote: string;
  /** The client's address alone, canonical (IPv4-mapped IPv6 as IPv4), for per-address limits. */
  readonly ip: string;
  /**
   * How this client's door encodes what the hub sends. A door may change it
   * (IRC's `CAP REQ`), only ever in the hub's turn, so that no line is
   * encoded for the old one after the client was told of the new.
   */
  wire: Wire;
  /** What an IRC client said of itself (`USER`), set by its door before it logs in; undefined elsewhere. */
  ident?: Ident | undefined;
  /** Queues bytes for the client; false when its outbound budget would be passed (nothing queued). */
  send(bytes: Uint8Array): boolean;
  /**
   * Nudges a client silent for half the idle timeout, if its door has a way
   * (a WebSocket ping, an IRC `PING`): one that only reads answers, and stays.
   */
  keepalive(): void;
  /** Ends the connection, saying why. Idempotent; the hub never hears back about it. */
  close(reason: CloseReason): void;
}
