--[[
  Releases a conversation's lease, only if it is still this turn's, and tells the turns
  waiting for it (pub/sub on the lease key's own name).

  Input:
    KEYS[1] the conversation's lease
    ARGV[1] "<token>:<turnId>" of the turn releasing it

  Output:
    1 if released, 0 if the lease had expired or belongs to another turn
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  redis.call("PUBLISH", KEYS[1], "released")
  return 1
end
return 0
