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

/**
 * Standard input's lines, without their line ends. TextLineStream drops the
 * CR of a CRLF, and its last line without a line end keeps a CR that ends it:
 * that one is dropped here too. (A line typed as "text CR CR LF" would lose
 * both CRs; no one types that.)
 */
export async function* stdinLines(): AsyncGenerator<string, void, undefined> {
  const lines = Deno.stdin.readable
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream());
  for await (const line of lines) yield line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** Plain lines in and out; a password asked for is the next line of input. */
export class PlainView implements ChatView {
  #closed = false;
  /** Takes the next input line when a password was asked for. */
  #asking: ((secret: string | undefined) => void) | undefined;

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

  /**
   * Takes the next input line as the answer, never shown. Not from a
   * terminal: there the line would be echoed as it is typed.
   */
  askSecret(_label: string, answer: (secret: string | undefined) => void): boolean {
    if (Deno.stdin.isTerminal()) return false;
    this.#asking = answer;
    return true;
  }

  /** The next input line is an ordinary one again. */
  cancelSecret(): void {
    this.#asking = undefined;
  }

  /**
   * Feeds `lines` (standard input's by default) to `client` one by one, or to
   * a password asked for, then tells it the input ended.
   */
  async readInput(client: ChatClient, lines: AsyncIterable<string> = stdinLines()): Promise<void> {
    for await (const line of lines) {
      const asking = this.#asking;
      this.#asking = undefined;
      if (asking === undefined) client.input(line);
      else asking(line);
    }
    const asking = this.#asking;
    this.#asking = undefined;
    asking?.(undefined);
    client.endOfInput();
  }
}
