--[[
  Clears an Agents SDK session: its items and its applied operationIds go together, so a
  cleared session accepts any operationId again.

  Input:
    KEYS[1] the session's item list
    KEYS[2] the session's applied operations

  Output:
    the number of keys deleted
]]
return redis.call("DEL", KEYS[1], KEYS[2])
