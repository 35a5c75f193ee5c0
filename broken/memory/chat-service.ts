import {
  assistantMessage,
  type ChatService,
  type ConversationRef,
  type ServiceDeps,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../service/chat/chat-service.ts";
import type { ChatMessage } from "../../service/contract.ts";
import { AssistantAgent } from "../../service/model/agent.ts";

/**
 * BROKEN: the conversation history lives in this object, in this worker's memory.
 * Each cluster worker has its own copy, so a conversation whose turns land on
 * different workers is split between them: the agent forgets, messages disappear.
 */
export class AgentChatService implements ChatService {
  readonly backend = "memory";
  private readonly assistant: AssistantAgent;
  private readonly histories = new Map<string, ChatMessage[]>();
  private readonly contextWindow: number;

  constructor(deps: ServiceDeps) {
    this.assistant = new AssistantAgent("assistant", deps.config);
    this.contextWindow = deps.config.CONTEXT_WINDOW_MESSAGES;
  }

  async handleTurn(turn: Turn): Promise<TurnResult> {
    const history = this.histories.get(turn.key) ?? [];
    const before = history.length;
    const messages = history.slice(-this.contextWindow);
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages, turn.onDelta);
    const answer = assistantMessage(turn, reply);
    history.push(user, answer);
    this.histories.set(turn.key, history);
    return { reply, messagesSeen: messages.length, before, after: history.length, key: turn.key };
  }

  async history(ref: ConversationRef): Promise<ChatMessage[]> {
    return this.histories.get(ref.key) ?? [];
  }

  async storeReachable(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
