/** Clients of a throwaway Redis, for tests that run scripts and commands on a real one. */
import { openRedisClient, type RedisClient } from "../lib/redis/connections.ts";
import { RedisProcess } from "./redis_process.ts";

/** Runs `body` with a client connected to `redis`; closes it after. */
export async function withClient<T>(
  redis: RedisProcess,
  body: (client: RedisClient) => Promise<T>,
): Promise<T> {
  const client = openRedisClient(redis.url);
  client.on("error", () => {});
  try {
    await client.connect();
    return await body(client);
  } finally {
    client.destroy();
  }
}

/** Runs `body` with a fresh Redis and a connected client; stops both after. */
export async function withRedis(
  body: (client: RedisClient, redis: RedisProcess) => Promise<void>,
): Promise<void> {
  const redis = await RedisProcess.start();
  try {
    await withClient(redis, (client) => body(client, redis));
  } finally {
    await redis.stop();
  }
}
