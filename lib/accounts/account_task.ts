/**
 * The operator's way back into an account, since the protocol has none:
 * `deno task account <list [name] | delete <name> | set-password <name>>
 * --data-dir <dir>`, on the `chat.db` a server made there, whether or not
 * that server is running (SQLite's locks and busy timeout keep the short
 * write safe beside it). `set-password` reads the password from standard
 * input (never argv, which `ps` shows): its first line, or, at a terminal,
 * a prompt that does not echo. Exit status 0 done, 1 no such account,
 * 2 usage or store error, each with one line on stderr; the password is
 * never printed.
 *
 * @module
 */
import { HISTORY_FILE } from "../history/open_history.ts";
import { openAccountsFile } from "../history/accounts_table.ts";
import { nameKey, validateName } from "../names.ts";
import { hashPassword, passwordProblem } from "./password_hash.ts";

/** The password module, as the task needs it (lib/accounts/password_hash.ts). */
export interface PasswordHasher {
  /** The stored form of `password`: a slow salted hash. */
  hash(password: string): Promise<string>;
  /** Why `password` may not be used (`"weak-password"`), or undefined. */
  problem(password: string): string | undefined;
}

/** Where the task reads and writes: the process's own, or a test's. */
export interface TaskIo {
  /** The new password, as typed or piped: undefined when there is none. */
  readonly readPassword: () => Promise<string | undefined>;
  /** One line of the result (`list`), to stdout. */
  readonly out: (line: string) => void;
  /** The one line that says how it went, to stderr. */
  readonly err: (line: string) => void;
}

/** Exit status: done. */
export const EXIT_DONE = 0;
/** Exit status: the name has no account. */
export const EXIT_NO_ACCOUNT = 1;
/** Exit status: the words were wrong, or the file could not be used. */
export const EXIT_USAGE = 2;

/**
 * How long the task waits for a running server's write to end: its writes
 * take milliseconds, and the task's are one row, so a lock held longer
 * means something else holds the file.
 */
export const TASK_BUSY_TIMEOUT_MS = 5000;
/** Most bytes read from a piped standard input: a password is 128 characters at most. */
const MAX_INPUT_BYTES = 4096;

/** The task's one usage line. */
export const USAGE =
  "usage: deno task account <list [name] | delete <name> | set-password <name>> --data-dir <dir>";

/** What the words ask for. */
interface Order {
  readonly command: "list" | "delete" | "set-password";
  readonly name: string | undefined;
  readonly dataDir: string;
}

/** The words parsed, or undefined when they are not a task. */
function parseOrder(args: readonly string[]): Order | undefined {
  const words: string[] = [];
  let dataDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--data-dir") dataDir = args[++i];
    else if (arg.startsWith("--data-dir=")) dataDir = arg.slice("--data-dir=".length);
    else if (arg.startsWith("-")) return undefined;
    else words.push(arg);
  }
  const [command, name, ...rest] = words;
  if (dataDir === undefined || dataDir === "" || rest.length > 0) return undefined;
  if (command === "list") return { command, name, dataDir };
  if ((command === "delete" || command === "set-password") && name !== undefined) {
    return { command, name, dataDir };
  }
  return undefined;
}

/**
 * Runs the task the words `args` ask for and returns its exit status.
 * `hasher` undefined: `set-password` is refused (the password module is
 * not there yet).
 */
