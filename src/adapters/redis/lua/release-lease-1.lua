--[[
  Give up a model's evaluator lease, if this owner still holds it. The token is left alone:
  the next acquire increments it.

    Input:
      KEYS[1]  lease key

      ARGV[1]  owner id

    Output:
      1  released
      0  not held by this owner; nothing done
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
