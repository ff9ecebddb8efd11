/** Where the cluster keeps its state in Redis. */
import { assertEquals, assertNotEquals } from "@std/assert";
import { channelPrefix, DEFAULT_PREFIX, KEY_KINDS, KEYS } from "../../lib/redis/keys.ts";

Deno.test("every key and channel has its documented name under the prefix", () => {
  const p = DEFAULT_PREFIX;
  assertEquals(p, "chat:");
  assertEquals(KEYS.name(p, "bob"), "chat:name:bob");
  assertEquals(KEYS.seq(p), "chat:seq");
  assertEquals(KEYS.instances(p), "chat:instances");
  assertEquals(KEYS.alive(p, "ab12"), "chat:alive:ab12");
  assertEquals(KEYS.owned(p, "ab12"), "chat:owned:ab12");
  assertEquals(KEYS.account(p, "zo\u00eb"), "chat:account:zo\u00eb");
  assertEquals(KEYS.accountIds(p), "chat:account-ids");
  assertEquals(KEYS.accountKeys(p), "chat:account-keys");
  // The account key prefix that scripts get as an argument is the account key of the empty key.
  assertEquals(KEYS.account(p, ""), "chat:account:");
  const channels = channelPrefix(p, 2);
  assertEquals(channels, "chat:2:");
  assertEquals(KEYS.everyone(channels), "chat:2:all");
  assertEquals(KEYS.inbox(channels, "ab12"), "chat:2:to:ab12");
});

Deno.test("keys of one kind per name or instance are the prefix, the kind and the id", () => {
  assertEquals(KEY_KINDS, { name: "name:", alive: "alive:", owned: "owned:" });
  for (const kind of ["name", "alive", "owned"] as const) {
    assertEquals(KEYS[kind]("P/", "id"), `P/${KEY_KINDS[kind]}id`, kind);
  }
  // The name key prefix that scripts get as an argument is the name key of the empty key.
  assertEquals(KEYS.name("chat:", ""), "chat:name:");
});

Deno.test("chats in two databases share no channel", () => {
  assertNotEquals(
    KEYS.everyone(channelPrefix("chat:", 0)),
    KEYS.everyone(channelPrefix("chat:", 1)),
  );
});
