--[[
  Seed a model's reference from its configured file, unless an operator replaced it since.
  The file's snapshot becomes current when no reference is stored yet, or when the file's id
  differs from the id this file seeded last time (the file changed: a new training set). When the
  current reference differs from the file's and the file is the one seeded before, an operator
  replaced it through the admin API: it stays current.

    Input:
      KEYS[1]  current reference id
      KEYS[2]  id of the snapshot last seeded from the file
      KEYS[3]  the file snapshot's key

      ARGV[1]  the file snapshot's id
      ARGV[2]  the file snapshot's JSON

    Output:
      {1, id}  the file's snapshot is current (seeded now, or already current)
      {0, id}  kept the current reference `id`, put through the admin API
]]
local current = redis.call("GET", KEYS[1])
local seeded = redis.call("GET", KEYS[2])
if current ~= false and current ~= ARGV[1] and seeded == ARGV[1] then
  return {0, current}
end
redis.call("SET", KEYS[3], ARGV[2])
redis.call("SET", KEYS[1], ARGV[1])
redis.call("SET", KEYS[2], ARGV[1])
return {1, ARGV[1]}
