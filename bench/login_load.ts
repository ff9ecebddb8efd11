/**
 * Workload B's latency while passwords are checked: one server with
 * `--data-dir` (so accounts are on, with the real scrypt cost), an account
 * registered, then workload B (chatload: 100 clients, 10 senders at 100
 * messages a second) run alone and beside one `LOGIN <name> <password>` a
 * second, alternating, in the same run. Each login takes the name over from
 * the one before, as a reconnecting client does. Prints one JSON line per
 * phase and a summary with the ratio of the medians of B's p99.
 *
 * Run: deno run -A bench/login_load.ts [--rounds=2] [--seconds=10]
 *
 * @module
 */
import { parseFlagsOrExit } from "../lib/flags.ts";
import { spawnServer, stopServer } from "../tests/server_process.ts";

const { values } = parseFlagsOrExit("login_load", Deno.args, {
  values: ["rounds", "seconds"],
  switches: [],
});
const rounds = Number(values.rounds ?? 2);
const seconds = Number(values.seconds ?? 10);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(seconds) || seconds < 2) {
  console.error("login_load: --rounds must be 1 or more, --seconds 2 or more");
  Deno.exit(2);
}
const NAME = "bench-account";
// Made here, never printed: a bench's password is still a password.
const PASSWORD = crypto.randomUUID();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A line conversation: sends `lines`, reads until a line matching `until`, returns it. */
async function converse(port: number, lines: string[], until: RegExp): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(lines.map((line) => `${line}\n`).join("")));
    const buffer = new Uint8Array(4096);
    let text = "";
    while (true) {
      const match = text.split("\n").find((line) => until.test(line));
      if (match !== undefined) return match;
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`closed before ${until}: ${text}`);
      text += decoder.decode(buffer.subarray(0, n));
    }
  } finally {
    conn.close();
  }
}

/** Workload B for `seconds`; resolves with chatload's report. */
async function workloadB(port: number): Promise<Record<string, number>> {
  const output = await new Deno.Command(new URL("chatload", import.meta.url), {
    args: [
      ...["--proto", "seed", "--port", String(port), "--clients", "100", "--senders", "10"],
      ...["--messages", String(seconds * 100), "--rate", "100", "--payload", "64"],
      ...["--timeout", String(seconds + 30)],
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const last = decoder.decode(output.stdout).trim().split("\n").at(-1) ?? "";
  if (!last.startsWith("{")) throw new Error(`chatload said: ${last}`);
  return JSON.parse(last);
}

/** One login a second until `stop` says so; resolves with how many were answered OK, and their times. */
async function loginEverySecond(port: number, stop: () => boolean) {
  const times: number[] = [];
  while (!stop()) {
    const started = performance.now();
    const answer = await converse(port, [`LOGIN ${NAME} ${PASSWORD}`], /^(OK|ERR )/);
    if (answer !== "OK") throw new Error(`login answered ${answer}`);
    times.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - times.at(-1)!)));
  }
  return times;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const dir = await Deno.makeTempDir({ prefix: "chat-login-load-" });
try {
  const server = await spawnServer([
    ...["--host=127.0.0.1", "--port=0", "--rate=0", `--data-dir=${dir}`],
  ]);
  try {
    const registered = await converse(
      server.port,
      [`LOGIN ${NAME}`, `REGISTER ${PASSWORD}`],
      /^(OK registered|ERR )/,
    );
    if (registered !== "OK registered") throw new Error(`REGISTER answered ${registered}`);
    const alone: number[] = [];
    const beside: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Alternating, the order flipped each round.
      for (const withLogins of round % 2 === 1 ? [false, true] : [true, false]) {
        let done = false;
        const logins = withLogins
          ? loginEverySecond(server.port, () => done)
          : Promise.resolve([] as number[]);
        const b = await workloadB(server.port);
        done = true;
        const loginTimes = await logins;
        (withLogins ? beside : alone).push(b.p99_us!);
        console.log(JSON.stringify({
          round,
          phase: withLogins ? "B with 1 login/s" : "B alone",
          b_p50_us: b.p50_us,
          b_p99_us: b.p99_us,
          b_lost: b.lost,
          logins: loginTimes.length,
          login_median_ms: loginTimes.length === 0 ? undefined : Math.round(median(loginTimes)),
        }));
      }
    }
    console.log(JSON.stringify({
      b_p99_us_alone: median(alone),
      b_p99_us_with_logins: median(beside),
      ratio: Math.round(median(beside) / median(alone) * 100) / 100,
    }));
  } finally {
    await stopServer(server);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
