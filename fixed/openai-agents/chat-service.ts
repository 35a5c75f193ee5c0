import {
  chatMessagesOf,
  sandboxAgent,
  turnResultOf,
  userItem,
} from "../../scenarios/agents-sdk-agent.ts";
import type { VariantDeps } from "../../scenarios/variant.ts";
import { RedisSession } from "../../service/agents-sdk/redis-session.ts";
import { TurnSession } from "../../service/agents-sdk/turn-session.ts";
import type {
  ChatService,
  ConversationRef,
  Turn,
  TurnResult,
} from "../../service/chat/chat-service.ts";
import type { ChatMessage } from "../../service/contract.ts";
import { AssistantAgent } from "../../service/model/agent.ts";
import type { ConversationStore } from "../../service/store/conversation-store.ts";
import type { RedisClient } from "../../service/store/redis-client.ts";
import type { ReplicaWait } from "../../service/store/replica-wait.ts";
import { commitTurn } from "../../service/turns/leased-store.ts";

/**
 * FIXED: each conversation's session lives in Redis under its verified key, so every worker
 * reads and extends the same one. Each turn opens a session of its own (TurnSession): the run
 * reads only the context window, and the items it adds are committed with the turn's record
 * under its lease, in one script: overlapping turns never interleave, and a retried turnId
 * is answered from the stored items.
 */
export class AgentChatService implements ChatService {
  readonly backend: string;
  private readonly sdk: ReturnType<typeof sandboxAgent>;
  private readonly redis: RedisClient;
  private readonly store: ConversationStore;
  private readonly contextWindow: number;
  private readonly ttlSeconds: number;
  private readonly replicaWait: ReplicaWait;

  constructor(deps: VariantDeps) {
    this.contextWindow = deps.config.CONTEXT_WINDOW_MESSAGES;
    this.ttlSeconds = deps.config.CONVERSATION_TTL_SECONDS;
    this.sdk = sandboxAgent(new AssistantAgent("assistant", deps.config), this.contextWindow);
    this.redis = deps.redisClient();
    // A commit counts once the replicas a failover could promote have it, as an append does.
    this.replicaWait = deps.replicaWait();
    // The store the turn gate leases conversations in; this service asks it only for ping and close.
    this.store = deps.redisStore();
    this.backend = this.store.backend;
  }

  async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {
    const { redis, contextWindow, ttlSeconds, replicaWait } = this;
    const session = new TurnSession({
      redis,
      key: turn.key,
      recentItems: contextWindow,
      ttlSeconds,
      replicaWait,
    });
    const result = await this.sdk.runner.run(this.sdk.agentFor(turn), [userItem(turn)], {
      session,
    });
    const outcome = turnResultOf(result.finalOutput, session.historyLength ?? 0, contextWindow);
    await commitTurn(store, (record) => session.commit(record, outcome.before));
    return outcome;
  }

  async history(ref: ConversationRef): Promise<ChatMessage[]> {
    const session = new RedisSession({ redis: this.redis, key: ref.key });
    return chatMessagesOf(await session.getItems());
  }

  async storeReachable(): Promise<boolean> {
    return this.store.ping();
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
