/**
 * How far a long bench job has come, on standard error. On a terminal: one
 * line redrawn in place each second by `@std/cli`'s `ProgressBar` (elapsed
 * time, the bar, steps done, the current step and a detail such as the
 * seconds of load left). Otherwise (CI logs, a pipe): one plain line as each
 * step starts, `[3/8] run 1 round 3`, and nothing redrawn.
 *
 * Whatever else the job prints while the bar is up goes through
 * {@linkcode Progress.log} and {@linkcode Progress.out}, which clear the bar's
 * line first; the bar is drawn again below at its next tick.
 *
 * @module
 */
import { ProgressBar, type ProgressBarFormatter } from "@std/cli/unstable-progress-bar";

const encoder = new TextEncoder();
/** Back to the start of the line and erase it: what the bar itself writes before each redraw. */
const LINE_CLEAR = "\r\u001b[K";

/** Writes all of `text` to `to` synchronously, in one piece where the OS allows. */
function writeAll(to: typeof Deno.stderr | typeof Deno.stdout, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(to.writeSync(bytes));
}

/** `parts` joined by spaces, as `console.log` prints them (strings as they are, the rest inspected). */
function format(parts: unknown[]): string {
  return parts.map((part) => typeof part === "string" ? part : Deno.inspect(part)).join(" ");
}

/** Steps of a long job: a bar on a terminal, one plain line per step otherwise. */
export class Progress {
  readonly #total: number;
  #started = 0;
  #label = "";
  #detail = "";
  readonly #bar: ProgressBar | undefined;

  /** `total` steps; the bar is shown when `terminal` (by default: standard error is a terminal). */
  constructor(total: number, terminal: boolean = Deno.stderr.isTerminal()) {
    this.#total = total;
    this.#bar = terminal
      ? new ProgressBar({
        max: total,
        barLength: 20,
        clear: true,
        formatter: (bar) => this.#line(bar),
      })
      : undefined;
  }

  /** Starts step `n` (from 1), named `label`; without a bar, prints `[n/total] label`. */
  step(n: number, label: string): void {
    this.#started = n;
    this.#label = label;
    this.#detail = "";
    if (this.#bar === undefined) console.error(`[${this.#started}/${this.#total}] ${label}`);
    else this.#bar.value = this.#started - 1;
  }

  /** What the current step is doing now: shown in the bar, not printed without one. */
  detail(text: string): void {
    this.#detail = text;
  }

  /** Prints a line on standard error, as `console.error` does, without tearing the bar. */
  log(...parts: unknown[]): void {
    writeAll(Deno.stderr, (this.#bar === undefined ? "" : LINE_CLEAR) + format(parts) + "\n");
  }

  /** Prints a line on standard output, as `console.log` does, without tearing the bar. */
  out(...parts: unknown[]): void {
    const clear = this.#bar !== undefined && Deno.stdout.isTerminal();
    writeAll(Deno.stdout, (clear ? LINE_CLEAR : "") + format(parts) + "\n");
  }

  /** Removes the bar; safe to call twice. */
  async stop(): Promise<void> {
    if (this.#bar === undefined) return;
    this.#bar.value = this.#total;
    await this.#bar.stop();
  }

  /** The bar's line, cut to the terminal's width so that the next redraw erases all of it. */
  #line(bar: ProgressBarFormatter): string {
    const detail = this.#detail === "" ? "" : `: ${this.#detail}`;
    const text = `[${bar.styledTime}] [${bar.progressBar}] ${this.#started}/${this.#total} ` +
      `${this.#label}${detail}`;
    let columns = 0;
    try {
      columns = Deno.consoleSize().columns;
    } catch {
      // no size to be had: 80 columns, as below
    }
    return text.slice(0, (columns > 20 ? columns : 80) - 1);
  }
}
