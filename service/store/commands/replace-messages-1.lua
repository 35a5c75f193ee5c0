--[[
  Replaces a conversation's whole history (the "load, generate, save everything back"
  pattern of the naive-save scenario: under overlapping turns the last writer wins).

  Input:
    KEYS[1] the conversation's message list

    ARGV[1] idle expiry, in seconds
    ARGV[2..] the whole history, as JSON, in order

  Output:
    the list's length
]]
redis.call("DEL", KEYS[1])
local length = 0
-- In chunks: Lua's unpack cannot spread more than a few thousand values at once.
for first = 2, #ARGV, 1000 do
  length = redis.call("RPUSH", KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
if length > 0 then
  redis.call("EXPIRE", KEYS[1], ARGV[1])
end
return length
