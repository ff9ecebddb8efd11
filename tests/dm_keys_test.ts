/**
 * Direct-message conversation keys (pure), and the SQLite file's side of
 * an account's removal: its conversations deleted in one range, and a DM
 * that reaches the file after the removal never written.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { dmAccount, dmConversation, dmRange } from "../lib/history/dm_keys.ts";
import { packEntries } from "../lib/history/packed_entries.ts";
import { HistoryFile } from "../lib/history/sqlite_file.ts";
import {
  CHAT,
  type DmCopy,
  type Entry,
  type HistoryStore,
  type Range,
} from "../lib/history/store.ts";
import { ChatHistory } from "../lib/history/chat_history.ts";
import { recordDm } from "../lib/history/dm_history.ts";
import { tempDir } from "./temp_dir.ts";

Deno.test("dm keys: one conversation per account and peer key; the account read back", () => {
  assertEquals(dmConversation(7, "bob"), "dm:7:bob");
  assertEquals(dmConversation(7, "a:b"), "dm:7:a:b");
  assertEquals(dmAccount("dm:7:bob"), 7);
  assertEquals(dmAccount("dm:7:a:b"), 7);
  assertEquals(dmAccount("dm:123456:x"), 123456);
  for (const other of [CHAT, "dm:", "dm:7", "dm::bob", "dm:07:bob", "dm:x:bob", "dmx:7:bob"]) {
    assertEquals(dmAccount(other), undefined, other);
  }
  assertEquals(dmRange(5), { low: "dm:5:", high: "dm:5;" });
});

Deno.test("dm keys: an account's range holds its conversations and no other account's", () => {
  const { low, high } = dmRange(5);
  const inside = (key: string) => low <= key && key < high;
  for (const key of ["dm:5:bob", "dm:5:", "dm:5:\u{1F600}", "dm:5:;"]) {
    assertEquals(inside(key), true, key);
  }
  for (const key of ["dm:55:bob", "dm:50:bob", "dm:4:bob", "dm:6:bob", "dm:5", CHAT]) {
    assertEquals(inside(key), false, key);
  }
});

const RETENTION = { lines: 100, maxAgeMs: 86_400_000 };
const NOW = 1_764_999_000_000;

function entry(conversation: string, ms: number, sender: string, text: string): Entry {
  return { conversation, id: `${ms}-0`, sender, text };
}

function latest(conversation: string): Range {
  return { conversation, limit: 100, from: "latest" };
}

Deno.test("HistoryFile: removing an account deletes its DMs alone; a later write for it is dropped", async () => {
  await using dir = await tempDir("chat-dm-file-");
  const file = new HistoryFile(`${dir.path}/chat.db`, RETENTION, NOW);
  try {
    const alice = file.accounts.create("alice", "alice", "hash-a", NOW);
    const bob = file.accounts.create("bob", "bob", "hash-b", NOW);
    if (typeof alice !== "object" || typeof bob !== "object") throw new Error("not created");
    const aliceBob = dmConversation(alice.id, "bob");
    const bobAlice = dmConversation(bob.id, "alice");
    file.append(
      packEntries([
        entry(CHAT, NOW + 1, "alice", "to all"),
        entry(aliceBob, NOW + 2, "alice", "hi"),
        entry(bobAlice, NOW + 3, "alice", "hi"),
        entry(dmConversation(alice.id, "carol"), NOW + 4, "carol", "yo"),
      ]),
      NOW + 5,
    );
    assertEquals(file.read(latest(aliceBob), NOW + 5).map((m) => m.text), ["hi"]);
    assertEquals(file.accounts.remove(alice.id), true);
    assertEquals(file.read(latest(aliceBob), NOW + 6), []);
    assertEquals(file.read(latest(dmConversation(alice.id, "carol")), NOW + 6), []);
    // A DM delivered while the removal was under way reaches the file after it: not written.
    file.append(
      packEntries([
        entry(aliceBob, NOW + 7, "bob", "late"),
        entry(bobAlice, NOW + 7, "bob", "late"),
      ]),
      NOW + 8,
    );
    assertEquals(file.read(latest(aliceBob), NOW + 9), []);
    assertEquals(file.read(latest(bobAlice), NOW + 9).map((m) => m.text), ["hi", "late"]);
    assertEquals(file.read(latest(CHAT), NOW + 9).map((m) => m.text), ["to all"]);
    // A new account of the same name has a new id, and so none of the old conversations.
    const again = file.accounts.create("alice", "alice", "hash-n", NOW + 10);
    if (typeof again !== "object") throw new Error("not created");
    assertEquals(again.id > alice.id, true);
    assertEquals(file.read(latest(dmConversation(again.id, "bob")), NOW + 11), []);
  } finally {
    file.close();
  }
});

Deno.test("recordDm keeps a copy per account party, through the store's own keepDm where it has one", () => {
  const appended: Entry[] = [];
  const kept: [readonly DmCopy[], string, string][] = [];
  const store = (kind: string): HistoryStore => ({
    kind,
    assignsIds: kind === "redis",
    lastId: undefined,
    append: (entries) => void appended.push(...entries),
    read: () => [],
    close: () => Promise.resolve(),
    ...(kind === "redis"
      ? { keepDm: (copies, sender, text) => void kept.push([copies, sender, text]) }
      : {}),
  });
  const ann = { name: "Ann", key: "ann", account: 1 };
  const memory = new ChatHistory({ store: store("memory") });
  assertEquals(recordDm(memory, ann, { name: "Bob", key: "bob", account: 2 }, "hi"), 2);
  assertEquals(recordDm(memory, ann, { name: "Guest", key: "guest" }, "hi"), 1);
  assertEquals(recordDm(memory, { name: "g", key: "g" }, { name: "Guest", key: "guest" }, "hi"), 0);
  assertEquals(recordDm(memory, ann, ann, "me"), 1);
  assertEquals(appended.map((entry) => [entry.conversation, entry.sender]), [
    [dmConversation(1, "bob"), "Ann"],
    [dmConversation(2, "ann"), "Ann"],
    [dmConversation(1, "guest"), "Ann"],
    [dmConversation(1, "ann"), "Ann"],
  ]);
  const redis = new ChatHistory({ store: store("redis") });
  assertEquals(recordDm(redis, ann, { name: "Bob", key: "bob", account: 2 }, "hi"), 2);
  assertEquals(kept, [[[{ account: 1, peer: "bob" }, { account: 2, peer: "ann" }], "Ann", "hi"]]);
  assertEquals(appended.length, 4);
});
