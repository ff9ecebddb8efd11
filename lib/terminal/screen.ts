/**
 * The input line on screen: which part of a long line is visible, where the
 * cursor goes, and the escape sequences that draw it. Pure: it returns
 * strings for the caller to write.
 *
 * @module
 */
import { graphemes, graphemeWidth } from "./text.ts";

/** Erases the cursor's line and returns to its first column. */
export const CLEAR_LINE = "\r\x1b[2K";

/** Moves the cursor to the first column of the bottom line (CUP clamps to the screen). */
export const TO_BOTTOM = "\x1b[999;1H";

/** Clears the screen and puts the cursor on the bottom line. */
export const CLEAR_SCREEN = "\x1b[2J" + TO_BOTTOM;

/** The part of the input line that fits on screen, and where the cursor goes. */
export interface InputLayout {
  /** Index into the text of the first visible character (kept for the next layout). */
  readonly start: number;
  /** The visible text. */
  readonly visible: string;
  /** The cursor's column, counted from the end of the prompt. */
  readonly cursorColumn: number;
}

/**
 * Lays out `text` in `room` columns with the cursor at index `cursor`,
 * scrolling sideways as little as possible from the previous `start`, so the
 * text does not jump while the cursor moves inside what is visible. The line
 * never wraps: a wrapped input line could not be erased in one go.
 */
export function layoutInput(
  text: string,
  cursor: number,
  previousStart: number,
  room: number,
): InputLayout {
  const parts = graphemes(text);
  const offsets: number[] = [];
  let offset = 0;
  for (const part of parts) {
    offsets.push(offset);
    offset += part.length;
  }
  offsets.push(text.length);
  const at = (index: number) => {
    const found = offsets.indexOf(index);
    return found === -1 ? offsets.findIndex((o) => o > index) : found;
  };
  const cursorPart = at(cursor);
  const widths = parts.map(graphemeWidth);
  const span = (from: number, to: number) => {
    let width = 0;
    for (let i = from; i < to; i++) width += widths[i]!;
    return width;
  };
  const space = Math.max(1, room);
  let first = Math.min(at(Math.min(previousStart, text.length)), cursorPart);
  // The character under the cursor (a blank cell at the end) must be visible too.
  const underCursor = widths[cursorPart] ?? 1;
  while (first < cursorPart && span(first, cursorPart) + underCursor > space) first++;
  // After a deletion, pull the start back while everything after it still fits.
  while (first > 0 && span(first - 1, parts.length) + 1 <= space) first--;
  let last = first;
  let used = 0;
  while (last < parts.length && used + widths[last]! <= space) used += widths[last++]!;
  return {
    start: offsets[first]!,
    visible: parts.slice(first, last).join(""),
    cursorColumn: span(first, cursorPart),
  };
}

/** What to draw on the input line. */
export interface InputLine {
  /** The prompt, possibly with colour sequences. */
  readonly prompt: string;
  /** The prompt's width in columns (its colour sequences take none). */
  readonly promptWidth: number;
  /** The text typed so far and where the cursor is in it. */
  readonly text: string;
  readonly cursor: number;
  /** Where the previous drawing started (see {@linkcode layoutInput}). */
  readonly start: number;
  /** The terminal's width. */
  readonly columns: number;
}

/**
 * The bytes that redraw the input line in place (erase it, write prompt and
 * visible text, put the cursor back where it was) and the new scroll start.
 * The last column stays empty, so the terminal never wraps the line.
 */
export function drawInput(line: InputLine): { readonly bytes: string; readonly start: number } {
  // A terminal too narrow for the prompt and a few characters shows the text alone.
  const showPrompt = line.columns - 1 - line.promptWidth >= 8;
  const room = line.columns - 1 - (showPrompt ? line.promptWidth : 0);
  const layout = layoutInput(line.text, line.cursor, line.start, room);
  const column = (showPrompt ? line.promptWidth : 0) + layout.cursorColumn;
  const bytes = CLEAR_LINE + (showPrompt ? line.prompt : "") + layout.visible + "\r" +
    (column > 0 ? `\x1b[${column}C` : "");
  return { bytes, start: layout.start };
}

/**
 * The bytes that print `lines` above the input line: erase the input line,
 * write each line and a line end (the terminal scrolls up), ready for
 * {@linkcode drawInput}. The lines must be neutralised already.
 */
export function printAbove(lines: readonly string[]): string {
  return CLEAR_LINE + lines.map((line) => line + "\r\n").join("");
}
