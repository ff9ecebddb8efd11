/**
 * The operator's task on accounts in Redis (`--redis-url`): one connection
 * of its own that never reconnects, the server's store and scripts over it,
 * every answer awaited at most {@linkcode TASK_BUSY_TIMEOUT_MS}. Imported
 * only with `--redis-url`, so the SQLite task loads no Redis code. The URL's
 * password never appears in what it says: its messages carry the URL
 * redacted, and an error's text is scrubbed of the password too.
 *
 * @module
 */
import { openOneShotClient, redactUrl } from "../redis/connections.ts";
import { redisAccountStoreOn } from "./redis_account_store.ts";
import { TASK_BUSY_TIMEOUT_MS, type TaskAccounts, TaskStoreError } from "./task_accounts.ts";

/** The accounts in the Redis at `url` (as the server's `--redis-url`); rejects when it cannot connect. */
export async function openRedisAccounts(url: string): Promise<TaskAccounts> {
  const where = redactUrl(url);
  const secrets = secretsOf(url);
  const fail = (error: unknown): never => {
    throw new TaskStoreError(where, new Error(scrub(messageOf(error), secrets)));
  };
  const client = openOneShotClient(url);
  // Failures reach the task as rejections; an emitter's unheard `error` would throw instead.
  client.on("error", () => {});
  const store = redisAccountStoreOn(client);
  let closed = false;
  const close = (): Promise<void> => {
    if (closed) return Promise.resolve();
    closed = true;
    try {
      client.destroy();
    } catch {
      // Never connected: nothing to end.
    }
    return Promise.resolve();
  };
  const answer = <T>(call: () => Promise<T>): Promise<T> =>
    withDeadline(call(), "Redis did not answer").catch(fail);
  await answer(() => client.connect()).catch(async (error: unknown) => {
    await close();
    throw error;
  });
  return {
    where,
    list: () => answer(() => store.list()),
    find: (key) => answer(() => store.find(key)),
    setHash: (id, hash) => answer(() => store.setHash(id, hash)),
    remove: (id) => answer(() => store.remove(id)),
    close,
  };
}

/** `promise`, or a rejection with `message` after {@linkcode TASK_BUSY_TIMEOUT_MS}. */
async function withDeadline<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${message} within ${TASK_BUSY_TIMEOUT_MS} ms`)),
      TASK_BUSY_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL's password, as written and decoded: what must never be printed. */
function secretsOf(url: string): string[] {
  try {
    const raw = new URL(url).password;
    if (raw === "") return [];
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // Not valid percent-encoding: only the raw form can appear.
    }
    return [...new Set([raw, decoded])];
  } catch {
    return [];
  }
}

/** `text` with every secret in it replaced. */
function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce((scrubbed, secret) => scrubbed.replaceAll(secret, "***"), text);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
