/**
 * A server with accounts on for tests: `--data-dir` in a fresh temporary
 * directory, a real SQLite file, and a cheap scrypt (N=2^10) injected
 * through the server's test-only `hasher` option (or the real cost).
 *
 * @module
 */
import { hashPassword, verifyPassword } from "../lib/accounts/password_hash.ts";
import type { PasswordHasher } from "../lib/accounts/password_checks.ts";
import { type Config, DEFAULT_CONFIG } from "../lib/config.ts";
import { openHistory } from "../lib/history/open_history.ts";
import { type Logger, SILENT_LOGGER } from "../lib/log.ts";
import { ChatServer, type ServerOptions } from "../lib/server.ts";
import { tempDir } from "./temp_dir.ts";

const CHEAP = { logN: 10, r: 8, p: 1 };
/** scrypt at N=2^10: fast enough for tests, the same code as the real cost. */
export const CHEAP_HASHER: PasswordHasher = {
  hash: (password) => hashPassword(password, CHEAP),
  verify: verifyPassword,
};

/** What a test server with accounts differs in. */
export interface Setup {
  readonly overrides?: Partial<Config>;
  readonly log?: Logger;
  /** Undefined: the real cost. */
  readonly hasher?: PasswordHasher | undefined;
  readonly options?: ServerOptions;
}

/** A server with `--data-dir` in a fresh directory (or without, `dataDir: undefined`). */
export async function withAccounts(
  setup: Setup,
  body: (server: ChatServer, dataDir: string) => Promise<void>,
  dataDir = true,
): Promise<void> {
  await using dir = await tempDir("chat-accounts-");
  const log = setup.log ?? SILENT_LOGGER;
  const config: Config = {
    ...DEFAULT_CONFIG,
    host: "127.0.0.1",
    port: 0,
    rate: 0,
    dataDir: dataDir ? dir.path : undefined,
    ...setup.overrides,
  };
  const { history, accounts } = await openHistory(config, log);
  const hasher = "hasher" in setup ? setup.hasher : CHEAP_HASHER;
  const server = ChatServer.listen(config, {
    log,
    history: history!,
    ...(accounts === undefined ? {} : { accounts }),
    ...(hasher === undefined ? {} : { hasher }),
    ...setup.options,
  });
  try {
    await body(server, dir.path);
  } finally {
    await server.shutdown();
  }
}
