import { join } from "node:path";
import type { VariantDeps } from "../../scenarios/variant.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";

/**
 * FIXED: every worker reads and writes one shared directory; each write replaces the
 * conversation's file atomically (temp file, then rename). Correct for the workers of
 * one machine; several machines need shared storage such as Redis.
 */
export class AgentChatService extends StoredChatService {
  constructor(deps: VariantDeps) {
    super(deps, deps.fileStore(join(deps.config.STATE_DIR, "shared")));
  }
}
