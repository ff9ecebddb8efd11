/** IRCv3 capabilities and tags, pure: what CAP REQ gives, the tags a line carries, the size bounds. */
import { assertEquals } from "@std/assert";
import {
  ACCOUNT_TAG,
  ALL_CAPS,
  BATCH,
  capabilityNames,
  CHATHISTORY,
  ECHO_MESSAGE,
  fitsIrcBounds,
  MESSAGE_TAGS,
  offered,
  requestCaps,
  SASL,
  SERVER_TIME,
  tagsOf,
} from "../lib/irc/irc_caps.ts";

const ALL = SERVER_TIME | MESSAGE_TAGS | BATCH | ECHO_MESSAGE | CHATHISTORY;

Deno.test("CAP LS offers five capabilities; CAP LIST names those a set holds, in that order", () => {
  const five = "server-time message-tags batch echo-message draft/chathistory";
  assertEquals(offered(ALL, true), five);
  assertEquals(offered(ALL, false), five);
  assertEquals(capabilityNames(0), "");
  assertEquals(capabilityNames(ALL), five);
  assertEquals(capabilityNames(CHATHISTORY | SERVER_TIME), "server-time draft/chathistory");
});

Deno.test("with accounts on, CAP LS offers sasl (=PLAIN for 302) and account-tag, last", () => {
  const five = "server-time message-tags batch echo-message draft/chathistory";
  assertEquals(offered(ALL_CAPS, true), `${five} sasl=PLAIN account-tag`);
  assertEquals(offered(ALL_CAPS, false), `${five} sasl account-tag`);
  assertEquals(capabilityNames(SASL | ACCOUNT_TAG), "sasl account-tag");
  assertEquals(requestCaps(0, "sasl account-tag"), SASL | ACCOUNT_TAG);
  // Not offered where accounts are off: refused whole.
  assertEquals(requestCaps(0, "server-time sasl", ALL), undefined);
  assertEquals(requestCaps(0, "account-tag", ALL), undefined);
  assertEquals(requestCaps(0, "sasl=PLAIN"), undefined);
});

Deno.test("tagsOf: account only with account-tag and a sender that has one, after the others", () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  assertEquals(tagsOf(ACCOUNT_TAG, at, "1-0"), "");
  assertEquals(tagsOf(ACCOUNT_TAG, at, "1-0", undefined, "alice"), "@account=alice ");
  assertEquals(
    tagsOf(ALL, at, "1-0", undefined, "alice"),
    "@time=2026-01-02T03:04:05.006Z;msgid=1-0 ",
  );
  assertEquals(
    tagsOf(ALL | ACCOUNT_TAG, at, "1-0", "7", "alice"),
    "@batch=7;time=2026-01-02T03:04:05.006Z;msgid=1-0;account=alice ",
  );
});

Deno.test("CAP REQ turns names on and -names off, all of them or, for one unknown name, none", () => {
  assertEquals(requestCaps(0, "server-time batch"), SERVER_TIME | BATCH);
  assertEquals(requestCaps(0, "  server-time   batch "), SERVER_TIME | BATCH);
  assertEquals(requestCaps(ALL, "-batch -draft/chathistory"), ALL & ~(BATCH | CHATHISTORY));
  assertEquals(requestCaps(SERVER_TIME, "-echo-message"), SERVER_TIME);
  assertEquals(requestCaps(SERVER_TIME, ""), SERVER_TIME);
  // Names are case-sensitive; values, unknown names and what no server offers are refused whole.
  assertEquals(requestCaps(0, "server-time sasl2"), undefined);
  assertEquals(requestCaps(0, "Server-Time"), undefined);
  assertEquals(requestCaps(0, "server-time=1"), undefined);
  assertEquals(requestCaps(0, "chathistory"), undefined);
  assertEquals(requestCaps(0, "-"), undefined);
});

Deno.test("tagsOf: batch, time and msgid, each only for the capability that asks for it", () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  assertEquals(tagsOf(0, at, "1-0", "b"), "");
  assertEquals(tagsOf(SERVER_TIME, at), "@time=2026-01-02T03:04:05.006Z ");
  assertEquals(tagsOf(MESSAGE_TAGS, at), "");
  assertEquals(tagsOf(MESSAGE_TAGS, at, "1767323045006-3"), "@msgid=1767323045006-3 ");
  assertEquals(tagsOf(BATCH, at, "1-0"), "");
  assertEquals(tagsOf(BATCH, at, "1-0", "7"), "@batch=7 ");
  assertEquals(
    tagsOf(ALL, at, "1767323045006-3", "7"),
    "@batch=7;time=2026-01-02T03:04:05.006Z;msgid=1767323045006-3 ",
  );
});

Deno.test("fitsIrcBounds: tags up to 4094 bytes with their @ and space, then 510 bytes", () => {
  const rest = "PRIVMSG #chat :" + "x".repeat(510 - 15);
  assertEquals(fitsIrcBounds(rest), true);
  assertEquals(fitsIrcBounds(rest + "x"), false);
  // Tags of 4094 bytes in all: `@`, 4092 more, a space.
  const tags = "@+a=" + "v".repeat(4092 - 3) + " ";
  assertEquals(new TextEncoder().encode(tags).length, 4094);
  assertEquals(fitsIrcBounds(tags + rest), true);
  assertEquals(fitsIrcBounds("@+a=v" + tags.slice(4) + rest), false);
  assertEquals(fitsIrcBounds(tags + rest + "x"), false);
  // Spaces after the tags are not the line's; bytes are UTF-8's.
  assertEquals(fitsIrcBounds("@a   " + rest), true);
  assertEquals(fitsIrcBounds("PRIVMSG #chat :" + "é".repeat(247)), true);
  assertEquals(fitsIrcBounds("PRIVMSG #chat :" + "é".repeat(248)), false);
  assertEquals(fitsIrcBounds("PRIVMSG #chat :" + "😀".repeat(123)), true);
  assertEquals(fitsIrcBounds("PRIVMSG #chat :" + "😀".repeat(124)), false);
  // A U+FFFD stands for an invalid byte (a Latin-1 letter) and counts one.
  assertEquals(fitsIrcBounds("PRIVMSG #chat :" + "\uFFFD".repeat(495)), true);
  // Tags alone are all tags.
  assertEquals(fitsIrcBounds("@" + "t".repeat(4093)), true);
  assertEquals(fitsIrcBounds("@" + "t".repeat(4094)), false);
});
