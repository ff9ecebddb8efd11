/**
 * One output stream of a child process (the server's log, chromium's and
 * haproxy's stderr) read line by line and kept as text: drained to its end so
 * that the child never blocks on a full pipe, and waited on for what the
 * child should say.
 *
 * @module
 */
import { TextLineStream } from "@std/streams/text-line-stream";

/** A wait for the text to pass a test. */
interface Waiter {
  readonly test: (text: string) => boolean;
  readonly ending: string;
  readonly resolve: (text: string) => void;
  readonly reject: (error: Error) => void;
}

/** A child's output stream, kept as text, line by line. */
export class OutputLog {
  #text = "";
  #ended = false;
  readonly #waiters = new Set<Waiter>();
  /** Resolves with all of the text once the stream ends. */
  readonly closed: Promise<string>;

  /** Starts reading `stream` to its end. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.closed = this.#drain(stream);
  }

  /** Everything read so far. */
  get text(): string {
    return this.#text;
  }

  /**
   * Resolves with the text once `test` holds for it (already, or when more
   * comes); rejects with `ending` and the text if the stream ends first.
   */
  until(test: (text: string) => boolean, ending = "the output ended"): Promise<string> {
    if (test(this.#text)) return Promise.resolve(this.#text);
    if (this.#ended) return Promise.reject(this.#endedError(ending));
    return new Promise((resolve, reject) => this.#waiters.add({ test, ending, resolve, reject }));
  }

  /** {@linkcode until} the text matches `pattern`. */
  matches(pattern: RegExp): Promise<string> {
    return this.until((text) => pattern.test(text), `the output ended before ${pattern}`);
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<string> {
    // Whole lines only: a wait never sees half a line, such as a port number cut short.
    const lines = stream.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream());
    for await (const line of lines) {
      this.#text += line + "\n";
      for (const waiter of this.#waiters) {
        if (!waiter.test(this.#text)) continue;
        this.#waiters.delete(waiter);
        waiter.resolve(this.#text);
      }
    }
    this.#ended = true;
    for (const waiter of this.#waiters) waiter.reject(this.#endedError(waiter.ending));
    this.#waiters.clear();
    return this.#text;
  }

  #endedError(ending: string): Error {
    return new Error(`${ending}: ${this.#text}`);
  }
}
