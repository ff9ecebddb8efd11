/**
 * Where the cluster keeps its state in Redis: every key and channel name.
 * Storage, not wire format: only instances of this version read it. The Lua
 * scripts in `scripts.ts` take their key names from here: SWEEP builds them
 * from {@linkcode KEY_KINDS}, the others are handed the name-key prefix.
 *
 * @module
 */

/** Key and channel prefix when none is configured. */
export const DEFAULT_PREFIX = "chat:";

/**
 * What follows the prefix in keys that are one per name or per instance. The
 * scripts that walk other instances' keys join them the same way.
 */
export const KEY_KINDS = {
  /** Before a name key: that name's holder. */
  name: "name:",
  /** Before an instance id: present while that instance is alive. */
  alive: "alive:",
  /** Before an instance id: the name keys it holds. */
  owned: "owned:",
} as const;

/** Redis keys and channels, all under one prefix. */
export const KEYS = {
  /** The claimed name: its holder, with an expiry its instance keeps refreshing. */
  name: (prefix: string, key: string): string => `${prefix}${KEY_KINDS.name}${key}`,
  /** The chat-wide login counter. */
  seq: (prefix: string): string => `${prefix}seq`,
  /** Ids of instances that have joined (some may be dead, not yet swept). */
  instances: (prefix: string): string => `${prefix}instances`,
  /** Present while the instance is alive: refreshed by its heartbeat, expiring when it stops. */
  alive: (prefix: string, instance: string): string => `${prefix}${KEY_KINDS.alive}${instance}`,
  /** The name keys an instance holds. */
  owned: (prefix: string, instance: string): string => `${prefix}${KEY_KINDS.owned}${instance}`,
  /** Where every instance publishes `MSG`s and presence, and every instance listens. */
  everyone: (prefix: string): string => `${prefix}all`,
  /** Where `DM`s for one instance's users are published. */
  inbox: (prefix: string, instance: string): string => `${prefix}to:${instance}`,
  /** One conversation's history: a stream whose ids are the message ids (`chat` is the chat's). */
  history: (prefix: string, conversation: string): string => `${prefix}history:${conversation}`,
  /** An account's direct-message conversations: a set of their streams' keys (see `dm_scripts.ts`). */
  dmIndex: (prefix: string, account: number | string): string => `${prefix}dm-index:${account}`,
  /** A name key's account: a hash of `id`, `name` (as registered), `hash` and `created` (ms). */
  account: (prefix: string, key: string): string => `${prefix}account:${key}`,
  /** The last account id given (`INCR`): ids are never given twice. */
  accountIds: (prefix: string): string => `${prefix}account-ids`,
  /** Every account: a hash of id → name key, for lookups by id and the operator's list. */
  accountKeys: (prefix: string): string => `${prefix}account-keys`,
  /** Login failures in a row for one account from one address (its `addressKey`): a hash, expiring. */
  throttleRun: (prefix: string, account: string, address: string): string =>
    `${prefix}throttle-run:${address} ${account}`,
  /** An account's login failures, leaking: a hash, expiring once empty. */
  throttleAccount: (prefix: string, account: string): string =>
    `${prefix}throttle-account:${account}`,
  /** An address's login failures over all accounts, leaking: a hash, expiring once empty. */
  throttleAddress: (prefix: string, address: string): string =>
    `${prefix}throttle-address:${address}`,
  /** Registrations an address (its `addressKey`) started, leaking: a hash, expiring once empty. */
  registrations: (prefix: string, address: string): string => `${prefix}registrations:${address}`,
};

/**
 * The channel prefix for a key prefix and a database number. Keys are per
 * database but pub/sub channels are not, so channels carry the database: two
 * chats on one Redis, in two databases, stay apart.
 */
export function channelPrefix(prefix: string, database: number): string {
  return `${prefix}${database}:`;
}
