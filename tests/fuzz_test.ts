/**
 * Seeded, bounded fuzzing: random and mutated protocol lines, split at random
 * byte boundaries, thrown at the line framer and the command parser, and over
 * sockets at a live server; random IRC lines at the IRC door and bad WebSocket
 * frames at the web door, each while a bystander on every door chats on and
 * with the server's descriptors counted before and after. A failure names its
 * seed, so it can be replayed.
 */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { LineFramer, type LineSink } from "../lib/line_framer.ts";
import { parseLine, sanitizeText } from "../lib/protocol.ts";
import type { ChatServer } from "../lib/server.ts";
import { pollUntil, startServer, TestClient } from "./helpers.ts";
import { IrcClient } from "./irc_client.ts";
import { clientFrame, upgradeRequest, WsClient } from "./ws_client.ts";
import { seededRandom as prng } from "./seeded_random.ts";

const SEEDS = [1, 2, 3, 42, 1337, 20261125];
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

const WORDS = [
  "LOGIN",
  "MSG",
  "WHO",
  "DM",
  "PING",
  "QUIT",
  "PROXY",
  "msg",
  "",
  "LOGIN ",
  "DM  x",
  "HISTORY",
  "HISTORY 1000",
  "HISTORY 5 1-0",
  "HISTORY @",
];
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
    assert(!this.tooLongOpen, "a line while a too-long line was open");
    this.heard.push(text);
    return this.random() > 0.1; // pause now and then
  }
  lineTooLong(): void {
    assert(!this.tooLongOpen, "two too-long reports for one line");
    this.tooLongOpen = true;
  }
  tooLongLineEnded(): boolean {
    assert(this.tooLongOpen, "a too-long line ended that never started");
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
      assert(framer.heldBytes <= maxLineBytes + 1, `held ${framer.heldBytes} (seed ${seed})`);
    }
    assertStrictEquals(sink.heard.length, want.length, `seed ${seed}`);
    sink.heard.forEach((got, i) => assertStrictEquals(got, want[i], `line ${i} (seed ${seed})`));
  });
}

Deno.test("fuzz: parseLine never throws and its texts carry no control character but TAB", () => {
  const random = prng(7);
  for (let i = 0; i < 50_000; i++) {
    const line = decoder.decode(randomLine(random, 64));
    const command = parseLine(line);
    if (command.kind === "msg" || command.kind === "dm") {
      assert(!/[^\P{Cc}\t]/u.test(command.text), JSON.stringify(command.text));
      assertStrictEquals(sanitizeText(command.text), command.text);
    }
    if (command.kind === "dm") assert(!command.target.includes(" "));
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
    assert(heard.every((line) => /^(MSG|DM|INFO) /.test(line)), heard.join("\n"));
    const response = await fetch(`http://127.0.0.1:${server.metricsAddr!.port}/metrics`);
    const metrics = await response.text();
    // Departures may still be in flight; the watcher is connected in any case.
    assertMatch(metrics, /^chat_connections [1-9]\d*$/m);
    assertMatch(metrics, /^chat_disconnects_total\{reason="error"\} 0$/m);
  } finally {
    await server.shutdown();
  }
});

// ---------------------------------------------------------------------------------------------
// The IRC and WebSocket doors: seeded garbage at each, while a bystander on every door chats.

/**
 * The server's open descriptors: this process's, the server being in-process. Listed by `ls`,
 * as Deno reads `/proc/<pid>` only with --allow-all; its one pipe counts in every listing alike.
 */
async function openDescriptors(): Promise<number> {
  const { stdout } = await new Deno.Command("ls", {
    args: ["-1", `/proc/${Deno.pid}/fd`],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return decoder.decode(stdout).split("\n").filter((name) => name !== "").length;
}

/** Waits (polling, under a deadline) until this process holds `count` descriptors. */
async function descriptorsSettle(count: number, what: string): Promise<void> {
  await pollUntil(`${what}: ${count} descriptors open`, openDescriptors, (now) => now === count, {
    everyMs: 25,
  });
}

/** The metrics page over a raw socket that closes (fetch would keep a pooled descriptor). */
async function metricsText(server: ChatServer): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.metricsAddr!.port });
  try {
    await conn.write(
      encoder.encode("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(65536);
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      chunks.push(buffer.slice(0, n));
    }
    return decoder.decode(new Uint8Array(chunks.flatMap((chunk) => [...chunk])));
  } finally {
    conn.close();
  }
}

