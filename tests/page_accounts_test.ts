/**
 * The pure parts of the page's accounts, as the browser loads them: when a
 * password gets the plain-HTTP warning, and the password rule checked before
 * sending (the same as the server's `passwordProblem`).
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { passwordProblem } from "../lib/accounts/password_hash.ts";
import { followsPasswordRule, warnsBeforePassword } from "../lib/web/page/password_safety.js";

Deno.test("warnsBeforePassword: plain HTTP to any host but this machine's loopback names", () => {
  const cases: [string, string, boolean][] = [
    ["http:", "chat.example.com", true],
    ["http:", "192.168.1.20", true],
    ["http:", "127.0.0.2", true],
    ["http:", "[::2]", true],
    ["http:", "localhost.example.com", true],
    ["http:", "localhost", false],
    ["http:", "LOCALHOST", false],
    ["http:", "127.0.0.1", false],
    ["http:", "[::1]", false],
    ["https:", "chat.example.com", false],
    ["https:", "192.168.1.20", false],
  ];
  for (const [protocol, hostname, warns] of cases) {
    assertEquals(warnsBeforePassword(protocol, hostname), warns, `${protocol}//${hostname}`);
  }
});

Deno.test("followsPasswordRule agrees with the server's passwordProblem", () => {
  const passwords = [
    "",
    "1234567",
    "12345678",
    "x".repeat(128),
    "x".repeat(129),
    "😀".repeat(8),
    "😀".repeat(7),
    "has space1",
    "tab\there1",
    "nbsp\u00a0here1",
    "lone\ud800xxxx",
    "pässwörd",
  ];
  for (const password of passwords) {
    assertEquals(
      followsPasswordRule(password),
      passwordProblem(password) === undefined,
      JSON.stringify(password),
    );
  }
  assertEquals(passwords.filter(followsPasswordRule).length, 4);
});
