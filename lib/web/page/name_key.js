// @ts-check
/**
 * How both chat clients tell names apart and colour them: a name's
 * comparison key (NFC, lower case, as the server compares names) and a
 * stable hash of that key, so a name gets the same pick from a palette on
 * every screen and every run, in any case. Plain JavaScript with JSDoc types:
 * the browser loads this file as it is, and the terminal client imports the
 * same file, checked as strictly as its TypeScript.
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
