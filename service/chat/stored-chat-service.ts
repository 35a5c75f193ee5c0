import type { ChatMessage } from "../contract.ts";
import { AssistantAgent } from "../model/agent.ts";
import type { ConversationStore } from "../store/conversation-store.ts";
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
} from "./chat-service.ts";

/**
 * FIXED: this object keeps no conversation state. Every turn rehydrates the recent history
 * from shared storage (Redis), runs the agent, and persists the new messages in one atomic
 * append before answering, so any worker can serve the next turn. The store-backed
 * scenarios extend it, so each scenario's file holds only its lesson.
 */
export class StoredChatService implements ChatService {
  readonly backend: string;
  protected readonly assistant: AssistantAgent;
  protected readonly store: ConversationStore;
  /** Every key this service writes must start with it (REDIS_KEY_PREFIX). */
  protected readonly keyPrefix: string;
  /** The agent is given at most this many earlier messages (CONTEXT_WINDOW_MESSAGES). */
  protected readonly contextWindow: number;

  constructor(deps: ServiceDeps, store?: ConversationStore) {
    this.assistant = new AssistantAgent("assistant", deps.config);
    this.store = store ?? deps.redisStore();
    this.backend = this.store.backend;
    this.keyPrefix = deps.config.REDIS_KEY_PREFIX;
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
