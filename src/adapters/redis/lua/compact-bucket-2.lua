--[[
  Compact one bucket: replace the partition fields a compactor read and merged with the merged
  blob in the bucket's compacted field '*' (core/stream/bucket-codec.ts mergeBucketFields), only
  if no partition may still write the bucket and the bucket holds exactly the fields read.

  No partition may still write it when every partition with a checkpoint has a stored
  watermark at or past the bucket's close (a partition without an event yet may write any bucket) (its end plus the allowed lateness): its later events
  for the bucket are late (core/stream/windows.ts), so it neither loads nor writes the bucket
  again, and a crash replays from a checkpoint whose watermark is already past it. Holding
  exactly the fields read means no other compactor got there first and no new partition wrote
  in between; otherwise nothing is written and the next evaluation tries again. The row counter
  and the expiry stay as they are.

    Input:
      KEYS[1]   checkpoints hash (field partition id -> checkpoint JSON)
      KEYS[2]   bucket hash      (field partition id or '*' -> blob, '#rows' -> row counter)
      ARGV[1]   the bucket's close, ms
      ARGV[2]   the merged blob
      ARGV[3..] the fields read and merged (partition ids, and '*' if it was there)

    Output:
      1   compacted
      0   not compacted: a partition may still write the bucket, or its fields changed
      error WRONGTYPE   a key holds something else than a hash
]]
local rcall = redis.call
for k = 1, 2 do
  local keyType = rcall("TYPE", KEYS[k])["ok"]
  if keyType ~= "hash" and keyType ~= "none" then
    return redis.error_reply("WRONGTYPE " .. KEYS[k] .. " holds a " .. keyType .. ", not a hash")
  end
end
local closesAt = tonumber(ARGV[1])
local checkpoints = rcall("HVALS", KEYS[1])
for _, json in ipairs(checkpoints) do
  local watermark = cjson.decode(json)["watermark"]
  -- A partition without an event yet stores null (cjson.null): it may still write any bucket.
  if type(watermark) ~= "number" or watermark < closesAt then
    return 0
  end
end
local expected = #ARGV - 2
if rcall("HEXISTS", KEYS[2], "#rows") == 1 then expected = expected + 1 end
if rcall("HLEN", KEYS[2]) ~= expected then return 0 end
for j = 3, #ARGV do
  if rcall("HEXISTS", KEYS[2], ARGV[j]) == 0 then return 0 end
end
for j = 3, #ARGV do
  if ARGV[j] ~= "*" then rcall("HDEL", KEYS[2], ARGV[j]) end
end
rcall("HSET", KEYS[2], "*", ARGV[2])
return 1
