/** Unit tests of the terminal client's accounts: the login's password, the account commands, their words. */
import { assertEquals } from "@std/assert";
import { AccountLogin, type LoginLink, type SecretAsker } from "../lib/terminal/account_login.ts";
import {
  accountAnswer,
  type AccountRequest,
  askAccount,
  passwordProblem,
  requestLine,
} from "../lib/terminal/account_prompts.ts";
import { parseInput } from "../lib/terminal/commands.ts";
import type { ChatEvent } from "../lib/terminal/format.ts";
import { giveUpMessage, ReconnectPolicy } from "../lib/terminal/reconnect.ts";

/** An asker that records what it is asked and shown; `answer` answers the open question. */
class FakeAsker implements SecretAsker {
  readonly log: string[] = [];
  readonly shown: ChatEvent[] = [];
  canAsk = true;
  #answer: ((secret: string | undefined) => void) | undefined;

  askSecret(label: string, answer: (secret: string | undefined) => void): boolean {
    if (!this.canAsk) return false;
    this.log.push(`ask ${label}`);
    this.#answer = answer;
    return true;
  }

  cancelSecret(): void {
    this.log.push("cancel");
    this.#answer = undefined;
  }

  show(event: ChatEvent): void {
    this.shown.push(event);
  }

  answer(secret: string | undefined): void {
    const answer = this.#answer!;
    this.#answer = undefined;
    answer(secret);
  }
}

/** A link that records what the login sends and says. */
function fakeLink(): { link: LoginLink; log: string[] } {
  const log: string[] = [];
  return {
    log,
    link: {
      send: (line) => log.push(`send ${line}`),
      asking: () => log.push("asking"),
      cancelled: () => log.push("cancelled"),
    },
  };
}

Deno.test("AccountLogin asks for the password on password-required, keeps the right one, and reconnects with it at once", () => {
  const asker = new FakeAsker();
  const login = new AccountLogin("alice", asker, { prompt: true });
  const first = fakeLink();
  login.start(first.link);
  assertEquals(login.error("password-required"), { kind: "continue" });
  assertEquals(asker.log, ["ask Password for alice: "]);
  assertEquals(asker.shown, [{
    kind: "notice",
    text: "alice is an account: type its password (it is not shown).",
  }]);
  asker.answer("wrongpass1");
  assertEquals(login.error("bad-password"), { kind: "continue" });
  assertEquals(asker.shown.at(-1), {
    kind: "warning",
    text: "Wrong password for alice; try again (Ctrl-C leaves).",
  });
  asker.answer("");
  asker.answer("rightpass1");
  login.ok();
  assertEquals(first.log, [
    "send LOGIN alice",
    "asking",
    "send LOGIN alice wrongpass1",
    "asking",
    "asking",
    "send LOGIN alice rightpass1",
  ]);
  assertEquals(login.hasPassword, true);
  const again = fakeLink();
  login.start(again.link);
  login.ok();
  assertEquals(again.log, ["send LOGIN alice rightpass1"]);
});

Deno.test("AccountLogin: a kept password refused later is dropped; throttled on reconnect is a refusal, at first a question", () => {
  const asker = new FakeAsker();
  const login = new AccountLogin("alice", asker, { prompt: true });
  login.start(fakeLink().link);
  login.error("password-required");
  asker.answer("rightpass1");
  login.ok();
  const reconnect = fakeLink();
  login.start(reconnect.link);
  assertEquals(login.error("login-throttled"), { kind: "refused", code: "login-throttled" });
  login.end();
  login.start(reconnect.link);
  assertEquals(login.error("bad-password"), { kind: "continue" });
  assertEquals(login.hasPassword, false);
  assertEquals(login.error("login-throttled"), { kind: "continue" });
  assertEquals(asker.shown.at(-1), {
    kind: "warning",
    text: "Too many failed logins for alice: wait 10 seconds, then type the password.",
  });
  // The connection ends while the question is open: it is withdrawn, and a late answer sends nothing.
  login.end();
  assertEquals(asker.log.at(-1), "cancel");
  assertEquals(reconnect.log.filter((line) => line.startsWith("send")), [
    "send LOGIN alice rightpass1",
    "send LOGIN alice rightpass1",
  ]);
});

