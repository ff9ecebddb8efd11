/**
 * Entry point of the terminal chat client (`deno task chat --name=<name>`):
 * the command line, the CA file read once, then the client until the user
 * quits. On a terminal (standard input and output both) it edits the bottom
 * line in raw mode; otherwise it reads and writes plain lines. With
 * `--password-stdin` the first line of standard input is the password.
 *
 * @module
 */
import { readPemFile } from "../pem_file.ts";
import { ChatClient, type Ending } from "./client.ts";
import { type ChatOptions, parseOptions, usage, UsageError } from "./options.ts";
import { PlainView, stdinLines } from "./plain_view.ts";
import { TerminalView } from "./terminal_view.ts";

function fail(message: string, status: number): never {
  console.error(message);
  Deno.exit(status);
}

/** The options, and the CA's text if one was given; or one line and exit 2. */
function configure(): { options: ChatOptions; caCerts: string[] } | undefined {
  try {
    const request = parseOptions(Deno.args);
    if (request.kind === "help") return undefined;
    const { options } = request;
    const caCerts = options.ca === undefined ? [] : [readCa(options.ca)];
    return { options, caCerts };
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  } finally {
    // The CA is read only here: the running client keeps no read access at all.
    Deno.permissions.revokeSync({ name: "read" });
  }
}

function readCa(path: string): string {
  const pem = readPemFile(path, "CERTIFICATE");
  if ("problem" in pem) throw new UsageError(`chat: --ca ${path}: ${pem.problem}`);
  return pem.text;
}

/** The password on standard input's first line (`--password-stdin`), and the lines after it. */
async function readPassword(): Promise<{ password: string; rest: AsyncGenerator<string> }> {
  // Typed on a terminal it would be echoed: there the client asks, without echo, instead.
  if (Deno.stdin.isTerminal()) {
    fail(
      "chat: --password-stdin reads a pipe; on a terminal leave it out and type the password when asked",
      2,
    );
  }
  const rest = stdinLines();
  const first = await rest.next();
  const password = first.done ? "" : first.value.trim();
  if (password === "") {
    fail("chat: --password-stdin: standard input has no password on its first line", 2);
  }
  return { password, rest };
}

async function main(): Promise<number> {
  const setup = configure();
  if (setup === undefined) {
    console.log(usage());
    return 0;
  }
  const { options, caCerts } = setup;
  const given = options.passwordStdin ? await readPassword() : undefined;
  const interactive = Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
  const terminal = interactive ? new TerminalView(options.name, !Deno.noColor) : undefined;
  const view = terminal ?? new PlainView();
  const client = new ChatClient({
    target: { host: options.host, port: options.port, tls: options.tls, caCerts },
    name: options.name,
    pingMs: options.pingSeconds * 1000,
    password: given?.password,
    promptLogin: interactive,
  }, view);
  // A signal asks to leave as /quit does; the terminal is restored on the way out below.
  const leave = () => client.quit();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    try {
      Deno.addSignalListener(signal, leave);
    } catch {
      // Windows knows only SIGINT and SIGBREAK; the others cannot come there.
    }
  }
  let ending: Ending;
  try {
    terminal?.open();
    // Input is read while the client runs; the client's end ends the process, not the input's.
    const reading = terminal?.readInput(client) ??
      (view as PlainView).readInput(client, given?.rest);
    reading.catch((error) => {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    });
    ending = await client.run();
  } finally {
    terminal?.close();
  }
  if (ending.message !== undefined) console.error(ending.message);
  return ending.code;
}

if (import.meta.main) {
  // An unexpected error must not leave the terminal in raw mode: restore it, say it, exit.
  const crash = (error: unknown): never => {
    try {
      Deno.stdin.setRaw(false);
    } catch {
      // Not a terminal.
    }
    return fail(`chat: ${error instanceof Error ? error.stack : error}`, 1);
  };
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    crash(event.reason);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    crash(event.error);
  });
  try {
    Deno.exit(await main());
  } catch (error) {
    crash(error);
  }
}
