/**
 * The v1 line protocol as a {@linkcode Door}: lines framed by a
 * {@linkcode LineFramer}, parsed into commands, and a closing line.
 *
 * @module
 */
import type { Door, DoorClient, Framer } from "./door.ts";
import { LineFramer, type LineSink } from "./line_framer.ts";
import { type CloseReason, closingLine, IGNORED, parseLine } from "./protocol.ts";
import { LINE_WIRE } from "./wire.ts";

/** A line's `\r\n`. */
const LINE_END_BYTES = 2;

/**
 * One client's lines: each complete line is one message, and costs one token.
 * It extends the framer rather than holding one: an idle client then costs
 * one object here, not two.
 */
class LineClient extends LineFramer implements Framer, LineSink {
  readonly #client: DoorClient;

  constructor(maxLineBytes: number, client: DoorClient) {
    super(maxLineBytes);
    this.#client = client;
  }

  override commit(count: number): void {
    super.commit(count, this);
  }

  override resume(): void {
    super.resume(this);
  }

  line(text: string): boolean {
    return this.#client.message({ kind: "command", link: this.#client, command: parseLine(text) });
  }

  lineTooLong(): void {
    this.#client.notice({ kind: "line-too-long", link: this.#client });
  }

  farewell(reason: CloseReason): Uint8Array | undefined {
    return closingLine(reason);
  }

  /** A line client owes no goodbye: its socket goes when it hangs up, or at the linger's end. */
  get finished(): boolean {
    return false;
  }

  /** v1 has no server ping: a client that wants to stay sends its own `PING`. */
  get keepalive(): undefined {
    return undefined;
  }

  linger(): void {}

  release(): void {}

  /** The end of a dropped line still counts as activity, and as a line. */
  tooLongLineEnded(): boolean {
    return this.#client.message({ kind: "command", link: this.#client, command: IGNORED });
  }
}

/** The v1 line protocol, with lines of at most `maxLineBytes` bytes without their end. */
export function lineDoor(maxLineBytes: number): Door {
  return {
    maxMessageBytes: maxLineBytes + LINE_END_BYTES,
    wire: LINE_WIRE,
    forwarding: "proxy-header",
    framer: (client) => new LineClient(maxLineBytes, client),
  };
}
