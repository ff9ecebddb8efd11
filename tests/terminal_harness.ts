/**
 * Running the terminal chat client as a user runs it (`deno task chat`'s
 * flags, read from deno.json) against a real server process: in a real
 * terminal (tmux) or over pipes.
 *
 * @module
 */
import { spawnServer, type StartedServer } from "./server_process.ts";
import { withDeadline } from "./helpers.ts";
import { LineReader } from "./line_reader.ts";
import { hasTmux, SCREEN_MS, shellQuote } from "./tmux.ts";

/** The repository's root. */
export const root = new URL("../", import.meta.url);

/** True where the terminal tests are skipped: no tmux, and not CI (which installs it, and fails without it). */
export const noTmux = !(await hasTmux()) && Deno.env.get("CI") !== "true";

/** The words after `deno` in the `chat` task: `run`, the permission flags, the entry point. */
export async function chatTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  return String(config.tasks.chat).split(/\s+/).slice(1);
}

/** A server on a free port, without flood control. */
export async function startServer(args: string[] = []): Promise<StartedServer> {
  return await withDeadline(
    spawnServer(["--host", "127.0.0.1", "--port", "0", "--rate", "0", ...args]),
    SCREEN_MS,
    "server start",
  );
}

/** Stops `server` and waits for it and its log. */
export async function stopServer(server: StartedServer): Promise<void> {
  try {
    server.child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await server.child.status;
  await server.logClosed;
}

/**
 * The tmux command that runs the client with `args` (and `env` added to its
 * environment), then shows its exit status and the terminal's mode.
 */
export async function clientCommand(
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const words = [Deno.execPath(), ...await chatTaskArgs(), ...args].map(shellQuote).join(" ");
  const settings = Object.entries(env).map(([name, value]) => shellQuote(`${name}=${value}`));
  // env -u NO_COLOR: the test sees the coloured client, whatever the runner's environment,
  // unless `env` sets it.
  return `cd ${shellQuote(root.pathname)} && env -u NO_COLOR ${settings.join(" ")} ${words}; ` +
    `echo "[exit $?]"; ` +
    `echo "[stty $(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' ')]"; ` +
    "sleep 600";
}

/** A screen test: some row reads `text` exactly. */
export function has(text: string): (screen: string[]) => boolean {
  return (screen) => screen.some((line) => line === text);
}

/** The client with piped standard input and output, read line by line. */
export class PipedChat {
  readonly child: Deno.ChildProcess;
  readonly #stdout: ReadableStreamDefaultReader<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stderr: Promise<string>;
  readonly #lines: LineReader;

  private constructor(child: Deno.ChildProcess) {
    this.child = child;
    this.#stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stdin = child.stdin.getWriter();
    this.#stderr = new Response(child.stderr).text();
    this.#lines = new LineReader(async () => {
      const { value, done } = await this.#stdout.read();
      return done ? null : value;
    }, "kept");
  }

  /** Starts the client with the chat task's flags and `args`, `env` added to its environment. */
  static async start(args: string[], env: Record<string, string> = {}): Promise<PipedChat> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [...await chatTaskArgs(), ...args],
      cwd: root,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new PipedChat(child);
  }

  /** Writes `text` to the client's standard input. */
  async write(text: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(text));
  }

  /** Closes the client's standard input. */
  async endInput(): Promise<void> {
    await this.#stdin.close().catch(() => {});
  }

  /** The next line of output; null at its end. */
  async line(): Promise<string | null> {
    return await withDeadline(this.#lines.next(), SCREEN_MS, "waiting for a line of output");
  }

  /** Reads lines until one matches `pattern`; all of them, that one last. */
  async until(pattern: RegExp): Promise<string[]> {
    const lines: string[] = [];
    await withDeadline(
      (async () => {
        while (true) {
          const line = await this.#lines.next();
          if (line === null) throw new Error(`output ended before ${pattern}: ${lines.join("\n")}`);
          lines.push(line);
          if (pattern.test(line)) return;
        }
      })(),
      SCREEN_MS,
      `waiting for ${pattern} (got ${JSON.stringify(lines)})`,
    );
    return lines;
  }

  /** Ends its input, reads the rest of its output, and waits for it to exit. */
  async finish(): Promise<{ code: number; rest: string[]; stderr: string }> {
    await this.endInput();
    const rest: string[] = [];
    await withDeadline(
      (async () => {
        let line;
        while ((line = await this.#lines.next()) !== null) rest.push(line);
      })(),
      SCREEN_MS,
      `waiting for the client to exit (got ${JSON.stringify(rest)})`,
    );
    const { code } = await this.child.status;
    return { code, rest, stderr: await this.#stderr };
  }

  /** Stops the client if a test failed before it exited. */
  async dispose(): Promise<void> {
    await this.endInput();
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await this.child.status;
    await this.#stdout.cancel().catch(() => {});
    await this.#stderr.catch(() => "");
  }
}
