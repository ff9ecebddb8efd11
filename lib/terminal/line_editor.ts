/**
 * The line being typed: its text, the cursor, and the history of sent lines,
 * changed one key at a time with readline's bindings. Pure: it never draws.
 *
 * @module
 */
import type { Key } from "./keys.ts";
import { nextBoundary, previousBoundary } from "./text.ts";

/** What a key did to the line. */
export type EditResult =
  /** The text or the cursor changed (or may have): redraw the line. */
  | { readonly kind: "changed" }
  /** Nothing to do (an unbound key, left at the start…). */
  | { readonly kind: "unchanged" }
  /** Enter: the line is done; the editor is empty again. */
  | { readonly kind: "submit"; readonly line: string }
  /** Ctrl-C, or Ctrl-D on an empty line. */
  | { readonly kind: "quit" }
  /** Ctrl-L: repaint the whole screen. */
  | { readonly kind: "redraw" };

/** Lines kept for the arrow keys; older ones are forgotten. */
export const HISTORY_LIMIT = 500;

const CHANGED: EditResult = { kind: "changed" };
const UNCHANGED: EditResult = { kind: "unchanged" };

// A word is a run of non-spaces, as for readline's Ctrl-W (unix-word-rubout).
function wordStartBefore(text: string, index: number): number {
  let i = index;
  while (i > 0 && /\s/.test(text[i - 1]!)) i--;
  while (i > 0 && !/\s/.test(text[i - 1]!)) i--;
  return i;
}

function wordEndAfter(text: string, index: number): number {
  let i = index;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  while (i < text.length && !/\s/.test(text[i]!)) i++;
  return i;
}

/**
 * A one-line editor. The cursor is a UTF-16 index that always sits on a
 * grapheme boundary, so one arrow press or backspace steps over a whole
 * character as the user sees it (an emoji, an accented letter).
 */
export class LineEditor {
  #text = "";
  #cursor = 0;
  readonly #history: string[] = [];
  /** Where Up/Down are in the history; `history.length` is the line being typed. */
  #historyAt = 0;
  /** The line being typed, kept while Up shows older ones. */
  #draft = "";

  /** The text typed so far. */
  get text(): string {
    return this.#text;
  }

  /** Where the cursor is, as an index into {@linkcode text}. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Sent lines, oldest first. */
  get history(): readonly string[] {
    return this.#history;
  }

  /** Applies one key. */
  apply(key: Key): EditResult {
    if (key.kind === "text") return this.#insert(key.text);
    switch (key.name) {
      case "enter":
        return this.#submit();
      case "ctrl-c":
        return { kind: "quit" };
      case "ctrl-d":
        // As in a shell: end of input on an empty line, delete forward otherwise.
        return this.#text === "" ? { kind: "quit" } : this.#deleteForward();
      case "ctrl-l":
        return { kind: "redraw" };
      case "tab":
        // A tab would make the width count wrong and the server keeps it: type a space.
        return this.#insert(" ");
      case "backspace":
        return this.#cut(previousBoundary(this.#text, this.#cursor), this.#cursor);
      case "delete":
        return this.#deleteForward();
      case "left":
      case "ctrl-b":
        return this.#moveTo(previousBoundary(this.#text, this.#cursor));
      case "right":
      case "ctrl-f":
        return this.#moveTo(nextBoundary(this.#text, this.#cursor));
      case "home":
      case "ctrl-a":
        return this.#moveTo(0);
      case "end":
      case "ctrl-e":
        return this.#moveTo(this.#text.length);
      case "word-left":
        return this.#moveTo(wordStartBefore(this.#text, this.#cursor));
      case "word-right":
        return this.#moveTo(wordEndAfter(this.#text, this.#cursor));
      case "ctrl-u":
        return this.#cut(0, this.#cursor);
      case "ctrl-k":
        return this.#cut(this.#cursor, this.#text.length);
      case "ctrl-w":
      case "delete-word-before":
        return this.#cut(wordStartBefore(this.#text, this.#cursor), this.#cursor);
      case "delete-word-after":
        return this.#cut(this.#cursor, wordEndAfter(this.#text, this.#cursor));
      case "up":
      case "ctrl-p":
        return this.#recall(this.#historyAt - 1);
      case "down":
      case "ctrl-n":
        return this.#recall(this.#historyAt + 1);
      default: {
        const unhandled: never = key.name;
        return unhandled;
      }
    }
  }

  #insert(text: string): EditResult {
    this.#text = this.#text.slice(0, this.#cursor) + text + this.#text.slice(this.#cursor);
    this.#cursor += text.length;
    // Typed text can join the character before it (a combining accent): keep the cursor on a boundary.
    this.#cursor = nextBoundary(this.#text, previousBoundary(this.#text, this.#cursor));
    return CHANGED;
  }

  #deleteForward(): EditResult {
    return this.#cut(this.#cursor, nextBoundary(this.#text, this.#cursor));
  }

  #cut(from: number, to: number): EditResult {
    if (from === to) return UNCHANGED;
    this.#text = this.#text.slice(0, from) + this.#text.slice(to);
    this.#cursor = from;
    return CHANGED;
  }

  #moveTo(index: number): EditResult {
    if (index === this.#cursor) return UNCHANGED;
    this.#cursor = index;
    return CHANGED;
  }

  #recall(index: number): EditResult {
    if (index < 0 || index > this.#history.length || index === this.#historyAt) return UNCHANGED;
    if (this.#historyAt === this.#history.length) this.#draft = this.#text;
    this.#historyAt = index;
    this.#text = index === this.#history.length ? this.#draft : this.#history[index]!;
    this.#cursor = this.#text.length;
    return CHANGED;
  }

  #submit(): EditResult {
    const line = this.#text;
    // Blank lines and repeats of the last line would only make Up slower to use.
    if (line.trim() !== "" && this.#history.at(-1) !== line) {
      this.#history.push(line);
      if (this.#history.length > HISTORY_LIMIT) this.#history.shift();
    }
    this.#text = "";
    this.#cursor = 0;
    this.#draft = "";
    this.#historyAt = this.#history.length;
    return { kind: "submit", line };
  }
}
