--[[
  Stores one LangGraph checkpoint of a thread's namespace in one atomic step: its record,
  the channel values it changed, and its place in the namespace's ordered index. Refuses,
  storing nothing, when the turn's lease is lost (fenced) or, with the fork guard on, when
  the parent the writer read is no longer the newest checkpoint: of two writers that read
  the same checkpoint, the second is refused and the chain never forks. With a turnId (a
  turn's one checkpoint, committed under its lease), the same step records the turn as
  completed, ends the lease and wakes the turns waiting for it, as append-turn-4.lua does,
  and appends a streamed turn's done event to its stream. With a limit, only the namespace's
  newest checkpoints are kept: older ones go, with the channel values only they held.

  Input:
    KEYS[1] the thread's namespaces (set of percent-encoded checkpoint_ns)
    KEYS[2] the namespace's index (sorted set, score 0, checkpoint ids in lexical order)
    KEYS[3] the namespace's checkpoints (hash checkpoint id -> record JSON)
    KEYS[4] the namespace's channel values (hash JSON [channel, version] -> serialized value)
    KEYS[5] the namespace's pending writes (hash checkpoint id -> JSON object of writes)
    KEYS[6] the turn's lease when fenced (else any key of the thread, unread)
    KEYS[7] the conversation's completed turns (hash turnId -> position) when ARGV[8] is set
            (else any key of the thread, unread)
    KEYS[8] the turn's stream when ARGV[10] is set (else any key of the thread, unread)

    ARGV[1] idle expiry of the thread's keys, in seconds (0: none)
    ARGV[2] the lease holder the writer expects ("" when not fenced)
    ARGV[3] "1" to apply the fork guard, "0" not to
    ARGV[4] the parent checkpoint id the writer read ("" for none)
    ARGV[5] the new checkpoint's id
    ARGV[6] the percent-encoded checkpoint_ns
    ARGV[7] the checkpoint's record (JSON)
    ARGV[8] the turnId this checkpoint completes ("" for none; needs the fence)
    ARGV[9] the position of that turn's user message in the conversation
    ARGV[10] the done event's id in the turn's stream ("" for a turn that is not streamed)
    ARGV[11] the done event's data (JSON)
    ARGV[12] expiry of the stream, in seconds
    ARGV[13] how many of the newest checkpoints to keep (0: all)
    ARGV[14..] pairs of channel value field and serialized value

  Output:
    { code, newest } where newest is the namespace's newest checkpoint id before the write
    ("" for none) and code is
     1 stored
    -1 lease lost         the lease expired or another turn holds it now
    -2 parent not latest  (fork guard) the newest checkpoint is not ARGV[4]
    -3 not newer          (fork guard) ARGV[5] does not sort after every stored id
    -4 already stored     the turnId ARGV[8] is already recorded as completed
]]
if ARGV[8] ~= "" and ARGV[2] == "" then
  return redis.error_reply("ERR a turnId is recorded only under the turn's lease (ARGV[2])")
end
if ARGV[2] ~= "" and redis.call("GET", KEYS[6]) ~= ARGV[2] then
  return { -1, "" }
end
if ARGV[8] ~= "" and redis.call("HEXISTS", KEYS[7], ARGV[8]) == 1 then
  return { -4, "" }
end
local newest = redis.call("ZREVRANGEBYLEX", KEYS[2], "+", "-", "LIMIT", 0, 1)[1] or ""
if ARGV[3] == "1" then
  if newest ~= ARGV[4] then
    return { -2, newest }
  end
  -- Lexical order by Redis itself, not Lua's locale-dependent string comparison.
  if #redis.call("ZRANGEBYLEX", KEYS[2], "[" .. ARGV[5], "+", "LIMIT", 0, 1) > 0 then
    return { -3, newest }
  end
end
for i = 14, #ARGV, 2 do
  redis.call("HSET", KEYS[4], ARGV[i], ARGV[i + 1])
end
redis.call("HSET", KEYS[3], ARGV[5], ARGV[7])
redis.call("ZADD", KEYS[2], 0, ARGV[5])
redis.call("SADD", KEYS[1], ARGV[6])
if tonumber(ARGV[1]) > 0 then
  for i = 1, 5 do
    redis.call("EXPIRE", KEYS[i], ARGV[1])
  end
end
local keep = tonumber(ARGV[13])
if keep > 0 then
  local older = redis.call("ZREVRANGEBYLEX", KEYS[2], "+", "-", "LIMIT", keep, -1)
  if #older > 0 then
    -- The channel values the kept checkpoints hold stay, even when an older one listed them.
    local held = {}
    for _, id in ipairs(redis.call("ZREVRANGEBYLEX", KEYS[2], "+", "-", "LIMIT", 0, keep)) do
      for _, field in ipairs(cjson.decode(redis.call("HGET", KEYS[3], id)).blobs) do
        held[field] = true
      end
    end
    for _, id in ipairs(older) do
      local record = redis.call("HGET", KEYS[3], id)
      for _, field in ipairs(record and cjson.decode(record).blobs or {}) do
        if not held[field] then redis.call("HDEL", KEYS[4], field) end
      end
      redis.call("HDEL", KEYS[3], id)
      redis.call("HDEL", KEYS[5], id)
      redis.call("ZREM", KEYS[2], id)
    end
  end
end
if ARGV[8] ~= "" then
  redis.call("HSET", KEYS[7], ARGV[8], ARGV[9])
  if tonumber(ARGV[1]) > 0 then
    redis.call("EXPIRE", KEYS[7], ARGV[1])
  end
  redis.call("DEL", KEYS[6])
  redis.call("PUBLISH", KEYS[6], "released")
end
if ARGV[10] ~= "" then
  redis.call("XADD", KEYS[8], "0-" .. ARGV[10], "e", "done", "d", ARGV[11])
  redis.call("EXPIRE", KEYS[8], ARGV[12])
end
return { 1, newest }
