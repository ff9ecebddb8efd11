/**
 * A real terminal for tests: a detached tmux server on a socket of its own,
 * typed into with `send-keys` and read back with `capture-pane`, polled
 * under a deadline.
 *
 * @module
 */
import { assert } from "@std/assert";
import { pollUntil } from "./helpers.ts";
import { hasProgram } from "./programs.ts";

/** How long a test waits for the screen (or a program's output) to show what it expects. */
export const SCREEN_MS = 15_000;

/** True when `tmux` is on the PATH. */
export async function hasTmux(): Promise<boolean> {
  return await hasProgram("tmux", ["-V"]);
}

/** `word` quoted for `sh`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * A detached tmux server with one fixed-size window, on a socket of its own
 * in a temporary folder (tmux leaves its socket file behind; the folder goes).
 */
export class Tmux {
  readonly #socket: string;
  readonly rows: number;

  private constructor(socket: string, rows: number) {
    this.#socket = socket;
    this.rows = rows;
  }

  /** Runs `command` through `sh -c` in a new `columns` × `rows` window. */
  static async start(command: string, columns = 100, rows = 20): Promise<Tmux> {
    const dir = await Deno.makeTempDir({ prefix: "chat-tmux-" });
    const tmux = new Tmux(`${dir}/socket`, rows);
    await tmux.run("new-session", "-d", "-s", "chat", "-x", `${columns}`, "-y", `${rows}`, command);
    return tmux;
  }

  /** Runs a tmux command on this server; its standard output. */
  async run(...args: string[]): Promise<string> {
    const { success, stdout, stderr } = await new Deno.Command("tmux", {
      args: ["-u", "-S", this.#socket, "-f", "/dev/null", ...args],
      env: { LANG: "C.UTF-8" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert(success, `tmux ${args.join(" ")}: ${decoder.decode(stderr)}`);
    return decoder.decode(stdout);
  }

  /** Presses keys by tmux's names (`Left`, `Enter`, `C-c`). */
  async keys(...names: string[]): Promise<void> {
    await this.run("send-keys", "-t", "chat", ...names);
  }

  /** Types `text` as it is. */
  async type(text: string): Promise<void> {
    await this.run("send-keys", "-t", "chat", "-l", text);
  }

  /** The screen's rows, trailing spaces removed. */
  async screen(): Promise<string[]> {
    const text = await this.run("capture-pane", "-p", "-t", "chat");
    return text.split("\n").slice(0, this.rows).map((line) => line.trimEnd());
  }

  /** The cursor's column and row. */
  async cursor(): Promise<{ x: number; y: number }> {
    const [x, y] =
      (await this.run("display-message", "-p", "-t", "chat", "#{cursor_x},#{cursor_y}"))
        .trim().split(",").map(Number);
    return { x: x!, y: y! };
  }

  /**
   * Polls the screen until `test` holds (the client draws when bytes arrive:
   * there is no event to await from outside the terminal), under a deadline.
   */
  async waitFor(what: string, test: (screen: string[]) => boolean): Promise<string[]> {
    return await pollUntil(what, () => this.screen(), test, {
      ms: SCREEN_MS,
      show: (screen) => `screen:\n${screen.join("\n")}`,
    });
  }

  /** Waits until the bottom row reads `text` exactly and the cursor is at column `x` of it. */
  async waitForInput(text: string, x = text.length): Promise<void> {
    await pollUntil(
      `input line ${JSON.stringify(text)} with the cursor at ${x}`,
      async () => ({ screen: await this.screen(), cursor: await this.cursor() }),
      ({ screen, cursor }) =>
        screen.at(-1) === text && cursor.x === x && cursor.y === this.rows - 1,
      {
        ms: SCREEN_MS,
        show: ({ screen, cursor }) =>
          `cursor ${JSON.stringify(cursor)}, screen:\n${screen.join("\n")}`,
      },
    );
  }

  /** Ends the tmux server and everything in it, and removes its socket. */
  async kill(): Promise<void> {
    await this.run("kill-server").catch(() => "");
    await Deno.remove(this.#socket.slice(0, -"/socket".length), { recursive: true });
  }
}
