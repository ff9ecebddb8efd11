/**
 * The Lua scripts that keep direct messages in Redis: one stream per
 * account and peer (`<prefix>history:dm:<account id>:<peer's name key>`,
 * the key of `dm_keys.ts` under the history's prefix), and per account a set
 * of its streams' keys (`<prefix>dm-index:<account id>`), so that deleting
 * an account finds them at once (see `REMOVE_ACCOUNT`).
 *
 * A direct message's copies take one id, above the chat stream's last id
 * and every copy stream's, and the chat stream is raised to it: chat and
 * direct messages share the one order of ids, the order in which their
 * publishes reach every instance. Each copy's `o` is `<instance>:dm`, the
 * instance that wrote it.
 *
 * @module
 */
import { BOUNDS, IDS, RAISE } from "./history_scripts.ts";

/**
 * Writes a direct message's copies (for each party logged in to an account
 * that still exists), then publishes it live on a channel if one is given
 * (`<instance>\nI <id>\nD <dm line's body>`, or `D <body>` alone when no
 * copy was kept: see `cluster_wire.ts`), then a mark of its id on the shared channel
 * (`<instance>\nO <id>`): every instance's reads reach it once everything
 * before it has reached them. KEYS: the chat stream. ARGV: max length
 * (approximate), floor ('' or the highest id seen), origin, sender, text,
 * conversation key prefix (before `dm:`), index key prefix, account keys,
 * account key prefix, live channel ('' for none), the DM line's body
 * (`dmBody`), shared channel, the instance, the age bound in ms (each
 * copy stream and index expires that long after its latest write), then for each
 * party (account id or '', a name key whose account it is or '', the peer's
 * name key). Returns the id, or '' when no copy was kept.
 */
export const KEEP_DM = `${IDS}${RAISE}
local chat = KEYS[1]
local lines, floor, origin, sender, text = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local streams, copies, seen = {}, {}, {}
local maxAge = ARGV[14]
for i = 15, #ARGV, 3 do
  local id = ARGV[i]
  if id == '' and ARGV[i + 1] ~= '' then id = redis.call('HGET', ARGV[9] .. ARGV[i + 1], 'id') end
  -- Only for an account that exists now: one deleted meanwhile keeps nothing more.
  if id and id ~= '' and redis.call('HEXISTS', ARGV[8], id) == 1 then
    local stream = ARGV[6] .. 'dm:' .. id .. ':' .. ARGV[i + 2]
    if not seen[stream] then
      seen[stream] = true
      streams[#streams + 1] = stream
      copies[#copies + 1] = ARGV[7] .. id
    end
  end
end
local kept = ''
if #streams > 0 then
  local time = redis.call('TIME')
  local ms, seq = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), 0
  local function above(id)
    local m, s = parts(id)
    if m > ms or (m == ms and s >= seq) then ms, seq = m, s + 1 end
  end
  if floor ~= '' then above(floor) end
  if redis.call('EXISTS', chat) == 1 then above(lastId(chat)) end
  for _, stream in ipairs(streams) do
    if redis.call('EXISTS', stream) == 1 then above(lastId(stream)) end
  end
  kept = string.format('%.0f-%.0f', ms, seq)
  for k, stream in ipairs(streams) do
    redis.call('XADD', stream, 'MAXLEN', '~', lines, kept, 's', sender, 't', text, 'o', origin)
    redis.call('SADD', copies[k], stream)
    -- Gone once its newest message is past the age bound, and the index no sooner than its streams:
    -- a conversation nobody deletes (a guest's, under a name used once) does not stay for ever.
    redis.call('PEXPIRE', stream, maxAge)
    redis.call('PEXPIRE', copies[k], maxAge)
  end
  raise(chat, kept)
end
if ARGV[10] ~= '' then
  local line = kept == '' and 'D ' or 'I ' .. kept .. '\\nD '
  redis.call('PUBLISH', ARGV[10], ARGV[13] .. '\\n' .. line .. ARGV[11])
end
if kept ~= '' then redis.call('PUBLISH', ARGV[12], ARGV[13] .. '\\nO ' .. kept) end
return kept
`;

/**
 * Reads a direct-message conversation within the retention, as `READ`
 * does, leaving out what another instance wrote after `cut`: a message
 * whose live delivery (and mark) has not reached this instance yet. What
 * this instance wrote was delivered before anything it reads afterwards.
 * KEYS: stream. ARGV: as `READ`'s, then the cut, then `<instance>:`.
 * Returns id, sender, text, ... oldest first.
 */
export const READ_DM = `${BOUNDS}
local stream = KEYS[1]
local limit, latest, cut, own = tonumber(ARGV[6]), ARGV[3] == 'latest', ARGV[7], ARGV[8]
local from, to = bounds(stream, tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[4], ARGV[5])
local picked = {}
while #picked < limit do
  local found
  if latest then
    found = redis.call('XREVRANGE', stream, to, from, 'COUNT', limit)
  else
    found = redis.call('XRANGE', stream, from, to, 'COUNT', limit)
  end
  for _, entry in ipairs(found) do
    local fields, message = entry[2], {entry[1], '', ''}
    local visible = not below(cut, entry[1])
    for f = 1, #fields, 2 do
      local value = fields[f + 1]
      if fields[f] == 's' then message[2] = value
      elseif fields[f] == 't' then message[3] = value
      elseif fields[f] == 'o' and string.sub(value, 1, #own) == own then visible = true end
    end
    if visible and #picked < limit then picked[#picked + 1] = message end
  end
  if #found < limit then break end
  if latest then to = '(' .. found[#found][1] else from = '(' .. found[#found][1] end
end
local out = {}
local first, last, step = 1, #picked, 1
if latest then first, last, step = #picked, 1, -1 end
for k = first, last, step do
  for _, value in ipairs(picked[k]) do out[#out + 1] = value end
end
return out
`;
