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
  override async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {
    const { messages, length: before } = await store.loadRecent(turn.key, this.contextWindow);
    const state: ConversationState = { messages };
    const loaded = state.messages.length;
    const working = structuredClone(state);
    working.messages.push(userMessage(turn));
    const reply = await this.assistant.generateReply(working.messages, turn.onDelta);
    working.messages.push(assistantMessage(turn, reply));
    const after = await store.append(turn.key, working.messages.slice(loaded));
    return { reply, messagesSeen: loaded + 1, before, after };
  }
}