/** Reads a raw connection until the server closes it (or it is closed here); returns the bytes. */
async function readAll(conn: Deno.Conn, sink: number[] = []): Promise<number[]> {
  const buffer = new Uint8Array(65536);
  while (true) {
    let count: number | null;
    try {
      count = await conn.read(buffer);
    } catch {
      count = null;
    }
    if (count === null) return sink;
    for (let i = 0; i < count; i++) sink.push(buffer[i]!);
  }
}

/** Writes `bytes` in random pieces; false once the server has hung up. */
async function writeInPieces(
  conn: Deno.Conn,
  bytes: Uint8Array,
  random: () => number,
): Promise<boolean> {
  try {
    let at = 0;
    while (at < bytes.length) {
      const size = 1 + Math.floor(random() * 700);
      let piece = bytes.subarray(at, at + size);
      while (piece.length > 0) piece = piece.subarray(await conn.write(piece));
      at += size;
    }
    return true;
  } catch {
    return false;
  }
}

/** Closes `conn`, which may already be closed. */
function hangUp(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/**
 * Bystanders on every door, then `attack` (run for each seed at once), then a
 * chat across doors between the bystanders; the server's descriptors must be
 * back to what they were once the attackers are gone, and once it shuts down.
 */
async function fuzzDoor(
  label: string,
  attack: (server: ChatServer, random: () => number, seed: number) => Promise<void>,
): Promise<void> {
  const before = await openDescriptors();
  const server = startServer({
    maxLineBytes: 1024,
    idleTimeout: 30,
    ircPort: 0,
    webPort: 0,
    metricsPort: 0,
  });
  try {
    const webPort = server.webAddr!.port;
    await using tom = await TestClient.login(server, "tom");
    await using wendy = await WsClient.login(webPort, "wendy");
    await using ivy = await IrcClient.register(server, "ivy");
    await tom.sync();
    await wendy.sync();
    await ivy.sync();
    const withBystanders = await openDescriptors();

    await Promise.all(SEEDS.map((seed) => attack(server, prng(seed), seed)));

    // Every attacker is gone: the server holds no descriptor of theirs.
    await descriptorsSettle(withBystanders, `${label}: after the attack`);
    // The bystanders still chat across doors, and heard nothing an attacker may not send.
    const until = async (read: () => Promise<string | null>, want: string) => {
      const heard: string[] = [];
      while (true) {
        const line = await read();
        assert(line !== null, `closed before ${want}; heard ${heard.join(" | ")}`);
        if (line === want) return heard;
        heard.push(line);
      }
    };
    await wendy.send("MSG from web after the fuzz");
    for (const line of await until(() => tom.readLine(), "MSG wendy from web after the fuzz")) {
      assertMatch(line, /^(MSG|DM|INFO) /);
    }
    await until(() => ivy.readLine(), ":wendy!wendy@chat PRIVMSG #chat :from web after the fuzz");
    await ivy.send("PRIVMSG #chat :from irc after the fuzz");
    await until(() => tom.readLine(), "MSG ivy from irc after the fuzz");
    await until(() => wendy.readLine(), "MSG ivy from irc after the fuzz");
    await tom.send("MSG from tcp after the fuzz");
    await until(() => wendy.readLine(), "MSG tom from tcp after the fuzz");
    await until(() => ivy.readLine(), ":tom!tom@chat PRIVMSG #chat :from tcp after the fuzz");
    const metrics = await metricsText(server);
    assertMatch(metrics, /^chat_connections 3$/m);
    assertMatch(metrics, /^chat_disconnects_total\{reason="error"\} 0$/m);
  } finally {
    await server.shutdown();
  }
  await descriptorsSettle(before, `${label}: after shutdown`);
}

const IRC_COMMANDS = [
  "NICK",
  "USER",
  "JOIN",
  "PART",
  "PRIVMSG",
  "NOTICE",
  "PING",
  "PONG",
  "WHO",
  "WHOIS",
  "MODE",
  "TOPIC",
  "NAMES",
  "LIST",
  "CAP",
  "KICK",
  "AWAY",
  "VERSION",
  "MOTD",
  "USERHOST",
  "ISON",
  "OPER",
  "CHATHISTORY",
  "TAGMSG",
  "privmsg",
  "QUIT",
  "",
  "ÿ",
  "001",
];
const IRC_PARAMS = [
  "#chat",
  "#CHAT",
  "#other",
  "&local",
  "#",
  "ivy",
  "tom",
  "wendy",
  "*",
  "0",
  ":",
  ":hello there",
  ":\x01ACTION waves\x01",
  ":\x01VERSION\x01",
  ":\x01PING 123\x01",
  ":\x01",
  ":\x02bold\x02 \x0304,05red\x03 \x1ditalic\x1d \x1funder\x1f \x16rev\x16 \x0f\x11mono",
  ":\x03999,999",
  "LS",
  "REQ :message-tags",
  "REQ :server-time batch echo-message draft/chathistory",
  "END",
  "LATEST",
  "BEFORE",
  "AROUND",
  "BETWEEN",
  "TARGETS",
  "msgid=1-0",
  "timestamp=2026-12-06T10:00:00.000Z",
  "timestamp=x",
  "1000",
  "99999999999",
  "@time=x",
  "a,b,c,d,e,f",
  "\u{1F600}",
  "\u202e",
  "e\u0301",
  "\x00",
  "\x7f",
];

/** A random IRC line (without its line end), as bytes: sometimes tagged, prefixed, binary or over-long. */
function randomIrcLine(random: () => number): Uint8Array {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  let text = "";
  if (random() < 0.05) text += "@a=b;c ";
  if (random() < 0.05) text += ":x!y@z ";
  text += pick(IRC_COMMANDS);
  const params = Math.floor(random() * 6);
  for (let i = 0; i < params; i++) text += (random() < 0.9 ? " " : "  ") + pick(IRC_PARAMS);
  if (random() < 0.05) text += " :" + "x".repeat(400 + Math.floor(random() * 4000));
  let bytes = encoder.encode(text);
  if (random() < 0.2) {
    bytes = bytes.map((b) => (random() < 0.05 ? Math.floor(random() * 256) : b))
      .map((b) => (b === 10 || b === 13 ? 0xfe : b));
  }
  return bytes;
}

Deno.test("fuzz: the IRC door survives seeded random lines; bystanders chat on, no descriptor leaks", async () => {
  await fuzzDoor("IRC", async (server, random, seed) => {
    const stopAt = performance.now() + 3000;
    const strict = new TextDecoder("utf-8", { fatal: true });
    for (let connection = 0; connection < 8 && performance.now() < stopAt; connection++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.ircAddr!.port });
      const heard = readAll(conn);
      const parts: number[] = [];
      if (random() < 0.6) {
        const nick = `f${seed}x${connection}`;
        parts.push(
          ...encoder.encode(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\nJOIN #chat\r\n`),
        );
      }
      for (let i = 0; i < 150; i++) {
        parts.push(...randomIrcLine(random), ...pick3(random, [13, 10], [10], [13]));
      }
      await writeInPieces(conn, Uint8Array.from(parts), random);
      // Let the server read it all, then leave (by hanging up; some lines above may be QUITs).
      await new Promise((resolve) => setTimeout(resolve, 100));
      hangUp(conn);
      // What it answered is IRC: lines of at most 512 bytes, ending in CRLF, in valid UTF-8.
      const bytes = Uint8Array.from(await heard);
      let start = 0;
      for (let lf = bytes.indexOf(10); lf !== -1; lf = bytes.indexOf(10, start)) {
        const line = bytes.subarray(start, lf + 1);
        assert(line.length <= 512, `a line of ${line.length} bytes (seed ${seed})`);
        assertEquals(line[line.length - 2], 13, `a line without CR (seed ${seed})`);
        strict.decode(line);
        start = lf + 1;
      }
    }
  });
});

