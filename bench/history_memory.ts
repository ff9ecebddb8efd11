/**
 * Bytes of memory per message kept by the memory store: fills a ChatHistory
 * over a MemoryStore with chat-sized messages, made the way the server makes
 * them (sliced out of a received line), and reads the heap before and after,
 * each after a full collection.
 *
 * Run: deno run --v8-flags=--expose-gc bench/history_memory.ts [--messages=100000] [--text-bytes=60]
 *
 * @module
 */
import { parseFlagsOrExit } from "../lib/flags.ts";
import { ChatHistory } from "../lib/history/chat_history.ts";
import { MemoryStore } from "../lib/history/memory_store.ts";
import { CHAT } from "../lib/history/store.ts";

const { values } = parseFlagsOrExit("history_memory", Deno.args, {
  values: ["messages", "text-bytes"],
  switches: [],
});
const messages = Number(values.messages ?? 100_000);
const textBytes = Number(values["text-bytes"] ?? 60);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("history_memory: run with --v8-flags=--expose-gc");
  Deno.exit(2);
}

function heapAfterGc(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

const senders = Array.from({ length: 50 }, (_, i) => `user${i}`);
const before = heapAfterGc();
const history = new ChatHistory({
  store: new MemoryStore({ lines: messages, maxAgeMs: 30 * 86_400_000 }),
});
for (let i = 0; i < messages; i++) {
  // As the server has it: the text is a slice of the decoded line, the sender a shared string.
  const line = `MSG ${String(i).padStart(8, "0")} ${"x".repeat(textBytes - 9)}`;
  history.record(CHAT, senders[i % senders.length]!, line.slice(4));
}
const after = heapAfterGc();
const perMessage = (after - before) / messages;
console.log(JSON.stringify({
  messages,
  textBytes,
  heapBytes: after - before,
  bytesPerMessage: Math.round(perMessage),
  overheadPerMessage: Math.round(perMessage - textBytes),
}));
await history.close();
