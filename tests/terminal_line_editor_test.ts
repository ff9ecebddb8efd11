/** Unit tests of the line editor: keys in, text, cursor and history out. */
import { assertEquals, assertStrictEquals } from "@std/assert";
import type { Key, KeyName } from "../lib/terminal/keys.ts";
import { HISTORY_LIMIT, LineEditor } from "../lib/terminal/line_editor.ts";

const type = (text: string): Key => ({ kind: "text", text });
const press = (name: KeyName): Key => ({ kind: "key", name });

/** The editor after `keys`, shown as its text with `|` at the cursor. */
function show(editor: LineEditor): string {
  return editor.text.slice(0, editor.cursor) + "|" + editor.text.slice(editor.cursor);
}

function edit(...keys: Key[]): LineEditor {
  const editor = new LineEditor();
  for (const key of keys) editor.apply(key);
  return editor;
}

Deno.test("LineEditor inserts at the cursor and moves over whole characters", () => {
  assertEquals(show(edit(type("helo"), press("left"), type("l"))), "hell|o");
  assertEquals(show(edit(type("ab"), press("home"), type("x"), press("end"), type("y"))), "xaby|");
  assertEquals(show(edit(type("ab"), press("ctrl-a"), press("ctrl-f"), press("ctrl-f"))), "ab|");
  assertEquals(show(edit(type("ab"), press("ctrl-b"), press("ctrl-e"))), "ab|");
  // An emoji (two UTF-16 units) and a decomposed é (two code points) are one step each.
  assertEquals(show(edit(type("a🎉e\u0301b"), press("left"), press("left"))), "a🎉|e\u0301b");
  assertEquals(
    show(edit(type("a🎉e\u0301b"), press("left"), press("left"), press("left"))),
    "a|🎉e\u0301b",
  );
  assertEquals(show(edit(type("a🎉"), press("backspace"))), "a|");
});

Deno.test("LineEditor keeps the cursor on a boundary when a combining mark is typed", () => {
  const editor = edit(type("e"), type("\u0301"));
  assertEquals(show(editor), "e\u0301|");
  editor.apply(press("left"));
  assertEquals(show(editor), "|e\u0301");
});

Deno.test("LineEditor stops at the ends without changing anything", () => {
  const editor = edit(type("a"));
  assertEquals(editor.apply(press("right")), { kind: "unchanged" });
  editor.apply(press("home"));
  assertEquals(editor.apply(press("left")), { kind: "unchanged" });
  assertEquals(editor.apply(press("backspace")), { kind: "unchanged" });
  assertEquals(editor.apply(press("delete")), { kind: "changed" });
  assertEquals(show(editor), "|");
});

Deno.test("LineEditor deletes backward, forward, to either end and by words", () => {
  assertEquals(show(edit(type("abc"), press("left"), press("backspace"))), "a|c");
  assertEquals(show(edit(type("abc"), press("left"), press("delete"))), "ab|");
  assertEquals(show(edit(type("hello big world"), press("word-left"), press("ctrl-u"))), "|world");
  assertEquals(
    show(edit(type("hello big world"), press("word-left"), press("ctrl-k"))),
    "hello big |",
  );
  assertEquals(show(edit(type("hello big  world  "), press("ctrl-w"))), "hello big  |");
  assertEquals(show(edit(type("hello big world"), press("delete-word-before"))), "hello big |");
  assertEquals(
    show(edit(type("hello big world"), press("home"), press("delete-word-after"))),
    "| big world",
  );
  assertEquals(show(edit(type("one two"), press("word-left"), press("word-left"))), "|one two");
  assertEquals(
    show(edit(type("one two"), press("home"), press("word-right"), press("word-right"))),
    "one two|",
  );
});

Deno.test("LineEditor submits the line with Enter and starts empty", () => {
  const editor = edit(type("hello"), press("left"));
  assertEquals(editor.apply(press("enter")), { kind: "submit", line: "hello" });
  assertEquals(show(editor), "|");
  assertEquals(editor.apply(press("enter")), { kind: "submit", line: "" });
});

Deno.test("LineEditor quits on Ctrl-C, and on Ctrl-D only when the line is empty", () => {
  assertEquals(edit(type("x")).apply(press("ctrl-c")), { kind: "quit" });
  assertEquals(edit().apply(press("ctrl-d")), { kind: "quit" });
  const editor = edit(type("xy"), press("home"));
  assertEquals(editor.apply(press("ctrl-d")), { kind: "changed" });
  assertEquals(show(editor), "|y");
  assertEquals(editor.apply(press("ctrl-l")), { kind: "redraw" });
});

Deno.test("LineEditor types a space for Tab", () => {
  assertEquals(show(edit(type("a"), press("tab"), type("b"))), "a b|");
});

Deno.test("LineEditor recalls sent lines with Up and Down and keeps the draft", () => {
  const editor = new LineEditor();
  for (const line of ["first", "second"]) {
    editor.apply(type(line));
    editor.apply(press("enter"));
  }
  editor.apply(type("draft"));
  editor.apply(press("up"));
  assertEquals(show(editor), "second|");
  editor.apply(press("ctrl-p"));
  assertEquals(show(editor), "first|");
  assertEquals(editor.apply(press("up")), { kind: "unchanged" });
  editor.apply(press("down"));
  assertEquals(show(editor), "second|");
  editor.apply(press("ctrl-n"));
  assertEquals(show(editor), "draft|");
  assertEquals(editor.apply(press("down")), { kind: "unchanged" });
  // A recalled line, edited and sent, is a new entry.
  editor.apply(press("up"));
  editor.apply(type("!"));
  assertEquals(editor.apply(press("enter")), { kind: "submit", line: "second!" });
  assertEquals(editor.history, ["first", "second", "second!"]);
});

Deno.test("LineEditor leaves blank lines and repeats out of the history, and caps it", () => {
  const editor = new LineEditor();
  for (const line of ["a", "a", "  ", "b"]) {
    editor.apply(type(line));
    editor.apply(press("enter"));
  }
  assertEquals(editor.history, ["a", "b"]);
  for (let i = 0; i < HISTORY_LIMIT + 10; i++) {
    editor.apply(type(`line ${i}`));
    editor.apply(press("enter"));
  }
  assertStrictEquals(editor.history.length, HISTORY_LIMIT);
  assertEquals(editor.history.at(-1), `line ${HISTORY_LIMIT + 9}`);
});
