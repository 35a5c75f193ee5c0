import {
  assistantMessage,
  type ChatService,
  type ConversationRef,
  type HistoryPage,
  type HistoryPageRequest,
  pageAt,
  pageStart,
  type ServiceDeps,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../service/chat/chat-service.ts";
import type { ChatMessage } from "../../service/contract.ts";
import { AssistantAgent } from "../../service/model/agent.ts";
import type { ConversationStore } from "../../service/store/conversation-store.ts";

/**
 * FIXED: this object keeps no conversation state. Every turn rehydrates the history
 * from shared storage (Redis), runs the agent, and persists the new messages in one
 * atomic append before answering, so any worker can serve the next turn.
 */
export class AgentChatService implements ChatService {
  readonly backend: string;
  private readonly assistant: AssistantAgent;
  private readonly store: ConversationStore;
  private readonly contextWindow: number;

  constructor(deps: ServiceDeps) {
    this.assistant = new AssistantAgent("assistant", deps.config);
    this.store = deps.redisStore();
    this.backend = this.store.backend;
    this.contextWindow = deps.config.CONTEXT_WINDOW_MESSAGES;
  }

  async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {
    const { messages, length: before } = await store.loadRecent(turn.key, this.contextWindow);
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages, turn.onDelta);
    const answer = assistantMessage(turn, reply);
    const after = await store.append(turn.key, [user, answer]);
    return { reply, messagesSeen: messages.length, before, after, key: turn.key };
  }

  async history(ref: ConversationRef): Promise<ChatMessage[]> {
    return this.store.load(ref.key);
  }

  /** One store read per page: the newest with its length (loadRecent), an older one by range. */
  async historyPage(
    ref: ConversationRef,
    { limit, before }: HistoryPageRequest,
  ): Promise<HistoryPage> {
    if (before === undefined) {
      const { messages, length } = await this.store.loadRecent(ref.key, limit);
      return pageAt(length - messages.length, messages);
    }
    const start = pageStart(before, limit);
    return pageAt(start, await this.store.loadRange(ref.key, start, before - start));
  }

  async storeReachable(): Promise<boolean> {
    return this.store.ping();
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
