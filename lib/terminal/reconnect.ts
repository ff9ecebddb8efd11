/**
 * When to try again after a connection fails or a login is refused, and when
 * to give up. Pure: the clock and the randomness are passed in.
 *
 * @module
 */
import { describeError } from "./format.ts";

/** The first wait before reconnecting. */
export const FIRST_DELAY_MS = 500;

/** The longest wait between two attempts. */
export const MAX_DELAY_MS = 15_000;

/**
 * How long a reconnecting client keeps trying while its name is still taken.
 * The server gives the old session up when it sees the connection close, or,
 * if the close never reached it, at its idle timeout: 60 s by default, checked
 * up to 1.25 × that later. 90 s covers that with room to spare.
 */
export const TAKEN_PATIENCE_MS = 90_000;

/** How long a login refused with `ERR cluster-unavailable` is retried (Redis coming back). */
export const CLUSTER_PATIENCE_MS = 60_000;

/**
 * The wait before attempt number `attempt` (0 for the first retry): 0.5 s
 * doubling up to 15 s, each spread by ±25 % so that clients cut off together
 * do not all come back in the same instant.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(attempt, 30));
  return Math.min(MAX_DELAY_MS, Math.round(base * (0.75 + random() * 0.5)));
}

/** What to do next. */
export type Decision =
  | { readonly kind: "retry"; readonly delayMs: number }
  | { readonly kind: "give-up" };

/**
 * The reconnection state of one client. Before its first successful login
 * every failure is final: a wrong host, port or name is better said at once
 * than retried. After it, the client comes back on its own.
 */
export class ReconnectPolicy {
  readonly #random: () => number;
  #attempt = 0;
  #everOnline = false;
  /** When the current run of refusals (name taken, cluster away) began. */
  #refusedSince: number | undefined;

  /** A policy drawing its jitter from `random`. */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** True once a login has succeeded. */
  get everOnline(): boolean {
    return this.#everOnline;
  }

  /** A login succeeded: the next failure starts from the shortest wait again. */
  online(): void {
    this.#everOnline = true;
    this.#attempt = 0;
    this.#refusedSince = undefined;
  }

  /** A connection could not be made, or closed before the login was answered. */
  failed(): Decision {
    return this.#everOnline ? this.#retry() : { kind: "give-up" };
  }

  /** The server refused the login with `ERR <code>` at time `now` (ms). */
  refused(code: string, now: number): Decision {
    if (code === "invalid-username") return { kind: "give-up" };
    const patience = code === "cluster-unavailable"
      ? CLUSTER_PATIENCE_MS
      // A name is given up by the old session only if there was one: on a first login it is someone else's.
      : code === "username-taken" && this.#everOnline
      ? TAKEN_PATIENCE_MS
      : undefined;
    if (patience === undefined) return this.failed();
    this.#refusedSince ??= now;
    return now - this.#refusedSince < patience ? this.#retry() : { kind: "give-up" };
  }

  /** What to do after a connection ended as `end` at time `now` (ms): a replaced session never comes back. */
  after(end: SessionEnd, now: number): Decision {
    if (end.kind === "refused") return this.refused(end.code, now);
    return end.kind === "replaced" ? { kind: "give-up" } : this.failed();
  }

  #retry(): Decision {
    return { kind: "retry", delayMs: backoffDelay(this.#attempt++, this.#random) };
  }
}

/** How one connection ended. */
export type SessionEnd =
  /** The login was refused with `ERR <code>`. */
  | { readonly kind: "refused"; readonly code: string }
  /** The connection closed; `why` when the client knows. */
  | { readonly kind: "lost"; readonly wasOnline: boolean; readonly why: string | undefined }
  /** Another session took the account (`ERR session-replaced`): never fought back. */
  | { readonly kind: "replaced" };

/** The last words when the client gives up after `end`, logged in (or trying to) as `name` at `where`. */
export function giveUpMessage(end: SessionEnd, name: string, where: string): string {
  switch (end.kind) {
    case "lost":
      return end.why ?? `The server at ${where} closed the connection.`;
    case "replaced":
      return `Another session logged in to the account ${name} with its password, ` +
        "so this one was closed. Not reconnecting: that would take the name back from it.";
    case "refused": {
      const hint = end.code === "username-taken" || end.code === "invalid-username"
        ? " Choose another with --name."
        : end.code === "password-required"
        ? " Over pipes, give it with --password-stdin."
        : "";
      return `Cannot log in as ${name}: ${describeError(end.code)}${hint}`;
    }
  }
}

/** Why the client is about to try again after `end`, without a final full stop. */
export function retryReason(end: SessionEnd, name: string): string {
  const words = end.kind === "refused" && end.code === "username-taken"
    ? `The name ${name} is still taken (the old connection may not be given up yet)`
    : end.kind === "refused"
    ? describeError(end.code)
    : end.kind === "lost" && end.wasOnline
    ? (end.why ?? "Connection lost")
    : end.kind === "lost"
    ? (end.why ?? "The server closed the connection")
    : "Replaced";
  return words.replace(/\.$/, "");
}
