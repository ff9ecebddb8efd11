/** The operator's account task as a real subprocess, started as `deno task account` starts it. */
import { withDeadline } from "./helpers.ts";

const root = new URL("../", import.meta.url);

/** What a run of the task printed, and how it ended. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The words after `deno` in the `account` task (its flags read from deno.json). */
async function taskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  return String(config.tasks.account).split(/\s+/).slice(1);
}

/**
 * Runs the task with `args`, `stdin` piped to it, and `env` added to the
 * environment (`REDIS_URL` emptied unless given, whatever the test runner's is).
 */
export async function runTask(
  args: string[],
  stdin = "",
  env: Record<string, string> = {},
): Promise<Ran> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...await taskArgs(), ...args],
    cwd: root,
    env: { NO_COLOR: "1", REDIS_URL: "", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const output = await withDeadline(child.output(), 20_000, `task ${args.join(" ")}`);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
