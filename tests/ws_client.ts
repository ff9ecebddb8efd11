/**
 * A raw WebSocket client for tests: it writes the upgrade request and every
 * frame byte by byte (so tests can send what no browser would: unmasked,
 * fragmented, oversized, wrong opcodes, bad UTF-8), and reads the server's
 * frames one by one under a deadline.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { concat } from "@std/bytes/concat";
import { DEADLINE_MS, withDeadline } from "./helpers.ts";
import { ClientSocket } from "./client_socket.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A frame from the server. */
export interface ServerFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** How to write one client frame; by default a final, masked text frame. */
export interface FrameOptions {
  readonly fin?: boolean;
  readonly opcode?: number;
  readonly masked?: boolean;
  /** RSV bits, already shifted into place (0x40, 0x20, 0x10). */
  readonly reserved?: number;
  /** A length to announce in the header instead of the payload's own. */
  readonly announce?: number;
}

/** Bytes of a client frame (masked with a fixed, non-zero mask unless told otherwise). */
export function clientFrame(payload: Uint8Array | string, options: FrameOptions = {}): Uint8Array {
  const data = typeof payload === "string" ? encoder.encode(payload) : payload;
  const { fin = true, opcode = 1, masked = true, reserved = 0 } = options;
  const length = options.announce ?? data.length;
  const extra = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const head = new Uint8Array(2 + extra + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | reserved | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (extra === 0) head[1] = maskBit | length;
  else if (extra === 2) {
    head[1] = maskBit | 126;
    new DataView(head.buffer).setUint16(2, length);
  } else {
    head[1] = maskBit | 127;
    new DataView(head.buffer).setBigUint64(2, BigInt(length));
  }
  const mask = [0x12, 0x34, 0x56, 0x78];
  const body = data.slice();
  if (masked) {
    head.set(mask, 2 + extra);
    for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i & 3]!;
  }
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

/** What the request that opens a socket may carry besides the defaults. */
export interface UpgradeOptions {
  readonly origin?: string;
  readonly forwardedFor?: string;
  readonly tls?: { readonly caCert: string };
  /** Answer the server's pings (as browsers do); true by default. */
  readonly answerPings?: boolean;
}

/** A WebSocket over a raw socket, speaking the chat protocol one text frame per line. */
export class WsClient {
  readonly conn: Deno.Conn;
  readonly #answerPings: boolean;
  #pending: Uint8Array = new Uint8Array(0);
  readonly #socket: ClientSocket;
  /** Pings the server sent (each answered unless told not to). */
  pings = 0;

  private constructor(conn: Deno.Conn, answerPings: boolean) {
    this.conn = conn;
    this.#answerPings = answerPings;
    this.#socket = new ClientSocket(conn);
  }

  /** Opens a TCP (or TLS) connection to the web port without sending anything. */
  static async raw(port: number, options: UpgradeOptions = {}): Promise<WsClient> {
    const conn = options.tls === undefined
      ? await Deno.connect({ hostname: "127.0.0.1", port })
      : await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [options.tls.caCert] });
    return new WsClient(conn, options.answerPings ?? true);
  }

  /** Opens a WebSocket on `/ws`, asserting the 101 answer. */
  static async open(port: number, options: UpgradeOptions = {}): Promise<WsClient> {
    const client = await WsClient.raw(port, options);
    await client.write(upgradeRequest(port, options));
    const head = await client.readHead();
    assertMatch(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    // RFC 6455's own example: this key's accept value.
    assert(head.includes("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), head);
    return client;
  }

  /** Opens a WebSocket and logs in as `name`, expecting `OK`. */
  static async login(port: number, name: string, options: UpgradeOptions = {}): Promise<WsClient> {
    const client = await WsClient.open(port, options);
    await client.send(`LOGIN ${name}`);
    await client.expect("OK");
    return client;
  }

  /** Writes bytes as they are. */
  async write(bytes: Uint8Array | string): Promise<void> {
    await this.#socket.write(bytes);
  }

  /** Sends one line as one masked text frame. */
  async send(line: string): Promise<void> {
    await this.write(clientFrame(line));
  }

  /** Reads an HTTP response head (up to its blank line), as text. */
  async readHead(ms = DEADLINE_MS): Promise<string> {
    return await withDeadline(
      (async () => {
        while (true) {
          const text = decoder.decode(this.#pending);
          const end = text.indexOf("\r\n\r\n");
          if (end !== -1) {
            this.#pending = this.#pending.subarray(encoder.encode(text.slice(0, end + 4)).length);
            return text.slice(0, end + 4);
          }
          if (!await this.#fill()) throw new Error(`closed before a response head: ${text}`);
        }
      })(),
      ms,
      "waiting for a response head",
    );
  }

  /** Everything until the server closes, as text (an HTTP response). */
  async readToEnd(ms = DEADLINE_MS): Promise<string> {
    return await withDeadline(
      (async () => {
        while (await this.#fill());
        return decoder.decode(this.#pending);
      })(),
      ms,
      "waiting for the server to close",
    );
  }

  /** The next frame that is not a ping; null once the server has closed. */
  async readFrame(ms = DEADLINE_MS): Promise<ServerFrame | null> {
    return await withDeadline(this.#nextFrame(), ms, "waiting for a frame");
  }

  /** The next text frame's line; null once closed; fails on any other frame. */
  async readLine(ms = DEADLINE_MS): Promise<string | null> {
    const frame = await this.readFrame(ms);
    if (frame === null) return null;
    assertEquals(frame.opcode, 1, `expected a text frame, got opcode ${frame.opcode}`);
    assert(frame.fin, "the server sends whole messages");
    return decoder.decode(frame.payload);
  }

  /** Reads one line and asserts it is `expected`. */
  async expect(expected: string, ms = DEADLINE_MS): Promise<void> {
    assertStrictEquals(await this.readLine(ms), expected);
  }

  /** Sends `PING` and returns the lines before its `PONG`. */
  async sync(ms = DEADLINE_MS): Promise<string[]> {
    await this.send("PING");
    const lines: string[] = [];
    while (true) {
      const line = await this.readLine(ms);
      if (line === null) throw new Error("closed before PONG");
      if (line === "PONG") return lines;
      lines.push(line);
    }
  }

  /** Reads until the server has sent `count` pings in all, failing on any other frame. */
  async awaitPings(count: number, ms = DEADLINE_MS): Promise<void> {
    await withDeadline(
      (async () => {
        while (this.pings < count) {
          const frame = this.#takeFrame();
          if (frame === undefined) {
            if (!await this.#fill()) throw new Error(`closed after ${this.pings} pings`);
          } else if (frame.opcode === 9) await this.#pinged(frame);
          else throw new Error(`expected only pings, got opcode ${frame.opcode}`);
        }
      })(),
      ms,
      `waiting for ${count} pings`,
    );
  }

  /** Asserts that the next frame is a close with `code`, then that the server hangs up. */
  async expectClose(code: number, ms = DEADLINE_MS): Promise<void> {
    const frame = await this.readFrame(ms);
    assert(frame !== null, "expected a close frame, got the end of the stream");
    assertEquals(frame.opcode, 8, `expected a close frame, got opcode ${frame.opcode}`);
    assertStrictEquals(
      new DataView(frame.payload.buffer, frame.payload.byteOffset).getUint16(0),
      code,
    );
    assertEquals(await this.readFrame(ms), null, "the server hangs up after its close frame");
  }

  /** Closes the socket; safe to call twice. */
  close(): void {
    this.#socket.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#socket.settle();
  }

  async #nextFrame(): Promise<ServerFrame | null> {
    while (true) {
      const frame = this.#takeFrame();
      if (frame !== undefined) {
        if (frame.opcode !== 9) return frame;
        await this.#pinged(frame);
        continue;
      }
      if (!await this.#fill()) return null;
    }
  }

  async #pinged(ping: ServerFrame): Promise<void> {
    this.pings++;
    if (this.#answerPings) await this.write(clientFrame(ping.payload, { opcode: 10 }));
  }

  #takeFrame(): ServerFrame | undefined {
    const split = splitServerFrame(this.#pending);
    if (split === undefined) return undefined;
    this.#pending = split.rest;
    return split.frame;
  }

  /** Reads more; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    const bytes = await this.#socket.next();
    if (bytes === null) return false;
    this.#pending = concat([this.#pending, bytes]);
    return true;
  }
}

/** The request that opens `/ws`, with the RFC's sample key (its accept value is known). */
export function upgradeRequest(port: number, options: UpgradeOptions = {}): string {
  let request = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (options.origin !== undefined) request += `Origin: ${options.origin}\r\n`;
  if (options.forwardedFor !== undefined) request += `X-Forwarded-For: ${options.forwardedFor}\r\n`;
  return request + "\r\n";
}

/**
 * The server frame at the front of `bytes` and the bytes after it;
 * undefined until the frame is whole. Fails on a masked frame: the server
 * never masks.
 */
export function splitServerFrame(
  bytes: Uint8Array,
): { readonly frame: ServerFrame; readonly rest: Uint8Array } | undefined {
  if (bytes.length < 2) return undefined;
  assertEquals(bytes[1]! & 0x80, 0, "the server never masks");
  let length = bytes[1]! & 0x7f;
  let at = 2;
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = (bytes[2]! << 8) | bytes[3]!;
    at = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return undefined;
    length = Number(new DataView(bytes.buffer, bytes.byteOffset + 2).getBigUint64(0));
    at = 10;
  }
  if (bytes.length < at + length) return undefined;
  const frame = {
    fin: (bytes[0]! & 0x80) !== 0,
    opcode: bytes[0]! & 0x0f,
    payload: bytes.slice(at, at + length),
  };
  return { frame, rest: bytes.subarray(at + length) };
}
