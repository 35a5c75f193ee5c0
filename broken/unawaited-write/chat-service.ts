import {
  assistantMessage,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../service/chat/chat-service.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";

/**
 * BROKEN: the append is started but not awaited, so the answer goes out before the
 * write lands. The next turn, on any worker, can read the history without this turn.
 * (STORE_WRITE_DELAY_MS makes the write take a fixed time, so the race shows every run.)
 */
export class AgentChatService extends StoredChatService {
  override async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {
    const { messages, length: before } = await store.loadRecent(turn.key, this.contextWindow);
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages, turn.onDelta);
    const answer = assistantMessage(turn, reply);
    void store.append(turn.key, [user, answer]);
    return { reply, messagesSeen: messages.length, before, after: before + 2, key: turn.key };
  }
}
