--[[
  Appends items to an Agents SDK session (service/agents-sdk/redis-session.ts) and refreshes
  its expiry, in one step: a concurrent call's items never interleave with these.

  Input:
    KEYS[1] the session's item list (canonical JSON, oldest first)
    KEYS[2] the session's applied operations (hash operationId -> transaction JSON)

    ARGV[1] idle expiry, in seconds (0: none)
    ARGV[2..] the items, as JSON, in order

  Output:
    the list's length after the append
]]
-- RPUSH in chunks: unpack has a stack limit.
for first = 2, #ARGV, 1000 do
  redis.call("RPUSH", KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  redis.call("EXPIRE", KEYS[1], ttl)
  redis.call("EXPIRE", KEYS[2], ttl)
end
return redis.call("LLEN", KEYS[1])
