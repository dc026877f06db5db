--[[
  Record that a model's window was evaluated, fenced: only the holder of the current token may
  commit, and each window at most once (invariant 4). The token check is enough on its own: a
  lapsed owner's token stays current until someone takes over, and the first commit of a window
  wins either way.

    Input:
      KEYS[1]  fencing token key
      KEYS[2]  evaluation hash (fields windowEnd, state)

      ARGV[1]  token
      ARGV[2]  window end, ms
      ARGV[3]  state
      ARGV[4]  optional 'revise': replace the state of the window already recorded (a revised
               report's bookkeeping), which must end at ARGV[2]; same token check

    Output:
      1   committed
      -3  fenced: the token is not the current one
      -4  duplicate: a window ending at or after this one is already recorded (revise: the
          recorded window is not this one)
]]
local rcall = redis.call
if rcall("GET", KEYS[1]) ~= ARGV[1] then
  return -3
end
local last = rcall("HGET", KEYS[2], "windowEnd")
if ARGV[4] == "revise" then
  if not last or tonumber(last) ~= tonumber(ARGV[2]) then
    return -4
  end
  rcall("HSET", KEYS[2], "state", ARGV[3])
  return 1
end
if last and tonumber(last) >= tonumber(ARGV[2]) then
  return -4
end
rcall("HSET", KEYS[2], "windowEnd", ARGV[2], "state", ARGV[3])
return 1
