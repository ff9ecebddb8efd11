/** Unit tests of what the terminal client reads and shows: server lines, typed commands, event lines. */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { parseServerLine } from "../lib/terminal/server_line.ts";
import { parseInput } from "../lib/terminal/commands.ts";
import {
  clockTime,
  describeError,
  formatEvent,
  isKnownError,
  localTime,
  nameColour,
} from "../lib/terminal/format.ts";
import { CLOSING_ERRORS } from "../lib/web/page/closing_errors.js";
import { nameHash, nameKey } from "../lib/web/page/name_key.js";

const plain = { colour: false };
// The client's own colour sequences: ESC, "[", digits and ";", then "m".
const SGR = new RegExp(String.raw`\x1b\[[0-9;]*m`, "g");
const colour = { colour: true };

Deno.test("parseServerLine reads every line of protocol versions 1 and 2", () => {
  assertEquals(parseServerLine("OK"), { kind: "ok", text: "" });
  assertEquals(parseServerLine("OK registered"), { kind: "ok", text: "registered" });
  assertEquals(parseServerLine("PONG"), { kind: "pong" });
  assertEquals(parseServerLine("MSG a hi  there "), {
    kind: "msg",
    from: "a",
    text: "hi  there ",
  });
  assertEquals(parseServerLine("DM a psst"), { kind: "dm", from: "a", text: "psst" });
  assertEquals(parseServerLine("INFO a connected"), { kind: "joined", name: "a" });
  assertEquals(parseServerLine("INFO a disconnected"), { kind: "left", name: "a" });
  assertEquals(parseServerLine("USER a"), { kind: "user", name: "a" });
  assertEquals(parseServerLine("ERR username-taken"), { kind: "err", code: "username-taken" });
});

Deno.test("parseServerLine reads version 3's HIST lines: id, sender, text, and HIST END", () => {
  assertEquals(parseServerLine("HIST 1764999000123-0 a hi  there "), {
    kind: "hist",
    id: "1764999000123-0",
    from: "a",
    text: "hi  there ",
  });
  assertEquals(parseServerLine("HIST 5-12 b END"), {
    kind: "hist",
    id: "5-12",
    from: "b",
    text: "END",
  });
  assertEquals(parseServerLine("HIST END"), { kind: "hist-end" });
});

Deno.test("parseServerLine leaves lines it does not know as they are", () => {
  const malformed = [
    "HIST",
    "HIST 1-0",
    "HIST 1-0 a",
    "HIST x-0 a hi",
    "HIST 1 a hi",
    "HIST END x",
  ];
  for (
    const line of [
      "INFO a renamed",
      "MSG",
      "MSG a",
      "USER",
      "HELLO there",
      "",
      "msg a hi",
      ...malformed,
    ]
  ) {
    assertEquals(parseServerLine(line), { kind: "unknown", line });
  }
});

Deno.test("parseInput reads plain text, /msg, /who, /quit and /help", () => {
  assertEquals(parseInput("hello  world "), { kind: "say", text: "hello  world " });
  assertEquals(parseInput("/msg bob hi  there"), { kind: "dm", to: "bob", text: "hi  there" });
  assertEquals(parseInput("/MSG  bob hi"), { kind: "dm", to: "bob", text: "hi" });
  assertEquals(parseInput("/who"), { kind: "who" });
  assertEquals(parseInput("/quit"), { kind: "quit" });
  assertEquals(parseInput("/help"), { kind: "help" });
  assertEquals(parseInput("//etc/passwd is a path"), {
    kind: "say",
    text: "/etc/passwd is a path",
  });
});

