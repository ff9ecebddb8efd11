/**
 * `/register`, `/password` and `/unregister`: the passwords they ask for
 * (never shown), the line each sends, and its answer in words. Pure apart
 * from the asking, which goes through a {@linkcode SecretAsker}.
 *
 * @module
 */
import type { SecretAsker } from "./account_login.ts";
import type { ChatEvent } from "./format.ts";

/** A slash command about the account. */
export type AccountCommand = "register" | "password" | "unregister";

/** An account command with its passwords, ready to send. */
export type AccountRequest =
  | { readonly kind: "register"; readonly password: string }
  | { readonly kind: "password"; readonly old: string; readonly password: string }
  | { readonly kind: "unregister"; readonly password: string };

/** The protocol's bounds on a password (it also has no whitespace). */
export const PASSWORD_MIN = 8;
/** The longest password the server takes. */
export const PASSWORD_MAX = 128;

/** Why the server would refuse `password` as weak, in words; undefined when it would take it. */
export function passwordProblem(password: string): string | undefined {
  if (/\s/.test(password)) return "A password cannot contain spaces.";
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    return `A password is ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long.`;
  }
  return undefined;
}

const NOT_SENT = "nothing was sent.";

/**
 * Asks for what `command` needs, one question at a time (a new password
 * twice), then hands the request to `done`; a cancel, a mismatch or a
 * password the server would refuse is said instead, and nothing is sent.
 */
export function askAccount(
  command: AccountCommand,
  asker: SecretAsker,
  done: (request: AccountRequest) => void,
): void {
  const say = (text: string) => asker.show({ kind: "warning", text });
  const ask = (label: string, then: (secret: string) => void) => {
    const asked = asker.askSecret(label, (secret) => {
      if (secret === undefined) asker.show({ kind: "notice", text: `Cancelled; ${NOT_SENT}` });
      else then(secret);
    });
    if (!asked) say(`This client cannot ask for a password here (no terminal); ${NOT_SENT}`);
  };
  const askNew = (label: string, then: (password: string) => void) =>
    ask(label, (first) => {
      const problem = passwordProblem(first);
      if (problem !== undefined) return say(`${problem} ${capital(NOT_SENT)}`);
      ask("Same password again: ", (second) => {
        if (second !== first) return say(`The two passwords differ; ${NOT_SENT}`);
        then(first);
      });
    });
  switch (command) {
    case "register":
      return askNew("New password: ", (password) => done({ kind: "register", password }));
    case "password":
      return ask(
        "Current password: ",
        (old) => askNew("New password: ", (password) => done({ kind: "password", old, password })),
      );
    case "unregister":
      return ask(
        "Password (to delete the account): ",
        (password) => done({ kind: "unregister", password }),
      );
    default: {
      const unhandled: never = command;
      return unhandled;
    }
  }
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The protocol line that carries `request`. */
export function requestLine(request: AccountRequest): string {
  switch (request.kind) {
    case "register":
      return `REGISTER ${request.password}`;
    case "password":
      return `PASSWORD ${request.old} ${request.password}`;
    case "unregister":
      return `UNREGISTER ${request.password}`;
  }
}

/** The `OK` word that says each request was done. */
const DONE: Readonly<Record<AccountRequest["kind"], string>> = {
  register: "registered",
  password: "password-changed",
  unregister: "unregistered",
};

/** The `ERR` codes that answer an account command (any other `ERR` is about something else). */
export const ACCOUNT_ERRORS: ReadonlySet<string> = new Set([
  "bad-password",
  "weak-password",
  "already-registered",
  "accounts-off",
  "account-required",
  "login-required",
  "login-throttled",
]);

/** The answer to `request`: `OK <word>` or one of {@linkcode ACCOUNT_ERRORS}. */
export type AccountReply =
  | { readonly kind: "ok"; readonly text: string }
  | { readonly kind: "err"; readonly code: string };

/**
 * What `reply` means for `request`: the event to show and whether it was
 * done; undefined when the line is not its answer.
 */
export function accountAnswer(
  request: AccountRequest,
  reply: AccountReply,
  name: string,
): { readonly done: boolean; readonly event: ChatEvent } | undefined {
  if (reply.kind === "ok") {
    if (reply.text !== DONE[request.kind]) return undefined;
    const text = request.kind === "register"
      ? `Registered: ${name} is now your account; its password is asked at each login.`
      : request.kind === "password"
      ? "Password changed."
      : `The account ${name} is deleted; you stay here as a guest under the same name.`;
    return { done: true, event: { kind: "notice", text } };
  }
  if (!ACCOUNT_ERRORS.has(reply.code)) return undefined;
  const unchanged = request.kind === "unregister"
    ? "the account is not deleted"
    : request.kind === "password"
    ? "the password is unchanged"
    : `${name} is not registered`;
  const why = reply.code === "bad-password"
    ? "Wrong password"
    : reply.code === "weak-password"
    ? `The server refused that password as weak (${PASSWORD_MIN} to ${PASSWORD_MAX} characters, no spaces)`
    : reply.code === "already-registered"
    ? `${name} is already an account`
    : reply.code === "accounts-off"
    ? "This server keeps no accounts"
    : reply.code === "account-required"
    ? `${name} is not an account (a guest name); /register makes it one`
    : reply.code === "login-throttled"
    ? "Too many wrong passwords: wait 10 seconds and try again"
    : "Not logged in";
  return { done: false, event: { kind: "warning", text: `${why}; ${unchanged}.` } };
}
