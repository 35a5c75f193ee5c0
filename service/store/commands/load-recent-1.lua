--[[
  Reads the most recent messages of a conversation and the length of its whole history,
  in one atomic step, so the length is the version of exactly the messages returned.

  Input:
    KEYS[1] the conversation's message list

    ARGV[1] how many of the most recent messages to return

  Output:
    { length, message, message, ... } oldest first
]]
local length = redis.call("LLEN", KEYS[1])
local recent = redis.call("LRANGE", KEYS[1], -tonumber(ARGV[1]), -1)
table.insert(recent, 1, length)
return recent
