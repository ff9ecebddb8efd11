/**
 * `--history-lines` holds exactly for a read while messages still wait to
 * be written (a real SQLite store in a worker): the waiting ones are the
 * conversation's newest and take their share of its lines, and the store
 * gives only the rest.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { ChatHistory } from "../lib/history/chat_history.ts";
import { SqliteStore } from "../lib/history/sqlite_store.ts";
import { CHAT, type StoredMessage } from "../lib/history/store.ts";
import { tempDir } from "./temp_dir.ts";

// The chat's conversation: a DM's would be dropped by the file, its account not being there.
const LATEST = { conversation: CHAT, limit: 1000, from: "latest" } as const;

async function texts(
  answer: readonly StoredMessage[] | Promise<readonly StoredMessage[]>,
): Promise<string[]> {
  return (await answer).map((message) => message.text);
}

Deno.test("ChatHistory over SQLite: a read within --history-lines whatever still waits to be written", async () => {
  await using dir = await tempDir("chat-waiting-");
  const store = await SqliteStore.open(`${dir.path}/chat.db`, { lines: 3, maxAgeMs: 86_400_000 });
  // The first batch leaves at once; the next only a minute later: it waits through the test.
  const history = new ChatHistory({ store, lines: 3, minBatchIntervalMs: 60_000 });
  try {
    const record = (text: string) => history.record(LATEST.conversation, "alice", text);
    for (const text of ["m1", "m2", "m3", "m4", "m5"]) record(text);
    // All five wait (their batch leaves after this turn): the latest three, from memory.
    assertEquals(await texts(history.read(LATEST)), ["m3", "m4", "m5"]);
    // Their batch is being written; m6 waits behind it.
    await Promise.resolve();
    record("m6");
    assertEquals(history.pending, 6);
    assertEquals(await texts(history.read(LATEST)), ["m4", "m5", "m6"]);
    assertEquals(await texts(history.read({ ...LATEST, limit: 2 })), ["m5", "m6"]);
    assertEquals(history.pending, 1);
    record("m7");
    assertEquals(await texts(history.read(LATEST)), ["m5", "m6", "m7"]);
    for (const text of ["m8", "m9", "m10"]) record(text);
    assertEquals(await texts(history.read(LATEST)), ["m8", "m9", "m10"]);
    assertEquals(await texts(history.read({ ...LATEST, conversation: "other" })), []);
  } finally {
    await history.close();
  }
  // Written at close: the same three, now from the file.
  const again = await SqliteStore.open(`${dir.path}/chat.db`, { lines: 3, maxAgeMs: 86_400_000 });
  try {
    assertEquals(await texts(again.read(LATEST)), ["m8", "m9", "m10"]);
  } finally {
    await again.close();
  }
});
