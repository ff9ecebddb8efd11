/** Unit tests of key decoding: raw terminal bytes to typed text and named keys. */
import { assertEquals } from "@std/assert";
import { type Key, KeyDecoder, type KeyName } from "../lib/terminal/keys.ts";

const encoder = new TextEncoder();

function decode(...chunks: (string | Uint8Array)[]): Key[] {
  const decoder = new KeyDecoder();
  return chunks.flatMap((chunk) =>
    decoder.feed(typeof chunk === "string" ? encoder.encode(chunk) : chunk)
  );
}

const key = (name: KeyName): Key => ({ kind: "key", name });
const text = (text: string): Key => ({ kind: "text", text });

Deno.test("KeyDecoder groups printable characters into one text key and names control keys", () => {
  assertEquals(decode("hi there\r"), [text("hi there"), key("enter")]);
  assertEquals(decode("\x01\x05\x15\x17\x03\x04\x7f\x08\x0b\x0c\x10\x0e\x02\x06\t"), [
    key("ctrl-a"),
    key("ctrl-e"),
    key("ctrl-u"),
    key("ctrl-w"),
    key("ctrl-c"),
    key("ctrl-d"),
    key("backspace"),
    key("backspace"),
    key("ctrl-k"),
    key("ctrl-l"),
    key("ctrl-p"),
    key("ctrl-n"),
    key("ctrl-b"),
    key("ctrl-f"),
    key("tab"),
  ]);
});

Deno.test("KeyDecoder drops control bytes it has no binding for", () => {
  assertEquals(decode("a\x07\x1a\x00b"), [text("a"), text("b")]);
});

Deno.test("KeyDecoder reads CSI and SS3 arrow, home, end and delete sequences", () => {
  assertEquals(decode("\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F"), [
    key("up"),
    key("down"),
    key("right"),
    key("left"),
    key("home"),
    key("end"),
  ]);
  assertEquals(decode("\x1bOA\x1bOD\x1bOH\x1bOF"), [
    key("up"),
    key("left"),
    key("home"),
    key("end"),
  ]);
  assertEquals(decode("\x1b[1~\x1b[7~\x1b[4~\x1b[8~\x1b[3~"), [
    key("home"),
    key("home"),
    key("end"),
    key("end"),
    key("delete"),
  ]);
});

Deno.test("KeyDecoder reads Ctrl and Alt arrows and Alt chords as word keys", () => {
  assertEquals(decode("\x1b[1;5D\x1b[1;5C\x1b[1;3D"), [
    key("word-left"),
    key("word-right"),
    key("word-left"),
  ]);
  assertEquals(decode("\x1bb\x1bf\x1bd\x1b\x7f"), [
    key("word-left"),
    key("word-right"),
    key("delete-word-after"),
    key("delete-word-before"),
  ]);
});

Deno.test("KeyDecoder swallows sequences it does not know (F keys, focus, paste marks)", () => {
  assertEquals(decode("a\x1b[15~b\x1b[Ic\x1b[200~d\x1b[201~\x1bOPe"), [
    text("a"),
    text("b"),
    text("c"),
    text("d"),
    text("e"),
  ]);
});

Deno.test("KeyDecoder holds a UTF-8 character split across reads until it is whole", () => {
  const bytes = encoder.encode("é日🎉");
  const keys = decode(
    bytes.subarray(0, 1),
    bytes.subarray(1, 3),
    bytes.subarray(3, 7),
    bytes.subarray(7),
  );
  assertEquals(keys.map((k) => k.kind === "text" ? k.text : "").join(""), "é日🎉");
});

Deno.test("KeyDecoder holds an escape sequence split across reads", () => {
  const decoder = new KeyDecoder();
  assertEquals(decoder.feed(encoder.encode("ab\x1b")), [text("ab")]);
  assertEquals(decoder.pending, true);
  assertEquals(decoder.feed(encoder.encode("[")), []);
  assertEquals(decoder.feed(encoder.encode("1;5")), []);
  assertEquals(decoder.feed(encoder.encode("Dc")), [key("word-left"), text("c")]);
  assertEquals(decoder.pending, false);
});

Deno.test("KeyDecoder.flush ends a lone Escape and reads what followed it as keys", () => {
  const decoder = new KeyDecoder();
  assertEquals(decoder.feed(encoder.encode("\x1b")), []);
  assertEquals(decoder.flush(), []);
  assertEquals(decoder.pending, false);
  assertEquals(decoder.feed(encoder.encode("\x1b[")), []);
  assertEquals(decoder.flush(), [text("[")]);
  assertEquals(decoder.flush(), []);
});

Deno.test("KeyDecoder reads a pasted CRLF as one Enter, even split across reads", () => {
  assertEquals(decode("a\r\nb\r", "\nc\n"), [
    text("a"),
    key("enter"),
    text("b"),
    key("enter"),
    text("c"),
    key("enter"),
  ]);
  assertEquals(decode("\r\r"), [key("enter"), key("enter")]);
});

Deno.test("KeyDecoder never types C1 controls or lets invalid UTF-8 through as bytes", () => {
  assertEquals(decode("a\u009b[31mb"), [text("a[31mb")]);
  assertEquals(decode(new Uint8Array([0x61, 0xff, 0x62])), [text("a\uFFFDb")]);
});

Deno.test("KeyDecoder drops an endless CSI sequence instead of holding it forever", () => {
  const decoder = new KeyDecoder();
  assertEquals(decoder.feed(encoder.encode("\x1b[" + "1".repeat(40))), []);
  assertEquals(decoder.pending, false);
  assertEquals(decoder.feed(encoder.encode("x")), [text("x")]);
});
