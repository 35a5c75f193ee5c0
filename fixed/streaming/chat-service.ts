import type { VariantDeps } from "../../scenarios/variant.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";
import { RedisTurnStreams } from "../../service/streams/redis-turn-streams.ts";
import type { TurnStreams } from "../../service/streams/turn-streams.ts";

/** The history is kept right, in Redis: this lesson is about the reply while it is written. */
export class AgentChatService extends StoredChatService {}

/**
 * FIXED: a streamed reply's events are kept in a Redis Stream per turn, appended as the model
 * writes them (fenced by the turn's lease), its done event in the same script as the turn's
 * messages. A client that reconnects to any worker, on any host, with Last-Event-ID gets
 * exactly the events it missed, then the live ones; if the producer died, an error event
 * once its lease lapses, and a retry with the same turnId runs the turn once.
 */
export function turnStreams(deps: VariantDeps): TurnStreams {
  return new RedisTurnStreams(deps.redisClient(), deps.streamSettings);
}
