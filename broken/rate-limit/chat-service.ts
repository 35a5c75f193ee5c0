import { MemoryStore, type Store } from "express-rate-limit";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";

/** The history is kept right, in Redis: this lesson is about the rate limit in front of it. */
export class AgentChatService extends StoredChatService {}

/**
 * BROKEN: express-rate-limit's default store counts each user's turns in this worker's
 * memory. Every cluster worker keeps its own count, so a user whose turns spread over 4
 * workers gets about 4 times the limit through.
 */
export function turnLimitStore(): Store {
  return new MemoryStore();
}
