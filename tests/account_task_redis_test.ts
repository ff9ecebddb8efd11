/**
 * The operator's account task on accounts in Redis, as a real subprocess
 * against a real `redis-server`: list, delete and set-password with
 * `--redis-url` or `REDIS_URL`, Redis winning over `--data-dir`, and a URL's
 * password never printed: not on success, nor when it is wrong, nor when
 * Redis is away. Skipped without `redis-server`, except in CI.
 */
import { assert, assertEquals } from "@std/assert";
import { redisAccountStoreOn } from "../lib/accounts/redis_account_store.ts";
import { verifyPassword } from "../lib/accounts/password_hash.ts";
import type { RedisClient } from "../lib/redis/connections.ts";
import { runTask } from "./account_task_rig.ts";
import { ignore } from "./cluster_rig.ts";
import { freeFixedPort } from "./ports.ts";
import { withRedis } from "./redis_client.ts";
import { tempDir } from "./temp_dir.ts";

const T0 = 1_764_999_000_000;

/** An account for each name, registered a second apart. */
async function seed(client: RedisClient, ...names: string[]): Promise<void> {
  const store = redisAccountStoreOn(client);
  for (const [i, name] of names.entries()) {
    await store.create(name, name.toLowerCase(), `hash-of-${name}`, T0 + i * 1000);
  }
}

Deno.test({
  name: "account task with --redis-url lists, deletes and exits 1 for no such account",
  ignore,
  async fn() {
    await withRedis(async (client, redis) => {
      await seed(client, "Alice", "bob");
      assertEquals(await runTask(["list", "--redis-url", redis.url]), {
        code: 0,
        stdout: "1\tAlice\t2025-12-06T05:30:00.000Z\n2\tbob\t2025-12-06T05:30:01.000Z\n",
        stderr: "list: 2 accounts\n",
      });
      assertEquals(await runTask(["list", "ALICE", `--redis-url=${redis.url}`]), {
        code: 0,
        stdout: "1\tAlice\t2025-12-06T05:30:00.000Z\n",
        stderr: "list: 1 account\n",
      });
      assertEquals(await runTask(["delete", "BOB", "--redis-url", redis.url]), {
        code: 0,
        stdout: "",
        stderr: "delete: deleted account bob (id 2)\n",
      });
      assertEquals(await redisAccountStoreOn(client).find("bob"), undefined);
      assertEquals(await runTask(["delete", "bob", "--redis-url", redis.url]), {
        code: 1,
        stdout: "",
        stderr: "delete: no account named bob\n",
      });
      // The next registration gets a new id: the task's delete gave none back.
      await seed(client, "bob");
      assertEquals((await redisAccountStoreOn(client).find("bob"))?.id, 3);
    });
  },
});

Deno.test({
  name:
    "account task set-password in Redis stores the scrypt hash of standard input, never printed",
  ignore,
  async fn() {
    await withRedis(async (client, redis) => {
      await seed(client, "alice", "bob");
      const secret = "correct-horse-battery";
      const args = ["set-password", "Alice", "--redis-url", redis.url];
      assertEquals(await runTask(args, `${secret}\n`), {
        code: 0,
        stdout: "",
        stderr: "set-password: password set for alice (id 1)\n",
      });
      const hash = (await redisAccountStoreOn(client).find("alice"))!.hash;
      assert(hash.startsWith("pbkdf2-sha256$600000$"), hash);
      assert(await verifyPassword(secret, hash));
      assertEquals((await redisAccountStoreOn(client).find("bob"))?.hash, "hash-of-bob");
      assertEquals(await runTask(args, "short\n"), {
        code: 2,
        stdout: "",
        stderr: "set-password: weak-password (8 to 128 characters, no whitespace)\n",
      });
      assertEquals((await redisAccountStoreOn(client).find("alice"))?.hash, hash);
    });
  },
});

Deno.test({
  name: "account task takes REDIS_URL from the environment, and Redis wins over --data-dir",
  ignore,
  async fn() {
    await using dir = await tempDir("chat-task-");
    await withRedis(async (client, redis) => {
      await seed(client, "carol");
      const listed = {
        code: 0,
        stdout: "1\tcarol\t2025-12-06T05:30:00.000Z\n",
        stderr: "list: 1 account\n",
      };
      assertEquals(await runTask(["list"], "", { REDIS_URL: redis.url }), listed);
      // No chat.db in the directory: only Redis was asked.
      assertEquals(
        await runTask(["list", "--data-dir", dir.path, "--redis-url", redis.url]),
        listed,
      );
      assertEquals(
        await runTask(["list", "--data-dir", dir.path], "", { REDIS_URL: redis.url }),
        listed,
      );
      assertEquals([...Deno.readDirSync(dir.path)], []);
    });
  },
});

Deno.test({
  name: "account task never prints the Redis URL's password: right, wrong, refused, or Redis away",
  ignore,
  async fn() {
    await withRedis(async (client, redis) => {
      await seed(client, "dave");
      const secret = "pw-S3cret-9f1c";
      assertEquals(await client.sendCommand(["CONFIG", "SET", "requirepass", secret]), "OK");
      const at = (password: string) => `redis://:${password}@127.0.0.1:${redis.port}`;
      const shown = `redis://:***@127.0.0.1:${redis.port}`;
      assertEquals(await runTask(["list", "--redis-url", at(secret)]), {
        code: 0,
        stdout: "1\tdave\t2025-12-06T05:30:00.000Z\n",
        stderr: "list: 1 account\n",
      });
      const wrong = "wrong-S3cret-77aa";
      assertEquals(await runTask(["delete", "dave", "--redis-url", at(wrong)]), {
        code: 2,
        stdout: "",
        stderr: `delete: ${shown}: WRONGPASS invalid username-password pair or user is disabled.\n`,
      });
      assertEquals(await runTask(["list", "--redis-url", `http://:${secret}@host`]), {
        code: 2,
        stdout: "",
        stderr:
          `list: --redis-url must be a redis:// or rediss:// URL with a host, got "http://***@host"\n`,
      });
      // A port nothing listens on: Redis away.
      const port = freeFixedPort();
      const away = `redis://:${secret}@127.0.0.1:${port}`;
      assertEquals(await runTask(["list", "--redis-url", away]), {
        code: 2,
        stdout: "",
        stderr: `list: redis://:***@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
      });
    });
  },
});
