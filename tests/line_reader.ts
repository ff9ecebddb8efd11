/**
 * Lines out of text that arrives in pieces: a test client's socket, decoded,
 * or a child process's output. Each line comes without its `\n`.
 *
 * @module
 */

/** What becomes of text after the last `\n` when the pieces end. */
export type Unterminated = "dropped" | "kept";

/** Reads lines from the pieces that `pull` gives, null once it gives null. */
export class LineReader {
  readonly #pull: () => Promise<string | null>;
  readonly #unterminated: Unterminated;
  #pending = "";
  #ended = false;

  /**
   * Lines from `pull`'s pieces; a last piece without its `\n` is a line of
   * its own when `unterminated` is `"kept"` (a child's output), and is lost
   * with the connection when `"dropped"` (a server's cut-short last line).
   */
  constructor(pull: () => Promise<string | null>, unterminated: Unterminated) {
    this.#pull = pull;
    this.#unterminated = unterminated;
  }

  /** The next line; null at the end. */
  async next(): Promise<string | null> {
    while (true) {
      const lf = this.#pending.indexOf("\n");
      if (lf !== -1) {
        const line = this.#pending.slice(0, lf);
        this.#pending = this.#pending.slice(lf + 1);
        return line;
      }
      if (this.#ended) {
        const rest = this.#pending;
        this.#pending = "";
        return rest === "" || this.#unterminated === "dropped" ? null : rest;
      }
      const piece = await this.#pull();
      if (piece === null) this.#ended = true;
      else this.#pending += piece;
    }
  }
}
