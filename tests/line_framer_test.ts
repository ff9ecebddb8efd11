/** Unit tests of the line framer: line ends, UTF-8, the line cap and the read buffer's size. */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { LineFramer, type LineSink, MAX_READ_BYTES, MIN_READ_BYTES } from "../lib/line_framer.ts";
import { seededRandom as random } from "./seeded_random.ts";

/** What a sink heard, in order: a line's text, or one of the two cap events. */
type Heard = { readonly line: string } | "too-long" | "ended";

/** A sink that records every call in order. */
class RecordingSink implements LineSink {
  readonly heard: Heard[] = [];
  /** Lines (or ends of dropped lines) to take before asking the framer to pause; Infinity: never. */
  allowance = Infinity;

  line(text: string): boolean {
    this.heard.push({ line: text });
    return --this.allowance > 0;
  }

  lineTooLong(): void {
    this.heard.push("too-long");
  }

  tooLongLineEnded(): boolean {
    this.heard.push("ended");
    return --this.allowance > 0;
  }

  /** Returns what was heard since the last call, and forgets it. */
  take(): Heard[] {
    return this.heard.splice(0);
  }
}

const encoder = new TextEncoder();

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** The framer's whole read buffer: the held line plus the free space. */
function bufferSize(framer: LineFramer): number {
  return framer.heldBytes + framer.space().length;
}

/**
 * Feeds `data` the way a socket would: copied into `space()`, then committed,
 * split into several reads when it does not fit. `afterCommit` runs after each read.
 */
function feed(
  framer: LineFramer,
  data: Uint8Array | string,
  sink: LineSink,
  afterCommit: () => void = () => {},
): void {
  const bytes = bytesOf(data);
  let offset = 0;
  while (offset < bytes.length) {
    const space = framer.space();
    assert(space.length > 0, "the framer must always leave room to read into");
    const count = Math.min(space.length, bytes.length - offset);
    space.set(bytes.subarray(offset, offset + count));
    framer.commit(count, sink);
    offset += count;
    afterCommit();
  }
}

/** Feeds `data` as exactly one read; fails when it does not fit. */
function feedOneRead(framer: LineFramer, data: Uint8Array | string, sink: LineSink): void {
  const bytes = bytesOf(data);
  const space = framer.space();
  assert(bytes.length <= space.length, `${bytes.length} bytes do not fit in one read`);
  space.set(bytes);
  framer.commit(bytes.length, sink);
}

/** Feeds `data` one byte per read. */
function feedByteByByte(framer: LineFramer, data: Uint8Array | string, sink: LineSink): void {
  for (const byte of bytesOf(data)) feedOneRead(framer, Uint8Array.of(byte), sink);
}

Deno.test("LineFramer splits lines on \\n and drops the \\r of \\r\\n", () => {
  const framer = new LineFramer(4096);
  const sink = new RecordingSink();
  feedOneRead(framer, "LOGIN alice\nMSG hi\r\nWHO\n", sink);
  assertEquals(sink.take(), [{ line: "LOGIN alice" }, { line: "MSG hi" }, { line: "WHO" }]);
  assertEquals(framer.heldBytes, 0);
});

Deno.test("LineFramer keeps a lone \\r inside a line, and drops only the one before \\n", () => {
  const framer = new LineFramer(4096);
  const sink = new RecordingSink();
  feedOneRead(framer, "a\rb\n\r\r\n\r\nend\r\r\n", sink);
  assertEquals(sink.take(), [
    { line: "a\rb" },
    { line: "\r" },
    { line: "" },
    { line: "end\r" },
  ]);
  // A \r at the end of one read and its \n in the next is still one line end.
  feedOneRead(framer, "x\r", sink);
  assertEquals(sink.take(), []);
  assertEquals(framer.heldBytes, 2);
  feedOneRead(framer, "\n", sink);
  assertEquals(sink.take(), [{ line: "x" }]);
  // And a \r at the end of one read followed by more text is kept in the line.
  feedOneRead(framer, "y\r", sink);
  feedOneRead(framer, "z\n", sink);
  assertEquals(sink.take(), [{ line: "y\rz" }]);
});

Deno.test("LineFramer reports empty lines as empty strings", () => {
  const framer = new LineFramer(4096);
  const sink = new RecordingSink();
  feedOneRead(framer, "\n\r\n\nPING\n\n", sink);
  assertEquals(sink.take(), [
    { line: "" },
    { line: "" },
    { line: "" },
    { line: "PING" },
    { line: "" },
  ]);
});

