--[[
  Apply one model's flush: the buckets its partitions touched and the partitions' new
  checkpoints, all or nothing. Applied only if every partition's stored checkpoint still holds
  the offset this flush started from; otherwise a newer owner has moved on and nothing is
  written (invariant 1: the offsets an update covers are written in the same step as it).

  Every check runs before the first write: Redis does not roll back a script that fails
  half-way, so once the checks pass no write can fail on a key of the wrong type.

  Key count varies (1 + buckets), so the caller passes numkeys.

    Input:
      KEYS[1]     checkpoints hash   (field partition id -> checkpoint JSON)
      KEYS[2..n]  bucket hashes      (field partition id -> blob), each key once

      ARGV[1]     retention, ms: PEXPIRE of every bucket key written
      ARGV[2]     p, number of partitions
      then p triples, i = 0 .. p-1, from ARGV[3 + 3i]:
        partition id, expected offset ('' = no checkpoint stored), next checkpoint JSON
      then one quadruple per bucket write, up to #ARGV:
        index of its bucket key in KEYS (2..n), partition id, blob, rows added since the
        partition's last flush (HINCRBY into the bucket's '#rows' field: its row counter)

    Output:
      {1}                 applied
      {-1, partitionId}   stale: that partition's stored offset is not the expected one
      error WRONGTYPE     a key holds something else than a hash; nothing written
]]
local rcall = redis.call
local checkpointsKey = KEYS[1]
local retention = ARGV[1]
local partitions = tonumber(ARGV[2])
local firstBucket = 3 + 3 * partitions

for k = 1, #KEYS do
  local keyType = rcall("TYPE", KEYS[k])["ok"]
  if keyType ~= "hash" and keyType ~= "none" then
    return redis.error_reply("WRONGTYPE " .. KEYS[k] .. " holds a " .. keyType .. ", not a hash")
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
for k = 2, #KEYS do
  rcall("PEXPIRE", KEYS[k], retention)
end
for i = 0, partitions - 1 do
  rcall("HSET", checkpointsKey, ARGV[3 + 3 * i], ARGV[5 + 3 * i])
end
return {1}
