--[[
  Applies an Agents SDK history transaction: replaces the last n items by new ones if they
  are the expected ones, once per operationId (append_items is the case n = 0).

  Input:
    KEYS[1] the session's item list
    KEYS[2] the session's applied operations (hash operationId -> transaction JSON)

    ARGV[1] idle expiry, in seconds (0: none)
    ARGV[2] the operationId
    ARGV[3] the transaction's canonical JSON
    ARGV[4] n, the length of the expected suffix
    ARGV[5..4+n] the expected suffix, as JSON
    ARGV[5+n..] the new items, as JSON

  Output (nothing changes unless 1):
     1 applied
     0 already applied under this operationId (the same transaction)
    -1 the operationId was used by another transaction
    -2 the suffix no longer matches
]]
local applied = redis.call("HGET", KEYS[2], ARGV[2])
if applied then
  if applied == ARGV[3] then return 0 end
  return -1
end
local n = tonumber(ARGV[4])
local length = redis.call("LLEN", KEYS[1])
if n > length then return -2 end
if n > 0 then
  local suffix = redis.call("LRANGE", KEYS[1], -n, -1)
  for i = 1, n do
    if suffix[i] ~= ARGV[4 + i] then return -2 end
  end
  if n == length then
    redis.call("DEL", KEYS[1])
  else
    redis.call("LTRIM", KEYS[1], 0, length - n - 1)
  end
end
-- RPUSH in chunks: unpack has a stack limit.
for first = 5 + n, #ARGV, 1000 do
  redis.call("RPUSH", KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
redis.call("HSET", KEYS[2], ARGV[2], ARGV[3])
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  redis.call("EXPIRE", KEYS[1], ttl)
  redis.call("EXPIRE", KEYS[2], ttl)
end
return 1