Deno.test("parseInput reads /history [n]: 20 by default, 1 to 1000, more asks for 1000", () => {
  assertEquals(parseInput("/history"), { kind: "history", limit: 20 });
  assertEquals(parseInput("/HISTORY  "), { kind: "history", limit: 20 });
  assertEquals(parseInput("/history 5"), { kind: "history", limit: 5 });
  assertEquals(parseInput("/history  1 "), { kind: "history", limit: 1 });
  assertEquals(parseInput("/history 1000"), { kind: "history", limit: 1000 });
  assertEquals(parseInput("/history 1001"), { kind: "history", limit: 1000 });
  assertEquals(parseInput("/history 99999999999999999999999"), { kind: "history", limit: 1000 });
  for (const bad of ["/history 0", "/history -1", "/history x", "/history 5 6", "/history 1.5"]) {
    assertEquals(parseInput(bad), {
      kind: "misuse",
      text: "Usage: /history [n], n a whole number from 1 to 1000",
    }, bad);
  }
});

Deno.test("parseInput sends nothing for blank lines, misused or unknown commands", () => {
  assertEquals(parseInput(""), { kind: "none" });
  assertEquals(parseInput("   "), { kind: "none" });
  assertEquals(parseInput("/msg bob"), { kind: "misuse", text: "Usage: /msg <name> <text>" });
  assertEquals(parseInput("/msg bob   "), {
    kind: "misuse",
    text: "Usage: /msg <name> <text>",
  });
  assertEquals(parseInput("/msg"), { kind: "misuse", text: "Usage: /msg <name> <text>" });
  const unknown = parseInput("/join #x");
  assertEquals(unknown.kind, "misuse");
  assertMatch(unknown.kind === "misuse" ? unknown.text : "", /^Unknown command \/join;/);
});

Deno.test("formatEvent makes plain lines a script can match", () => {
  const lines = [
    formatEvent({ kind: "message", from: "a", text: "hi", own: false }, plain),
    formatEvent({ kind: "message", from: "me", text: "mine", own: true }, plain),
    formatEvent({ kind: "earlier", time: "09:05", from: "a", text: "before" }, plain),
    formatEvent({ kind: "dm-in", from: "a", text: "psst" }, plain),
    formatEvent({ kind: "dm-out", to: "a", text: "back" }, plain),
    formatEvent({ kind: "joined", name: "a" }, plain),
    formatEvent({ kind: "left", name: "a" }, plain),
    formatEvent({ kind: "online", names: ["a", "b"] }, plain),
    formatEvent({ kind: "error", code: "user-not-found", target: "zed" }, plain),
    formatEvent({ kind: "warning", text: "Oops." }, plain),
    formatEvent({ kind: "notice", text: "connected" }, plain),
    formatEvent({ kind: "unknown", line: "HELLO x" }, plain),
  ];
  assertEquals(lines, [
    "<a> hi",
    "<me> mine",
    "[09:05] <a> before",
    "[DM from a] psst",
    "[DM to a] back",
    "* a joined",
    "* a left",
    "* online: a, b",
    "! zed is not online; your message was not delivered.",
    "! Oops.",
    "* connected",
    "* server: HELLO x",
  ]);
  for (const line of lines) assert(!line.includes("\x1b"));
});

Deno.test("formatEvent neutralises control characters in names, texts and unknown lines", () => {
  const hostile = "\x1b[2J\x1b]0;pwned\x07\u009b31m\r";
  const lines = [
    formatEvent({ kind: "message", from: hostile, text: hostile, own: false }, colour),
    formatEvent({ kind: "dm-in", from: hostile, text: hostile }, colour),
    formatEvent({ kind: "earlier", time: "12:00", from: hostile, text: hostile }, colour),
    formatEvent({ kind: "online", names: [hostile] }, colour),
    formatEvent({ kind: "unknown", line: hostile }, colour),
    formatEvent({ kind: "error", code: hostile }, colour),
  ];
  for (const line of lines) {
    // Only the client's own SGR sequences remain: ESC followed by "[", digits, ";" and "m".
    const stripped = line.replace(SGR, "");
    assert(!/\p{Cc}/u.test(stripped), JSON.stringify(line));
    assert(
      stripped.includes("\uFFFD[2J\uFFFD]0;pwned\uFFFD\uFFFD31m\uFFFD"),
      JSON.stringify(line),
    );
  }
});

