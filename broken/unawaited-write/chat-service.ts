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
  override async handleTurn(turn: Turn): Promise<TurnResult> {
    const messages = await this.store.load(turn.key);
    const before = messages.length;
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages);
    void this.store.append(turn.key, [user, assistantMessage(turn, reply)]);
    return { reply, messagesSeen: before + 1, before, after: before + 2 };
  }
}
