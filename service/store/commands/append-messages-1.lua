--[[
  Appends one turn's messages to a conversation and refreshes its idle expiry, atomically.

  Input:
    KEYS[1] the conversation's message list (JSON strings, oldest first)

    ARGV[1] idle expiry, in seconds
    ARGV[2..] the messages to append, as JSON, in order

  Output:
    the list's length after the append
]]
local length = redis.call("RPUSH", KEYS[1], unpack(ARGV, 2))
redis.call("EXPIRE", KEYS[1], ARGV[1])
return length
