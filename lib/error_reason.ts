/**
 * An error's message as the reason in a one-line message to an operator
 * (`Cannot start: --data-dir …: <reason>`, the account task's
 * `<where>: <reason>`): a system error's words without its number and call.
 *
 * @module
 */

/**
 * "Permission denied (os error 13): mkdir '/x'" is "permission denied";
 * any other message is kept as it is.
 */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const system = message.match(/^(.+?) \(os error \d+\)/);
  if (system === null) return message;
  return system[1]!.charAt(0).toLowerCase() + system[1]!.slice(1);
}
