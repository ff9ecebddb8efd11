/**
 * Whether an outside program a test drives (irssi, tmux, redis-server) is
 * installed: tests that need one are skipped without it, except in CI.
 *
 * @module
 */

/** True when `name` runs with `args` (a version flag) and exits 0. */
export async function hasProgram(name: string, args: string[] = ["--version"]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(name, { args, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}
