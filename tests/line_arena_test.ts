/** Unit tests of the line arena and of outboxes merging what it hands out. */
import { assert } from "./helpers.ts";
import { ARENA_BYTES, LineArena } from "../lib/line_arena.ts";
import { type ByteWriter, Outbox } from "../lib/outbox.ts";

const decoder = new TextDecoder();

Deno.test("LineArena encodes consecutive lines back to back in one buffer", () => {
  const arena = new LineArena();
  const first = arena.encode("MSG a h\u00e9\n");
  const second = arena.encode("MSG b x\n");
  assert.equal(decoder.decode(first), "MSG a h\u00e9\n");
  assert.equal(decoder.decode(second), "MSG b x\n");
  assert.equal(first.buffer, second.buffer);
  assert.equal(first.byteOffset + first.byteLength, second.byteOffset);
});

Deno.test("LineArena starts a fresh buffer when full and never rewrites bytes it handed out", () => {
  const arena = new LineArena();
  const line = "MSG someone " + "y".repeat(100) + "\n";
  const views = Array.from(
    { length: Math.ceil((ARENA_BYTES * 3) / line.length) },
    (_, i) => arena.encode(line.replace("someone", `u${i % 10}`)),
  );
  const buffers = new Set(views.map((v) => v.buffer));
  assert.ok(buffers.size >= 3, `expected the arena to roll over, got ${buffers.size} buffers`);
  views.forEach((view, i) =>
    assert.equal(decoder.decode(view), line.replace("someone", `u${i % 10}`))
  );
});

Deno.test("LineArena gives a long line bytes of its own", () => {
  const arena = new LineArena();
  const small = arena.encode("MSG a b\n");
  const long = arena.encode("MSG a " + "z".repeat(ARENA_BYTES) + "\n");
  assert.notEqual(long.buffer, small.buffer);
  assert.equal(long.byteLength, ARENA_BYTES + 7);
  assert.equal(decoder.decode(arena.encode("MSG c d\n")), "MSG c d\n");
});

/** A writer that takes everything at once and keeps what it was handed. */
class KeepingWriter implements ByteWriter {
  readonly handed: Uint8Array[] = [];
  write(bytes: Uint8Array): Promise<number> {
    this.handed.push(bytes);
    return Promise.resolve(bytes.byteLength);
  }
}

Deno.test("Outbox writes a run of arena lines as one view of the arena, without copying", async () => {
  const arena = new LineArena();
  const writer = new KeepingWriter();
  const outbox = new Outbox(writer, 1 << 20, () => {});
  const lines = ["MSG a 1\n", "MSG b 2\n", "INFO c disconnected\n"];
  const views = lines.map((line) => arena.encode(line));
  for (const view of views) outbox.push(view);
  await outbox.end(undefined, false);
  assert.equal(writer.handed.length, 1);
  const written = writer.handed[0]!;
  assert.equal(written.buffer, views[0]!.buffer, "the write is a view of the arena");
  assert.equal(written.byteOffset, views[0]!.byteOffset);
  assert.equal(decoder.decode(written), lines.join(""));
});

Deno.test("Outbox copies into one write when queued chunks are not contiguous, in order", async () => {
  const arena = new LineArena();
  const writer = new KeepingWriter();
  const outbox = new Outbox(writer, 1 << 20, () => {});
  const first = arena.encode("MSG a 1\n");
  const skipped = arena.encode("MSG me mine\n"); // the sender's own line is not queued to it
  const third = arena.encode("MSG b 2\n");
  outbox.push(first);
  outbox.push(new TextEncoder().encode("PONG\n"));
  outbox.push(third);
  outbox.push(first); // the same bytes again: not contiguous with `third`
  await outbox.end(undefined, false);
  assert.equal(writer.handed.length, 1);
  assert.notEqual(writer.handed[0]!.buffer, skipped.buffer);
  assert.equal(decoder.decode(writer.handed[0]!), "MSG a 1\nPONG\nMSG b 2\nMSG a 1\n");
  assert.equal(outbox.pendingBytes, 0);
});
