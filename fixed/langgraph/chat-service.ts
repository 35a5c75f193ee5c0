import {
  type AgentGraph,
  agentGraph,
  chatMessagesOf,
  humanMessage,
  runOf,
  threadMessages,
  turnResultOf,
} from "../../scenarios/langgraph-agent.ts";
import type { VariantDeps } from "../../scenarios/variant.ts";
import type {
  ChatService,
  ConversationRef,
  Turn,
  TurnResult,
} from "../../service/chat/chat-service.ts";
import type { ChatMessage } from "../../service/contract.ts";
import {
  RedisCheckpointSaver,
  type RedisCheckpointSaverOptions,
} from "../../service/langgraph/redis-checkpointer.ts";
import { TurnCheckpointer } from "../../service/langgraph/turn-checkpointer.ts";
import { AssistantAgent } from "../../service/model/agent.ts";
import type { ConversationStore } from "../../service/store/conversation-store.ts";
import { commitTurn } from "../../service/turns/leased-store.ts";

/**
 * FIXED: the same graph, its checkpoints in Redis (RedisCheckpointSaver): every worker reads
 * and extends the same thread. Each turn compiles it with a checkpointer of its own, and the
 * run stores one checkpoint (durability "exit"), committed with the turn's record under its
 * lease: overlapping turns cannot fork the thread, and a retried turnId is answered from it.
 */
export class AgentChatService implements ChatService {
  readonly backend: string;
  private readonly builder: ReturnType<typeof agentGraph>;
  private readonly graph: AgentGraph;
  private readonly checkpoints: RedisCheckpointSaverOptions;
  private readonly store: ConversationStore;
  private readonly contextWindow: number;

  constructor(deps: VariantDeps) {
    this.contextWindow = deps.config.CONTEXT_WINDOW_MESSAGES;
    const agent = new AssistantAgent("assistant", deps.config);
    this.builder = agentGraph(agent, this.contextWindow);
    // The thread id is the conversation key, which starts with REDIS_KEY_PREFIX: no prefix here.
    // Every checkpoint holds the whole thread: keep the newest two, not one per turn forever.
    const ttlSeconds = deps.config.CONVERSATION_TTL_SECONDS;
    const redis = deps.redisClient();
    // A commit counts once the replicas a failover could promote have it, as an append does.
    const replicaWait = deps.replicaWait();
    this.checkpoints = {
      redis,
      keyPrefix: "",
      ttlSeconds,
      forkGuard: true,
      keepCheckpoints: 2,
      replicaWait,
    };
    this.graph = this.builder.compile({ checkpointer: new RedisCheckpointSaver(this.checkpoints) });
    // The store the turn gate leases conversations in; this service asks it only for ping and close.
    this.store = deps.redisStore();
    this.backend = this.store.backend;
  }

  async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {
    const checkpointer = new TurnCheckpointer(this.checkpoints);
    const graph = this.builder.compile({ checkpointer });
    const config = { ...runOf(turn), durability: "exit" as const };
    const state = await graph.invoke({ messages: [humanMessage(turn)] }, config);
    const result = turnResultOf(state.messages, this.contextWindow);
    await commitTurn(store, (record) => checkpointer.commit(record, result.before));
    return result;
  }

  async history(ref: ConversationRef): Promise<ChatMessage[]> {
    return chatMessagesOf(await threadMessages(this.graph, ref.key));
  }

  async storeReachable(): Promise<boolean> {
    return this.store.ping();
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
