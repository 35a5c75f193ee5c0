import type { VariantDeps } from "../../scenarios/variant.ts";
import { WorkerMemoryTurnStreams } from "../../scenarios/worker-memory-streams.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";
import type { TurnStreams } from "../../service/streams/turn-streams.ts";

/** The history is kept right, in Redis: this lesson is about the reply while it is written. */
export class AgentChatService extends StoredChatService {}

/**
 * BROKEN: a streamed reply's events are kept in the memory of the worker that produces them,
 * the pattern of popular resumable-stream libraries. A client whose connection drops and
 * reconnects to another worker (or to any worker after the producing one died) finds no
 * stream there: the rest of the reply is lost to it, though the turn was stored.
 */
export function turnStreams(deps: VariantDeps): TurnStreams {
  return new WorkerMemoryTurnStreams(deps.config.STREAM_TTL_SECONDS);
}
