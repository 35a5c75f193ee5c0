import type { ChatMessage } from "../contract.ts";
import { AssistantAgent } from "../model/agent.ts";
import type { ConversationStore } from "../store/conversation-store.ts";
import {
  assistantMessage,
  type ChatService,
  type ConversationRef,
  type ServiceDeps,
  type Turn,
  type TurnResult,
  userMessage,
} from "./chat-service.ts";

/**
 * Plumbing for the chat services whose state lives in a ConversationStore (Redis unless
 * a subclass passes another), so each scenario's file holds only its lesson.
 * `handleTurn` is the correct pattern: rehydrate (the recent context window), run the
 * agent, append, then answer.
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
    this.contextWindow = deps.config.CONTEXT_WINDOW_MESSAGES;
    this.keyPrefix = deps.config.REDIS_KEY_PREFIX;
    this.assistant = new AssistantAgent("assistant", deps.config);
    this.store = store ?? deps.redisStore();
    this.backend = this.store.backend;
  }

  async handleTurn(turn: Turn): Promise<TurnResult> {
    const { messages, length: before } = await this.store.loadRecent(turn.key, this.contextWindow);
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages);
    const after = await this.store.append(turn.key, [user, assistantMessage(turn, reply)]);
    return { reply, messagesSeen: messages.length, before, after, key: turn.key };
  }

  async history(ref: ConversationRef): Promise<ChatMessage[]> {
    return this.store.load(ref.key);
  }

  async storeReachable(): Promise<boolean> {
    return this.store.ping();
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
