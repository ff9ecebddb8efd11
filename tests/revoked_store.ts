/**
 * A child process for tests/durability_test.ts: opens the SQLite store on
 * the file named by its first argument, revokes read and write access as
 * main.ts does once the store is open, then writes and reads many batches,
 * enough for SQLite to checkpoint its write-ahead log into the file meanwhile.
 * Prints one JSON line of what it found, then waits for a line on stdin (the
 * parent looks at the file meanwhile) before it closes the store and exits.
 *
 * @module
 */
import { TextLineStream } from "@std/streams/text-line-stream";
import { SqliteStore } from "../lib/history/sqlite_store.ts";
import { CHAT } from "../lib/history/store.ts";

const path = Deno.args[0]!;
const batches = Number(Deno.args[1]);
const batchSize = Number(Deno.args[2]);
const store = await SqliteStore.open(path, { lines: batches * batchSize, maxAgeMs: 86_400_000 });
Deno.permissions.revokeSync({ name: "read" });
Deno.permissions.revokeSync({ name: "write" });

/** The file cannot be touched through Deno any more, by this thread. */
let readRefused = false;
try {
  Deno.readFileSync(path);
} catch (error) {
  readRefused = error instanceof Deno.errors.NotCapable;
}

const text = "x".repeat(1000);
let mismatches = 0;
for (let b = 0; b < batches; b++) {
  const ms = Date.now() - batches + b;
  const batch = Array.from({ length: batchSize }, (_, i) => ({
    conversation: CHAT,
    sender: "writer",
    text: `${b}-${i} ${text}`,
    id: `${ms}-${i}`,
  }));
  await store.append(batch);
  const read = await store.read({ conversation: CHAT, limit: batchSize, from: "latest" });
  if (read.map((m) => m.text).join("\n") !== batch.map((e) => e.text).join("\n")) mismatches++;
}
console.log(JSON.stringify({
  readRefused,
  readGranted: Deno.permissions.querySync({ name: "read" }).state === "granted",
  writeGranted: Deno.permissions.querySync({ name: "write" }).state === "granted",
  mismatches,
}));
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
  new TextLineStream(),
);
for await (const _ of lines) break;
await store.close();
