--[[
  Apply one model's labels of one batch, all or nothing: labels that meet their waiting prediction
  add their increments to the performance summary of the prediction's bucket and end both waits;
  labels whose prediction has not come yet start waiting themselves; and the labels partition's
  checkpoint moves past the batch, in the same step. So a label counts exactly once however the
  consumer crashes and replays (the same design as apply-flush.lua). A sweep of early labels
  (no partition) joins labels that waited, with the same checks.

  The increments are computed by the caller from the entries it read (core/performance/join.ts);
  every entry it read is checked unchanged here, before the first write, else nothing is
  written and the caller reads again (a prediction flushed in between, a concurrent sweep).

  Key count varies (5 + performance buckets), so the caller passes numkeys.

    Input:
      KEYS[1]  label checkpoints hash (labels partition id -> next offset; '#joined' -> joins)
      KEYS[2]  pending predictions hash (eventId -> prediction JSON)
      KEYS[3]  pending predictions index zset
      KEYS[4]  early labels hash (eventId -> label JSON)
      KEYS[5]  early labels index zset
      KEYS[6..n]  performance bucket hashes, each once

      ARGV[1]  labels partition id ('' for a sweep: no checkpoint checked or written)
      ARGV[2]  expected offset ('' = no checkpoint stored)
      ARGV[3]  next offset
      ARGV[4]  now, ms
      ARGV[5]  ttl, ms: early labels older than this are dropped (at most 1000 a call)
      ARGV[6]  max early labels; the oldest beyond are dropped
      ARGV[7]  retention, ms: PEXPIRE of every performance bucket written
      ARGV[8]  j, joins
      ARGV[9]  e, early labels
      then j joins: eventId, prediction JSON as read, early label JSON as read ('' for a label
        of this batch), index in KEYS of its performance bucket, k, then k pairs: field, increment
      then e early labels: eventId, label JSON

    Output:
      {1, expired, evicted}  applied; early labels dropped by age and by the bound
      {-1}                   stale: the stored checkpoint is not the expected one
      {-5, eventId}          changed: that entry is not what the caller read; nothing written
      error WRONGTYPE        a key holds something else; nothing written
]]
local rcall = redis.call
local partition = ARGV[1]
local joins = tonumber(ARGV[8])
local earlies = tonumber(ARGV[9])

for k = 1, #KEYS do
  local keyType = rcall("TYPE", KEYS[k])["ok"]
  local wanted = "hash"
  if k == 3 or k == 5 then wanted = "zset" end
  if keyType ~= wanted and keyType ~= "none" then
    return redis.error_reply("WRONGTYPE " .. KEYS[k] .. " holds a " .. keyType .. ", not a " .. wanted)
  end
end

if partition ~= "" then
  local stored = rcall("HGET", KEYS[1], partition)
  if not stored then stored = "" end
  if stored ~= ARGV[2] then
    return {-1}
  end
end

-- Checks: every entry as read.
local j = 10
local joinAt = {}
for n = 1, joins do
  joinAt[n] = j
  local id = ARGV[j]
  if rcall("HGET", KEYS[2], id) ~= ARGV[j + 1] then
    return {-5, id}
  end
  if ARGV[j + 2] ~= "" and rcall("HGET", KEYS[4], id) ~= ARGV[j + 2] then
    return {-5, id}
  end
  j = j + 5 + 2 * tonumber(ARGV[j + 4])
end
local earlyAt = j
for n = 0, earlies - 1 do
  local id = ARGV[earlyAt + 2 * n]
  if rcall("HEXISTS", KEYS[2], id) == 1 then
    return {-5, id}
  end
end

-- Writes.
local retention = ARGV[7]
for n = 1, joins do
  local at = joinAt[n]
  local id = ARGV[at]
  local key = KEYS[tonumber(ARGV[at + 3])]
  local k = tonumber(ARGV[at + 4])
  for i = 0, k - 1 do
    rcall("HINCRBYFLOAT", key, ARGV[at + 5 + 2 * i], ARGV[at + 6 + 2 * i])
  end
  -- Labels joined into the bucket: the evaluator sees a reported window's labels grow by it.
  rcall("HINCRBY", key, "#labels", 1)
  rcall("PEXPIRE", key, retention)
  rcall("HDEL", KEYS[2], id)
  rcall("ZREM", KEYS[3], id)
  if ARGV[at + 2] ~= "" then
    rcall("HDEL", KEYS[4], id)
    rcall("ZREM", KEYS[5], id)
  end
end
local now = tonumber(ARGV[4])
local ttl = ARGV[5]
for n = 0, earlies - 1 do
  local id = ARGV[earlyAt + 2 * n]
  rcall("HSET", KEYS[4], id, ARGV[earlyAt + 2 * n + 1])
  rcall("ZADD", KEYS[5], now, id)
end
local expired = 0
local evicted = 0
if earlies > 0 then
  local old = rcall("ZRANGEBYSCORE", KEYS[5], "-inf", now - tonumber(ttl), "LIMIT", 0, 1000)
  for _, id in ipairs(old) do
    rcall("HDEL", KEYS[4], id)
    rcall("ZREM", KEYS[5], id)
  end
  expired = #old
  local over = rcall("ZCARD", KEYS[5]) - tonumber(ARGV[6])
  if over > 0 then
    local popped = rcall("ZPOPMIN", KEYS[5], over)
    for i = 1, #popped, 2 do
      rcall("HDEL", KEYS[4], popped[i])
    end
    evicted = over
  end
  rcall("PEXPIRE", KEYS[4], ttl)
  rcall("PEXPIRE", KEYS[5], ttl)
end
if partition ~= "" then
  rcall("HSET", KEYS[1], partition, ARGV[3])
end
-- Every join ever, so the evaluator notices cheaply that labels came (its revisions).
if joins > 0 then
  rcall("HINCRBY", KEYS[1], "#joined", joins)
end
return {1, expired, evicted}
