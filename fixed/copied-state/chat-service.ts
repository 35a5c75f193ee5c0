import {
  assistantMessage,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../service/chat/chat-service.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";
import type { ChatMessage } from "../../service/contract.ts";

interface ConversationState {
  messages: ChatMessage[];
}

/**
 * FIXED: the agent step may work on a deep copy of the conversation state, but the
 * turn writes back what the step changed, so the new messages reach the canonical store.
 */
export class AgentChatService extends StoredChatService {
  override async handleTurn(turn: Turn): Promise<TurnResult> {
    const state: ConversationState = { messages: await this.store.load(turn.key) };
    const before = state.messages.length;
    const working = structuredClone(state);
    working.messages.push(userMessage(turn));
    const reply = await this.assistant.generateReply(working.messages);
    working.messages.push(assistantMessage(turn, reply));
    const after = await this.store.append(turn.key, working.messages.slice(before));
    return { reply, messagesSeen: before + 1, before, after };
  }
}
