/**
 * SASL PLAIN on the IRC door, before registration: `AUTHENTICATE PLAIN`,
 * then the payload in base64 chunks of 400 bytes (`+` after a full chunk,
 * or for an empty payload), `authzid\0authcid\0password`. What it comes to
 * is either lines to answer (`AUTHENTICATE +`, 904 to 908) or the account
 * and password to log in with, which the door sends the hub as `LOGIN`.
 * The hub's answer settles the exchange. Neither payload nor password is
 * ever kept past the step that decodes it, nor put in a line or an error.
 *
 * @module
 */
import { nameKey } from "../names.ts";
import type { Answer } from "./irc_answers.ts";

/** The longest chunk of an `AUTHENTICATE` payload. */
export const SASL_CHUNK = 400;
/**
 * The longest payload, in base64: two names of 32 code points and a
 * password of 128, each up to 4 UTF-8 bytes, with room to spare.
 */
export const MAX_SASL_PAYLOAD = 4 * SASL_CHUNK;

/** What one `AUTHENTICATE` comes to. */
export type SaslStep =
  /** Lines to answer (or none: another chunk is awaited). */
  | { readonly kind: "answer"; readonly answer: Answer | undefined }
  /** A complete, well-formed PLAIN payload: log in to `account` with `password`. */
  | { readonly kind: "login"; readonly account: string; readonly password: string };

type State = "idle" | "collecting" | "sent" | "done";

const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const WHITESPACE = /\s/u;

/** One client's SASL exchange. */
export class SaslExchange {
  readonly #server: string;
  #state: State = "idle";
  #payload = "";
  #tried = false;

  constructor(server: string) {
    this.#server = server;
  }

  /** True once a login was sent for this exchange, whatever came of it. */
  get tried(): boolean {
    return this.#tried;
  }

  /** True once a login succeeded. */
  get succeeded(): boolean {
    return this.#state === "done";
  }

  /** The hub answered the login: `loggedIn` tells whether it took. */
  settle(loggedIn: boolean): void {
    if (this.#state === "sent") this.#state = loggedIn ? "done" : "idle";
  }

  /** Registration ends now: a payload still being sent is aborted (906), as the specification asks. */
  end(): Answer | undefined {
    if (this.#state !== "collecting") return undefined;
    this.#reset();
    return this.#numeric("906", ":SASL authentication aborted");
  }

  /** One `AUTHENTICATE <param>` before registration. */
  step(param: string | undefined): SaslStep {
    if (param === undefined || param === "") {
      return this.#say("461", "AUTHENTICATE :Not enough parameters");
    }
    if (this.#state === "done" || this.#state === "sent") {
      return this.#say("907", ":You have already authenticated using SASL");
    }
    if (param === "*") {
      this.#reset();
      return this.#say("906", ":SASL authentication aborted");
    }
    if (this.#state === "idle") {
      if (param.toUpperCase() !== "PLAIN") {
        const server = this.#server;
        return {
          kind: "answer",
          answer: (nick) =>
            `:${server} 908 ${nick} PLAIN :are available SASL mechanisms\r\n` +
            `:${server} 904 ${nick} :SASL authentication failed\r\n`,
        };
      }
      this.#state = "collecting";
      return { kind: "answer", answer: () => "AUTHENTICATE +\r\n" };
    }
    if (param.length > SASL_CHUNK) {
      this.#reset();
      return this.#say("905", ":SASL message too long");
    }
    if (param !== "+") this.#payload += param;
    if (this.#payload.length > MAX_SASL_PAYLOAD) return this.#fail();
    if (param.length === SASL_CHUNK) return { kind: "answer", answer: undefined };
    const credentials = plainCredentials(this.#payload);
    this.#payload = "";
    if (credentials === undefined) return this.#fail();
    this.#state = "sent";
    this.#tried = true;
    return { kind: "login", ...credentials };
  }

  #fail(): SaslStep {
    this.#reset();
    return this.#say("904", ":SASL authentication failed");
  }

  #reset(): void {
    this.#state = "idle";
    this.#payload = "";
  }

  #say(code: string, rest: string): SaslStep {
    return { kind: "answer", answer: this.#numeric(code, rest) };
  }

  #numeric(code: string, rest: string): Answer {
    const server = this.#server;
    return (nick) => `:${server} ${code} ${nick} ${rest}\r\n`;
  }
}

/**
 * The answer to `AUTHENTICATE` after registration: 907 where SASL logged
 * the client in, else 904. Made in the hub's turn, once the SASL login (if
 * any) has been answered.
 */
export function saslAfterRegistration(server: string, sasl: SaslExchange | undefined): Answer {
  return (nick) =>
    sasl?.succeeded === true
      ? `:${server} 907 ${nick} :You have already authenticated using SASL\r\n`
      : `:${server} 904 ${nick} :SASL authentication failed\r\n`;
}

/**
 * The account and password of a PLAIN payload in base64; undefined unless
 * it is valid UTF-8 in three parts, the authorization identity empty or
 * the account's own, and neither account nor password empty or spaced
 * (no name or password may hold whitespace, and `LOGIN` splits at it).
 */
export function plainCredentials(
  base64: string,
): { account: string; password: string } | undefined {
  let text: string;
  try {
    const binary = atob(base64);
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    text = strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
  const parts = text.split("\0");
  if (parts.length !== 3) return undefined;
  const [authzid, account, password] = parts as [string, string, string];
  if (account === "" || password === "") return undefined;
  if (WHITESPACE.test(account) || WHITESPACE.test(password)) return undefined;
  if (authzid !== "" && nameKey(authzid) !== nameKey(account)) return undefined;
  return { account, password };
}
