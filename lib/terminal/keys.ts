/**
 * Key decoding: the bytes a terminal in raw mode sends, turned into typed text
 * and named keys. Pure: the caller feeds bytes as they are read.
 *
 * @module
 */

/** A key that edits or moves rather than types. */
export type KeyName =
  | "enter"
  | "tab"
  | "backspace"
  | "delete"
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end"
  | "word-left"
  | "word-right"
  | "delete-word-before"
  | "delete-word-after"
  | "ctrl-a"
  | "ctrl-b"
  | "ctrl-c"
  | "ctrl-d"
  | "ctrl-e"
  | "ctrl-f"
  | "ctrl-k"
  | "ctrl-l"
  | "ctrl-n"
  | "ctrl-p"
  | "ctrl-u"
  | "ctrl-w";

/** One thing the user did: typed (or pasted) text, or pressed a named key. */
export type Key =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "key"; readonly name: KeyName };

const ESC = "\x1b";

// Control bytes with a binding; the others (Ctrl-G, Ctrl-Z in raw mode…) are dropped.
const CONTROL_KEYS: Readonly<Record<string, KeyName>> = {
  "\x01": "ctrl-a",
  "\x02": "ctrl-b",
  "\x03": "ctrl-c",
  "\x04": "ctrl-d",
  "\x05": "ctrl-e",
  "\x06": "ctrl-f",
  "\x08": "backspace",
  "\t": "tab",
  "\n": "enter",
  "\x0b": "ctrl-k",
  "\x0c": "ctrl-l",
  "\r": "enter",
  "\x0e": "ctrl-n",
  "\x10": "ctrl-p",
  "\x15": "ctrl-u",
  "\x17": "ctrl-w",
  "\x7f": "backspace",
};

// CSI and SS3 finals (xterm, VT100 application mode and the Linux console agree on these).
const FINALS: Readonly<Record<string, KeyName>> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
};

// `ESC [ n ~` keys.
const TILDE: Readonly<Record<string, KeyName>> = {
  "1": "home",
  "7": "home",
  "4": "end",
  "8": "end",
  "3": "delete",
};

// Alt (Meta) chords arrive as ESC then the key: readline's word bindings.
const ALT: Readonly<Record<string, KeyName>> = {
  b: "word-left",
  f: "word-right",
  d: "delete-word-after",
  "\x7f": "delete-word-before",
  "\x08": "delete-word-before",
};

/** Longest escape sequence kept while waiting for its end; longer ones are junk and dropped. */
const MAX_SEQUENCE = 32;

/** What one escape sequence at the start of `input` is, or that more input is needed. */
type Sequence =
  | { readonly kind: "complete"; readonly length: number; readonly key: KeyName | undefined }
  | { readonly kind: "incomplete" };

/** Reads the escape sequence that starts `input` (which starts with ESC). */
function readSequence(input: string): Sequence {
  if (input.length < 2) return { kind: "incomplete" };
  const second = input[1]!;
  if (second === "[") {
    // CSI: parameters and intermediates (0x20-0x3f), then one final byte (0x40-0x7e).
    let end = 2;
    while (end < input.length && input.charCodeAt(end) >= 0x20 && input.charCodeAt(end) <= 0x3f) {
      end++;
    }
    if (end === input.length) {
      return end >= MAX_SEQUENCE
        ? { kind: "complete", length: end, key: undefined }
        : { kind: "incomplete" };
    }
    const final = input[end]!;
    const params = input.slice(2, end);
    return { kind: "complete", length: end + 1, key: csiKey(params, final) };
  }
  if (second === "O") {
    if (input.length < 3) return { kind: "incomplete" };
    return { kind: "complete", length: 3, key: FINALS[input[2]!] };
  }
  // A second ESC starts a sequence of its own: the first was a lone Escape press.
  if (second === ESC) return { kind: "complete", length: 1, key: undefined };
  return { kind: "complete", length: 2, key: ALT[second] };
}

function csiKey(params: string, final: string): KeyName | undefined {
  if (final === "~") return TILDE[params.split(";")[0] ?? ""];
  const key = FINALS[final];
  if (key === undefined) return undefined;
  // `ESC [1;5D` (Ctrl) and `ESC [1;3D` (Alt) move by words, as in most shells.
  const modifier = params.split(";")[1];
  if (modifier !== undefined && modifier !== "1") {
    if (key === "left") return "word-left";
    if (key === "right") return "word-right";
  }
  return key;
}

/**
 * Decodes a raw-mode terminal's input. UTF-8 characters and escape sequences
 * split across reads are held until their end arrives; {@linkcode flush}
 * gives up on a held escape (a lone Escape press looks like the start of one).
 */
export class KeyDecoder {
  readonly #utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
  #held = "";
  #afterCr = false;

  /** True while an unfinished escape sequence is held, waiting for more input. */
  get pending(): boolean {
    return this.#held !== "";
  }

  /** The keys in `bytes`, read from the terminal just now. */
  feed(bytes: Uint8Array): Key[] {
    const input = this.#held + this.#utf8.decode(bytes, { stream: true });
    this.#held = "";
    return this.#decode(input);
  }

  /** Ends a held escape sequence as it is: called when no more input came soon after it. */
  flush(): Key[] {
    const held = this.#held;
    this.#held = "";
    // What follows the ESC is read as ordinary keys: "ESC [" alone was Escape, then "[".
    return held === "" ? [] : this.#decode(held.slice(1));
  }

  #decode(input: string): Key[] {
    const keys: Key[] = [];
    let text = "";
    const endText = () => {
      if (text !== "") keys.push({ kind: "text", text });
      text = "";
    };
    let i = 0;
    while (i < input.length) {
      const char = input[i]!;
      if (char !== "\n") this.#afterCr = false;
      if (char === ESC) {
        const sequence = readSequence(input.slice(i));
        if (sequence.kind === "incomplete") {
          this.#held = input.slice(i);
          break;
        }
        endText();
        if (sequence.key !== undefined) keys.push({ kind: "key", name: sequence.key });
        i += sequence.length;
        continue;
      }
      const code = input.charCodeAt(i);
      if (code < 0x20 || code === 0x7f) {
        endText();
        const name = CONTROL_KEYS[char];
        // A pasted CRLF is one line end, not two, even split across reads.
        const afterCr = this.#afterCr;
        this.#afterCr = char === "\r";
        if (name !== undefined && !(char === "\n" && afterCr)) keys.push({ kind: "key", name });
        i++;
        continue;
      }
      // C1 controls (U+0080-U+009F) are typed by nobody: dropped, never inserted.
      if (code >= 0x80 && code <= 0x9f) {
        i++;
        continue;
      }
      text += char;
      i++;
    }
    endText();
    return keys;
  }
}
