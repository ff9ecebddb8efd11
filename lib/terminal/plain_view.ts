/**
 * The client over pipes: each line of standard input is a message or a
 * command, each event one plain line on standard output, without escape
 * sequences, so scripts can drive it and read it.
 *
 * @module
 */
import { TextLineStream } from "@std/streams/text-line-stream";
import type { ChatClient, ChatView, ConnectionState } from "./client.ts";
import { type ChatEvent, formatEvent } from "./format.ts";

const encoder = new TextEncoder();
const PLAIN = { colour: false };

/** Writes all of `text` to standard output, synchronously, so that it is out before an exit. */
export function writeOut(text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}

/** Plain lines in and out. */
export class PlainView implements ChatView {
  #closed = false;

  /** Writes the event as one plain line. */
  show(event: ChatEvent): void {
    this.showAll([event]);
  }

  /** Writes the events as plain lines, in one write. */
  showAll(events: readonly ChatEvent[]): void {
    if (this.#closed || events.length === 0) return;
    try {
      writeOut(events.map((event) => formatEvent(event, PLAIN) + "\n").join(""));
    } catch (error) {
      // Whoever read our output has gone: nothing more to say to anyone.
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      this.#closed = true;
    }
  }

  /** Plain output tells the state through the client's notices; nothing to redraw. */
  state(_state: ConnectionState): void {}

  /** Feeds standard input to `client` line by line, then tells it the input ended. */
  async readInput(client: ChatClient): Promise<void> {
    const lines = Deno.stdin.readable
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new TextLineStream());
    // TextLineStream drops the CR of a CRLF, and its last line without a line end keeps a CR
    // that ends it: that one is dropped here too. (A line typed as "text CR CR LF" would lose
    // both CRs; no one types that.)
    for await (const line of lines) client.input(line.endsWith("\r") ? line.slice(0, -1) : line);
    client.endOfInput();
  }
}
