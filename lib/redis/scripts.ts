/**
 * The Lua scripts that keep names and presence in Redis. Each runs
 * atomically, so two instances can never both believe they hold a name.
 *
 * Keys follow `KEYS` in `keys.ts`; scripts that walk other
 * instances' keys build them from the prefix and {@linkcode KEY_KINDS}, the
 * same way. A name's value is `<instance> <seq> <name>`, so "held by this
 * instance" is a prefix test.
 *
 * @module
 */
import { KEY_KINDS } from "./keys.ts";

/** A Lua string literal; the key kinds hold neither quotes nor backslashes. */
function lua(text: string): string {
  return `'${text}'`;
}

const ALIVE = lua(KEY_KINDS.alive);
const OWNED = lua(KEY_KINDS.owned);
const NAME = lua(KEY_KINDS.name);

/**
 * Claims a free name. KEYS: name, seq, owned, alive[, account]. ARGV:
 * instance, name, name ttl ms, name key[, account id]. Returns the login
 * number, nil when the name is taken, or -1 when this instance is not (or no
 * longer) registered as alive: Redis lost its data, or gave the instance up
 * for dead, and names it does not know about may still be held elsewhere
 * until every instance rejoins. With the name's account key (see
 * `account_scripts.ts`), -2 when that account exists and its id is not the
 * account id given (a guest gives ''): a registration and a guest's claim
 * are one order in Redis. Without it, the claim is what it always was.
 */
export const CLAIM = `
if redis.call('EXISTS', KEYS[4]) == 0 then return -1 end
if KEYS[5] then
  local id = redis.call('HGET', KEYS[5], 'id')
  if id and id ~= ARGV[5] then return -2 end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local seq = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. seq .. ' ' .. ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
return seq
`;

/**
 * Frees a name if this instance still holds it (compare-and-delete). KEYS:
 * name, owned. ARGV: the exact value claimed, name key.
 */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`;

/**
 * Keeps this instance alive for another instance ttl and its names for
 * another name ttl. KEYS: alive, owned. ARGV: instance ttl ms, name key
 * prefix, instance, name ttl ms. Returns -1 when the instance was already
 * given up for dead (it must rejoin), else how many names it holds.
 */
export const HEARTBEAT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local mine = ARGV[3] .. ' '
for _, k in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local v = redis.call('GET', ARGV[2] .. k)
  if v and string.sub(v, 1, #mine) == mine then redis.call('PEXPIRE', ARGV[2] .. k, ARGV[4]) end
end
return redis.call('SCARD', KEYS[2])
`;

/**
 * (Re)joins: reclaims every local user's name, frees names this instance
 * held for users who left while it was cut off, raises the login counter past
 * every reclaimed number, and marks the instance alive. KEYS: alive, owned,
 * instances, seq. ARGV: instance, instance ttl ms, name key prefix, name ttl
 * ms, account key prefix, then (name key, name, seq, account id or '' for a
 * guest) for each local user. A user whose name has an account of another id
 * (registered elsewhere during a partition) is lost, and its name freed if
 * this instance held it. Returns { name keys now held elsewhere or
 * refused, values freed }.
 */
export const REJOIN = `
local mine = ARGV[1] .. ' '
local keep, lost, freed, top = {}, {}, {}, 0
for i = 6, #ARGV, 4 do
  local k, value = ARGV[i], mine .. ARGV[i + 2] .. ' ' .. ARGV[i + 1]
  local v = redis.call('GET', ARGV[3] .. k)
  local id = redis.call('HGET', ARGV[5] .. k, 'id')
  if id and id ~= ARGV[i + 3] then
    if v == value then redis.call('DEL', ARGV[3] .. k) end
    table.insert(lost, k)
  elseif v == false or v == value then
    redis.call('SET', ARGV[3] .. k, value, 'PX', ARGV[4])
    keep[k] = true
    top = math.max(top, tonumber(ARGV[i + 2]))
  else
    table.insert(lost, k)
  end
end
for _, k in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if not keep[k] then
    local v = redis.call('GET', ARGV[3] .. k)
    if v and string.sub(v, 1, #mine) == mine then
      redis.call('DEL', ARGV[3] .. k)
      table.insert(freed, v)
    end
    redis.call('SREM', KEYS[2], k)
  end
end
for k in pairs(keep) do redis.call('SADD', KEYS[2], k) end
if tonumber(redis.call('GET', KEYS[4]) or '0') < top then redis.call('SET', KEYS[4], top) end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
return {lost, freed}
`;

/**
 * Sweeps dead instances (alive key expired): frees the names they still
 * hold and forgets them. KEYS: instances. ARGV: key prefix, '1' to also list
 * every live instance's name values, then instance ids to check. Returns {
 * the checked ids that are not alive, the name values when asked }.
 */
export const SWEEP = `
local p, want = ARGV[1], ARGV[2] == '1'
local holders, gone = {}, {}
for _, inst in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', p .. ${ALIVE} .. inst) == 1 then
    if want then
      for _, k in ipairs(redis.call('SMEMBERS', p .. ${OWNED} .. inst)) do
        local v = redis.call('GET', p .. ${NAME} .. k)
        if v then table.insert(holders, v) end
      end
    end
  else
    local theirs = inst .. ' '
    for _, k in ipairs(redis.call('SMEMBERS', p .. ${OWNED} .. inst)) do
      local v = redis.call('GET', p .. ${NAME} .. k)
      if v and string.sub(v, 1, #theirs) == theirs then redis.call('DEL', p .. ${NAME} .. k) end
    end
    redis.call('DEL', p .. ${OWNED} .. inst)
    redis.call('SREM', KEYS[1], inst)
  end
end
for i = 3, #ARGV do
  if redis.call('EXISTS', p .. ${ALIVE} .. ARGV[i]) == 0 then table.insert(gone, ARGV[i]) end
end
return {gone, holders}
`;

/**
 * Leaves for good (shutdown): frees every name this instance holds. KEYS:
 * alive, owned, instances. ARGV: name key prefix, instance.
 */
export const LEAVE = `
local mine = ARGV[2] .. ' '
for _, k in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local v = redis.call('GET', ARGV[1] .. k)
  if v and string.sub(v, 1, #mine) == mine then redis.call('DEL', ARGV[1] .. k) end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[2])
return 1
`;
