/**
 * The web port as a {@linkcode Door}: one HTTP request per connection (the
 * page's files, or `GET /ws`), and after an upgrade, RFC 6455 frames whose
 * text messages are lines of the protocol. Messages are streamed through a
 * buffer of about `--max-line-bytes`: a longer one is reported and dropped
 * as it arrives, never held whole.
 *
 * @module
 */
import type { Door, DoorClient, Framer } from "../door.ts";
import { MAX_READ_BYTES, MIN_READ_BYTES } from "../line_framer.ts";
import { type CloseReason, IGNORED, parseLine } from "../protocol.ts";
import { answer, BAD_REQUEST, HEAD_TOO_LARGE, HTTP_FAREWELLS, lastForwarded } from "./handshake.ts";
import { headEnd, parseRequestHead } from "./http_request.ts";
import type { PageResponses } from "./page_files.ts";
import {
  CLOSE_CODE,
  closeFrame,
  MAX_CLIENT_HEADER,
  MAX_CONTROL_PAYLOAD,
  OPCODE,
  readHeader,
  readMask,
  unmask,
} from "./ws_frames.ts";
import { KEEPALIVE_PING, SOCKET_FAREWELLS, WS_WIRE } from "./ws_wire.ts";

/** The longest request head (request line and headers) the web port reads. */
export const MAX_HEAD_BYTES = 8192;
/** The longest wait for a request head, at most; never longer than the idle timeout. */
export const HEAD_TIMEOUT_MS = 10_000;

/** The web door's settings, shared by every connection. */
export interface WebDoorOptions {
  /** The longest message, in bytes. */
  readonly maxLineBytes: number;
  /** The page's files as ready responses. */
  readonly pages: PageResponses;
  /** Origins other than the server's own that may open `/ws` (`scheme://host[:port]`). */
  readonly origins: readonly string[];
  /** Milliseconds a client has to send its request head. */
  readonly headTimeoutMs: number;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LF = 0x0a;
const CR = 0x0d;
/** `frameLeft` between frames: the next bytes are a header. */
const AT_HEADER = -1;

/** True for close codes a peer may send (RFC 6455 §7.4). */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
    (code >= 3000 && code <= 4999);
}

/**
 * One web connection: its request head first, then, once upgraded, its
 * frames. The buffer holds the message being assembled at its front
 * (`#messageBytes`, unmasked) and the bytes not yet parsed after it.
 */
class WebClient implements Framer {
  readonly #client: DoorClient;
  readonly #options: WebDoorOptions;
  #buffer = new Uint8Array(MIN_READ_BYTES);
  /**
   * Reading a request head; a WebSocket; closing one (our close frame sent,
   * the peer's awaited); done (nothing more is awaited from the peer).
   */
  #phase: "head" | "socket" | "closing" | "done" = "head";
  #headTimer: ReturnType<typeof setTimeout> | undefined;
  #paused = false;
  /** Bytes in the buffer: the message so far, then unparsed input. */
  #end = 0;
  #messageBytes = 0;
  /** A text message is under way (its first frame came, its last has not). */
  #inMessage = false;
  /** The message under way passed the cap: its bytes are being dropped. */
  #skipping = false;
  /** Payload bytes of the current data frame still to come; {@linkcode AT_HEADER} between frames. */
  #frameLeft = AT_HEADER;
  #frameFin = false;
  #mask = 0;
  #maskOffset = 0;

