/**
 * The Lua scripts that keep accounts in Redis, and what a name claim adds
 * to hear of them. Each runs atomically: of two registrations of one name,
 * or a registration and a guest's claim of it, on any instances, however
 * close, Redis runs one whole before the other.
 *
 * An account is a hash at `KEYS.account(prefix, key)`; `KEYS.accountKeys`
 * maps each id to its key, so the scripts that take an id are handed the
 * account key prefix (`KEYS.account(prefix, "")`) and join it to the key,
 * as `scripts.ts` does with name keys.
 *
 * @module
 */
import { KEYS } from "./keys.ts";

/**
 * What `CLAIM` answers to a claim of a name whose account the claimer is
 * not logged in to (a guest's, or one of a deleted account's): the hub's
 * `ERR password-required`.
 */
export const CLAIM_REFUSED_ACCOUNT = -2;

/** The key and the argument that `CLAIM` takes last, to refuse a name whose account the claimer does not hold. */
export interface AccountClaim {
  /** Appended to the claim's keys: the name's account key. */
  readonly key: string;
  /** Appended to its arguments: the claimer's account id, `""` for a guest. */
  readonly argument: string;
}

/** The account part of a claim of name key `key` by a holder of account `accountId` (undefined: a guest). */
export function accountClaim(
  prefix: string,
  key: string,
  accountId: number | undefined,
): AccountClaim {
  return {
    key: KEYS.account(prefix, key),
    argument: accountId === undefined ? "" : `${accountId}`,
  };
}

/**
 * Registers a name. KEYS: account, account ids, account keys, name (the
 * name's claim). ARGV: name as shown, name key, hash, created ms, the
 * registering instance ('' to skip the check). Returns the new id; 0 when
 * the name has an account; -1 when the name is claimed by another instance
 * than the registering one (its user there is a guest, who must not find
 * the name an account's). Refusals take no id.
 */
export const CREATE_ACCOUNT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[5] ~= '' then
  local holder = redis.call('GET', KEYS[4])
  local mine = ARGV[5] .. ' '
  if holder and string.sub(holder, 1, #mine) ~= mine then return -1 end
end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'id', id, 'name', ARGV[1], 'hash', ARGV[3], 'created', ARGV[4])
redis.call('HSET', KEYS[3], id, ARGV[2])
return id
`;

/**
 * Replaces an account's hash. KEYS: account keys. ARGV: account key prefix,
 * id, hash, and optionally the hash expected now (a compare-and-set: a
 * rehash after a login replaces only the hash it checked). Returns 1, or 0
 * when there is no account `id` (deleted meanwhile) or its hash is no
 * longer the expected one.
 */
export const SET_ACCOUNT_HASH = `
local key = redis.call('HGET', KEYS[1], ARGV[2])
if not key then return 0 end
local account = ARGV[1] .. key
if redis.call('HGET', account, 'id') ~= ARGV[2] then return 0 end
if ARGV[4] and redis.call('HGET', account, 'hash') ~= ARGV[4] then return 0 end
redis.call('HSET', account, 'hash', ARGV[3])
return 1
`;

/**
 * Deletes an account and its direct-message conversations (the streams its
 * index set names; see `dm_scripts.ts`), in one step. KEYS: account keys,
 * the account's conversation index. ARGV: account key prefix, id. Returns
 * 1, or 0 when there was no account `id`. Its id is never given again (the
 * counter only grows), so a later account of the same name reaches nothing
 * stored under this one.
 */
export const REMOVE_ACCOUNT = `
local key = redis.call('HGET', KEYS[1], ARGV[2])
if not key then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
local account = ARGV[1] .. key
if redis.call('HGET', account, 'id') == ARGV[2] then redis.call('DEL', account) end
-- The other party's copies are in its own conversations: they stay.
for _, stream in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('DEL', stream) end
redis.call('DEL', KEYS[2])
return 1
`;
