--[[
  Reads one checkpoint of a thread's namespace with everything needed to rebuild it, in
  one atomic step: a consistent snapshot, one round trip.

  Input:
    KEYS[1] the namespace's index (sorted set of checkpoint ids)
    KEYS[2] the namespace's checkpoints (hash checkpoint id -> record JSON)
    KEYS[3] the namespace's channel values (hash JSON [channel, version] -> serialized value)
    KEYS[4] the namespace's pending writes (hash checkpoint id -> JSON object of writes)

    ARGV[1] the checkpoint id, or "" for the newest

  Output:
    nil when there is no such checkpoint, else
    { id, record, writes, parentWrites, value, value, ... }
    writes: its pending writes as JSON ("" for none); parentWrites: the parent's, only for a
    checkpoint older than format 4 (its pending sends live there), else ""; one value per
    field the record's "blobs" lists, in order, "" for a value not stored
]]
local id = ARGV[1]
if id == "" then
  id = redis.call("ZREVRANGEBYLEX", KEYS[1], "+", "-", "LIMIT", 0, 1)[1]
  if not id then
    return nil
  end
end
local record = redis.call("HGET", KEYS[2], id)
if not record then
  return nil
end
local head = cjson.decode(record)
local reply = { id, record, redis.call("HGET", KEYS[4], id) or "", "" }
if head.parent ~= "" and head.v < 4 then
  reply[4] = redis.call("HGET", KEYS[4], head.parent) or ""
end
for _, field in ipairs(head.blobs) do
  -- "" rather than nil: a nil would end the reply array.
  table.insert(reply, redis.call("HGET", KEYS[3], field) or "")
end
return reply
