/** Unit tests of the line arena: lines back to back in shared buffers, never rewritten. */
import { assert, assertEquals, assertNotStrictEquals, assertStrictEquals } from "@std/assert";
import { ARENA_BYTES, LineArena } from "../lib/line_arena.ts";

const decoder = new TextDecoder();

Deno.test("LineArena encodes consecutive lines back to back in one buffer", () => {
  const arena = new LineArena();
  const first = arena.encode("MSG a h\u00e9\n");
  const second = arena.encode("MSG b x\n");
  assertEquals(decoder.decode(first), "MSG a h\u00e9\n");
  assertEquals(decoder.decode(second), "MSG b x\n");
  assertStrictEquals(first.buffer, second.buffer);
  assertStrictEquals(first.byteOffset + first.byteLength, second.byteOffset);
});

Deno.test("LineArena starts a fresh buffer when full and never rewrites bytes it handed out", () => {
  const arena = new LineArena();
  const line = "MSG someone " + "y".repeat(100) + "\n";
  const views = Array.from(
    { length: Math.ceil((ARENA_BYTES * 3) / line.length) },
    (_, i) => arena.encode(line.replace("someone", `u${i % 10}`)),
  );
  const buffers = new Set(views.map((v) => v.buffer));
  assert(buffers.size >= 3, `expected the arena to roll over, got ${buffers.size} buffers`);
  views.forEach((view, i) =>
    assertStrictEquals(decoder.decode(view), line.replace("someone", `u${i % 10}`))
  );
});

Deno.test("LineArena gives a long line bytes of its own", () => {
  const arena = new LineArena();
  const small = arena.encode("MSG a b\n");
  const long = arena.encode("MSG a " + "z".repeat(ARENA_BYTES) + "\n");
  assertNotStrictEquals(long.buffer, small.buffer);
  assertStrictEquals(long.byteLength, ARENA_BYTES + 7);
  assertEquals(decoder.decode(arena.encode("MSG c d\n")), "MSG c d\n");
});
