/**
 * The client over pipes: each line of standard input is a message or a
 * command, each event one plain line on standard output, without escape
 * sequences, so scripts can drive it and read it.
 *
 * @module
 */
import type { ChatClient, ChatView, ConnectionState } from "./client.ts";
import { type ChatEvent, formatEvent } from "./format.ts";

const encoder = new TextEncoder();

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
    if (this.#closed) return;
    try {
      writeOut(formatEvent(event, { colour: false }) + "\n");
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
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(16384);
    let pending = "";
    while (true) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) break;
      pending += decoder.decode(buffer.subarray(0, count), { stream: true });
      let lf: number;
      while ((lf = pending.indexOf("\n")) !== -1) {
        client.input(pending.slice(0, pending[lf - 1] === "\r" ? lf - 1 : lf));
        pending = pending.slice(lf + 1);
      }
    }
    pending += decoder.decode();
    // A last line without its end is still a line.
    if (pending !== "") client.input(pending.replace(/\r$/, ""));
    client.endOfInput();
  }
}
