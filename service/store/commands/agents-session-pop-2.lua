--[[
  Removes and returns the newest item of an Agents SDK session, refreshing its expiry.

  Input:
    KEYS[1] the session's item list
    KEYS[2] the session's applied operations

    ARGV[1] idle expiry, in seconds (0: none)

  Output:
    the item's JSON, or nil when the list is empty
]]
local item = redis.call("RPOP", KEYS[1])
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  redis.call("EXPIRE", KEYS[1], ttl)
  redis.call("EXPIRE", KEYS[2], ttl)
end
return item
