--[[
  Take or renew a model's evaluator lease. The fencing token increases every time the lease
  changes hands, including when the same owner comes back after its lease lapsed: whatever it
  started under the old token must stay fenced.

    Input:
      KEYS[1]  lease key          (owner id, with PX ttl)
      KEYS[2]  fencing token key  (integer counter, never expires)

      ARGV[1]  owner id
      ARGV[2]  ttl, ms

    Output:
      token (>= 1)  the lease is the owner's until the ttl runs out
      -2            another owner holds the lease
]]
local rcall = redis.call
local owner = rcall("GET", KEYS[1])
if owner == ARGV[1] then
  local token = rcall("GET", KEYS[2])
  if token then
    rcall("PEXPIRE", KEYS[1], ARGV[2])
    return tonumber(token)
  end
  -- The counter is gone (deleted by hand or evicted): fall through and start a new term.
elseif owner then
  return -2
end
local token = rcall("INCR", KEYS[2])
rcall("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return token
