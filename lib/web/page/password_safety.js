// @ts-check
/**
 * When the page warns before a password leaves it: over plain HTTP to any
 * host but this machine's own, where anyone on the way can read it. Pure, so
 * a unit test can ask it about hosts a browser test cannot reach.
 *
 * @module
 */

/** Host names that never leave this machine, as `location.hostname` writes them. */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * True when a password sent from a page at `protocol` (`location.protocol`)
 * and `hostname` (`location.hostname`) would cross a network unencrypted.
 *
 * @param {string} protocol
 * @param {string} hostname
 * @returns {boolean}
 */
export function warnsBeforePassword(protocol, hostname) {
  return protocol === "http:" && !LOOPBACK.has(hostname.toLowerCase());
}

/**
 * The password rule of version 3's accounts (8 to 128 characters, no
 * whitespace), checked before sending so a typo costs no round trip.
 *
 * @param {string} password
 * @returns {boolean}
 */
export function followsPasswordRule(password) {
  const length = [...password].length;
  // A lone surrogate would reach the server as U+FFFD: refused there too.
  return length >= 8 && length <= 128 && !/\s/u.test(password) && password.isWellFormed();
}
