--[[
  Appends events to one attempt of a streamed turn (service/streams/redis-turn-streams.ts),
  only while the writer still holds the turn's lease (fenced): a producer whose lease lapsed
  cannot write into a stream another attempt owns. Event ids are the turn's own 1, 2, 3, ...,
  stored as entry ids 0-1, 0-2, ..., so a reader resumes after "Last-Event-ID: n" with
  XREAD ... 0-n.

  Input:
    KEYS[1] the turn's stream
    KEYS[2] the conversation's lease when fenced (else KEYS[1], unread)

    ARGV[1] the lease holder the writer expects ("<token>:<turnId>"; "" when not fenced)
    ARGV[2] "1" to start the stream afresh (an earlier attempt's events are dropped), else "0"
    ARGV[3] expiry of the stream after this write, in seconds
    ARGV[4] the most events the stream keeps (older ones are trimmed)
    ARGV[5..] triples: the event's id, its type (delta, done, error), its data (JSON)

  Output:
    how many events were written, or -1 lease lost: nothing written
]]
if ARGV[1] ~= "" and redis.call("GET", KEYS[2]) ~= ARGV[1] then
  return -1
end
if ARGV[2] == "1" then
  redis.call("DEL", KEYS[1])
end
local written = 0
for i = 5, #ARGV, 3 do
  redis.call("XADD", KEYS[1], "MAXLEN", ARGV[4], "0-" .. ARGV[i], "e", ARGV[i + 1], "d", ARGV[i + 2])
  written = written + 1
end
if written > 0 then
  redis.call("EXPIRE", KEYS[1], ARGV[3])
end
return written
