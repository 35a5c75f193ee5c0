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
if #ARGV > 1 then
  length = redis.call("RPUSH", KEYS[1], unpack(ARGV, 2))
  redis.call("EXPIRE", KEYS[1], ARGV[1])
end
return length
