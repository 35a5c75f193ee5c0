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
 * BROKEN: the agent step works on a deep copy of the conversation state, and the turn
 * writes back the canonical state, which never saw the new messages. (A shallow copy,
 * `{ ...state }`, would hide this: it shares the messages array with the original.)
 */
export class AgentChatService extends StoredChatService {
  override async handleTurn(turn: Turn): Promise<TurnResult> {
    const state: ConversationState = { messages: await this.store.load(turn.key) };
    const before = state.messages.length;
    const working = structuredClone(state);
    working.messages.push(userMessage(turn));
    const reply = await this.assistant.generateReply(working.messages);
    working.messages.push(assistantMessage(turn, reply));
    const after = await this.store.append(turn.key, state.messages.slice(before));
    return { reply, messagesSeen: before + 1, before, after };
  }
}
