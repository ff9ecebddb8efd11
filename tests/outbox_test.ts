/** Unit tests of the outbox: ordering, coalescing (without a copy for arena lines), the byte budget, ending and failing. */
import { assertEquals, assertNotStrictEquals, assertStrictEquals } from "@std/assert";
import { LineArena } from "../lib/line_arena.ts";
import { type ByteWriter, Outbox } from "../lib/outbox.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** One write the fake writer has been asked for, settled by the test. */
interface PendingWrite {
  /** What the outbox asked to write, copied when asked and decoded. */
  readonly text: string;
  readonly length: number;
  /** Says how many bytes the "kernel" took. */
  accept(count?: number): void;
  fail(error: unknown): void;
}

/** A writer whose writes stay pending until the test settles them. */
class FakeWriter implements ByteWriter {
  /** Every write asked for, in order. */
  readonly writes: PendingWrite[] = [];
  /** The bytes accepted so far, in order, decoded. */
  accepted = "";
  #waiters: (() => void)[] = [];

  write(data: Uint8Array): Promise<number> {
    const text = decoder.decode(data);
    const length = data.length;
    return new Promise<number>((resolve, reject) => {
      this.writes.push({
        text,
        length,
        accept: (count = length) => {
          this.accepted += decoder.decode(data.slice(0, count));
          resolve(count);
        },
        fail: reject,
      });
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Resolves with write number `index` (from 0) once the outbox has asked for it. */
  async nth(index: number): Promise<PendingWrite> {
    while (this.writes.length <= index) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.writes[index]!;
  }
}

/** Lets queued microtasks run; used only to show that nothing more happens. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

const noError = {
  writeFailed(error: unknown): void {
    throw new Error(`unexpected write error: ${error}`);
  },
};

Deno.test("Outbox writes what one task queues in one write, and chunks queued during a write in the next", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox(writer, 1000, noError);
  assertEquals(outbox.push(bytes("a\n")), true);
  assertEquals(outbox.push(bytes("b\n")), true);
  assertEquals(writer.writes.length, 0, "the write starts after the current task");
  const first = await writer.nth(0);
  assertEquals(first.text, "a\nb\n");
  outbox.push(bytes("c\n"));
  outbox.push(bytes("d\n"));
  outbox.push(bytes("e\n"));
  await flushMicrotasks();
  assertEquals(writer.writes.length, 1, "no second write while the first is under way");
  first.accept();
  const second = await writer.nth(1);
  assertEquals(second.text, "c\nd\ne\n");
  second.accept();
  await outbox.end(undefined, false);
  assertEquals(writer.writes.length, 2);
  assertEquals(writer.accepted, "a\nb\nc\nd\ne\n");
});

Deno.test("Outbox keeps order across partial writes and chunks queued meanwhile", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox(writer, 1000, noError);
  outbox.push(bytes("hello "));
  outbox.push(bytes("world\n"));
  const first = await writer.nth(0);
  assertEquals(first.text, "hello world\n");
  outbox.push(bytes("next\n"));
  first.accept(3);
  const second = await writer.nth(1);
  assertEquals(second.text, "lo world\n", "the rest of a partial write comes first");
  second.accept(5);
  const third = await writer.nth(2);
  assertEquals(third.text, "rld\n");
  outbox.push(bytes("last\n"));
  third.accept();
  const fourth = await writer.nth(3);
  assertEquals(fourth.text, "next\nlast\n");
  fourth.accept(1);
  const fifth = await writer.nth(4);
  assertEquals(fifth.text, "ext\nlast\n");
  fifth.accept();
  await outbox.end(undefined, false);
  assertEquals(writer.accepted, "hello world\nnext\nlast\n");
});

Deno.test("Outbox counts queued and in-flight bytes as pending, less as writes complete", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox(writer, 1000, noError);
  assertEquals(outbox.pendingBytes, 0);
  outbox.push(bytes("0123456789"));
  assertEquals(outbox.pendingBytes, 10);
  const first = await writer.nth(0);
  assertEquals(outbox.pendingBytes, 10, "a write under way is still pending");
  outbox.push(bytes("abcde"));
  assertEquals(outbox.pendingBytes, 15);
  first.accept(4);
  const second = await writer.nth(1);
  assertEquals(second.text, "456789");
  assertEquals(outbox.pendingBytes, 11);
  second.accept(6);
  const third = await writer.nth(2);
  assertEquals(third.text, "abcde");
  assertEquals(outbox.pendingBytes, 5);
  const ended = outbox.end(undefined, false);
  third.accept();
  await ended;
  assertEquals(outbox.pendingBytes, 0);
});

Deno.test("Outbox refuses a push that would pass its byte budget, and queues nothing of it", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox(writer, 10, noError);
  assertEquals(outbox.push(bytes("aaaaaa")), true);
  assertEquals(outbox.push(bytes("bbbbb")), false);
  assertEquals(outbox.pendingBytes, 6);
  assertEquals(outbox.push(bytes("cccc")), true, "exactly the budget is allowed");
  assertEquals(outbox.pendingBytes, 10);
  assertEquals(outbox.push(bytes("d")), false);
  const first = await writer.nth(0);
  assertEquals(first.text, "aaaaaacccc");
  // In-flight bytes count against the budget until the kernel takes them.
  assertEquals(outbox.push(bytes("e")), false);
  first.accept(5);
  const second = await writer.nth(1);
  assertEquals(second.text, "acccc");
  assertEquals(outbox.push(bytes("ffffff")), false);
  assertEquals(outbox.push(bytes("fffff")), true);
  assertEquals(outbox.pendingBytes, 10);
  const ended = outbox.end(undefined, false);
  second.accept();
  (await writer.nth(2)).accept();
  await ended;
  assertEquals(writer.accepted, "aaaaaaccccfffff");
});

Deno.test("Outbox end() sends the last line after the queued data and resolves once written", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox(writer, 1000, noError);
  outbox.push(bytes("a\n"));
  const first = await writer.nth(0);
  outbox.push(bytes("b\n"));
  let endedAt: string | undefined;
  const ended = outbox.end(bytes("ERR idle-timeout\n"), false).then(() => {
    endedAt = writer.accepted;
  });
  assertEquals(outbox.push(bytes("late\n")), true, "a push after end is dropped, not refused");
  first.accept();
  const second = await writer.nth(1);
  assertEquals(second.text, "b\nERR idle-timeout\n");
  await flushMicrotasks();
  assertEquals(endedAt, undefined, "end() resolved before its last line was written");
  second.accept();
  await ended;
  assertEquals(endedAt, "a\nb\nERR idle-timeout\n");
  assertEquals(writer.writes.length, 2);
  assertEquals(outbox.pendingBytes, 0);
});

Deno.test("Outbox end() may pass the byte budget with its last line", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox(writer, 4, noError);
  assertEquals(outbox.push(bytes("abcd")), true);
  const ended = outbox.end(bytes("ERR server-shutdown\n"), false);
  (await writer.nth(0)).accept();
  await ended;
  assertEquals(writer.accepted, "abcdERR server-shutdown\n");
});

Deno.test("Outbox end() with nothing queued writes only the last line, or nothing", async () => {
  const writer = new FakeWriter();
  const quiet = new Outbox(writer, 1000, noError);
  await quiet.end(undefined, false);
  await flushMicrotasks();
  assertEquals(writer.writes.length, 0);

  const outbox = new Outbox(writer, 1000, noError);
  const ended = outbox.end(bytes("ERR server-full\n"), false);
  const only = await writer.nth(0);
  assertEquals(only.text, "ERR server-full\n");
  only.accept();
  await ended;
  await outbox.end(bytes("again\n"), false);
  await flushMicrotasks();
  assertEquals(writer.writes.length, 1, "a second end() writes nothing");
});

Deno.test("Outbox end(line, true) discards queued data but finishes the write under way", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox(writer, 1000, noError);
  outbox.push(bytes("in flight\n"));
  const first = await writer.nth(0);
  outbox.push(bytes("queued 1\n"));
  outbox.push(bytes("queued 2\n"));
  const ended = outbox.end(bytes("ERR slow-consumer\n"), true);
  assertEquals(outbox.pendingBytes, "in flight\n".length + "ERR slow-consumer\n".length);
  first.accept(4);
  const second = await writer.nth(1);
  assertEquals(second.text, "light\n", "the write under way is never cut short");
  assertEquals(outbox.pendingBytes, "light\n".length + "ERR slow-consumer\n".length);
  second.accept();
  const third = await writer.nth(2);
  assertEquals(third.text, "ERR slow-consumer\n");
  third.accept();
  await ended;
  assertEquals(writer.accepted, "in flight\nERR slow-consumer\n");
  assertEquals(writer.writes.length, 3);
});

Deno.test("Outbox end(line, true) before the first write starts sends only the last line", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox(writer, 1000, noError);
  outbox.push(bytes("never\n"));
  const ended = outbox.end(bytes("ERR slow-consumer\n"), true);
  const only = await writer.nth(0);
  assertEquals(only.text, "ERR slow-consumer\n");
  only.accept();
  await ended;
  assertEquals(writer.accepted, "ERR slow-consumer\n");
});

Deno.test("Outbox reports a failed write once and drops everything after it", async () => {
  const writer = new FakeWriter();
  const errors: unknown[] = [];
  const outbox = new Outbox(writer, 1000, { writeFailed: (error) => errors.push(error) });
  outbox.push(bytes("first\n"));
  const first = await writer.nth(0);
  outbox.push(bytes("queued\n"));
  const failure = new Error("connection reset");
  first.fail(failure);
  await flushMicrotasks();
  assertEquals(errors, [failure]);
  assertEquals(outbox.pendingBytes, 0);
  assertEquals(
    outbox.push(bytes("later\n")),
    true,
    "a push after a failure is dropped, not refused",
  );
  assertEquals(outbox.pendingBytes, 0);
  await outbox.end(bytes("ERR idle-timeout\n"), false);
  await flushMicrotasks();
  assertEquals(writer.writes.length, 1, "nothing is written after a failure");
  assertEquals(errors.length, 1);
});

Deno.test("Outbox end() resolves when the write under way fails", async () => {
  const writer = new FakeWriter();
  const errors: unknown[] = [];
  const outbox = new Outbox(writer, 1000, { writeFailed: (error) => errors.push(error) });
  outbox.push(bytes("first\n"));
  const first = await writer.nth(0);
  const ended = outbox.end(bytes("ERR server-shutdown\n"), false);
  first.fail(new Error("broken pipe"));
  await ended;
  assertEquals(errors.length, 1);
  assertEquals(writer.writes.length, 1);
  assertEquals(outbox.pendingBytes, 0);
});

Deno.test("Outbox takes one chunk larger than its budget when empty, and nothing more while it waits", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox(writer, 10, noError);
  assertEquals(outbox.push(bytes("a big WHO reply\n")), true);
  assertEquals(outbox.push(bytes("x")), false);
  const first = await writer.nth(0);
  first.accept();
  await flushMicrotasks();
  assertEquals(outbox.push(bytes("fits\n")), true);
  (await writer.nth(1)).accept();
  await outbox.end(undefined, false);
  assertEquals(writer.accepted, "a big WHO reply\nfits\n");
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
  const outbox = new Outbox(writer, 1 << 20, { writeFailed: () => {} });
  const lines = ["MSG a 1\n", "MSG b 2\n", "INFO c disconnected\n"];
  const views = lines.map((line) => arena.encode(line));
  for (const view of views) outbox.push(view);
  await outbox.end(undefined, false);
  assertEquals(writer.handed.length, 1);
  const written = writer.handed[0]!;
  assertStrictEquals(written.buffer, views[0]!.buffer, "the write is a view of the arena");
  assertStrictEquals(written.byteOffset, views[0]!.byteOffset);
  assertStrictEquals(decoder.decode(written), lines.join(""));
});

Deno.test("Outbox copies into one write when queued chunks are not contiguous, in order", async () => {
  const arena = new LineArena();
  const writer = new KeepingWriter();
  const outbox = new Outbox(writer, 1 << 20, { writeFailed: () => {} });
  const first = arena.encode("MSG a 1\n");
  const skipped = arena.encode("MSG me mine\n"); // the sender's own line is not queued to it
  const third = arena.encode("MSG b 2\n");
  outbox.push(first);
  outbox.push(new TextEncoder().encode("PONG\n"));
  outbox.push(third);
  outbox.push(first); // the same bytes again: not contiguous with `third`
  await outbox.end(undefined, false);
  assertEquals(writer.handed.length, 1);
  assertNotStrictEquals(writer.handed[0]!.buffer, skipped.buffer);
  assertEquals(decoder.decode(writer.handed[0]!), "MSG a 1\nPONG\nMSG b 2\nMSG a 1\n");
  assertEquals(outbox.pendingBytes, 0);
});
