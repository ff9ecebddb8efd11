/**
 * The SQLite store's worker: owns the history file and applies the
 * requests the store posts, one at a time and in the order posted, so a
 * read posted after an append sees it. `node:sqlite` blocks while it
 * writes and syncs; here that blocks this thread alone, never the hub's.
 *
 * @module
 */
import type { AccountCall } from "./accounts_table.ts";
import { HistoryFile } from "./sqlite_file.ts";
import type { Range, Retention } from "./store.ts";

/** What the store asks of its worker; `nowMs` is the store's clock, which ages messages. */
export type WorkerRequest =
  | {
    readonly op: "open";
    readonly path: string;
    readonly retention: Retention;
    readonly nowMs: number;
  }
  /** `entries`: the batch as `packEntries` wrote it, one string, cheap to post. */
  | { readonly op: "append"; readonly entries: string; readonly nowMs: number }
  | { readonly op: "read"; readonly range: Range; readonly nowMs: number }
  /** For the account store (lib/accounts/sqlite_account_store.ts), in the same order as the rest. */
  | { readonly op: "account"; readonly request: AccountCall }
  | { readonly op: "close" };

/** A request as posted: numbered, so its answer finds it. */
export type Numbered = WorkerRequest & { readonly n: number };

/** The answer to request `n`: its value, or why it failed. */
export type WorkerReply =
  | { readonly n: number; readonly ok: true; readonly value: unknown }
  | { readonly n: number; readonly ok: false; readonly error: string };

/** The worker's global scope, as much of it as is used (lib/ is checked with the window's types). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<Numbered>) => void) | null;
  postMessage(reply: WorkerReply): void;
}

let file: HistoryFile | undefined;

/** Applies one request; what it returns is the answer's value. */
function apply(request: WorkerRequest): unknown {
  switch (request.op) {
    case "open":
      file = new HistoryFile(request.path, request.retention, request.nowMs);
      return file.lastId;
    case "append":
      opened().append(request.entries, request.nowMs);
      return undefined;
    case "read":
      return opened().read(request.range, request.nowMs);
    case "account":
      return opened().accounts.apply(request.request);
    case "close":
      file?.close();
      file = undefined;
      return undefined;
    default: {
      // Its name only: an account request may carry a password hash, which no error text may hold.
      const unknown: never = request;
      throw new Error(`unknown request ${String((unknown as { op?: unknown }).op)}`);
    }
  }
}

function opened(): HistoryFile {
  if (file === undefined) throw new Error("the history file is not open");
  return file;
}

const scope = self as unknown as WorkerScope;
scope.onmessage = (event) => {
  const request = event.data;
  let reply: WorkerReply;
  try {
    reply = { n: request.n, ok: true, value: apply(request) };
  } catch (error) {
    reply = {
      n: request.n,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
    };
  }
  scope.postMessage(reply);
};
