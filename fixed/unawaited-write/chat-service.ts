import {
  assistantMessage,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../service/chat/chat-service.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";

/**
 * FIXED: the append is awaited before answering, so when the client sees the reply the
 * turn is stored, and the next turn, on any worker, reads it.
 * (STORE_WRITE_DELAY_MS makes the write take a fixed time: this variant just waits for it.)
 */
export class AgentChatService extends StoredChatService {
  override async handleTurn(turn: Turn): Promise<TurnResult> {
    const messages = await this.store.load(turn.key);
    const before = messages.length;
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages);
    const after = await this.store.append(turn.key, [user, assistantMessage(turn, reply)]);
    return { reply, messagesSeen: before + 1, before, after };
  }
}
