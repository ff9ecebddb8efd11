/** Unit tests of the wire protocol: parsing client lines, sanitising text, formatting server lines. */
import { assertEquals, assertStrictEquals } from "@std/assert";
import {
  type CloseReason,
  closingLine,
  type Command,
  encodeLine,
  formatDisconnected,
  formatDm,
  formatMsg,
  formatUserList,
  isBlankText,
  parseLine,
  REPLY,
  sanitizeText,
} from "../lib/protocol.ts";
import { CLOSING_ERRORS } from "../lib/web/page/closing_errors.js";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Decodes server bytes strictly, so that a test sees exactly what goes on the wire. */
function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

const IGNORED: Command = { kind: "ignored" };

Deno.test("parseLine reads LOGIN and its name as sent, an empty name included", () => {
  assertEquals(parseLine("LOGIN alice"), { kind: "login", name: "alice" });
  assertEquals(parseLine("LOGIN"), { kind: "login", name: "" });
  assertEquals(parseLine("LOGIN "), { kind: "login", name: "" });
  assertEquals(parseLine("LOGIN   padded  "), { kind: "login", name: "  padded  " });
  assertEquals(parseLine("LOGIN two words"), { kind: "login", name: "two words" });
});

Deno.test("parseLine reads WHO, with or without anything after it", () => {
  assertEquals(parseLine("WHO"), { kind: "who" });
  assertEquals(parseLine("WHO "), { kind: "who" });
  assertEquals(parseLine("WHO x"), { kind: "who" });
});

Deno.test("parseLine reads PING and ignores any trailing text", () => {
  assertEquals(parseLine("PING"), { kind: "ping" });
  assertEquals(parseLine("PING "), { kind: "ping" });
  assertEquals(parseLine("PING 12345 and more"), { kind: "ping" });
});

Deno.test("parseLine reads QUIT", () => {
  assertEquals(parseLine("QUIT"), { kind: "quit" });
  assertEquals(parseLine("QUIT bye"), { kind: "quit" });
});

Deno.test("parseLine keeps MSG text exactly as sent after its one space, spaces and TABs included", () => {
  assertEquals(parseLine("MSG hello"), { kind: "msg", text: "hello" });
  assertEquals(parseLine("MSG  hello,  world \tend "), {
    kind: "msg",
    text: " hello,  world \tend ",
  });
  assertEquals(parseLine("MSG"), { kind: "msg", text: "" });
  assertEquals(parseLine("MSG "), { kind: "msg", text: "" });
  assertEquals(parseLine("MSG    "), { kind: "msg", text: "   " });
  assertEquals(parseLine("MSG caf\u00e9 \u{1F600}"), {
    kind: "msg",
    text: "caf\u00e9 \u{1F600}",
  });
});

Deno.test("parseLine replaces control characters in MSG and DM text", () => {
  assertEquals(parseLine("MSG a\rb\u001b[2Jc\u0007"), {
    kind: "msg",
    text: "a\uFFFDb\uFFFD[2Jc\uFFFD",
  });
  assertEquals(parseLine("DM bob x\u0085y\u009bz"), {
    kind: "dm",
    target: "bob",
    text: "x\uFFFDy\uFFFDz",
  });
});

Deno.test("parseLine splits DM into a target and text, the text possibly empty", () => {
  assertEquals(parseLine("DM bob hi there "), { kind: "dm", target: "bob", text: "hi there " });
  assertEquals(parseLine("DM bob  two leading"), {
    kind: "dm",
    target: "bob",
    text: " two leading",
  });
  assertEquals(parseLine("DM bob"), { kind: "dm", target: "bob", text: "" });
  assertEquals(parseLine("DM bob "), { kind: "dm", target: "bob", text: "" });
  assertEquals(parseLine("DM bob   "), { kind: "dm", target: "bob", text: "  " });
  assertEquals(parseLine("DM"), { kind: "dm", target: "", text: "" });
  assertEquals(parseLine("DM Na\u00efve hi"), { kind: "dm", target: "Na\u00efve", text: "hi" });
});

Deno.test("parseLine ignores unknown commands, wrong case, a leading space and empty lines", () => {
  for (
    const line of [
      "",
      " ",
      "HELLO",
      "login alice",
      "Login alice",
      "msg hi",
      "Msg hi",
      "who",
      "ping",
      "quit",
      "dm bob hi",
      " MSG hi",
      " PING",
      "\tPING",
      "PING\t",
      "WHO\tx",
      "MSGhi",
      "LOGINalice",
      "PINGPONG",
      "INFO x disconnected",
    ]
  ) {
    assertEquals(parseLine(line), IGNORED, JSON.stringify(line));
  }
});

Deno.test("sanitizeText replaces every C0 control but TAB, DEL and every C1 control with U+FFFD", () => {
  const controls: string[] = [];
  for (let code = 0x00; code <= 0x1f; code++) controls.push(String.fromCharCode(code));
  for (let code = 0x7f; code <= 0x9f; code++) controls.push(String.fromCharCode(code));
  for (const control of controls) {
    const expected = control === "\t" ? "a\tb" : "a\uFFFDb";
    assertStrictEquals(
      sanitizeText(`a${control}b`),
      expected,
      `U+${control.charCodeAt(0).toString(16)}`,
    );
  }
  assertEquals(sanitizeText("\r\n\u001b\u0085\u009b\u007f"), "\uFFFD".repeat(6));
  assertEquals(sanitizeText("\u001b[31mred\u001b[0m"), "\uFFFD[31mred\uFFFD[0m");
});