Deno.test("LineFramer reassembles lines split at every possible point, multi-byte characters included", () => {
  const sample = encoder.encode("h\u00e9llo w\u00f6rld \u{1F600}\r\nsecond line\n");
  const expected: Heard[] = [{ line: "h\u00e9llo w\u00f6rld \u{1F600}" }, { line: "second line" }];
  for (let split = 0; split <= sample.length; split++) {
    const framer = new LineFramer(4096);
    const sink = new RecordingSink();
    feed(framer, sample.subarray(0, split), sink);
    feed(framer, sample.subarray(split), sink);
    assertEquals(sink.take(), expected, `split at byte ${split}`);
    assertEquals(framer.heldBytes, 0);
  }
  for (let first = 1; first < sample.length; first++) {
    for (let second = first + 1; second < sample.length; second++) {
      const framer = new LineFramer(4096);
      const sink = new RecordingSink();
      feed(framer, sample.subarray(0, first), sink);
      feed(framer, sample.subarray(first, second), sink);
      feed(framer, sample.subarray(second), sink);
      assertEquals(sink.take(), expected, `split at bytes ${first} and ${second}`);
    }
  }
});

Deno.test("LineFramer reassembles a line sent one byte per read", () => {
  const framer = new LineFramer(4096);
  const sink = new RecordingSink();
  feedByteByByte(framer, "MSG \u00fcber \u{1F680} caf\u00e9\r\n", sink);
  assertEquals(sink.take(), [{ line: "MSG \u00fcber \u{1F680} caf\u00e9" }]);
});

Deno.test("LineFramer reports every line of a read that holds many, in order", () => {
  const framer = new LineFramer(4096);
  const sink = new RecordingSink();
  const lines = Array.from({ length: 30 }, (_, i) => `MSG line ${i}`);
  const text = lines.map((line, i) => line + (i % 2 === 0 ? "\n" : "\r\n")).join("") + "tail";
  feedOneRead(framer, text, sink);
  assertEquals(sink.take(), lines.map((line) => ({ line })));
  assertEquals(framer.heldBytes, 4);
  feedOneRead(framer, "\n", sink);
  assertEquals(sink.take(), [{ line: "tail" }]);
});

Deno.test("LineFramer decodes invalid UTF-8 as U+FFFD", () => {
  const framer = new LineFramer(4096);
  const sink = new RecordingSink();
  feedOneRead(
    framer,
    Uint8Array.of(
      ...[0x61, 0xff, 0x62, 0x0a], // a stray byte
      ...[0xc3, 0x0a], // a sequence cut by the line end
      ...[0xe2, 0x82, 0x61, 0x0a], // a sequence cut by ASCII
      ...[0xc0, 0xaf, 0x0a], // an overlong encoding
    ),
    sink,
  );
  assertEquals(sink.take(), [
    { line: "a\uFFFDb" },
    { line: "\uFFFD" },
    { line: "\uFFFDa" },
    { line: "\uFFFD\uFFFD" },
  ]);
});

Deno.test("LineFramer keeps a byte order mark at the start of a line", () => {
  const framer = new LineFramer(4096);
  const sink = new RecordingSink();
  feedOneRead(framer, Uint8Array.of(0xef, 0xbb, 0xbf, 0x68, 0x69, 0x0a), sink);
  feedOneRead(framer, Uint8Array.of(0xef, 0xbb, 0xbf, 0x0a), sink);
  assertEquals(sink.take(), [{ line: "\uFEFFhi" }, { line: "\uFEFF" }]);
});

Deno.test("LineFramer passes a line of exactly maxLineBytes, however it ends and arrives", () => {
  const max = 16;
  const exact = "x".repeat(max);
  for (const end of ["\n", "\r\n"]) {
    const oneRead = new LineFramer(max);
    const sink = new RecordingSink();
    feedOneRead(oneRead, exact + end, sink);
    assertEquals(sink.take(), [{ line: exact }], `one read, end ${JSON.stringify(end)}`);

    const byteByByte = new LineFramer(max);
    feedByteByByte(byteByByte, exact + end, sink);
    assertEquals(sink.take(), [{ line: exact }], `byte by byte, end ${JSON.stringify(end)}`);
  }
  // Multi-byte characters count as bytes: eight two-byte characters fill sixteen bytes.
  const framer = new LineFramer(max);
  const sink = new RecordingSink();
  feedByteByByte(framer, "\u00e9".repeat(8) + "\n", sink);
  assertEquals(sink.take(), [{ line: "\u00e9".repeat(8) }]);
  feedByteByByte(framer, "\u00e9".repeat(8) + "a\n", sink);
  assertEquals(sink.take(), ["too-long", "ended"]);
});

