--[[
  Stores a task's pending writes against one checkpoint, in one atomic step, idempotent per
  (task_id, idx) as LangGraph's MemorySaver is: a regular write (idx >= 0) already stored is
  kept, a special one (negative idx: error, interrupt, ...) is replaced. Refuses, storing
  nothing, when the turn's lease is lost (fenced).

  Input:
    KEYS[1] the thread's namespaces (set of percent-encoded checkpoint_ns)
    KEYS[2] the namespace's index (only its expiry is refreshed)
    KEYS[3] the namespace's checkpoints (only its expiry is refreshed)
    KEYS[4] the namespace's channel values (only its expiry is refreshed)
    KEYS[5] the namespace's pending writes (hash checkpoint id -> JSON object
            "<task_id>,<idx>" -> write record)
    KEYS[6] the turn's lease when fenced (else any key of the thread, unread)

    ARGV[1] idle expiry of the thread's keys, in seconds (0: none)
    ARGV[2] the lease holder the writer expects ("" when not fenced)
    ARGV[3] the checkpoint id the writes belong to
    ARGV[4] the percent-encoded checkpoint_ns
    ARGV[5..] triples: field "<task_id>,<idx>", "1" to replace a stored one ("0" to keep
              it), the write record

  Output:
    how many writes were stored (0 or more), or -1 lease lost: nothing stored
]]
if ARGV[2] ~= "" and redis.call("GET", KEYS[6]) ~= ARGV[2] then
  return -1
end
local stored = redis.call("HGET", KEYS[5], ARGV[3])
local writes = stored and cjson.decode(stored) or {}
-- What was there before this call decides, as in MemorySaver.
local before = {}
for field in pairs(writes) do
  before[field] = true
end
local added = 0
for i = 5, #ARGV, 3 do
  if ARGV[i + 1] == "1" or not before[ARGV[i]] then
    writes[ARGV[i]] = ARGV[i + 2]
    added = added + 1
  end
end
redis.call("HSET", KEYS[5], ARGV[3], cjson.encode(writes))
redis.call("SADD", KEYS[1], ARGV[4])
if tonumber(ARGV[1]) > 0 then
  for i = 1, 5 do
    redis.call("EXPIRE", KEYS[i], ARGV[1])
  end
end
return added
