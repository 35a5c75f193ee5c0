--[[
  Appends one turn's messages only if the writer still holds the conversation's lease
  (fencing token) and the history is still the one it read (version = length). A worker
  whose lease expired, or that read a history another turn has since extended, is refused:
  no lost update, no reply generated from a stale history. On success it also records the
  turn as completed and releases the lease, in the same step, and tells the turns waiting for
  the lease (pub/sub on the lease key's own name). A streamed turn's done event is written
  in the same step too: the stored reply and the stream can never disagree.

  Input:
    KEYS[1] the conversation's message list (JSON strings, oldest first)
    KEYS[2] the conversation's lease ("<token>:<turnId>")
    KEYS[3] the conversation's completed turns (hash turnId -> position)
    KEYS[4] the turn's stream when ARGV[5] is set (else KEYS[1], unread)

    ARGV[1] idle expiry, in seconds
    ARGV[2] the writer's token
    ARGV[3] the turnId
    ARGV[4] the list length the writer read (expected version)
    ARGV[5] the done event's id in the turn's stream ("" for a turn that is not streamed)
    ARGV[6] the done event's data (JSON)
    ARGV[7] expiry of the stream, in seconds
    ARGV[8..] the messages to append, as JSON, in order

  Output:
    the list's length after the append (at least 1), or a refusal, nothing stored:
    -1 lease lost       the lease expired or another turn holds it now
    -2 history changed  the list's length is not ARGV[4]
    -3 already stored   this turnId is already recorded as completed
]]
if redis.call("GET", KEYS[2]) ~= ARGV[2] .. ":" .. ARGV[3] then
  return -1
end
local length = redis.call("LLEN", KEYS[1])
if length ~= tonumber(ARGV[4]) then
  return -2
end
if redis.call("HEXISTS", KEYS[3], ARGV[3]) == 1 then
  return -3
end
local after = redis.call("RPUSH", KEYS[1], unpack(ARGV, 8))
redis.call("HSET", KEYS[3], ARGV[3], length)
redis.call("EXPIRE", KEYS[1], ARGV[1])
redis.call("EXPIRE", KEYS[3], ARGV[1])
if ARGV[5] ~= "" then
  redis.call("XADD", KEYS[4], "0-" .. ARGV[5], "e", "done", "d", ARGV[6])
  redis.call("EXPIRE", KEYS[4], ARGV[7])
end
redis.call("DEL", KEYS[2])
redis.call("PUBLISH", KEYS[2], "released")
return after
