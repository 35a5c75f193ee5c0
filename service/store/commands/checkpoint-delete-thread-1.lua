--[[
  Deletes every key of one LangGraph thread, in one atomic step. The per-namespace keys are
  built here from the namespaces set: they all share the thread's hash tag, so in a Redis
  Cluster they live in the same slot as KEYS[1].

  Input:
    KEYS[1] the thread's namespaces (set of percent-encoded checkpoint_ns)

    ARGV[1] the thread's key base (every key of the thread is base .. kind .. ":" .. ns)

  Output:
    the number of keys deleted
]]
local kinds = { "index:", "checkpoints:", "blobs:", "writes:" }
local deleted = 0
for _, ns in ipairs(redis.call("SMEMBERS", KEYS[1])) do
  for _, kind in ipairs(kinds) do
    deleted = deleted + redis.call("DEL", ARGV[1] .. kind .. ns)
  end
end
return deleted + redis.call("DEL", KEYS[1])