/** One of three byte sequences, at random (the line ends: CRLF mostly, LF, a lone CR). */
function pick3(random: () => number, a: number[], b: number[], c: number[]): number[] {
  const r = random();
  return r < 0.7 ? a : r < 0.95 ? b : c;
}

/** A random WebSocket frame, or a few, that no well-behaved browser would send (sometimes one it would). */
function randomWsFrames(random: () => number, seed: number, k: number): Uint8Array {
  const randomBytes = (n: number) =>
    Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
  const choice = Math.floor(random() * 14);
  switch (choice) {
    case 0: // a good line: a login or a message
      return clientFrame(random() < 0.5 ? `LOGIN w${seed}x${k}` : `MSG fuzz ${k}`);
    case 1: { // a good message in fragments, with a ping between them
      const parts = [clientFrame("MSG frag", { fin: false })];
      parts.push(clientFrame("ping", { opcode: 9 }));
      parts.push(clientFrame("mented", { fin: false, opcode: 0 }));
      parts.push(clientFrame(` ${k}`, { opcode: 0 }));
      return concat(parts);
    }
    case 2: // a continuation with nothing to continue
      return clientFrame("MSG orphan", { opcode: 0 });
    case 3: // a new message in the middle of a fragmented one
      return concat([clientFrame("MSG a", { fin: false }), clientFrame("MSG b")]);
    case 4: // oversized, whole or in fragments
      return random() < 0.5
        ? clientFrame(`MSG ${"o".repeat(1024 + Math.floor(random() * 3000))}`)
        : concat([
          clientFrame("o".repeat(800), { fin: false }),
          clientFrame("o".repeat(800), { opcode: 0 }),
        ]);
    case 5: // an announced length far beyond anything allowed
      return clientFrame("x", { announce: 2 ** 40 + Math.floor(random() * 1000) });
    case 6: // a reserved opcode
      return clientFrame("MSG odd", { opcode: [3, 4, 5, 6, 7, 11, 12, 13, 14, 15][k % 10]! });
    case 7: // text that is not UTF-8 (a lone continuation byte, an overlong form, a surrogate)
      return clientFrame(
        concat([encoder.encode("MSG "), [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80]][k % 3]!]),
      );
    case 8: // unmasked
      return clientFrame("MSG bare", { masked: false });
    case 9: // reserved bits
      return clientFrame("MSG rsv", { reserved: [0x40, 0x20, 0x10][k % 3]! });
    case 10: // a control frame too long, or fragmented
      return random() < 0.5
        ? clientFrame("p".repeat(126), { opcode: 9 })
        : clientFrame("p", { opcode: 9, fin: false });
    case 11: // a close with a random code and payload
      return clientFrame(randomBytes(Math.floor(random() * 6)), { opcode: 8 });
    case 12: // a binary frame
      return clientFrame(randomBytes(Math.floor(random() * 64)), { opcode: 2 });
    default: // random bytes
      return randomBytes(1 + Math.floor(random() * 300));
  }
}

