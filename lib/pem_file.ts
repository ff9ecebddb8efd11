/**
 * A PEM file read from disk, or why it cannot be used, in a few words that
 * the caller puts after the flag and the path: the server's TLS files and the
 * terminal client's CA file are read the same way and fail the same way.
 *
 * @module
 */

/** A PEM file's text, or the reason it cannot be used ("no such file", "not a PEM file", ...). */
export type PemFile = { readonly text: string } | { readonly problem: string };

/**
 * Reads `path` as text holding PEM blocks; with `label` (`CERTIFICATE`),
 * one block must be of that kind. Never throws: a caller wraps the problem
 * in its own error, with its own prefix.
 */
export function readPemFile(path: string, label?: string): PemFile {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    return { problem: readProblem(error) };
  }
  if (label === undefined) {
    return text.includes("-----BEGIN ") ? { text } : { problem: "not a PEM file" };
  }
  return text.includes(`-----BEGIN ${label}-----`)
    ? { text }
    : { problem: `not a PEM ${label.toLowerCase()}` };
}

function readProblem(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  // NotCapable: Deno's sandbox refused; PermissionDenied: the file system did.
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return "permission denied";
  }
  return error instanceof Error ? error.message : String(error);
}
