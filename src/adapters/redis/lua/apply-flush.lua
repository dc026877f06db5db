--[[
  Apply one model's flush: the buckets its partitions touched and the partitions' new
  checkpoints, all or nothing. Applied only if every partition's stored checkpoint still holds
  the offset this flush started from; otherwise a newer owner has moved on and nothing is
  written (invariant 1: the offsets an update covers are written in the same step as it).

  Every check runs before the first write: Redis does not roll back a script that fails
  half-way, so once the checks pass no write can fail on a key of the wrong type.

  Predictions that wait for their label (a model with `performance`) are written here too, so a
  prediction starts waiting exactly once: with the offsets that cover it (app/labels.ts joins).

  Key count varies (1 + buckets, + 2 with pending predictions), so the caller passes numkeys.

    Input:
      KEYS[1]     checkpoints hash   (field partition id -> checkpoint JSON)
      with pending predictions (m > 0 below):
        KEYS[2]   pending hash       (eventId -> prediction JSON)
        KEYS[3]   pending index zset (eventId by the wall-clock ms it started waiting)
      then the bucket hashes (field partition id -> blob), each key once

      ARGV[1]     retention, ms: PEXPIRE of every bucket key written
      ARGV[2]     p, number of partitions
      then p triples, i = 0 .. p-1, from ARGV[3 + 3i]:
        partition id, expected offset ('' = no checkpoint stored), next checkpoint JSON
      then m, the number of pending predictions; when m > 0: now (ms), ttl (ms), max pending,
        then one JSON array of m [eventId, prediction JSON] pairs (one argument, not 2m: a
        flush may carry tens of thousands, more than a call's arguments can spread). Entries older than ttl (at most 1000 a call) and
        the oldest beyond max pending are dropped, and counted in the reply.
      then one quadruple per bucket write, up to #ARGV:
        index of its bucket key in KEYS, partition id, blob, rows added since the
        partition's last flush (HINCRBY into the bucket's '#rows' field: its row counter)

    Output:
      {1, expired, evicted}  applied; pending predictions dropped by age and by the bound
      {-1, partitionId}   stale: that partition's stored offset is not the expected one
      error WRONGTYPE     a key holds something else than a hash; nothing written
]]
local rcall = redis.call
local checkpointsKey = KEYS[1]
local retention = ARGV[1]
local partitions = tonumber(ARGV[2])
local pendingCount = tonumber(ARGV[3 + 3 * partitions])
local pendingBase = 4 + 3 * partitions
local firstBucket = pendingBase
local firstBucketKey = 2
if pendingCount > 0 then
  firstBucket = pendingBase + 4
  firstBucketKey = 4
end

for k = 1, #KEYS do
  local keyType = rcall("TYPE", KEYS[k])["ok"]
  local wanted = "hash"
  if pendingCount > 0 and k == 3 then wanted = "zset" end
  if keyType ~= wanted and keyType ~= "none" then
    return redis.error_reply("WRONGTYPE " .. KEYS[k] .. " holds a " .. keyType .. ", not a " .. wanted)
  end
end

for i = 0, partitions - 1 do
  local field = ARGV[3 + 3 * i]
  local expected = ARGV[4 + 3 * i]
  local stored = rcall("HGET", checkpointsKey, field)
  local storedOffset = ""
  if stored then
    -- Offsets stay strings end to end: Kafka offsets are int64, Lua numbers are doubles.
    storedOffset = cjson.decode(stored)["nextOffset"]
  end
  if storedOffset ~= expected then
    return {-1, field}
  end
end

for j = firstBucket, #ARGV, 4 do
  rcall("HSET", KEYS[tonumber(ARGV[j])], ARGV[j + 1], ARGV[j + 2])
  if tonumber(ARGV[j + 3]) > 0 then
    rcall("HINCRBY", KEYS[tonumber(ARGV[j])], "#rows", ARGV[j + 3])
  end
end
for k = firstBucketKey, #KEYS do
  rcall("PEXPIRE", KEYS[k], retention)
end
for i = 0, partitions - 1 do
  rcall("HSET", checkpointsKey, ARGV[3 + 3 * i], ARGV[5 + 3 * i])
end
local expired = 0
local evicted = 0
if pendingCount > 0 then
  local now = tonumber(ARGV[pendingBase])
  local ttl = ARGV[pendingBase + 1]
  local maxPending = tonumber(ARGV[pendingBase + 2])
  for _, entry in ipairs(cjson.decode(ARGV[pendingBase + 3])) do
    rcall("HSET", KEYS[2], entry[1], entry[2])
    rcall("ZADD", KEYS[3], now, entry[1])
  end
  local old = rcall("ZRANGEBYSCORE", KEYS[3], "-inf", now - tonumber(ttl), "LIMIT", 0, 1000)
  for _, id in ipairs(old) do
    rcall("HDEL", KEYS[2], id)
    rcall("ZREM", KEYS[3], id)
  end
  expired = #old
  local over = rcall("ZCARD", KEYS[3]) - maxPending
  if over > 0 then
    local popped = rcall("ZPOPMIN", KEYS[3], over)
    for j = 1, #popped, 2 do
      rcall("HDEL", KEYS[2], popped[j])
    end
    evicted = over
  end
  -- A model that stops sending predictions leaves nothing behind for longer than the ttl.
  rcall("PEXPIRE", KEYS[2], ttl)
  rcall("PEXPIRE", KEYS[3], ttl)
end
return {1, expired, evicted}
