/**
 * What the server listens on: its listeners, what each is for, and the
 * small socket settings every accepted connection gets.
 *
 * @module
 */
import type { ClientSocket } from "./connection.ts";
import type { TlsHandshakes } from "./tls_handshakes.ts";
import type { Stats } from "./stats.ts";

/** What the server needs of a listener: plain TCP, TLS, or a test's wrapper. */
export interface ConnListener {
  readonly addr: Deno.Addr;
  accept(): Promise<Deno.Conn>;
  close(): void;
}

/** What a listener is for: the chat (plain or TLS) or the web. */
export type ListenerRole = "chat" | "tls" | "web" | "irc" | "irc-tls";

/** A listener and the door its connections come in by. */
export interface Entrance {
  readonly role: ListenerRole;
  readonly listener: ConnListener;
  /** True for a TLS port: its connections go through a handshake first. */
  readonly secure: boolean;
}

/** What `ChatServer.listen` opened, for the server it makes. */
export interface Listening {
  readonly entrances: Entrance[];
  /** The TLS ports' handshakes, when TLS is on. */
  readonly handshakes: TlsHandshakes | undefined;
  /** True for addresses exempt from the per-address limit. */
  readonly exempt: (ip: string) => boolean;
  /** The counters, shared with the TLS handshakes, which are made before the server. */
  readonly stats: Stats;
}

/** Sends each write at once: chat lines are small and should not wait for more. */
export function setNoDelay(conn: ClientSocket): void {
  if (!("setNoDelay" in conn)) return;
  try {
    (conn as Deno.TcpConn).setNoDelay(true);
  } catch {
    // The peer is already gone; the read loop will see it.
  }
}

/** The room between idle checks: at most 10 s, and a quarter of the timeout. */
export function idleCheckIntervalMs(idleTimeoutSeconds: number): number {
  return Math.min(10_000, (idleTimeoutSeconds * 1000) / 4);
}