/** `parts` end to end. */
function concat(parts: readonly (Uint8Array | number[])[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

Deno.test("fuzz: the WebSocket door survives seeded bad frames; bystanders chat on, no descriptor leaks", async () => {
  await fuzzDoor("WebSocket", async (server, random, seed) => {
    const port = server.webAddr!.port;
    const stopAt = performance.now() + 3000;
    for (let connection = 0; connection < 25 && performance.now() < stopAt; connection++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const heard = readAll(conn);
      // Now and then, garbage in place of the upgrade or right after its request.
      const upgrade = random() < 0.1
        ? randomWsFrames(random, seed, connection)
        : encoder.encode(upgradeRequest(port));
      const frames: Uint8Array[] = [upgrade];
      const count = 1 + Math.floor(random() * 6);
      for (let k = 0; k < count; k++) {
        frames.push(randomWsFrames(random, seed, connection * 10 + k));
      }
      await writeInPieces(conn, concat(frames), random);
      await new Promise((resolve) => setTimeout(resolve, 50));
      hangUp(conn);
      // The server never masks a frame; an upgrade is answered with HTTP.
      const bytes = Uint8Array.from(await heard);
      if (bytes.length > 0) {
        assert(decoder.decode(bytes.subarray(0, 9)).startsWith("HTTP/1.1 "), `seed ${seed}`);
      }
    }
  });
});
