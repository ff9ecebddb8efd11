/** SASL PLAIN's exchange on the IRC door, pure: chunks, aborts, every failure's numeric. */
import { assertEquals } from "@std/assert";
import {
  MAX_SASL_PAYLOAD,
  plainCredentials,
  SASL_CHUNK,
  SaslExchange,
  type SaslStep,
} from "../lib/irc/irc_sasl.ts";

const encoder = new TextEncoder();

function base64(text: string): string {
  return btoa(String.fromCharCode(...encoder.encode(text)));
}

/** The lines of a step's answer for the nick `*`, or the login it asks for. */
function said(step: SaslStep): string | { account: string; password: string } {
  if (step.kind === "login") return { account: step.account, password: step.password };
  return step.answer === undefined ? "" : step.answer("*", false);
}

Deno.test("plainCredentials: three parts, authzid empty or the account's, nothing empty or spaced", () => {
  const ok = { account: "alice", password: "password1" };
  assertEquals(plainCredentials(base64("\0alice\0password1")), ok);
  assertEquals(plainCredentials(base64("Alice\0alice\0password1")), ok);
  assertEquals(plainCredentials(base64("\0Zoë\0pässwörd1")), {
    account: "Zoë",
    password: "pässwörd1",
  });
  assertEquals(plainCredentials(base64("bob\0alice\0password1")), undefined);
  assertEquals(plainCredentials(base64("\0alice\0")), undefined);
  assertEquals(plainCredentials(base64("\0\0password1")), undefined);
  assertEquals(plainCredentials(base64("\0alice\0pass word1")), undefined);
  assertEquals(plainCredentials(base64("\0al ice\0password1")), undefined);
  assertEquals(plainCredentials(base64("alice\0password1")), undefined);
  assertEquals(plainCredentials(base64("\0alice\0password1\0x")), undefined);
  assertEquals(plainCredentials("not base64!"), undefined);
  assertEquals(plainCredentials(btoa("\0alice\0\xff\xfe")), undefined);
  assertEquals(plainCredentials(""), undefined);
});

Deno.test("SaslExchange: PLAIN, one chunk, then the login; 907 until it is settled as failed", () => {
  const sasl = new SaslExchange("chat");
  assertEquals(said(sasl.step("PLAIN")), "AUTHENTICATE +\r\n");
  assertEquals(sasl.tried, false);
  assertEquals(said(sasl.step(base64("\0alice\0password1"))), {
    account: "alice",
    password: "password1",
  });
  assertEquals(sasl.tried, true);
  const already = ":chat 907 * :You have already authenticated using SASL\r\n";
  assertEquals(said(sasl.step("PLAIN")), already);
  sasl.settle(false);
  assertEquals(sasl.succeeded, false);
  assertEquals(said(sasl.step("plain")), "AUTHENTICATE +\r\n");
  said(sasl.step(base64("\0alice\0password2")));
  sasl.settle(true);
  assertEquals(sasl.succeeded, true);
  assertEquals(said(sasl.step("*")), already);
});

Deno.test("SaslExchange: 400-byte chunks, + after a full one, 905 for a longer one, 904 past the bound", () => {
  const sasl = new SaslExchange("chat");
  // A payload of exactly 400 base64 bytes: 300 bytes, a password of 292.
  const password = "p".repeat(300 - 8);
  const payload = base64(`\0alice1\0${password}`);
  assertEquals(payload.length, SASL_CHUNK);
  sasl.step("PLAIN");
  assertEquals(said(sasl.step(payload)), "");
  assertEquals(said(sasl.step("+")), { account: "alice1", password });
  sasl.settle(false);
  // Split over two chunks: the second shorter ends it.
  const long = base64(`\0alice1\0${"q".repeat(400)}`);
  sasl.step("PLAIN");
  assertEquals(said(sasl.step(long.slice(0, 400))), "");
  assertEquals(said(sasl.step(long.slice(400))), { account: "alice1", password: "q".repeat(400) });
  sasl.settle(false);
  sasl.step("PLAIN");
  assertEquals(said(sasl.step("x".repeat(401))), ":chat 905 * :SASL message too long\r\n");
  sasl.step("PLAIN");
  const failed = ":chat 904 * :SASL authentication failed\r\n";
  let last = "";
  for (let sent = 0; sent <= MAX_SASL_PAYLOAD; sent += SASL_CHUNK) {
    last = said(sasl.step("A".repeat(SASL_CHUNK))) as string;
  }
  assertEquals(last, failed);
  // An empty payload, and a malformed one, fail; a mechanism other than PLAIN gets 908 then 904.
  sasl.step("PLAIN");
  assertEquals(said(sasl.step("+")), failed);
  sasl.step("PLAIN");
  assertEquals(said(sasl.step(base64("alice\0password1"))), failed);
  assertEquals(
    said(sasl.step("EXTERNAL")),
    ":chat 908 * PLAIN :are available SASL mechanisms\r\n" + failed,
  );
  assertEquals(sasl.tried, true);
});

Deno.test("SaslExchange: * aborts (906), as registration does mid-payload; 461 for nothing", () => {
  const sasl = new SaslExchange("chat");
  assertEquals(said(sasl.step("")), ":chat 461 * AUTHENTICATE :Not enough parameters\r\n");
  assertEquals(said(sasl.step("*")), ":chat 906 * :SASL authentication aborted\r\n");
  assertEquals(sasl.end(), undefined);
  sasl.step("PLAIN");
  assertEquals(sasl.end()?.("*", false), ":chat 906 * :SASL authentication aborted\r\n");
  assertEquals(said(sasl.step("PLAIN")), "AUTHENTICATE +\r\n");
  sasl.step(base64("\0a"));
  assertEquals(sasl.tried, false);
});
