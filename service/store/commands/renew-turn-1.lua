--[[
  Extends a conversation's lease, only if it is still this turn's: a turn that runs longer
  than one lease keeps its conversation, and a lease that expired (its worker stalled or
  lost Redis for longer than the lease) is never brought back.

  Input:
    KEYS[1] the conversation's lease
    ARGV[1] "<token>:<turnId>" of the turn renewing it
    ARGV[2] the new lease duration, in milliseconds

  Output:
    1 if renewed, 0 if the lease had expired or belongs to another turn
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
