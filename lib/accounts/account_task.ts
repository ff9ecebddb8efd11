/**
 * The operator's way back into an account, since the protocol has none:
 * `deno task account <list [name] | delete <name> | set-password <name>>
 * (--data-dir <dir> | --redis-url <url>)` (or `REDIS_URL` in the
 * environment), on the `chat.db` a server made
 * in that directory, or in the Redis the servers share (which wins when
 * both are given, as it does for the server), whether or not a server is
 * running. `set-password` reads the password from standard input (never
 * argv, which `ps` shows): its first line, or, at a terminal, a prompt
 * that does not echo. Exit status 0 done, 1 no such account, 2 usage or
 * store error, each with one line on stderr; the password is never
 * printed, nor the Redis URL's.
 *
 * @module
 */
import { ConfigError, parseRedisUrl } from "../config_values.ts";
import { nameKey, validateName } from "../names.ts";
import { hashPassword, passwordProblem } from "./password_hash.ts";
import { openFileAccounts, type TaskAccounts, TaskStoreError } from "./task_accounts.ts";

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

/** Most bytes read from a piped standard input: a password is 128 characters at most. */
const MAX_INPUT_BYTES = 4096;

/** The task's one usage line. */
export const USAGE =
  "usage: deno task account <list [name] | delete <name> | set-password <name>>" +
  " (--data-dir <dir> | --redis-url <url>)";

/** Where the accounts are: the `--data-dir` file, or Redis. */
type Place =
  | { readonly kind: "file"; readonly dataDir: string }
  | { readonly kind: "redis"; readonly url: string };

/** What the words ask for. */
interface Order {
  readonly command: "list" | "delete" | "set-password";
  readonly name: string | undefined;
  readonly place: Place;
}

/** The words parsed, or undefined when they are not a task. */
function parseOrder(args: readonly string[], envUrl: string | undefined): Order | undefined {
  const words: string[] = [];
  const flags: Record<string, string | undefined> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const flag = ["--data-dir", "--redis-url"].find((f) => arg === f || arg.startsWith(`${f}=`));
    if (flag === undefined && arg.startsWith("-")) return undefined;
    if (flag === undefined) words.push(arg);
    else flags[flag] = arg === flag ? args[++i] : arg.slice(flag.length + 1);
  }
  const [command, name, ...rest] = words;
  const url = flags["--redis-url"] ?? (envUrl === "" ? undefined : envUrl);
  const dataDir = flags["--data-dir"];
  if (url === "" || dataDir === "" || rest.length > 0) return undefined;
  const place: Place | undefined = url !== undefined
    ? { kind: "redis", url }
    : dataDir !== undefined
    ? { kind: "file", dataDir }
    : undefined;
  if (place === undefined) return undefined;
  if (command === "list") return { command, name, place };
  if ((command === "delete" || command === "set-password") && name !== undefined) {
    return { command, name, place };
  }
  return undefined;
}

/** Opens the accounts where `place` says; throws a {@linkcode ConfigError} or {@linkcode TaskStoreError}. */
async function openPlace(place: Place): Promise<TaskAccounts> {
  if (place.kind === "file") return openFileAccounts(place.dataDir);
  // Checked first: a refused URL is shown without its credentials.
  const url = parseRedisUrl(place.url, "--redis-url");
  // Loaded only here: the SQLite task needs no Redis client.
  const { openRedisAccounts } = await import("./redis_task_accounts.ts");
  return await openRedisAccounts(url);
}

/**
 * Runs the task the words `args` ask for and returns its exit status.
 * `envUrl`: `REDIS_URL` from the environment, used when `--redis-url` is
 * not given (as the server does; `deno task` echoes its arguments, and an
 * environment variable keeps a URL's password off the screen and out of `ps`).
 * `hasher` makes and checks the hash `set-password` stores.
 */
export async function runAccountTask(
  args: readonly string[],
  io: TaskIo,
  hasher: PasswordHasher,
  envUrl?: string,
): Promise<number> {
  const order = parseOrder(args, envUrl);
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
  let accounts: TaskAccounts;
  try {
    accounts = await openPlace(order.place);
  } catch (error) {
    io.err(`${order.command}: ${failure(error)}`);
    return EXIT_USAGE;
  }
  try {
    return await perform(order, key, accounts, io, hasher);
  } catch (error) {
    // Neither SQLite's nor Redis's messages name values (a hash or a password never appears).
    io.err(`${order.command}: ${failure(error)}`);
    return EXIT_USAGE;
  } finally {
    await accounts.close();
  }
}

/** Does what `order` asks on `accounts`; `key` is its name's key, when it names one. */
async function perform(
  order: Order,
  key: string | undefined,
  accounts: TaskAccounts,
  io: TaskIo,
  hasher: PasswordHasher,
): Promise<number> {
  if (order.command === "list" && key === undefined) {
    const all = await accounts.list();
    for (const account of all) io.out(listLine(account));
    io.err(`list: ${all.length} account${all.length === 1 ? "" : "s"}`);
    return EXIT_DONE;
  }
  const account = await accounts.find(key!);
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
      if (!await accounts.remove(account.id)) {
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
      const problem = hasher.problem(password);
      if (problem !== undefined) {
        io.err(`set-password: ${problem} (8 to 128 characters, no whitespace)`);
        return EXIT_USAGE;
      }
      const hash = await hasher.hash(password);
      if (!await accounts.setHash(account.id, hash)) {
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
}

/** What went wrong opening or using the store, as the task says it. */
function failure(error: unknown): string {
  if (error instanceof TaskStoreError) return error.message;
  if (error instanceof ConfigError) return error.message.replace(/^Cannot start: /, "");
  return error instanceof Error ? error.message : String(error);
}

/** An account as `list` shows it: id, name, registration time (UTC), TAB-separated. */
function listLine(account: { id: number; name: string; createdMs: number }): string {
  return `${account.id}\t${account.name}\t${new Date(account.createdMs).toISOString()}`;
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
  Deno.exit(await runAccountTask(Deno.args, io, hasher, Deno.env.get("REDIS_URL")));
}