  constructor(client: DoorClient, options: WebDoorOptions) {
    this.#client = client;
    this.#options = options;
    this.#headTimer = setTimeout(
      () => this.#refuse("idle", HTTP_FAREWELLS.idle),
      options.headTimeoutMs,
    );
  }

  get paused(): boolean {
    return this.#paused;
  }

  space(): Uint8Array {
    return this.#buffer.subarray(this.#end);
  }

  commit(count: number): void {
    const before = this.#end;
    this.#end += count;
    if (this.#phase === "head") this.#readHead(before);
    else if (this.#phase === "socket") this.#readFrames();
    this.#resize(count);
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#phase === "socket") this.#readFrames();
    this.#resize(0);
  }

  get finished(): boolean {
    return this.#phase === "done";
  }

  /** A ping, once this is a WebSocket: a page that only reads answers it, and stays. */
  get keepalive(): Uint8Array | undefined {
    return this.#phase === "socket" ? KEEPALIVE_PING : undefined;
  }

  linger(bytes: Uint8Array): void {
    if (this.#phase !== "closing") return;
    // The bytes may already sit in the space this framer gave the read.
    const inPlace = bytes.buffer === this.#buffer.buffer && bytes.byteOffset === this.#end;
    if (!inPlace) {
      if (bytes.length > this.#buffer.length - this.#end) this.#resize(0);
      if (bytes.length > this.#buffer.length - this.#end) {
        // More than a goodbye: stop waiting for one.
        this.#phase = "done";
        return;
      }
      this.#buffer.set(bytes, this.#end);
    }
    this.#end += bytes.length;
    this.#readFrames();
  }

  farewell(reason: CloseReason): Uint8Array | undefined {
    if (this.#phase === "head") {
      // An HTTP response ends the exchange: the server closes once it is out.
      this.#phase = "done";
      clearTimeout(this.#headTimer);
      return HTTP_FAREWELLS[reason];
    }
    if (this.#phase === "socket") {
      // What is read from now on is only searched for the peer's close frame.
      this.#phase = "closing";
      this.#paused = false;
      return SOCKET_FAREWELLS[reason];
    }
    return undefined;
  }

  release(): void {
    this.#phase = "done";
    clearTimeout(this.#headTimer);
  }

  #readHead(scannedTo: number): void {
    const end = headEnd(this.#buffer, scannedTo, this.#end);
    if (end === -1) {
      if (this.#end > MAX_HEAD_BYTES) this.#refuse("protocol-error", HEAD_TOO_LARGE);
      return;
    }
    clearTimeout(this.#headTimer);
    const head = parseRequestHead(this.#buffer.subarray(0, end));
    if (head === undefined) {
      this.#refuse("protocol-error", BAD_REQUEST);
      return;
    }
    this.#client.forwardedFor(lastForwarded(head.headers.get("x-forwarded-for")));
    if (this.#phase !== "head") return;
    const { pages, origins } = this.#options;
    const reply = answer(head, pages, origins);
    if (reply.kind === "upgrade") this.#upgrade(reply.response, end);
    else this.#refuse(reply.reason, reply.response);
  }

  #upgrade(response: Uint8Array, headBytes: number): void {
    this.#client.send(response);
    this.#phase = "socket";
    // Frames the client sent right behind its request are read now.
    this.#buffer.copyWithin(0, headBytes, this.#end);
    this.#end -= headBytes;
    this.#readFrames();
  }

  /** Frames from the front of the unparsed input, until it runs out or the client must pause. */
  #readFrames(): void {
    const buffer = this.#buffer;
    let at = this.#messageBytes;
    const end = this.#end;
    while (this.#phase === "closing" || (this.#phase === "socket" && !this.#paused)) {
      if (this.#frameLeft === AT_HEADER) {
        const header = readHeader(buffer, at, end);
        if (header === undefined) break;
        const problem = this.#check(
          header.opcode,
          header.fin,
          header.reserved,
          header.masked,
          header.length,
        );
        if (problem !== 0) {
          if (this.#phase === "closing") this.#phase = "done";
          else this.#fail(problem);
          return;
        }
        if (header.opcode >= OPCODE.close) {
          const total = header.headerBytes + header.length;
          if (end - at < total) break;
          const payload = buffer.subarray(at + header.headerBytes, at + total);
          unmask(payload, 0, payload.length, readMask(buffer, at + header.headerBytes - 4), 0);
          at += total;
          if (this.#phase === "socket") this.#control(header.opcode, payload);
          else if (header.opcode === OPCODE.close) this.#phase = "done";
          continue;
        }
        this.#mask = readMask(buffer, at + header.headerBytes - 4);
        this.#maskOffset = 0;
        this.#frameLeft = header.length;
        this.#frameFin = header.fin;
        this.#inMessage = true;
        at += header.headerBytes;
      }
      const take = Math.min(this.#frameLeft, end - at);
      if (take > 0 && this.#phase === "socket") this.#absorb(at, take);
      at += take;
      this.#frameLeft -= take;
      if (this.#frameLeft > 0) break;
      this.#frameLeft = AT_HEADER;
      if (this.#frameFin && this.#phase === "socket") this.#messageEnded();
      else if (this.#frameFin) this.#inMessage = false;
    }
    if (this.#phase !== "socket" && this.#phase !== "closing") return;
    // What is left unparsed moves to just behind the message so far.
    buffer.copyWithin(this.#messageBytes, at, end);
    this.#end = this.#messageBytes + (end - at);
  }

  /** 0 when a frame header is acceptable, else the close code it deserves. */
  #check(opcode: number, fin: boolean, reserved: number, masked: boolean, length: number): number {
    if (reserved !== 0 || !masked) return CLOSE_CODE.protocolError;
    switch (opcode) {
      case OPCODE.text:
        return this.#inMessage ? CLOSE_CODE.protocolError : 0;
      case OPCODE.continuation:
        return this.#inMessage ? 0 : CLOSE_CODE.protocolError;
      case OPCODE.binary:
        return this.#inMessage ? CLOSE_CODE.protocolError : CLOSE_CODE.unsupportedData;
      case OPCODE.close:
      case OPCODE.ping:
      case OPCODE.pong:
        return fin && length <= MAX_CONTROL_PAYLOAD ? 0 : CLOSE_CODE.protocolError;
      default:
        return CLOSE_CODE.protocolError;
    }
  }

  /** Unmasks `count` payload bytes at `at` and adds them to the message, or drops them past the cap. */
  #absorb(at: number, count: number): void {
    const buffer = this.#buffer;
    unmask(buffer, at, count, this.#mask, this.#maskOffset);
    this.#maskOffset += count;
    if (this.#skipping) return;
    if (this.#messageBytes + count > this.#options.maxLineBytes) {
      this.#skipping = true;
      this.#messageBytes = 0;
      this.#client.notice({ kind: "line-too-long", link: this.#client });
      return;
    }
    buffer.copyWithin(this.#messageBytes, at, at + count);
    this.#messageBytes += count;
  }

  #messageEnded(): void {
    this.#inMessage = false;
    let bytes = this.#messageBytes;
    this.#messageBytes = 0;
    if (this.#skipping) {
      this.#skipping = false;
      this.#activity();
      return;
    }
    // A client that ends its message with a line end (as a terminal tool does) means the same line.
    if (bytes > 0 && this.#buffer[bytes - 1] === LF) bytes--;
    if (bytes > 0 && this.#buffer[bytes - 1] === CR) bytes--;
    let text: string;
    try {
      text = strictUtf8.decode(this.#buffer.subarray(0, bytes));
    } catch {
      this.#fail(CLOSE_CODE.invalidData);
      return;
    }
    const more = this.#client.message({
      kind: "command",
      link: this.#client,
      command: parseLine(text),
    });
    if (!more) this.#paused = true;
  }

  #control(opcode: number, payload: Uint8Array): void {
    if (opcode === OPCODE.close) {
      this.#closeReceived(payload);
      return;
    }
    if (opcode === OPCODE.ping) {
      const pong = new Uint8Array(2 + payload.length);
      pong[0] = 0x80 | OPCODE.pong;
      pong[1] = payload.length;
      pong.set(payload, 2);
      this.#client.send(pong);
    }
    this.#activity();
  }

  /** The client's close: answered with the same code, then the connection ends. */
  #closeReceived(payload: Uint8Array): void {
    if (payload.length === 0) {
      this.#finish("quit", closeFrame(CLOSE_CODE.normal));
      return;
    }
    const code = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : 0;
    if (!validCloseCode(code)) {
      this.#fail(CLOSE_CODE.protocolError);
      return;
    }
    try {
      strictUtf8.decode(payload.subarray(2));
    } catch {
      this.#fail(CLOSE_CODE.invalidData);
      return;
    }
    this.#finish("quit", closeFrame(code));
  }

  /** A frame that counts as a line for idle and flood control, but carries none. */
  #activity(): void {
    if (!this.#client.message({ kind: "command", link: this.#client, command: IGNORED })) {
      this.#paused = true;
    }
  }

  #fail(code: number): void {
    this.#finish("protocol-error", closeFrame(code));
  }

  /** Answers a request without upgrading, and ends the connection. */
  #refuse(reason: CloseReason, response: Uint8Array | undefined): void {
    if (this.#phase !== "head") return;
    this.#finish(reason, response);
  }

  #finish(reason: CloseReason, lastWords: Uint8Array | undefined): void {
    this.#phase = "done";
    clearTimeout(this.#headTimer);
    this.#client.hangUp(reason, lastWords);
  }

  /**
   * Grows the buffer when it is nearly full (a long message, a burst of
   * frames, a long request head) and shrinks it back once the client is
   * quiet, so that an idle WebSocket costs {@linkcode MIN_READ_BYTES}.
   */
  #resize(count: number): void {
    const size = this.#buffer.length;
    const ceiling = Math.max(MAX_READ_BYTES, this.#options.maxLineBytes + MAX_CLIENT_HEADER + 256);
    let wanted = size;
    if (size - this.#end < MIN_READ_BYTES / 4) wanted = Math.min(size * 2, ceiling);
    else if (this.#end === 0 && size > MIN_READ_BYTES && count < MIN_READ_BYTES) {
      wanted = MIN_READ_BYTES;
    }
    if (wanted === size) return;
    const next = new Uint8Array(wanted);
    next.set(this.#buffer.subarray(0, this.#end));
    this.#buffer = next;
  }
}

/** The web port's door: the page's files and WebSockets speaking the line protocol. */
export function webDoor(options: WebDoorOptions): Door {
  return {
    maxMessageBytes: Math.max(options.maxLineBytes + MAX_CLIENT_HEADER, MAX_HEAD_BYTES),
    wire: WS_WIRE,
    forwarding: "http-header",
    framer: (client) => new WebClient(client, options),
  };
}
