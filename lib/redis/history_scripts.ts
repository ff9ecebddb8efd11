/**
 * The Lua scripts that keep the chat's history in a Redis stream. Each runs
 * atomically: the one that writes a batch of messages also publishes it, so
 * the stream's order is the order in which every instance receives them.
 *
 * Each entry holds `s` (the sender), `t` (the text) and `o`, its origin:
 * `<instance>:<seq>`, the writing instance's own number for the message. A
 * write sent again after its answer was lost looks its messages up by
 * origin among the entries after the last id the instance had seen when it
 * first sent them, instead of writing them twice.
 *
 * Numbers written into ids go through `%.0f`: Lua's numbers are doubles,
 * which `..` would write as `1.7e+12`.
 *
 * @module
 */
import type { Range, Retention, StoredMessage } from "../history/store.ts";

/** Id helpers: compare two ids, and read a stream's last id. */
export const IDS = `
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function below(a, b)
  local am, as = parts(a)
  local bm, bs = parts(b)
  return am < bm or (am == bm and as < bs)
end
local function lastId(stream)
  local info = redis.call('XINFO', 'STREAM', stream)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
  return '0-0'
end
`;

/**
 * Ids never go back: a stream that Redis lost (a restart without
 * persistence) is made again, empty, with its last id at the floor, and one
 * whose last id is below it is raised (XSETID). The floor is the highest id
 * the instance has seen, or '' when it has seen none.
 */
export const RAISE = `
local function raise(stream, floor)
  if floor == '' then return end
  if redis.call('EXISTS', stream) == 0 then
    redis.call('XADD', stream, floor, 's', '', 't', '')
    redis.call('XDEL', stream, floor)
  elseif below(lastId(stream), floor) then
    redis.call('XSETID', stream, floor)
  end
end
`;

/**
 * Writes a batch's kept messages and publishes the batch with their ids, at
 * once. KEYS: stream. ARGV: channel, max length (approximate), the batch's
 * first line (the instance), kinds (one letter per line: `H` a kept
 * message, taking three arguments: origin, sender, text; `L` any other
 * line, taking one: the line as published). Returns the kept messages' ids,
 * in order.
 */
export const APPEND_PUBLISH = `
local stream, kinds = KEYS[1], ARGV[4]
local out, ids = {ARGV[3]}, {}
local i = 5
for k = 1, #kinds do
  if string.sub(kinds, k, k) == 'H' then
    local sender, text = ARGV[i + 1], ARGV[i + 2]
    local id = redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], '*', 's', sender, 't', text, 'o', ARGV[i])
    out[#out + 1] = 'H ' .. id .. ' ' .. sender .. ' ' .. text
    ids[#ids + 1] = id
    i = i + 3
  else
    out[#out + 1] = ARGV[i]
    i = i + 1
  end
end
redis.call('PUBLISH', ARGV[1], table.concat(out, '\\n'))
return ids
`;

/**
 * Writes messages without publishing them (accepted while Redis was away,
 * or dropped from live delivery while it lagged). With a `since` id, a
 * message already among the 10,000 entries after it (its earlier write's
 * answer was lost) keeps its id and is not written again. Then, unless the channel is
 * '', publishes a mark of the highest id (`<instance>\nS <id>`), so that
 * every instance's reads reach past them. KEYS: stream. ARGV: max length,
 * floor, channel, the instance, since ('' or an id), then (origin, sender,
 * text) for each message. Returns their ids, in order.
 */
export const BACKFILL = `${IDS}${RAISE}
local stream = KEYS[1]
raise(stream, ARGV[2])
local known = {}
if ARGV[5] ~= '' then
  -- A lost write ran right after it was sent: among the entries that follow, not the whole stream.
  for _, entry in ipairs(redis.call('XRANGE', stream, '(' .. ARGV[5], '+', 'COUNT', 10000)) do
    local fields = entry[2]
    for f = 1, #fields, 2 do
      if fields[f] == 'o' then known[fields[f + 1]] = entry[1] end
    end
  end
end
local ids, top = {}, nil
for i = 6, #ARGV, 3 do
  local id = known[ARGV[i]]
  if not id then
    id = redis.call('XADD', stream, 'MAXLEN', '~', ARGV[1], '*', 's', ARGV[i + 1], 't', ARGV[i + 2], 'o', ARGV[i])
  end
  ids[#ids + 1] = id
  if top == nil or below(top, id) then top = id end
end
if ARGV[3] ~= '' and top then redis.call('PUBLISH', ARGV[3], ARGV[4] .. '\\nS ' .. top) end
return ids
`;

