/**
 * User names: what is valid, and the key under which two names are the same.
 *
 * @module
 */
import { nameKey } from "./web/page/name_key.js";

/** Longest name, in Unicode code points, after trimming and NFC normalisation. */
export const MAX_NAME_CODE_POINTS = 32;

// Whitespace, controls (C0, DEL, C1) and invisible format characters (ZWSP, bidi overrides, ...).
const FORBIDDEN = /[\s\p{Cc}\p{Cf}]/u;

/**
 * The name as it will be shown, or `undefined` when it is not a valid name:
 * trimmed, NFC-normalised, 1 to 32 code points, none of them whitespace, a
 * control or a format character.
 */
export function validateName(raw: string): string | undefined {
  const name = raw.trim().normalize("NFC");
  if (name.length === 0 || FORBIDDEN.test(name)) return undefined;
  let codePoints = 0;
  for (const _ of name) {
    if (++codePoints > MAX_NAME_CODE_POINTS) return undefined;
  }
  return name;
}

/**
 * The services' names, which nobody may log in as, on any door: IRC users
 * write to `NickServ` (registering a nick, for one), and a user called so
 * would receive what they meant for the server.
 */
export const RESERVED_NAMES: readonly string[] = ["NickServ", "ChanServ"];

/**
 * The key that makes names unique regardless of case and Unicode composition:
 * the one function the server, the page and the terminal client all compare
 * names by, kept as plain JavaScript beside the page so the browser loads it too.
 */
export { nameKey };

/** The reserved names' keys: always taken, as if their services were logged in. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(RESERVED_NAMES.map(nameKey));
