/**
 * Logging in to an account: the password kept for reconnects, the `LOGIN`
 * line each connection starts with, and what an `ERR` to it means: ask the
 * user (again), log in as a guest, or give up. The password lives in this
 * object's memory only: it is never shown, logged or written anywhere.
 *
 * @module
 */
import type { ChatEvent } from "./format.ts";

/** Asking the user for a password, without showing what is typed. */
export interface SecretAsker {
  /**
   * Asks with `label`; `answer` gets what was typed, or undefined when the
   * user cancelled (Ctrl-C, Ctrl-D, end of input). False when this view cannot
   * ask without echoing, and then `answer` is never called.
   */
  askSecret(label: string, answer: (secret: string | undefined) => void): boolean;
  /** Withdraws the question being asked, if any; its `answer` is not called. */
  cancelSecret(): void;
  /** Shows one event. */
  show(event: ChatEvent): void;
}

/** What a login needs from the connection it runs on. */
export interface LoginLink {
  /** Sends a `LOGIN` line; the server's answer is then awaited (under the login timeout). */
  send(line: string): void;
  /** The user is being asked: no answer from the server is awaited until the next {@linkcode send}. */
  asking(): void;
  /** The user cancelled the password prompt: the client leaves. */
  cancelled(): void;
}

/** After an `ERR` to a login: keep going (a prompt or another `LOGIN` is under way), or stop with that code. */
export type LoginStep =
  | { readonly kind: "continue" }
  | { readonly kind: "refused"; readonly code: string };

const CONTINUE: LoginStep = { kind: "continue" };

/** How an {@linkcode AccountLogin} starts. */
export interface AccountLoginOptions {
  /** A password given up front (`--password-stdin`), tried when the server asks for one. */
  readonly password?: string | undefined;
  /** Whether the user may be asked for the password at login (a terminal; not pipes). */
  readonly prompt: boolean;
}

/** The login to one name's account, across the client's connections. */
export class AccountLogin {
  readonly #name: string;
  readonly #asker: SecretAsker;
  readonly #prompt: boolean;
  /** The password kept for reconnects (or given up front and not yet known to be right). */
  #password: string | undefined;
  /** True once `#password` opened the account (or registered it). */
  #account = false;
  /** The password in the `LOGIN` awaiting its answer. */
  #trying: string | undefined;
  /** The connection the login runs on; undefined between connections. */
  #link: LoginLink | undefined;
  /** The password given up front was not needed: said once. */
  #unusedSaid = false;

  /** The login of `name`, asking through `asker`. */
  constructor(name: string, asker: SecretAsker, options: AccountLoginOptions) {
    this.#name = name;
    this.#asker = asker;
    this.#prompt = options.prompt;
    this.#password = options.password;
  }

  /** True while a password is kept: the client logs in with it on reconnect. */
  get hasPassword(): boolean {
    return this.#account && this.#password !== undefined;
  }

  /**
   * A connection is open: sends its `LOGIN`, with the kept password at once
   * when the name is known to be an account (a reconnect), else the name alone.
   */
  start(link: LoginLink): void {
    this.#link = link;
    if (this.hasPassword) {
      this.#try(this.#password!);
    } else {
      this.#trying = undefined;
      link.send(`LOGIN ${this.#name}`);
    }
  }

  /** The login succeeded: the password it used, if any, is kept for reconnects. */
  ok(): void {
    if (this.#trying !== undefined) {
      this.#password = this.#trying;
      this.#account = true;
    } else if (this.#password !== undefined && !this.#account && !this.#unusedSaid) {
      this.#unusedSaid = true;
      this.#asker.show({
        kind: "notice",
        text: `${this.#name} has no account: logged in as a guest, without the password.`,
      });
    }
    this.#trying = undefined;
    this.#link = undefined;
  }

  /** The server refused the login with `ERR <code>`. */
  error(code: string): LoginStep {
    const tried = this.#trying;
    this.#trying = undefined;
    switch (code) {
      case "password-required":
        if (this.#password !== undefined) {
          this.#try(this.#password);
          return CONTINUE;
        }
        return this.#ask(code, {
          kind: "notice",
          text: `${this.#name} is an account: type its password (it is not shown).`,
        });
      case "bad-password":
        // A kept password that no longer opens the account (changed elsewhere) is dropped.
        if (tried === this.#password) this.#forget();
        return this.#ask(code, {
          kind: "warning",
          text: `Wrong password for ${this.#name}; try again (Ctrl-C leaves).`,
        });
      case "login-throttled":
        // A reconnect with a kept password waits and retries; a person is told to wait.
        if (this.hasPassword && tried === this.#password) return { kind: "refused", code };
        return this.#ask(code, {
          kind: "warning",
          text:
            `Too many failed logins for ${this.#name}: wait 10 seconds, then type the password.`,
        });
      case "unknown-account":
        // The account was deleted meanwhile: the name is free for a guest again.
        this.#forget();
        this.#asker.show({
          kind: "notice",
          text: `${this.#name} is no longer an account: logging in as a guest.`,
        });
        this.#link?.send(`LOGIN ${this.#name}`);
        return CONTINUE;
      default:
        return { kind: "refused", code };
    }
  }

  /** The connection ended: a question still open is withdrawn. */
  end(): void {
    if (this.#link === undefined) return;
    this.#link = undefined;
    this.#trying = undefined;
    this.#asker.cancelSecret();
  }

  /** The account now opens with `password` (registered, or its password changed). */
  keep(password: string): void {
    this.#password = password;
    this.#account = true;
  }

  /** The name is no longer an account (unregistered): reconnects log in as a guest. */
  forget(): void {
    this.#forget();
  }

  #forget(): void {
    this.#password = undefined;
    this.#account = false;
  }

  #try(password: string): void {
    this.#trying = password;
    this.#link?.send(`LOGIN ${this.#name} ${password}`);
  }

  /** Shows `why` and asks for the password; refused with `code` where nobody can be asked. */
  #ask(code: string, why: ChatEvent): LoginStep {
    const link = this.#link;
    if (!this.#prompt || link === undefined) return { kind: "refused", code };
    const asked = this.#asker.askSecret(`Password for ${this.#name}: `, (secret) => {
      if (this.#link !== link) return;
      if (secret === undefined) link.cancelled();
      // An empty line is not a try: the question stays.
      else if (secret === "") this.#ask(code, why);
      else this.#try(secret);
    });
    if (!asked) return { kind: "refused", code };
    this.#asker.show(why);
    link.asking();
    return CONTINUE;
  }
}
