/** Unit tests of terminal text (width, neutralising) and of the input line's layout and drawing. */
import { assertEquals } from "@std/assert";
import {
  displayWidth,
  graphemeWidth,
  neutralize,
  nextBoundary,
  previousBoundary,
} from "../lib/terminal/text.ts";
import { CLEAR_LINE, drawInput, layoutInput, printAbove } from "../lib/terminal/screen.ts";

Deno.test("displayWidth counts wide, emoji and combining characters as a terminal does", () => {
  assertEquals(displayWidth("hello"), 5);
  assertEquals(displayWidth("日本"), 4);
  assertEquals(displayWidth("🎉"), 2);
  assertEquals(displayWidth("e\u0301"), 1);
  assertEquals(displayWidth("👍🏽"), 2);
  assertEquals(displayWidth("\u200b"), 0);
  assertEquals(graphemeWidth("Ａ"), 2);
  assertEquals(graphemeWidth("é"), 1);
});

Deno.test("grapheme boundaries step over whole characters", () => {
  const text = "a🎉e\u0301";
  assertEquals(nextBoundary(text, 0), 1);
  assertEquals(nextBoundary(text, 1), 3);
  assertEquals(nextBoundary(text, 3), 5);
  assertEquals(nextBoundary(text, 5), 5);
  assertEquals(previousBoundary(text, 5), 3);
  assertEquals(previousBoundary(text, 3), 1);
  assertEquals(previousBoundary(text, 0), 0);
});

Deno.test("neutralize turns every control character into U+FFFD and TAB into a space", () => {
  assertEquals(neutralize("a\x1b[2Jb"), "a\uFFFD[2Jb");
  assertEquals(neutralize("\x07\r\n\x7f\u0085\u009b31m"), "\uFFFD".repeat(6) + "31m");
  assertEquals(neutralize("a\tb"), "a b");
  assertEquals(neutralize("plain é 日本 🎉"), "plain é 日本 🎉");
});

Deno.test("layoutInput shows a short line whole, with the cursor where it is", () => {
  assertEquals(layoutInput("hello", 2, 0, 20), { start: 0, visible: "hello", cursorColumn: 2 });
  assertEquals(layoutInput("", 0, 0, 20), { start: 0, visible: "", cursorColumn: 0 });
  assertEquals(layoutInput("日本", 1, 0, 20), { start: 0, visible: "日本", cursorColumn: 2 });
});

Deno.test("layoutInput scrolls a long line sideways just enough to keep the cursor in view", () => {
  const text = "abcdefghijklmnopqrstuvwxyz";
  // Cursor at the end: the last 9 characters and the cursor's cell fill 10 columns.
  assertEquals(layoutInput(text, 26, 0, 10), {
    start: 17,
    visible: "rstuvwxyz",
    cursorColumn: 9,
  });
  // Moving left within the view does not scroll it.
  assertEquals(layoutInput(text, 20, 17, 10), {
    start: 17,
    visible: "rstuvwxyz",
    cursorColumn: 3,
  });
  // Moving left past it scrolls by what is needed.
  assertEquals(layoutInput(text, 15, 17, 10), {
    start: 15,
    visible: "pqrstuvwxy",
    cursorColumn: 0,
  });
  assertEquals(layoutInput(text, 0, 15, 10), {
    start: 0,
    visible: "abcdefghij",
    cursorColumn: 0,
  });
  // After the text shrinks, the view comes back to show all that fits.
  assertEquals(layoutInput("abc", 3, 17, 10), { start: 0, visible: "abc", cursorColumn: 3 });
});

Deno.test("layoutInput never cuts a wide character and keeps the one under the cursor visible", () => {
  const layout = layoutInput("日本語日本語", 0, 0, 5);
  assertEquals(layout, { start: 0, visible: "日本", cursorColumn: 0 });
  assertEquals(layoutInput("日本語日本語", 6, 0, 5), {
    start: 4,
    visible: "本語",
    cursorColumn: 4,
  });
});

Deno.test("drawInput erases the line, draws prompt and text, and puts the cursor back", () => {
  const drawn = drawInput({
    prompt: "\x1b[1mme\x1b[0m> ",
    promptWidth: 4,
    text: "hello",
    cursor: 1,
    start: 0,
    columns: 80,
  });
  assertEquals(drawn, { bytes: `${CLEAR_LINE}\x1b[1mme\x1b[0m> hello\r\x1b[5C`, start: 0 });
  const atStart = drawInput({
    prompt: "",
    promptWidth: 0,
    text: "",
    cursor: 0,
    start: 0,
    columns: 80,
  });
  assertEquals(atStart.bytes, `${CLEAR_LINE}\r`);
});

Deno.test("drawInput leaves the last column empty and drops the prompt on a tiny terminal", () => {
  const drawn = drawInput({
    prompt: "me> ",
    promptWidth: 4,
    text: "x".repeat(50),
    cursor: 50,
    start: 0,
    columns: 20,
  });
  // 20 columns: 4 for the prompt, 14 of text, the cursor's cell, one left empty.
  assertEquals(drawn.bytes, `${CLEAR_LINE}me> ${"x".repeat(14)}\r\x1b[18C`);
  const tiny = drawInput({
    prompt: "me> ",
    promptWidth: 4,
    text: "abc",
    cursor: 3,
    start: 0,
    columns: 10,
  });
  assertEquals(tiny.bytes, `${CLEAR_LINE}abc\r\x1b[3C`);
});

Deno.test("printAbove erases the input line and ends each printed line with CRLF", () => {
  assertEquals(printAbove(["one", "two"]), `${CLEAR_LINE}one\r\ntwo\r\n`);
});
