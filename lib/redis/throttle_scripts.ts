/**
 * The login throttle's rules (lib/accounts/throttle_rules.ts) as Lua, so
 * every instance counts in the same three records and a try's decision and
 * its count are one atomic step: of two instances beginning tries for one
 * account at once, Redis runs one script whole before the other, so neither
 * slips past the 5th.
 *
 * The rules are ported, not shared: a Lua script cannot call the TS
 * functions, and a read-decide-write from TS would need WATCH and retries
 * (a round trip more for every try, unbounded ones under a spray of tries).
 * `tests/redis_login_throttle_test.ts` (and `redis_registration_limit_test.ts`)
 * run the same sequences through both and demand the same decisions, so
 * throttle_rules.ts (and registration_limit.ts) stay the reference.
 *
 * Records: hashes with fields `n` (failures, or the level) and `at` (ms).
 * Each expires when the in-process record would be forgotten: a run
 * `runForgetMs` after its last failure, a level once it has leaked empty.
 *
 * KEYS of both: run (account and address), account, address. ARGV: now ms,
 * then the limits in {@linkcode limitArguments}'s order; SETTLE_TRY adds
 * the settlement (`succeeded`, `failed`, `unknown-account`, `abandoned`).
 *
 * The registration limit's leaky bucket (registration_limit.ts) is here too,
 * as {@linkcode ALLOW_REGISTRATION}: the same record shape, one key.
 *
 * @module
 */
import type { ThrottleLimits } from "../accounts/throttle_rules.ts";

/** The limits as the scripts' ARGV 2 to 7. */
export function limitArguments(limits: ThrottleLimits): string[] {
  return [
    limits.runLength,
    limits.runPauseMs,
    limits.runForgetMs,
    limits.accountCeiling,
    limits.addressCeiling,
    limits.ceilingWindowMs,
  ].map(String);
}

const PRELUDE = `
local now = tonumber(ARGV[1])
local runLength, pause, forget = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local accountCeiling, addressCeiling = tonumber(ARGV[5]), tonumber(ARGV[6])
local window = tonumber(ARGV[7])
local function readRun()
  local r = redis.call('HMGET', KEYS[1], 'n', 'at')
  local n, at = tonumber(r[1]), tonumber(r[2])
  if not n or not at or n <= 0 or now - at >= forget then return nil, nil end
  return n, at
end
local function readLevel(key, ceiling)
  local r = redis.call('HMGET', key, 'n', 'at')
  local n, at = tonumber(r[1]), tonumber(r[2])
  if not n or not at then return nil, nil end
  local left = n - math.max(0, now - at) * ceiling / window
  if left <= 0 then return nil, nil end
  return left, math.max(now, at)
end
local function writeRun(n, at)
  if not n or n <= 0 or at + forget - now <= 0 then redis.call('DEL', KEYS[1]) return end
  redis.call('HSET', KEYS[1], 'n', n, 'at', string.format('%.17g', at))
  redis.call('PEXPIRE', KEYS[1], math.ceil(at + forget - now))
end
local function writeLevel(key, level, ceiling)
  if not level or level <= 0 then redis.call('DEL', key) return end
  redis.call('HSET', key, 'n', string.format('%.17g', level), 'at', string.format('%.17g', now))
  -- Gone once leaked empty; a ms more so the expiry never beats the arithmetic.
  redis.call('PEXPIRE', key, math.ceil(level * window / ceiling) + 1)
end
local runN, runAt = readRun()
local account = readLevel(KEYS[2], accountCeiling)
local address = readLevel(KEYS[3], addressCeiling)
`;

/** Decides a try and, when it may go, counts it as a failure everywhere. Returns `go` or `throttled`. */
export const BEGIN_TRY = PRELUDE + `
if runN and runN >= runLength and now - runAt < pause then return 'throttled' end
-- A ceiling is reached when one more failure would pass it.
if (account or 0) + 1 > accountCeiling then return 'throttled' end
if (address or 0) + 1 > addressCeiling then return 'throttled' end
writeRun((runN or 0) + 1, now)
writeLevel(KEYS[2], (account or 0) + 1, accountCeiling)
writeLevel(KEYS[3], (address or 0) + 1, addressCeiling)
return 'go'
`;

/** Settles a try BEGIN_TRY let through, as `settleTry` does. Returns `ok`. */
export const SETTLE_TRY = PRELUDE + `
local how = ARGV[8]
local function less(level) return math.max(0, (level or 0) - 1) end
if how == 'succeeded' then
  redis.call('DEL', KEYS[1])
  writeLevel(KEYS[2], less(account), accountCeiling)
  writeLevel(KEYS[3], less(address), addressCeiling)
elseif how == 'failed' then
  writeRun(math.max(1, runN or 0), now)
else
  writeRun(runN and runN - 1, runAt)
  writeLevel(KEYS[2], less(account), accountCeiling)
  if how == 'abandoned' then writeLevel(KEYS[3], less(address), addressCeiling) end
end
return 'ok'
`;

/**
 * The registration limit's leaky bucket (registration_limit.ts's `allow`):
 * reads the address's level, decides and counts in one step. KEYS: the
 * address's record. ARGV: now ms, ceiling, window ms. Returns 1 (counted)
 * or 0 (refused, nothing counted). The record, fields `n` and `at` as the
 * login throttle's, expires once leaked empty.
 */
export const ALLOW_REGISTRATION = `
local now, ceiling, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local r = redis.call('HMGET', KEYS[1], 'n', 'at')
local n, at = tonumber(r[1]), tonumber(r[2])
local level = 0
if n and at then level = math.max(0, n - math.max(0, now - at) * ceiling / window) end
if level + 1 > ceiling then return 0 end
level = level + 1
redis.call('HSET', KEYS[1], 'n', string.format('%.17g', level), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(level * window / ceiling) + 1)
return 1
`;