Deno.test("sanitizeText keeps TAB, printable ASCII, U+FFFD and other Unicode as they are", () => {
  let ascii = "";
  for (let code = 0x20; code <= 0x7e; code++) ascii += String.fromCharCode(code);
  for (
    const kept of [
      ascii,
      "\t",
      "tab\there",
      "\uFFFD",
      "caf\u00e9 na\u00efve \u00a0nbsp",
      "\u4f60\u597d \u0645\u0631\u062d\u0628\u0627",
      "\u{1F600}\u{1F680}",
      "e\u0301",
      "",
    ]
  ) {
    assertStrictEquals(sanitizeText(kept), kept, JSON.stringify(kept));
  }
});

Deno.test("isBlankText is true only for empty text or text of spaces", () => {
  assertEquals(isBlankText(""), true);
  assertEquals(isBlankText(" "), true);
  assertEquals(isBlankText("     "), true);
  assertEquals(isBlankText("a"), false);
  assertEquals(isBlankText("  a  "), false);
  assertEquals(isBlankText("\t"), false);
  assertEquals(isBlankText(" \uFFFD "), false);
  assertEquals(isBlankText("."), false);
});

Deno.test("the format functions write exact lines ending in one \\n", () => {
  assertEquals(text(formatMsg("alice", "hello  world ")), "MSG alice hello  world \n");
  assertEquals(text(formatDm("bob", "psst")), "DM bob psst\n");
  assertEquals(text(formatDisconnected("carol")), "INFO carol disconnected\n");
  assertEquals(
    text(formatUserList(["carol", "alice", "bob"])),
    "USER carol\nUSER alice\nUSER bob\n",
  );
  assertEquals(formatUserList([]).length, 0);
  assertEquals(text(encodeLine("OK")), "OK\n");
  assertEquals(formatMsg("Zo\u00e9", "\u{1F600}"), encoder.encode("MSG Zo\u00e9 \u{1F600}\n"));
  assertEquals(
    formatMsg("Zo\u00e9", "\u{1F600}"),
    Uint8Array.of(
      ...[0x4d, 0x53, 0x47, 0x20], // "MSG "
      ...[0x5a, 0x6f, 0xc3, 0xa9, 0x20], // "Zoé "
      ...[0xf0, 0x9f, 0x98, 0x80, 0x0a], // "😀\n"
    ),
  );
});

Deno.test("the fixed replies are the exact protocol lines", () => {
  assertEquals(
    Object.fromEntries(Object.entries(REPLY).map(([key, bytes]) => [key, text(bytes)])),
    {
      ok: "OK\n",
      pong: "PONG\n",
      usernameTaken: "ERR username-taken\n",
      invalidUsername: "ERR invalid-username\n",
      alreadyLoggedIn: "ERR already-logged-in\n",
      loginRequired: "ERR login-required\n",
      userNotFound: "ERR user-not-found\n",
      lineTooLong: "ERR line-too-long\n",
      clusterUnavailable: "ERR cluster-unavailable\n",
      invalidHistory: "ERR invalid-history\n",
      accountRequired: "ERR account-required\n",
      registered: "OK registered\n",
      passwordChanged: "OK password-changed\n",
      unregistered: "OK unregistered\n",
      accountsOff: "ERR accounts-off\n",
      alreadyRegistered: "ERR already-registered\n",
      weakPassword: "ERR weak-password\n",
      badPassword: "ERR bad-password\n",
      unknownAccount: "ERR unknown-account\n",
      loginThrottled: "ERR login-throttled\n",
      passwordRequired: "ERR password-required\n",
    },
  );
});

Deno.test("closingLine gives the last line for each reason a server closes for, and none otherwise", () => {
  const expected: Record<CloseReason, string | undefined> = {
    quit: undefined,
    eof: undefined,
    reset: undefined,
    error: undefined,
    idle: "ERR idle-timeout\n",
    "slow-consumer": "ERR slow-consumer\n",
    shutdown: "ERR server-shutdown\n",
    "server-full": "ERR server-full\n",
    "too-many-connections": "ERR too-many-connections\n",
    "excess-flood": "ERR excess-flood\n",
    "protocol-error": undefined,
    served: undefined,
    "name-conflict": "ERR username-taken\n",
    "session-replaced": "ERR session-replaced\n",
  };
  for (const [reason, line] of Object.entries(expected) as [CloseReason, string | undefined][]) {
    const bytes = closingLine(reason);
    assertStrictEquals(bytes === undefined ? undefined : text(bytes), line, reason);
  }
  // Both chat clients expect the close after the others; a name lost to another instance
  // they take as a refused login.
  const closingCodes = Object.values(expected)
    .filter((line) => line !== undefined && line !== "ERR username-taken\n")
    .map((line) => line!.slice("ERR ".length, -1));
  assertEquals([...CLOSING_ERRORS].sort(), closingCodes.sort());
});