Deno.test("LineFramer passes a line of exactly maxLineBytes whose \\r and \\n come in different reads", () => {
  const max = 16;
  const framer = new LineFramer(max);
  const sink = new RecordingSink();
  feedOneRead(framer, "y".repeat(max) + "\r", sink);
  assertEquals(sink.take(), []);
  assertStrictEquals(framer.heldBytes, max + 1);
  feedOneRead(framer, "\nnext\n", sink);
  assertEquals(sink.take(), [{ line: "y".repeat(max) }, { line: "next" }]);
  assertEquals(framer.heldBytes, 0);
});

Deno.test("LineFramer reports a line one byte over the cap once, then its end, then reads the next line clean", () => {
  const max = 16;
  // Streamed: the report comes with the byte that passes the cap.
  const framer = new LineFramer(max);
  const sink = new RecordingSink();
  feedByteByByte(framer, "z".repeat(max), sink);
  assertEquals(sink.take(), []);
  feedOneRead(framer, "z", sink);
  assertEquals(sink.take(), ["too-long"]);
  feedByteByByte(framer, "zzz\r", sink);
  assertEquals(sink.take(), []);
  feedOneRead(framer, "\n", sink);
  assertEquals(sink.take(), ["ended"]);
  feedOneRead(framer, "next\n", sink);
  assertEquals(sink.take(), [{ line: "next" }]);

  // All in one read: the same events in the same order.
  const whole = new LineFramer(max);
  feedOneRead(whole, "z".repeat(max + 1) + "\nnext\r\n", sink);
  assertEquals(sink.take(), ["too-long", "ended", { line: "next" }]);

  // A \r as the byte past the cap is not a line end unless its \n follows.
  const almost = new LineFramer(max);
  feedOneRead(almost, "z".repeat(max) + "\r", sink);
  assertEquals(sink.take(), []);
  feedOneRead(almost, "z", sink);
  assertEquals(sink.take(), ["too-long"]);
  feedOneRead(almost, "\nok\n", sink);
  assertEquals(sink.take(), ["ended", { line: "ok" }]);

  // maxLineBytes + 1 bytes of text ended by \r\n is still too long.
  const crlf = new LineFramer(max);
  feedOneRead(crlf, "z".repeat(max + 1) + "\r\nok\n", sink);
  assertEquals(sink.take(), ["too-long", "ended", { line: "ok" }]);
});

Deno.test("LineFramer reports a too-long line once, as soon as the cap is passed", () => {
  const max = 100;
  const framer = new LineFramer(max);
  const sink = new RecordingSink();
  feedOneRead(framer, "a".repeat(60), sink);
  assertEquals(sink.take(), []);
  feedOneRead(framer, "a".repeat(41), sink);
  assertEquals(sink.take(), ["too-long"]);
  assertEquals(framer.heldBytes, 0);
  for (let i = 0; i < 20; i++) feedOneRead(framer, "a".repeat(200), sink);
  assertEquals(sink.take(), []);
  assertEquals(framer.heldBytes, 0);
  feedOneRead(framer, "aaa\nPING\n", sink);
  assertEquals(sink.take(), ["ended", { line: "PING" }]);
});

Deno.test("LineFramer holds at most maxLineBytes + 1 bytes of a megabyte sent without a newline", () => {
  const max = 4096;
  const framer = new LineFramer(max);
  const sink = new RecordingSink();
  const chunk = new Uint8Array(1000).fill(0x61);
  let maxHeld = 0;
  let maxBuffer = 0;
  const watch = (): void => {
    maxHeld = Math.max(maxHeld, framer.heldBytes);
    maxBuffer = Math.max(maxBuffer, bufferSize(framer));
  };
  for (let sent = 0; sent < 1_000_000; sent += chunk.length) feed(framer, chunk, sink, watch);
  assert(maxHeld <= max + 1, `held ${maxHeld} bytes of one line`);
  assert(maxBuffer <= MAX_READ_BYTES, `read buffer grew to ${maxBuffer} bytes`);
  assertEquals(sink.take(), ["too-long"]);
  feed(framer, "\nPING\n", sink);
  assertEquals(sink.take(), ["ended", { line: "PING" }]);
});

Deno.test("LineFramer grows its buffer for a long line up to the cap and shrinks it back once quiet", () => {
  const max = 100_000; // above MAX_READ_BYTES, so the buffer must grow past it to hold the line
  const framer = new LineFramer(max);
  const sink = new RecordingSink();
  assertStrictEquals(framer.space().length, MIN_READ_BYTES);
  let maxBuffer = 0;
  const watch = (): void => {
    maxBuffer = Math.max(maxBuffer, bufferSize(framer));
  };
  const long = "L".repeat(max);
  feed(framer, long, sink, watch);
  assertEquals(sink.take(), []);
  assertStrictEquals(framer.heldBytes, max);
  assert(maxBuffer > max, `the buffer (${maxBuffer} bytes) must hold the whole line`);
  assert(maxBuffer <= max + 2, `the buffer grew to ${maxBuffer} bytes, past the cap`);
  feed(framer, "\r", sink, watch);
  feed(framer, "\n", sink, watch);
  assertEquals(sink.take(), [{ line: long }]);
  assert(maxBuffer <= max + 2, `the buffer grew to ${maxBuffer} bytes, past the cap`);
  feedOneRead(framer, "PING\n", sink);
  assertEquals(sink.take(), [{ line: "PING" }]);
  assertStrictEquals(framer.space().length, MIN_READ_BYTES);
});

