/** IRC text: parsing lines, formatting and CTCP, echoed parameters, and the 512-byte cut. */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { chatText, fitLine, ircText, parseIrcLine, shown } from "../lib/irc/irc_text.ts";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

Deno.test("parseIrcLine reads the command (upper-cased) and its parameters, the trailing one whole", () => {
  assertEquals(parseIrcLine("privmsg #chat :hello  there :)"), {
    command: "PRIVMSG",
    params: ["#chat", "hello  there :)"],
  });
  assertEquals(parseIrcLine("@time=x;id=1 :nick!u@h  NICK   bob  "), {
    command: "NICK",
    params: ["bob"],
  });
  assertEquals(parseIrcLine("USER a 0 * :Real Name"), {
    command: "USER",
    params: ["a", "0", "*", "Real Name"],
  });
  assertEquals(parseIrcLine("PRIVMSG #chat :"), { command: "PRIVMSG", params: ["#chat", ""] });
  assertEquals(parseIrcLine("QUIT"), { command: "QUIT", params: [] });
  assertEquals(parseIrcLine(""), undefined);
  assertEquals(parseIrcLine("   "), undefined);
  assertEquals(parseIrcLine("@tags-only"), undefined);
  assertEquals(parseIrcLine(":prefix-only "), undefined);
});

Deno.test("chatText strips every IRC formatting code, colours with their digits", () => {
  const cases: [string, string][] = [
    [
      "\x02bold\x02 \x1ditalic\x1d \x1funder\x1f \x1estrike\x1e \x11mono\x11 \x16rev\x16",
      "bold italic under strike mono rev",
    ],
    ["\x0304red\x03 \x034,12on blue\x0f done", "red on blue done"],
    ["\x03099 bottles", "9 bottles"],
    ["\x031,x", ",x"],
    ["\x03,5comma", ",5comma"],
    ["\x04FF0000hex\x04 \x04ff0000,00ff00two\x04", "hex two"],
    ["plain text, unchanged", "plain text, unchanged"],
    ["\x02\x02", ""],
  ];
  for (const [irc, chat] of cases) assertStrictEquals(chatText(irc), chat, JSON.stringify(irc));
});

Deno.test("chatText turns other control characters into U+FFFD, keeping TAB", () => {
  assertEquals(
    chatText("a\x07b\rc\x00d\x1be\x7ff\x85g\x9bh\ti"),
    "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg\uFFFDh\ti",
  );
  // A CTCP mark inside a message is no CTCP: it is a control character like any other.
  assertEquals(chatText("hi \x01VERSION\x01"), "hi \uFFFDVERSION\uFFFD");
});

Deno.test("chatText turns CTCP ACTION into /me, and drops every other CTCP message", () => {
  assertEquals(chatText("\x01ACTION waves\x01"), "/me waves");
  assertEquals(chatText("\x01ACTION waves"), "/me waves", "the closing \\x01 is optional");
  assertEquals(chatText("\x01ACTION \x02waves\x02 \x07back\x01"), "/me waves \uFFFDback");
  assertEquals(chatText("\x01ACTION \x01"), "/me ");
  for (
    const ctcp of [
      "\x01VERSION\x01",
      "\x01PING 123\x01",
      "\x01",
      "\x01\x01",
      "\x01ACTION\x01",
      "\x01action waves\x01",
    ]
  ) {
    assertEquals(chatText(ctcp), undefined, JSON.stringify(ctcp));
  }
});

Deno.test("ircText turns /me back into CTCP ACTION, and nothing else", () => {
  assertEquals(ircText("/me waves"), "\x01ACTION waves\x01");
  assertEquals(ircText("/me "), "\x01ACTION \x01");
  assertEquals(ircText("/mewaves"), "/mewaves");
  assertEquals(ircText("/me"), "/me");
  assertEquals(ircText(" /me waves"), " /me waves");
});

Deno.test("shown cuts an echoed parameter to 64 characters, whole characters, controls replaced", () => {
  assertEquals(shown("#other"), "#other");
  assertEquals(shown("a\rb\x00c\x02"), "a\uFFFDb\uFFFDc\uFFFD");
  assertEquals(shown("x".repeat(100)), "x".repeat(64));
  assertEquals(shown("x".repeat(63) + "😀" + "y"), "x".repeat(63));
  assertEquals(shown("x".repeat(62) + "😀" + "y"), "x".repeat(62) + "😀");
});

/** The bytes `fitLine` gives, checked: valid UTF-8, ending in `\r\n`. */
function fitted(head: string, text: string): { line: string; bytes: number } {
  const out = fitLine(head, text);
  const bytes = encoder.encode(out);
  assert(out.endsWith("\r\n"));
  strictDecoder.decode(bytes);
  return { line: out.slice(0, -2), bytes: bytes.length };
}

Deno.test("fitLine leaves a line of up to 512 bytes whole, and cuts one byte more", () => {
  const head = ":alice!alice@chat PRIVMSG #chat :";
  const fits = "x".repeat(510 - head.length);
  assertEquals(fitted(head, fits), { line: head + fits, bytes: 512 });
  assertEquals(fitted(head, fits + "y"), { line: head + fits, bytes: 512 });
  assertEquals(fitted(head, "short"), { line: head + "short", bytes: head.length + 7 });
});

Deno.test("fitLine cuts on a UTF-8 boundary, at every offset, for 2-, 3- and 4-byte characters", () => {
  for (const char of ["é", "€", "😀", "a\u0301"]) {
    for (let pad = 0; pad < 8; pad++) {
      const head = `:${"n".repeat(pad)}!n@chat PRIVMSG #chat :`;
      const text = char.repeat(600);
      const { line, bytes } = fitted(head, text);
      assert(bytes <= 512, `${bytes} bytes`);
      assert((head + text).startsWith(line), "the cut line is a prefix of the whole");
      // Nothing more fitted: the next character would have passed 512 bytes.
      const nextChar = String.fromCodePoint((head + text).codePointAt(line.length)!);
      assert(bytes + encoder.encode(nextChar).length > 512, `${char} pad ${pad}: cut too early`);
    }
  }
});

Deno.test("fitLine keeps a cut ACTION's closing \\x01", () => {
  const head = ":alice!alice@chat PRIVMSG #chat :";
  const { line, bytes } = fitted(head, ircText("/me " + "ü".repeat(400)));
  assert(bytes <= 512);
  assert(line.startsWith(head + "\x01ACTION üü"));
  assert(line.endsWith("ü\x01"));
  // An ACTION that fits exactly is left whole.
  const exact = ircText("/me " + "a".repeat(510 - head.length - 9));
  assertEquals(fitted(head, exact), { line: head + exact, bytes: 512 });
});

Deno.test("fitLine never cuts the head: behind one that leaves no room, the text keeps 64 bytes", () => {
  const head = `:${"|1f600|".repeat(40)} PRIVMSG ${"|1f600|".repeat(40)} :`;
  const { line } = fitted(head, "é".repeat(100));
  assertStrictEquals(line, head + "é".repeat(32));
});
