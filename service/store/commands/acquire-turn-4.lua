--[[
  Lets one turn of a conversation run at a time, across every worker and host, and
  recognises a turn that already ran (idempotency by turnId).

  Input:
    KEYS[1] the conversation's lease (value "<token>:<turnId>", expires by itself)
    KEYS[2] the conversation's completed turns (hash turnId -> position of its user message)
    KEYS[3] the conversation's fencing counter
    KEYS[4] the conversation's message list

    ARGV[1] the turnId asking to run
    ARGV[2] lease duration, in milliseconds
    ARGV[3] idle expiry of the conversation, in seconds
    ARGV[4] how many recent messages to return with the lease (the agent's context window)
    ARGV[5] a random nonce from the asking worker, made part of the token

  The token is "<counter>.<nonce>". The counter orders the leases one primary handed out;
  the nonce keeps a token unique across a failover: a promoted replica may lack the last
  INCR (replication is asynchronous) and hand out that counter again, never that token.

  Output:
    { "done", position }   the turn already completed: answer from the stored messages
    { "running", ms }      this very turn is running elsewhere (a retry)
    { "busy", turnId, ms } another turn of the conversation is running; its lease ends in
                           ms milliseconds at the latest (unless it is renewed)
    { "acquired", token, length, message, ... }
                           this turn may run (its writes must carry the token), with the
                           history's length and most recent messages: no second round trip
]]
local position = redis.call("HGET", KEYS[2], ARGV[1])
if position then
  return { "done", position }
end
local holder = redis.call("GET", KEYS[1])
if holder then
  local holderTurn = string.match(holder, "^[^:]+:(.*)$")
  local ms = tostring(redis.call("PTTL", KEYS[1]))
  if holderTurn == ARGV[1] then
    return { "running", ms }
  end
  return { "busy", holderTurn, ms }
end
local token = redis.call("INCR", KEYS[3]) .. "." .. ARGV[5]
redis.call("EXPIRE", KEYS[3], ARGV[3])
redis.call("SET", KEYS[1], token .. ":" .. ARGV[1], "PX", ARGV[2])
local reply = redis.call("LRANGE", KEYS[4], -tonumber(ARGV[4]), -1)
table.insert(reply, 1, tostring(redis.call("LLEN", KEYS[4])))
table.insert(reply, 1, tostring(token))
table.insert(reply, 1, "acquired")
return reply