/**
 * Raises the stream above the floor, then tells the instance (on its own
 * channel, so in the one order of everything it receives) where the stream
 * stands: `<instance>\nS <last id>`. KEYS: stream. ARGV: floor, channel, the
 * instance. Returns the last id.
 */
export const MARK = `${IDS}${RAISE}
local stream = KEYS[1]
raise(stream, ARGV[1])
local last = '0-0'
if redis.call('EXISTS', stream) == 1 then last = lastId(stream) end
redis.call('PUBLISH', ARGV[2], ARGV[3] .. '\\nS ' .. last)
return last
`;

/** Redis's clock, in ms, and the oldest id the age bound keeps. */
export const CLOCK = `
local function oldest(maxAge)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  return string.format('%.0f', math.max(0, math.ceil(now - maxAge))) .. '-0'
end
`;

/**
 * A read's two ends, enforcing both bounds exactly whatever the approximate
 * trimming kept: the age bound by Redis's clock, the line bound by skipping
 * the oldest entries past it. Returns XRANGE's start and end.
 */
export const BOUNDS = `${IDS}${CLOCK}
local function bounds(stream, lines, maxAge, after, before)
  local low, open = oldest(maxAge), false
  local function atLeast(id, exclusive)
    if below(low, id) or (low == id and exclusive) then low, open = id, exclusive end
  end
  local len = redis.call('XLEN', stream)
  if len - lines > lines then
    -- Far past the bound (it was lowered): trimmed to about it first, so that the skip stays short.
    redis.call('XTRIM', stream, 'MAXLEN', '~', lines)
    len = redis.call('XLEN', stream)
  end
  if len > lines then
    local past = redis.call('XRANGE', stream, '-', '+', 'COUNT', len - lines)
    atLeast(past[#past][1], true)
  end
  if after ~= '' then atLeast(after, true) end
  return (open and '(' or '') .. low, before == '' and '+' or '(' .. before
end
`;

/**
 * Reads a range within the retention (see {@linkcode BOUNDS}). KEYS:
 * stream. ARGV: lines kept, max age ms, `latest` or `earliest`, after (''
 * or an id, excluded), before ('' or an id, excluded), limit. Returns id,
 * sender, text, ... oldest first.
 */
export const READ = `${BOUNDS}
local stream = KEYS[1]
local limit = tonumber(ARGV[6])
local from, to = bounds(stream, tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[4], ARGV[5])
local found
if ARGV[3] == 'latest' then
  found = redis.call('XREVRANGE', stream, to, from, 'COUNT', limit)
else
  found = redis.call('XRANGE', stream, from, to, 'COUNT', limit)
end
local out = {}
local first, last, step = 1, #found, 1
if ARGV[3] == 'latest' then first, last, step = #found, 1, -1 end
for k = first, last, step do
  local entry = found[k]
  local sender, text = '', ''
  local fields = entry[2]
  for f = 1, #fields, 2 do
    if fields[f] == 's' then sender = fields[f + 1] elseif fields[f] == 't' then text = fields[f + 1] end
  end
  out[#out + 1] = entry[1]
  out[#out + 1] = sender
  out[#out + 1] = text
end
return out
`;

/** Drops entries past the age bound (approximately: whole nodes). KEYS: stream. ARGV: max age ms. */
export const TRIM = `${CLOCK}
redis.call('XTRIM', KEYS[1], 'MINID', '~', oldest(tonumber(ARGV[1])))
return 1
`;

/** `READ`'s arguments (and the first of `READ_DM`'s) for `range` within `retention`. */
export function readArguments(range: Range, retention: Retention): string[] {
  return [
    String(retention.lines),
    String(retention.maxAgeMs),
    range.from,
    range.after ?? "",
    range.before ?? "",
    String(range.limit),
  ];
}

/** A read's reply (id, sender, text, ...) as messages. */
export function readReply(reply: unknown): StoredMessage[] {
  const flat = reply as string[];
  const messages: StoredMessage[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    messages.push({ id: flat[i]!, sender: flat[i + 1]!, text: flat[i + 2]! });
  }
  return messages;
}
