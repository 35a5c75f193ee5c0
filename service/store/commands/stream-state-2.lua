--[[
  What a reader waiting on a turn's stream should do when no event came for a while, and
  the end of a stream whose producer is gone: an attempt that no longer holds the turn's
  lease and wrote no done or error event never will (it crashed, or its lease lapsed and its
  writes are fenced), so the stream ends with an error event, written once, here, so every
  reader sees the same one.

  Input:
    KEYS[1] the turn's stream
    KEYS[2] the conversation's lease (value "<token>:<turnId>")

    ARGV[1] the turnId
    ARGV[2] "1" when the turn's producer holds a lease (a turn gate); "0" never interrupts
    ARGV[3] the error event's data (JSON), if the stream must end now
    ARGV[4] expiry of the stream after that write, in seconds
    ARGV[5] "1" when this reader saw the turn running: a missing stream then means its
            producer died before its first event, and the stream is ended all the same

  Output:
    "running"      the turn holds the lease: its producer is alive
    "missing"      no stream and no running turn: never started, or expired (and the reader
                   never saw it running)
    "ended"        the stream's last event is done or error
    "open"         no terminal event (or no event yet, ARGV[5] "1"), and no lease to judge
                   by (ARGV[2] is "0")
    "interrupted"  the error event was just written
]]
local holder = redis.call("GET", KEYS[2])
if holder and string.match(holder, "^[^:]+:(.*)$") == ARGV[1] then
  return "running"
end
local function interrupt(id)
  redis.call("XADD", KEYS[1], "0-" .. id, "e", "error", "d", ARGV[3])
  redis.call("EXPIRE", KEYS[1], ARGV[4])
  return "interrupted"
end
local last = redis.call("XREVRANGE", KEYS[1], "+", "-", "COUNT", 1)[1]
if not last then
  if ARGV[5] ~= "1" then
    return "missing"
  end
  if ARGV[2] ~= "1" then
    return "open"
  end
  return interrupt(1)
end
local fields = last[2]
local event = fields[2]
if fields[1] ~= "e" then
  for i = 1, #fields, 2 do
    if fields[i] == "e" then event = fields[i + 1] end
  end
end
if event == "done" or event == "error" then
  return "ended"
end
if ARGV[2] ~= "1" then
  return "open"
end
return interrupt(tonumber(string.match(last[1], "-(%d+)$")) + 1)