Deno.test("LineFramer grows its buffer for a busy sender, no further than MAX_READ_BYTES, and shrinks it back", () => {
  const framer = new LineFramer(4096);
  const sink = new RecordingSink();
  const lines = Array.from({ length: 20_000 }, (_, i) => `MSG ${i}`);
  let maxBuffer = 0;
  feed(framer, lines.join("\n") + "\n", sink, () => {
    maxBuffer = Math.max(maxBuffer, bufferSize(framer));
  });
  assertEquals(sink.take(), lines.map((line) => ({ line })));
  assert(maxBuffer > MIN_READ_BYTES, `the buffer never grew (${maxBuffer} bytes)`);
  assert(maxBuffer <= MAX_READ_BYTES, `the buffer grew to ${maxBuffer} bytes`);
  feedOneRead(framer, "PING\n", sink);
  assertEquals(sink.take(), [{ line: "PING" }]);
  assertStrictEquals(framer.space().length, MIN_READ_BYTES);
});

/** What a framer must have reported once it has read `stream` (a model, byte by byte). */
function expectedEvents(stream: Uint8Array, max: number): Heard[] {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const heard: Heard[] = [];
  let start = 0;
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] !== 0x0a) continue;
    const stop = i > start && stream[i - 1] === 0x0d ? i - 1 : i;
    if (stop - start > max) heard.push("too-long", "ended");
    else heard.push({ line: decoder.decode(stream.subarray(start, stop)) });
    start = i + 1;
  }
  const tail = stream.length - start;
  if (tail > max + 1 || (tail === max + 1 && stream[stream.length - 1] !== 0x0d)) {
    heard.push("too-long");
  }
  return heard;
}

Deno.test("LineFramer reports, after every read of a random stream, exactly what the bytes so far call for", () => {
  const pieces = [[0x61], [0x62], [0xc3, 0xa9], [0x0d], [0x0a], [0x0d, 0x0a], [0xff]];
  for (let seed = 1; seed <= 200; seed++) {
    const next = random(seed);
    const max = 1 + Math.floor(next() * 12);
    const bytes: number[] = [];
    while (bytes.length < 400) bytes.push(...pieces[Math.floor(next() * pieces.length)]!);
    const stream = Uint8Array.from(bytes);
    const framer = new LineFramer(max);
    const sink = new RecordingSink();
    let offset = 0;
    while (offset < stream.length) {
      const space = framer.space();
      const count = Math.min(space.length, stream.length - offset, 1 + Math.floor(next() * 24));
      space.set(stream.subarray(offset, offset + count));
      framer.commit(count, sink);
      offset += count;
      assertEquals(
        sink.heard,
        expectedEvents(stream.subarray(0, offset), max),
        `seed ${seed}, max ${max}, after ${offset} bytes`,
      );
      assert(framer.heldBytes <= max + 1, `seed ${seed}: held ${framer.heldBytes} bytes`);
    }
  }
});

Deno.test("LineFramer pauses when the sink asks and resumes where it stopped, in order", () => {
  const framer = new LineFramer(64);
  const sink = new RecordingSink();
  sink.allowance = 2;
  const bytes = encoder.encode(`one\ntwo\n${"x".repeat(80)}\nthree\r\nfour\nunfini`);
  framer.space().set(bytes);
  framer.commit(bytes.length, sink);
  assertEquals(sink.take(), [{ line: "one" }, { line: "two" }]);
  assertEquals(framer.paused, true);
  sink.allowance = 1;
  framer.resume(sink);
  assertEquals(sink.take(), ["too-long", "ended"]);
  assertEquals(framer.paused, true);
  sink.allowance = 2;
  framer.resume(sink);
  assertEquals(sink.take(), [{ line: "three" }, { line: "four" }]);
  assertEquals(framer.paused, true);
  sink.allowance = Infinity;
  framer.resume(sink);
  assertEquals(sink.take(), []);
  assertEquals(framer.paused, false);
  assertEquals(framer.heldBytes, 6);
  const rest = encoder.encode("shed\n");
  framer.space().set(rest);
  framer.commit(rest.length, sink);
  assertEquals(sink.take(), [{ line: "unfinished" }]);
});
