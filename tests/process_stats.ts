/**
 * A process's descriptors and CPU time, read from /proc by a child process:
 * Deno reads /proc/<pid> only with --allow-all, which the test task lacks.
 *
 * @module
 */

async function run(args: string[]): Promise<string> {
  const { code, stdout } = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdout: "piped",
    stderr: "null",
  }).output();
  if (code !== 0) throw new Error(`${args.join(" ")} exited with ${code}`);
  return new TextDecoder().decode(stdout);
}

/** Descriptors process `pid` holds now. */
export async function descriptorCount(pid: number): Promise<number> {
  return (await run(["ls", "-1", `/proc/${pid}/fd`])).split("\n").filter((l) => l !== "").length;
}

/** User plus system CPU time of process `pid`, in clock ticks (USER_HZ, 100 on Linux). */
export async function cpuTicks(pid: number): Promise<number> {
  const stat = await run(["cat", `/proc/${pid}/stat`]);
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}
