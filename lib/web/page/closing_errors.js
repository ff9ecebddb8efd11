// @ts-check
/**
 * The `ERR` codes after which the server closes the connection
 * (docs/protocol.md), for both chat clients: the browser loads this file as
 * it is, and the terminal client imports the same file.
 *
 * @module
 */

/**
 * A client that gets one of these expects the close that follows, and says
 * why rather than only that the connection dropped.
 *
 * @type {ReadonlySet<string>}
 */
export const CLOSING_ERRORS = new Set([
  "idle-timeout",
  "slow-consumer",
  "server-shutdown",
  "server-full",
  "too-many-connections",
  "excess-flood",
  "session-replaced",
]);
