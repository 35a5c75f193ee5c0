import { join } from "node:path";
import type { VariantDeps } from "../../scenarios/variant.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";

/**
 * BROKEN: the article's file store, one JSON file per conversation, but each worker
 * keeps its files in a directory of its own, as separate containers or hosts each have
 * their own disk. Each worker only knows the turns it served.
 */
export class AgentChatService extends StoredChatService {
  constructor(deps: VariantDeps) {
    super(deps, deps.fileStore(join(deps.config.STATE_DIR, `worker-${process.pid}`)));
  }
}
