// @ts-check
/**
 * How names are told apart and coloured: a name's comparison key (NFC, lower
 * case), by which the server keeps names unique (lib/names.ts re-exports it)
 * and both chat clients match them, and a stable hash of that key, so a name
 * gets the same pick from a palette on every screen and every run, in any
 * case. Plain JavaScript with JSDoc types: the browser loads this file as it
 * is, and the server and the terminal client import the same file, checked as
 * strictly as their TypeScript.
 *
 * @module
 */

/**
 * The key two names are compared by: equal keys are the same person.
 *
 * @param {string} name
 * @returns {string}
 */
export function nameKey(name) {
  return name.normalize("NFC").toLowerCase();
}

/**
 * FNV-1a (32 bits) of `name`'s key: an index into a palette, modulo its length.
 *
 * @param {string} name
 * @returns {number}
 */
export function nameHash(name) {
  let hash = 0x811c9dc5;
  for (const char of nameKey(name)) {
    // A character of a string's iteration is never empty, so it has a first code point.
    hash = Math.imul(hash ^ /** @type {number} */ (char.codePointAt(0)), 0x01000193) >>> 0;
  }
  return hash;
}
