/**
 * The client on a terminal: raw mode, the input line on the bottom row, and
 * incoming lines printed above it without disturbing what is being typed.
 *
 * @module
 */
import type { ChatClient, ChatView, ConnectionState } from "./client.ts";
import { type ChatEvent, formatEvent, nameColour, type Style } from "./format.ts";
import { KeyDecoder } from "./keys.ts";
import { LineEditor } from "./line_editor.ts";
import { writeOut } from "./plain_view.ts";
import { CLEAR_LINE, CLEAR_SCREEN, drawInput, printAbove, TO_BOTTOM } from "./screen.ts";
import { displayWidth, neutralize } from "./text.ts";

/**
 * How long after a lone ESC byte the rest of its sequence may still come.
 * Terminals send a sequence in one write, so a pause this long means the ESC
 * was a key of its own (or the rest was lost).
 */
export const ESCAPE_WAIT_MS = 50;

const STATE_LABEL: Readonly<Record<ConnectionState, string>> = {
  connecting: "[connecting] ",
  online: "",
  offline: "[offline] ",
};

/** A question whose answer is typed unseen: the input line shows only its label. */
interface Secret {
  readonly label: string;
  /** An editor of its own: the line being typed, and the sent lines' history, stay out of it. */
  readonly editor: LineEditor;
  readonly answer: (secret: string | undefined) => void;
}

/** A raw-mode terminal with an input line at the bottom. */
export class TerminalView implements ChatView {
  readonly #name: string;
  readonly #style: Style;
  readonly #editor = new LineEditor();
  readonly #keys = new KeyDecoder();
  #state: ConnectionState = "connecting";
  #columns = 80;
  /** Where the visible part of a long input line starts (see screen.ts). */
  #scroll = 0;
  #open = false;
  #escapeTimer: ReturnType<typeof setTimeout> | undefined;
  #secret: Secret | undefined;
  readonly #resized = () => this.#redraw(true);

  /** A view for the user `name`; colours unless `colour` is false (`NO_COLOR`). */
  constructor(name: string, colour: boolean) {
    this.#name = name;
    this.#style = { colour };
  }

  /**
   * Puts the terminal in raw mode, the cursor on the bottom row (so messages
   * scroll up from just above it) and draws the prompt. {@linkcode close}
   * undoes it.
   */
  open(): void {
    Deno.stdin.setRaw(true);
    this.#open = true;
    this.#columns = Deno.consoleSize().columns;
    try {
      Deno.addSignalListener("SIGWINCH", this.#resized);
    } catch {
      // No SIGWINCH on Windows: the width is read again at the next start.
    }
    this.#write(TO_BOTTOM + this.#input());
  }

  /** Leaves the terminal as it was found: cooked mode, and an empty bottom line for the shell. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    clearTimeout(this.#escapeTimer);
    try {
      Deno.removeSignalListener("SIGWINCH", this.#resized);
    } catch {
      // Never added (Windows).
    }
    try {
      this.#write(CLEAR_LINE);
    } finally {
      Deno.stdin.setRaw(false);
    }
  }

  /** Prints the event above the input line, then redraws the input line as it was. */
  show(event: ChatEvent): void {
    this.showAll([event]);
  }

  /** Prints the events above the input line in one write, then redraws the input line as it was. */
  showAll(events: readonly ChatEvent[]): void {
    if (!this.#open || events.length === 0) return;
    const lines = events.map((event) => formatEvent(event, this.#style));
    this.#write(printAbove(lines) + this.#input());
  }

  /** Shows the connection's state in the prompt. */
  state(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#redraw(false);
  }

  /**
   * Asks on the input line: it shows `label` and nothing of what is typed (as
   * sudo and ssh do), until Enter answers or Ctrl-C or Ctrl-D cancels. The
   * line that was being typed comes back afterwards.
   */
  askSecret(label: string, answer: (secret: string | undefined) => void): boolean {
    if (!this.#open) return false;
    this.#secret = { label, editor: new LineEditor(), answer };
    this.#write(this.#input());
    return true;
  }

  /** Withdraws the question: the input line is the chat's again. */
  cancelSecret(): void {
    if (this.#secret === undefined) return;
    this.#secret = undefined;
    this.#redraw(false);
  }

  /** Reads keys until the terminal's input ends, handing finished lines to `client`. */
  async readInput(client: ChatClient): Promise<void> {
    const buffer = new Uint8Array(4096);
    while (this.#open) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) break;
      clearTimeout(this.#escapeTimer);
      this.#apply(client, this.#keys.feed(buffer.subarray(0, count)));
      if (this.#keys.pending) {
        this.#escapeTimer = setTimeout(
          () => this.#apply(client, this.#keys.flush()),
          ESCAPE_WAIT_MS,
        );
      }
    }
    client.quit();
  }

  #apply(client: ChatClient, keys: ReturnType<KeyDecoder["feed"]>): void {
    let dirty = false;
    for (const key of keys) {
      // Looked up for each key: an answer may ask the next question at once (a password twice).
      const secret = this.#secret;
      const result = (secret?.editor ?? this.#editor).apply(key);
      switch (result.kind) {
        case "changed":
          dirty = true;
          break;
        case "unchanged":
          break;
        case "redraw":
          this.#write(CLEAR_SCREEN);
          dirty = true;
          break;
        case "submit":
          if (secret !== undefined) {
            this.#secret = undefined;
            this.#write(this.#input());
            dirty = false;
            secret.answer(result.line);
            break;
          }
          // Draw the emptied line first: the client may show the sent line at once.
          this.#write(this.#input());
          dirty = false;
          client.input(result.line);
          break;
        case "quit":
          if (secret !== undefined) {
            this.#secret = undefined;
            this.#write(this.#input());
            dirty = false;
            secret.answer(undefined);
            break;
          }
          client.quit();
          return;
        default: {
          const unhandled: never = result;
          return unhandled;
        }
      }
    }
    if (dirty) this.#write(this.#input());
  }

  #redraw(resized: boolean): void {
    if (!this.#open) return;
    if (resized) this.#columns = Deno.consoleSize().columns;
    // After a resize the bottom row may have moved: go back to it.
    this.#write((resized ? TO_BOTTOM : "") + this.#input());
  }

  /** The bytes that draw the input line: state, prompt, the visible text, the cursor. */
  #input(): string {
    if (this.#secret !== undefined) {
      const { label } = this.#secret;
      return drawInput({
        prompt: this.#style.colour ? `\x1b[1m${neutralize(label)}\x1b[0m` : neutralize(label),
        promptWidth: displayWidth(neutralize(label)),
        text: "",
        cursor: 0,
        start: 0,
        columns: this.#columns,
      }).bytes;
    }
    const label = STATE_LABEL[this.#state];
    const name = neutralize(this.#name);
    const coloured = this.#style.colour
      ? `\x1b[2m${label}\x1b[0m\x1b[1;${nameColour(this.#name)}m${name}\x1b[0m> `
      : `${label}${name}> `;
    const drawn = drawInput({
      prompt: coloured,
      promptWidth: displayWidth(`${label}${name}> `),
      text: this.#editor.text,
      cursor: this.#editor.cursor,
      start: this.#scroll,
      columns: this.#columns,
    });
    this.#scroll = drawn.start;
    return drawn.bytes;
  }

  #write(text: string): void {
    writeOut(text);
  }
}
