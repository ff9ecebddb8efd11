/**
 * A temporary directory that removes itself: `await using dir = await
 * tempDir("chat-data-")` for a server's `--data-dir` or a store's file.
 *
 * @module
 */

/** A directory made for one test, removed with everything in it when disposed. */
export interface TempDir extends AsyncDisposable {
  /** Its absolute path. */
  readonly path: string;
}

/** Makes an empty directory under the system's temporary directory. */
export async function tempDir(prefix: string): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}
