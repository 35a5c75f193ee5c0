--[[
  Appends items to an Agents SDK session (service/agents-sdk/redis-session.ts) and refreshes
  its expiry, in one step: a concurrent call's items never interleave with these. Under a
  turn's lease (service/agents-sdk/turn-session.ts), only while the lease is still the turn's,
  and the same step records the turn as completed, ends the lease and wakes the turns
  waiting for it, as append-turn-4.lua does, and appends a streamed turn's done event to its
  stream.

  Input:
    KEYS[1] the session's item list (canonical JSON, oldest first)
    KEYS[2] the session's applied operations (hash operationId -> transaction JSON)
    KEYS[3] the turn's lease when fenced (else any key of the session, unread)
    KEYS[4] the conversation's completed turns (hash turnId -> position) when fenced
            (else any key of the session, unread)
    KEYS[5] the turn's stream when ARGV[5] is set (else any key of the session, unread)

    ARGV[1] idle expiry, in seconds (0: none)
    ARGV[2] the lease holder the writer expects ("<token>:<turnId>"; "" when not fenced)
    ARGV[3] the turnId the items complete ("" when not fenced)
    ARGV[4] the position of that turn's user item in the session
    ARGV[5] the done event's id in the turn's stream ("" for a turn that is not streamed)
    ARGV[6] the done event's data (JSON)
    ARGV[7] expiry of the stream, in seconds
    ARGV[8..] the items, as JSON, in order

  Output:
    the list's length after the append, or a refusal, nothing stored:
    -1 lease lost      the lease expired or another turn holds it now
    -3 already stored  this turnId is already recorded as completed
]]
local fenced = ARGV[2] ~= ""
if fenced and redis.call("GET", KEYS[3]) ~= ARGV[2] then
  return -1
end
if fenced and redis.call("HEXISTS", KEYS[4], ARGV[3]) == 1 then
  return -3
end
-- RPUSH in chunks: unpack has a stack limit.
for first = 8, #ARGV, 1000 do
  redis.call("RPUSH", KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  redis.call("EXPIRE", KEYS[1], ttl)
  redis.call("EXPIRE", KEYS[2], ttl)
end
if fenced then
  redis.call("HSET", KEYS[4], ARGV[3], ARGV[4])
  if ttl > 0 then
    redis.call("EXPIRE", KEYS[4], ttl)
  end
  redis.call("DEL", KEYS[3])
  redis.call("PUBLISH", KEYS[3], "released")
end
if ARGV[5] ~= "" then
  redis.call("XADD", KEYS[5], "0-" .. ARGV[5], "e", "done", "d", ARGV[6])
  redis.call("EXPIRE", KEYS[5], ARGV[7])
end
return redis.call("LLEN", KEYS[1])