Deno.test("AccountLogin: Ctrl-C at the question leaves; an account deleted meanwhile logs in as a guest", () => {
  const asker = new FakeAsker();
  const login = new AccountLogin("alice", asker, { prompt: true });
  const { link, log } = fakeLink();
  login.start(link);
  login.error("password-required");
  asker.answer(undefined);
  assertEquals(log, ["send LOGIN alice", "asking", "cancelled"]);
  login.keep("rightpass1");
  login.end();
  const next = fakeLink();
  login.start(next.link);
  assertEquals(login.error("unknown-account"), { kind: "continue" });
  assertEquals(next.log, ["send LOGIN alice rightpass1", "send LOGIN alice"]);
  assertEquals(asker.shown.at(-1), {
    kind: "notice",
    text: "alice is no longer an account: logging in as a guest.",
  });
  assertEquals(login.hasPassword, false);
  assertEquals(login.error("username-taken"), { kind: "refused", code: "username-taken" });
});

Deno.test("AccountLogin with --password-stdin: tried when asked for, never asked on pipes, said when unused", () => {
  const asker = new FakeAsker();
  const login = new AccountLogin("alice", asker, { prompt: false, password: "givenpass1" });
  const { link, log } = fakeLink();
  login.start(link);
  assertEquals(login.error("password-required"), { kind: "continue" });
  assertEquals(login.error("bad-password"), { kind: "refused", code: "bad-password" });
  assertEquals(log, ["send LOGIN alice", "send LOGIN alice givenpass1"]);
  assertEquals(asker.log, []);

  const guest = new FakeAsker();
  const unused = new AccountLogin("bob", guest, { prompt: false, password: "givenpass1" });
  unused.start(fakeLink().link);
  unused.ok();
  assertEquals(guest.shown, [{
    kind: "notice",
    text: "bob has no account: logged in as a guest, without the password.",
  }]);
  assertEquals(unused.hasPassword, false);

  const piped = new AccountLogin("carol", new FakeAsker(), { prompt: false });
  piped.start(fakeLink().link);
  assertEquals(piped.error("password-required"), { kind: "refused", code: "password-required" });
});

/** Runs `askAccount` for `command`, answering its questions with `answers` in turn. */
function ask(
  command: "register" | "password" | "unregister",
  answers: (string | undefined)[],
): { asked: string[]; shown: ChatEvent[]; done: AccountRequest[] } {
  const asker = new FakeAsker();
  const done: AccountRequest[] = [];
  askAccount(command, asker, (request) => done.push(request));
  for (const answer of answers) asker.answer(answer);
  return { asked: asker.log, shown: asker.shown, done };
}

Deno.test("askAccount asks a new password twice, the current one first for /password, and sends nothing on a mismatch", () => {
  assertEquals(ask("register", ["password1", "password1"]), {
    asked: ["ask New password: ", "ask Same password again: "],
    shown: [],
    done: [{ kind: "register", password: "password1" }],
  });
  assertEquals(ask("password", ["password1", "password2", "password2"]).done, [
    { kind: "password", old: "password1", password: "password2" },
  ]);
  assertEquals(ask("unregister", ["password1"]), {
    asked: ["ask Password (to delete the account): "],
    shown: [],
    done: [{ kind: "unregister", password: "password1" }],
  });
  assertEquals(ask("register", ["password1", "password2"]).shown, [
    { kind: "warning", text: "The two passwords differ; nothing was sent." },
  ]);
  const short = ask("register", ["short"]);
  assertEquals(short.asked, ["ask New password: "]);
  assertEquals(short.shown, [{
    kind: "warning",
    text: "A password is 8 to 128 characters long. Nothing was sent.",
  }]);
  assertEquals(ask("password", [undefined]).shown, [
    { kind: "notice", text: "Cancelled; nothing was sent." },
  ]);
  const asker = new FakeAsker();
  asker.canAsk = false;
  askAccount("register", asker, () => {});
  assertEquals(asker.shown, [{
    kind: "warning",
    text: "This client cannot ask for a password here (no terminal); nothing was sent.",
  }]);
});

