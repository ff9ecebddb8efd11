/**
 * Matching the server's replies to what this client asked. Version 1 has no
 * end to a `WHO` list and no reply to a `DM` that worked, but replies come in
 * the order asked, so the client sends `PING` after `WHO` and after each `DM`:
 * its `PONG` ends the list, or says the DM went through (an
 * `ERR user-not-found` before it says it did not). It sends one after
 * `HISTORY` too: a server older than version 3 ignores the command, so a
 * `PONG` with no `HIST END` before it says there is no history. Pure.
 *
 * @module
 */
import type { AccountRequest } from "./account_prompts.ts";
import type { ChatEvent } from "./format.ts";

/** What a `PING` the client sent stands for. */
export type Awaited =
  /** The keepalive: nothing to show. */
  | { readonly kind: "keepalive" }
  /** The end of a `WHO` list. */
  | { readonly kind: "who" }
  /** The outcome of a `DM`. */
  | { readonly kind: "dm"; readonly to: string; readonly text: string }
  /** The end of a `HISTORY` reply, or the sign that the server keeps none (no `HIST END` before it). */
  | { readonly kind: "history" }
  /** The end of an account command's answer (`OK …` or `ERR …` before it). */
  | { readonly kind: "account"; readonly request: AccountRequest };

/** The `PING`s in flight on one connection, oldest first, and what they end. */
export class Replies {
  readonly #awaited: Awaited[] = [];
  #users: string[] = [];
  /** True when the DM at the head of the queue got `ERR user-not-found`. */
  #dmFailed = false;

  /** A `PING` was sent for `awaited`. */
  sent(awaited: Awaited): void {
    this.#awaited.push(awaited);
  }

  /**
   * True while a `WHO` or `DM` waits for its `PONG`. The client holds the
   * user's later lines until then, so what it shows keeps the order typed.
   */
  get busy(): boolean {
    return this.#awaited.some((a) => a.kind !== "keepalive");
  }

  /** What the next `PONG` ends, if anything is in flight. */
  get head(): Awaited | undefined {
    return this.#awaited[0];
  }

  /** A `USER <name>` line arrived. */
  user(name: string): void {
    this.#users.push(name);
  }

  /** `ERR user-not-found` arrived: the event to show, naming the DM's target when known. */
  userNotFound(): ChatEvent {
    const head = this.#awaited[0];
    if (head?.kind !== "dm") return { kind: "error", code: "user-not-found" };
    this.#dmFailed = true;
    return { kind: "error", code: "user-not-found", target: head.to };
  }

  /** A `PONG` arrived: the event it completes, if any. */
  pong(): ChatEvent | undefined {
    const head = this.#awaited.shift();
    const failed = this.#dmFailed;
    this.#dmFailed = false;
    if (head?.kind === "dm") {
      return failed ? undefined : { kind: "dm-out", to: head.to, text: head.text };
    }
    // USER lines come only from WHO; they are shown at the PONG that follows them.
    if (head?.kind === "who" || this.#users.length > 0) {
      const names = this.#users;
      this.#users = [];
      return { kind: "online", names };
    }
    return undefined;
  }

  /**
   * The connection is gone: forgets what was in flight and returns a warning
   * for each DM whose fate is unknown (the server may have delivered it).
   */
  reset(): ChatEvent[] {
    const unknown = this.#awaited.filter((a) => a.kind === "dm" || a.kind === "account");
    this.#awaited.length = 0;
    this.#users = [];
    this.#dmFailed = false;
    return unknown.map((a) => ({
      kind: "warning",
      text: a.kind === "dm"
        ? `The connection was lost before ${a.to} was known to have your DM; it may not have arrived.`
        : `The connection was lost before the server answered /${a.request.kind}; it may or may not be done.`,
    }));
  }
}
