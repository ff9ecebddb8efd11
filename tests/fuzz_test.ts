/**
 * Seeded, bounded fuzzing: random and mutated protocol lines, split at random
 * byte boundaries, thrown at the line framer and the command parser, and over
 * sockets at a live server. A failure names its seed, so it can be replayed.
 */
import { LineFramer, type LineSink } from "../lib/line_framer.ts";
import { parseLine, sanitizeText } from "../lib/protocol.ts";
import { assert, startServer, TestClient } from "./helpers.ts";

/** mulberry32: a small, fast, seedable PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [1, 2, 3, 42, 1337, 20261125];
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

const WORDS = ["LOGIN", "MSG", "WHO", "DM", "PING", "QUIT", "PROXY", "msg", "", "LOGIN ", "DM  x"];
const PIECES = [
  "alice",
  " ",
  "  ",
  "\t",
  "\r",
  "\x1b[31m",
  "\u009b",
  "\u0085",
  "\u200b",
  "\u202e",
  "é",
  "e\u0301",
  "\u{1F600}",
  "\uFEFF",
  "\x00",
  "\x7f",
];

/** A random line, valid or not, as bytes (sometimes with invalid UTF-8 or a very long tail). */
function randomLine(random: () => number, maxLineBytes: number): Uint8Array {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  let text = pick(WORDS);
  const pieces = Math.floor(random() * 8);
  for (let i = 0; i < pieces; i++) text += random() < 0.5 ? " " + pick(PIECES) : pick(PIECES);
  if (random() < 0.05) text += "x".repeat(maxLineBytes + Math.floor(random() * 3 * maxLineBytes));
  let bytes = encoder.encode(text);
  if (random() < 0.2) {
    // Mutate: random bytes anywhere, never a line end (the stream adds those).
    const mutated = Uint8Array.from(bytes);
    for (let i = 0; i < mutated.length; i++) {
      if (random() < 0.05) mutated[i] = Math.floor(random() * 256);
    }
    bytes = mutated.map((b) => (b === 10 ? 0xff : b));
  }
  return bytes;
}

/**
 * What the framer must report for one line sent with `\r\n` or `\n`, by the
 * contract's rules: one `\r` right before the `\n` is dropped.
 */
function expected(line: Uint8Array, crlf: boolean, maxLineBytes: number): string {
  const dropCr = !crlf && line.length > 0 && line[line.length - 1] === 13;
  const body = dropCr ? line.subarray(0, -1) : line;
  return body.length > maxLineBytes ? "<too-long>" : decoder.decode(body);
}

class CheckingSink implements LineSink {
  readonly heard: string[] = [];
  tooLongOpen = false;
  random: () => number = () => 1;
  line(text: string): boolean {
    assert.ok(!this.tooLongOpen, "a line while a too-long line was open");
    this.heard.push(text);
    return this.random() > 0.1; // pause now and then
  }
  lineTooLong(): void {
    assert.ok(!this.tooLongOpen, "two too-long reports for one line");
    this.tooLongOpen = true;
  }
  tooLongLineEnded(): boolean {
    assert.ok(this.tooLongOpen, "a too-long line ended that never started");
    this.tooLongOpen = false;
    this.heard.push("<too-long>");
    return this.random() > 0.1;
  }
}

for (const seed of SEEDS) {
  Deno.test(`fuzz: the framer reports every line once, in order, holding at most the cap (seed ${seed})`, () => {
    const random = prng(seed);
    const maxLineBytes = 16 + Math.floor(random() * 200);
    const want: string[] = [];
    const parts: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const line = randomLine(random, maxLineBytes);
      const crlf = random() < 0.3;
      want.push(expected(line, crlf, maxLineBytes));
      parts.push(...line, ...(crlf ? [13, 10] : [10]));
    }
    const stream = Uint8Array.from(parts);
    const framer = new LineFramer(maxLineBytes);
    const sink = new CheckingSink();
    sink.random = random;
    let offset = 0;
    while (offset < stream.length || framer.paused) {
      if (framer.paused) {
        framer.resume(sink);
        continue;
      }
      const space = framer.space();
      const size = Math.min(space.length, stream.length - offset, 1 + Math.floor(random() * 300));
      space.set(stream.subarray(offset, offset + size));
      offset += size;
      framer.commit(size, sink);
      assert.ok(framer.heldBytes <= maxLineBytes + 1, `held ${framer.heldBytes} (seed ${seed})`);
    }
    assert.equal(sink.heard.length, want.length, `seed ${seed}`);
    sink.heard.forEach((got, i) => assert.equal(got, want[i], `line ${i} (seed ${seed})`));
  });
}

Deno.test("fuzz: parseLine never throws and its texts carry no control character but TAB", () => {
  const random = prng(7);
  for (let i = 0; i < 50_000; i++) {
    const line = decoder.decode(randomLine(random, 64));
    const command = parseLine(line);
    if (command.kind === "msg" || command.kind === "dm") {
      assert.ok(!/[^\P{Cc}\t]/u.test(command.text), JSON.stringify(command.text));
      assert.equal(sanitizeText(command.text), command.text);
    }
    if (command.kind === "dm") assert.ok(!command.target.includes(" "));
  }
});

Deno.test("fuzz: a live server stays healthy under seeded garbage from many clients", async () => {
  const server = startServer({ maxLineBytes: 256, idleTimeout: 10, metricsPort: 0 });
  try {
    await using watcher = await TestClient.login(server, "watcher");
    const attack = async (seed: number) => {
      const random = prng(seed);
      const client = await TestClient.connect(server);
      try {
        for (let round = 0; round < 40; round++) {
          let chunk: number[] = [];
          for (let i = 0; i < 20; i++) chunk.push(...randomLine(random, 256), 10);
          if (random() < 0.3) {
            chunk = chunk.map((b) => (random() < 0.01 ? Math.floor(random() * 256) : b));
          }
          await client.sendRaw(Uint8Array.from(chunk));
        }
      } catch {
        // The server may close a client that sent QUIT; that is its right.
      } finally {
        await client.dispose();
      }
    };
    await Promise.all(SEEDS.map(attack));
    // The hub still answers the watcher, which heard only what others may send it.
    const heard = await watcher.sync();
    assert.ok(heard.every((line) => /^(MSG|DM|INFO) /.test(line)), heard.join("\n"));
    const response = await fetch(`http://127.0.0.1:${server.metricsAddr!.port}/metrics`);
    const metrics = await response.text();
    // Departures may still be in flight; the watcher is connected in any case.
    assert.match(metrics, /^chat_connections [1-9]\d*$/m);
    assert.match(metrics, /^chat_disconnects_total\{reason="error"\} 0$/m);
  } finally {
    await server.shutdown();
  }
});