Deno.test("formatEvent colours names, the same colour for the same name in any case", () => {
  const line = formatEvent({ kind: "message", from: "Alice", text: "hi", own: false }, colour);
  assertEquals(line, `<\x1b[${nameColour("Alice")}mAlice\x1b[0m> hi`);
  assertStrictEquals(nameColour("Alice"), nameColour("alice"));
  assertStrictEquals(nameColour("Alice"), nameColour("Alice"));
  const own = formatEvent({ kind: "message", from: "me", text: "hi", own: true }, colour);
  assertEquals(own, `<\x1b[1;${nameColour("me")}mme\x1b[0m> hi`);
  const colours = new Set(["alice", "bob", "carol", "dave", "erin", "frank"].map(nameColour));
  assert(colours.size > 2, "names spread over the palette");
});

Deno.test("formatEvent dims an earlier message throughout, its name still coloured", () => {
  const line = formatEvent({ kind: "earlier", time: "23:59", from: "Bob", text: "hi" }, colour);
  // SGR 39 ends the name's colour but not the dimming; only the final 0 ends that.
  assertEquals(line, `\x1b[2m[23:59] <\x1b[${nameColour("Bob")}mBob\x1b[39m> hi\x1b[0m`);
});

Deno.test("clockTime gives HH:MM on a clock any whole or half hour from UTC, across midnight", () => {
  const at = Date.UTC(2026, 0, 31, 23, 45, 59, 999);
  assertEquals(clockTime(at, 0), "23:45");
  // Date's offsets are minutes behind UTC: -330 is India (UTC+5:30), 300 is New York in winter.
  assertEquals(clockTime(at, -330), "05:15");
  assertEquals(clockTime(at, 300), "18:45");
  assertEquals(clockTime(at, -15), "00:00");
  assertEquals(clockTime(0, 60), "23:00");
  assertEquals(clockTime(Date.UTC(1969, 11, 31, 22, 7), 0), "22:07");
});

Deno.test("localTime reads this machine's time zone as Date does", () => {
  for (const ms of [0, Date.UTC(2026, 2, 29, 0, 30), Date.UTC(2026, 6, 1, 12, 1), Date.now()]) {
    const date = new Date(ms);
    const expected = `${String(date.getHours()).padStart(2, "0")}:${
      String(date.getMinutes()).padStart(2, "0")
    }`;
    assertEquals(localTime(ms), expected);
  }
});

Deno.test("nameHash is 32-bit FNV-1a of the name's key, the same in any case or normal form", () => {
  assertEquals([nameHash(""), nameHash("a"), nameHash("foobar")], [
    0x811c9dc5,
    0xe40c292c,
    0xbf9cf968,
  ]);
  assertEquals(nameHash("FooBar"), nameHash("foobar"));
  assertEquals(nameKey("E\u0301"), "\u00e9");
  assertEquals(nameHash("E\u0301"), nameHash("\u00e9"));
});

Deno.test("describeError says every ERR code of the protocol in words", () => {
  const codes = [
    "username-taken",
    "invalid-username",
    "already-logged-in",
    "login-required",
    "user-not-found",
    "line-too-long",
    "cluster-unavailable",
    "invalid-history",
    "account-required",
    // The server's closing codes, which tests/protocol_test.ts pins.
    ...CLOSING_ERRORS,
  ];
  for (const code of codes) {
    assert(isKnownError(code), code);
    const words = describeError(code);
    assert(!words.includes(code) && /^[A-Z].*\.$/.test(words), words);
  }
  assertEquals(describeError("new-thing"), "The server says: new-thing");
  assertEquals(
    describeError("user-not-found", "bob"),
    "bob is not online; your message was not delivered.",
  );
});
