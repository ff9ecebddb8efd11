/** Where the cluster keeps its state in Redis. */
import assert from "node:assert/strict";
import { channelPrefix, DEFAULT_PREFIX, KEY_KINDS, KEYS } from "../../lib/redis/keys.ts";

Deno.test("every key and channel has its documented name under the prefix", () => {
  const p = DEFAULT_PREFIX;
  assert.equal(p, "chat:");
  assert.equal(KEYS.name(p, "bob"), "chat:name:bob");
  assert.equal(KEYS.seq(p), "chat:seq");
  assert.equal(KEYS.instances(p), "chat:instances");
  assert.equal(KEYS.alive(p, "ab12"), "chat:alive:ab12");
  assert.equal(KEYS.owned(p, "ab12"), "chat:owned:ab12");
  const channels = channelPrefix(p, 2);
  assert.equal(channels, "chat:2:");
  assert.equal(KEYS.everyone(channels), "chat:2:all");
  assert.equal(KEYS.inbox(channels, "ab12"), "chat:2:to:ab12");
});

Deno.test("keys of one kind per name or instance are the prefix, the kind and the id", () => {
  assert.deepEqual(KEY_KINDS, { name: "name:", alive: "alive:", owned: "owned:" });
  for (const kind of ["name", "alive", "owned"] as const) {
    assert.equal(KEYS[kind]("P/", "id"), `P/${KEY_KINDS[kind]}id`, kind);
  }
  // The name key prefix that scripts get as an argument is the name key of the empty key.
  assert.equal(KEYS.name("chat:", ""), "chat:name:");
});

Deno.test("chats in two databases share no channel", () => {
  assert.notEqual(
    KEYS.everyone(channelPrefix("chat:", 0)),
    KEYS.everyone(channelPrefix("chat:", 1)),
  );
});
