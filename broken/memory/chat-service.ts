import { AssistantAgent } from "../../lib/agent.ts";
import {
  assistantMessage,
  type ChatService,
  type ConversationRef,
  type ServiceDeps,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../lib/chat-service.ts";
import type { ChatMessage } from "../../lib/types.ts";

/**
 * BROKEN: the conversation history lives in this object, in this worker's memory.
 * Each cluster worker has its own copy, so a conversation whose turns land on
 * different workers is split between them: the agent forgets, messages disappear.
 */
export class AgentChatService implements ChatService {
  readonly backend = "memory";
  private readonly assistant: AssistantAgent;
  private readonly histories = new Map<string, ChatMessage[]>();

  constructor(deps: ServiceDeps) {
    this.assistant = new AssistantAgent("assistant", deps.config);
  }

  async handleTurn(turn: Turn): Promise<TurnResult> {
    const messages = this.histories.get(turn.key) ?? [];
    const before = messages.length;
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages);
    messages.push(assistantMessage(turn, reply));
    this.histories.set(turn.key, messages);
    return { reply, messagesSeen: before + 1, before, after: messages.length };
  }

  async history(ref: ConversationRef): Promise<ChatMessage[]> {
    return this.histories.get(ref.key) ?? [];
  }

  async storeReachable(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