export async function runAccountTask(
  args: readonly string[],
  io: TaskIo,
  hasher: PasswordHasher | undefined,
): Promise<number> {
  const order = parseOrder(args);
  if (order === undefined) {
    io.err(USAGE);
    return EXIT_USAGE;
  }
  let key: string | undefined;
  if (order.name !== undefined) {
    const name = validateName(order.name);
    // Not echoed: a name refused may hold terminal control characters.
    if (name === undefined) {
      io.err(`${order.command}: not a valid name`);
      return EXIT_USAGE;
    }
    key = nameKey(name);
  }
  const path = `${order.dataDir.replace(/\/+$/, "")}/${HISTORY_FILE}`;
  let file;
  try {
    file = openAccountsFile(path, TASK_BUSY_TIMEOUT_MS);
  } catch (error) {
    io.err(`${order.command}: ${path}: ${reasonOf(error)}`);
    return EXIT_USAGE;
  }
  using opened = file;
  const table = opened.table;
  try {
    if (order.command === "list" && key === undefined) {
      const accounts = table.list();
      for (const account of accounts) io.out(listLine(account));
      io.err(`list: ${accounts.length} account${accounts.length === 1 ? "" : "s"}`);
      return EXIT_DONE;
    }
    const account = table.find(key!);
    if (account === undefined) {
      io.err(`${order.command}: no account named ${order.name}`);
      return EXIT_NO_ACCOUNT;
    }
    switch (order.command) {
      case "list":
        io.out(listLine(account));
        io.err("list: 1 account");
        return EXIT_DONE;
      case "delete":
        if (!table.remove(account.id)) {
          io.err(`delete: no account named ${order.name}`);
          return EXIT_NO_ACCOUNT;
        }
        io.err(`delete: deleted account ${account.name} (id ${account.id})`);
        return EXIT_DONE;
      case "set-password": {
        const password = await io.readPassword();
        if (password === undefined || password === "") {
          io.err("set-password: no password on standard input");
          return EXIT_USAGE;
        }
        if (hasher === undefined) {
          io.err("set-password: not available yet");
          return EXIT_USAGE;
        }
        const problem = hasher.problem(password);
        if (problem !== undefined) {
          io.err(`set-password: ${problem} (8 to 128 characters, no whitespace)`);
          return EXIT_USAGE;
        }
        const hash = await hasher.hash(password);
        if (!table.setHash(account.id, hash)) {
          io.err(`set-password: no account named ${order.name}`);
          return EXIT_NO_ACCOUNT;
        }
        io.err(`set-password: password set for ${account.name} (id ${account.id})`);
        return EXIT_DONE;
      }
      default: {
        const unknown: never = order.command;
        throw new Error(`unknown command ${unknown}`);
      }
    }
  } catch (error) {
    // SQLite's messages name no values (a hash or a password never appears in them).
    io.err(`${order.command}: ${path}: ${reasonOf(error)}`);
    return EXIT_USAGE;
  }
}

/** An account as `list` shows it: id, name, registration time (UTC), TAB-separated. */
function listLine(account: { id: number; name: string; createdMs: number }): string {
  return `${account.id}\t${account.name}\t${new Date(account.createdMs).toISOString()}`;
}

function reasonOf(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) {
    return "no such file (a server started with this --data-dir makes it)";
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/, "");
}

/** The first line of standard input (a terminal: typed at a prompt that does not echo). */
export async function readStdinPassword(): Promise<string | undefined> {
  if (Deno.stdin.isTerminal()) return await promptPassword();
  const bytes = new Uint8Array(MAX_INPUT_BYTES);
  let length = 0;
  while (length < bytes.length && !bytes.subarray(0, length).includes(0x0a)) {
    const read = await Deno.stdin.read(bytes.subarray(length));
    if (read === null) break;
    length += read;
  }
  const text = new TextDecoder().decode(bytes.subarray(0, length));
  return text.split("\n", 1)[0]!.replace(/\r$/, "");
}

/** Asks for the password at the terminal, echo off; Ctrl-C or Ctrl-D gives up. */
async function promptPassword(): Promise<string | undefined> {
  const encoder = new TextEncoder();
  Deno.stderr.writeSync(encoder.encode("New password (not shown): "));
  Deno.stdin.setRaw(true);
  const typed: number[] = [];
  try {
    const buffer = new Uint8Array(64);
    for (;;) {
      const read = await Deno.stdin.read(buffer);
      if (read === null) return undefined;
      for (const byte of buffer.subarray(0, read)) {
        if (byte === 0x03 || byte === 0x04) return undefined;
        if (byte === 0x0d || byte === 0x0a) return new TextDecoder().decode(new Uint8Array(typed));
        if (byte !== 0x7f && byte !== 0x08) {
          typed.push(byte);
          continue;
        }
        // Backspace takes a whole character: its UTF-8 continuation bytes, then its first.
        while (((typed.at(-1) ?? 0) & 0xc0) === 0x80) typed.pop();
        typed.pop();
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(encoder.encode("\n"));
  }
}

const hasher: PasswordHasher = { hash: hashPassword, problem: passwordProblem };

if (import.meta.main) {
  const io: TaskIo = {
    readPassword: readStdinPassword,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  };
  Deno.exit(await runAccountTask(Deno.args, io, hasher));
}
