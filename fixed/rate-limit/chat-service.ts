import type { Store } from "express-rate-limit";
import type { VariantDeps } from "../../scenarios/variant.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";
import { RedisTurnLimitStore, turnLimitPrefix } from "../../service/store/turn-limit-store.ts";

/** The history is kept right, in Redis: this lesson is about the rate limit in front of it. */
export class AgentChatService extends StoredChatService {}

/**
 * FIXED: the count lives in Redis (rate-limit-redis, on the app's own connection): every
 * worker and host adds to the same count of a verified user.
 */
export function turnLimitStore(deps: VariantDeps): Store {
  return new RedisTurnLimitStore(deps.redisClient(), turnLimitPrefix(deps.config));
}
