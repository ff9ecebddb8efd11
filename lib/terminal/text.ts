/**
 * Text as a terminal shows it: grapheme boundaries (what one press of an
 * arrow key steps over), display width in columns, and text made safe to
 * write. Pure.
 *
 * @module
 */

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** The grapheme clusters of `text`, in order. */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** The grapheme boundary before `index` (0 at the start). */
export function previousBoundary(text: string, index: number): number {
  let previous = 0;
  for (const { index: at } of segmenter.segment(text)) {
    if (at >= index) break;
    previous = at;
  }
  return previous;
}

/** The grapheme boundary after `index` (the length at the end). */
export function nextBoundary(text: string, index: number): number {
  for (const { index: at, segment } of segmenter.segment(text)) {
    if (at + segment.length > index) return at + segment.length;
  }
  return text.length;
}

// Ranges that East Asian terminals draw two columns wide (the common Wide and
// Fullwidth blocks of UAX #11); emoji are caught by Emoji_Presentation below.
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

const EMOJI = /\p{Emoji_Presentation}|\uFE0F/u;
// Combining marks and invisible format characters take no column of their own.
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;

/** Columns one grapheme cluster takes on a terminal: 0, 1 or 2. */
export function graphemeWidth(grapheme: string): number {
  if (grapheme === "" || ZERO_WIDTH.test(grapheme)) return 0;
  if (EMOJI.test(grapheme)) return 2;
  const code = grapheme.codePointAt(0)!;
  for (const [low, high] of WIDE) if (code >= low && code <= high) return 2;
  return 1;
}

/** Columns `text` takes on a terminal (no control characters expected: see {@linkcode neutralize}). */
export function displayWidth(text: string): number {
  // ASCII is by far the common case and needs no segmentation.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const grapheme of graphemes(text)) width += graphemeWidth(grapheme);
  return width;
}

// C0, DEL and C1: every byte a terminal may act on (ESC starts sequences, CSI
// and OSC also exist as single C1 characters, BEL rings, CR and BS overwrite).
const CONTROL = /\p{Cc}/gu;

/**
 * `text` safe to write to a terminal: TAB becomes a space (a tab stop would
 * put the cursor where the width count does not expect it) and every other
 * control character becomes U+FFFD, so nothing anyone sends can move the
 * cursor, recolour, retitle or clear the screen.
 */
export function neutralize(text: string): string {
  return text.replace(CONTROL, (c) => c === "\t" ? " " : "\uFFFD");
}
