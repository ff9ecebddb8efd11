/**
 * The Redis side of a clustered server, made for `main.ts` (which loads this
 * module only with `--redis-url`): the cluster and the history store that
 * shares its connections, and the account store that does too.
 *
 * @module
 */
import { RedisAccountStore } from "../accounts/redis_account_store.ts";
import { RedisFailures } from "../accounts/redis_failures.ts";
import { RedisLoginThrottle } from "../accounts/redis_login_throttle.ts";
import { RedisRegistrationLimit } from "../accounts/redis_registration_limit.ts";
import type { ClusterEvent } from "../cluster.ts";
import { RedisHistoryStore } from "../history/redis_store.ts";
import type { Retention } from "../history/store.ts";
import { RedisCluster, type RedisClusterOptions } from "./redis_cluster.ts";

/** What {@linkcode openRedisChat} needs: a cluster's options, less where it posts. */
export interface RedisChatOptions extends Omit<RedisClusterOptions, "post" | "history"> {
  /** What the history keeps; undefined with `--history-lines 0` (no history at all). */
  readonly retention: Retention | undefined;
}

/** A cluster not yet started, and the history store that shares its connections. */
export interface RedisChat {
  /** The chat's history in Redis; undefined without history. */
  readonly store: RedisHistoryStore | undefined;
  /** The accounts in Redis, on the cluster's publishing connection: the server's account store. */
  readonly accounts: RedisAccountStore;
  /** The login throttle every instance shares, on the same connection. */
  readonly throttle: RedisLoginThrottle;
  /** The registration limit every instance shares, on the same connection. */
  readonly registrations: RedisRegistrationLimit;
  /** The throttle's and the limit's Redis failures, for `/metrics`. */
  readonly accountFailures: RedisFailures;
  /** Starts the cluster, posting its events through `post` (the server's inbox). */
  start(post: (event: ClusterEvent) => void): RedisCluster;
}

/** The cluster and its history and account stores, made together for `main.ts`; nothing connects until `start`. */
export function openRedisChat(options: RedisChatOptions): RedisChat {
  const { retention, ...rest } = options;
  let post: (event: ClusterEvent) => void = () => {};
  const cluster = new RedisCluster({
    ...rest,
    post: (event) => post(event),
    ...(retention === undefined ? {} : { history: retention }),
  });
  const stream = cluster.stream;
  const failures = new RedisFailures();
  const shared = { prefix: cluster.prefix, run: cluster.run, log: options.log, failures };
  return {
    store: stream === undefined ? undefined : new RedisHistoryStore(stream, options.log),
    accounts: new RedisAccountStore({
      prefix: cluster.prefix,
      run: cluster.run,
      command: cluster.command,
      // Registering refuses a name another instance holds: its user there is a guest.
      instance: cluster.id,
    }),
    throttle: new RedisLoginThrottle(shared),
    registrations: new RedisRegistrationLimit(shared),
    accountFailures: failures,
    start(to) {
      post = to;
      cluster.start();
      return cluster;
    },
  };
}