Deno.test("passwordProblem follows the protocol: 8 to 128 characters, no whitespace", () => {
  assertEquals(passwordProblem("12345678"), undefined);
  assertEquals(passwordProblem("x".repeat(128)), undefined);
  assertEquals(passwordProblem("ünïcødé!"), undefined);
  assertEquals(passwordProblem("1234567"), "A password is 8 to 128 characters long.");
  assertEquals(passwordProblem("x".repeat(129)), "A password is 8 to 128 characters long.");
  assertEquals(passwordProblem("has space1"), "A password cannot contain spaces.");
  assertEquals(passwordProblem("tab\tinside"), "A password cannot contain spaces.");
});

Deno.test("requestLine and accountAnswer: each command's line, and its answer in words", () => {
  const register: AccountRequest = { kind: "register", password: "password1" };
  const change: AccountRequest = { kind: "password", old: "password1", password: "password2" };
  const remove: AccountRequest = { kind: "unregister", password: "password2" };
  assertEquals(requestLine(register), "REGISTER password1");
  assertEquals(requestLine(change), "PASSWORD password1 password2");
  assertEquals(requestLine(remove), "UNREGISTER password2");
  assertEquals(accountAnswer(register, { kind: "ok", text: "registered" }, "alice"), {
    done: true,
    event: {
      kind: "notice",
      text: "Registered: alice is now your account; its password is asked at each login.",
    },
  });
  assertEquals(
    accountAnswer(change, { kind: "ok", text: "password-changed" }, "alice")?.done,
    true,
  );
  assertEquals(accountAnswer(remove, { kind: "ok", text: "unregistered" }, "alice")?.event, {
    kind: "notice",
    text: "The account alice is deleted; you stay here as a guest under the same name.",
  });
  assertEquals(accountAnswer(remove, { kind: "err", code: "bad-password" }, "alice"), {
    done: false,
    event: { kind: "warning", text: "Wrong password; the account is not deleted." },
  });
  assertEquals(
    accountAnswer(register, { kind: "err", code: "accounts-off" }, "alice")?.event,
    { kind: "warning", text: "This server keeps no accounts; alice is not registered." },
  );
  assertEquals(
    accountAnswer(change, { kind: "err", code: "account-required" }, "alice")?.event,
    {
      kind: "warning",
      text:
        "alice is not an account (a guest name); /register makes it one; the password is unchanged.",
    },
  );
  // Not its answer: another command's ERR, a plain OK, or another command's OK.
  assertEquals(accountAnswer(register, { kind: "err", code: "line-too-long" }, "alice"), undefined);
  assertEquals(accountAnswer(register, { kind: "ok", text: "" }, "alice"), undefined);
  assertEquals(accountAnswer(register, { kind: "ok", text: "unregistered" }, "alice"), undefined);
});

Deno.test("parseInput: /register, /password and /unregister take nothing after them, and never echo it", () => {
  assertEquals(parseInput("/register"), { kind: "account", command: "register" });
  assertEquals(parseInput("/PASSWORD "), { kind: "account", command: "password" });
  assertEquals(parseInput("/unregister"), { kind: "account", command: "unregister" });
  assertEquals(parseInput("/register hunter22secret"), {
    kind: "misuse",
    text: "Usage: /register, alone; the client then asks for the password. Nothing was sent.",
  });
});

Deno.test("ReconnectPolicy never comes back after a session-replaced, and says why", () => {
  const policy = new ReconnectPolicy(() => 0.5);
  policy.online();
  assertEquals(policy.after({ kind: "replaced" }, 0), { kind: "give-up" });
  assertEquals(policy.after({ kind: "lost", wasOnline: true, why: undefined }, 0).kind, "retry");
  assertEquals(
    giveUpMessage({ kind: "replaced" }, "alice", "h:1"),
    "Another session logged in to the account alice with its password, so this one was closed. " +
      "Not reconnecting: that would take the name back from it.",
  );
  assertEquals(
    giveUpMessage({ kind: "refused", code: "password-required" }, "alice", "h:1"),
    "Cannot log in as alice: That name is an account: its password is needed. " +
      "Over pipes, give it with --password-stdin.",
  );
});
