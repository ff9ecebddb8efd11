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

/**
 * The socket inodes among process `pid`'s descriptors (`ls -l /proc/<pid>/fd`).
 * A descriptor closed between ls's reading of the folder and of its link is
 * reported by ls as gone ("No such file or directory", exit 1): it is closed,
 * so it is left out rather than failing the count. Any other complaint fails.
 */
export async function socketInodes(pid: number): Promise<Set<string>> {
  const { code, stdout, stderr } = await new Deno.Command("ls", {
    args: ["-l", `/proc/${pid}/fd`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const complaints = new TextDecoder().decode(stderr).split("\n").filter((line) => line !== "");
  // ls names itself as it was run: Deno runs it by its full path (`/usr/bin/ls: cannot ...`).
  const closedMeanwhile =
    /^(?:\S*\/)?ls: cannot access '\/proc\/\d+\/fd\/\d+': No such file or directory$/;
  const failed = code > 1 || (code === 1 && complaints.length === 0) ||
    complaints.some((line) => !closedMeanwhile.test(line));
  if (failed) {
    throw new Error(`ls -l /proc/${pid}/fd exited with ${code}: ${complaints.join("; ")}`);
  }
  const links = new TextDecoder().decode(stdout);
  return new Set([...links.matchAll(/socket:\[(\d+)\]/g)].map((match) => match[1]!));
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
