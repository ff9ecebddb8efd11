/** A departure's words as IRC users read them, and the cleaning of what a user says as it goes. */
import { assertEquals } from "@std/assert";
import { cleanReason, departureWords, MAX_REASON_CHARS } from "../lib/departure.ts";
import { cleanIdent } from "../lib/irc/irc_text.ts";

Deno.test("departureWords: Quit: <reason> for a QUIT with one, ircds' words for the rest", () => {
  assertEquals(departureWords("quit"), "Quit");
  assertEquals(departureWords("quit", ""), "Quit");
  assertEquals(departureWords("quit", "see you"), "Quit: see you");
  // Only a QUIT says what its user said.
  assertEquals(departureWords("idle", "ignored"), "Ping timeout");
  assertEquals(departureWords("slow-consumer"), "SendQ exceeded");
  assertEquals(departureWords("excess-flood"), "Excess Flood");
  assertEquals(departureWords("eof"), "Remote host closed the connection");
  assertEquals(departureWords("reset"), "Connection reset by peer");
  assertEquals(departureWords("session-replaced"), "Session replaced");
  assertEquals(departureWords("name-conflict"), "Nick collision");
  assertEquals(departureWords("shutdown"), "Server shutting down");
});

Deno.test("cleanReason replaces control characters, trims, cuts, and makes nothing of blanks", () => {
  assertEquals(cleanReason(undefined), undefined);
  assertEquals(cleanReason(""), undefined);
  assertEquals(cleanReason("   "), undefined);
  assertEquals(cleanReason(" a\x00b\r\nc "), "a\uFFFDb\uFFFD\uFFFDc");
  assertEquals(cleanReason("😀".repeat(400)), "😀".repeat(MAX_REASON_CHARS));
});

Deno.test("cleanIdent keeps a username of printable ASCII but @ ! :, cut to 10; the real name cleaned and cut", () => {
  assertEquals(cleanIdent("bob", "Bob B"), { user: "bob", realname: "Bob B" });
  assertEquals(cleanIdent("~a@b!c:d e\x01fghijklmn", " Ann\x07 "), {
    user: "~abcdefghi",
    realname: "Ann\uFFFD",
  });
  assertEquals(cleanIdent("Zoë", "Zoë"), { user: "Zo", realname: "Zoë" });
  assertEquals(cleanIdent("@@", "x".repeat(200)).realname.length, 150);
  assertEquals(cleanIdent("@@", "").user, "");
});
