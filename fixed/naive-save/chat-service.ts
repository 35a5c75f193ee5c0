import {
  assistantMessage,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../service/chat/chat-service.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";

/**
 * FIXED: append only this turn's messages. The fixed apps also run one turn of a
 * conversation at a time across all workers (lib/turns/turn-gate.ts), and the append is
 * refused if this turn's lease expired or the history changed since it was loaded.
 */
export class AgentChatService extends StoredChatService {
  override async handleTurn(turn: Turn): Promise<TurnResult> {
    const messages = await this.store.load(turn.key);
    const before = messages.length;
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages);
    const answer = assistantMessage(turn, reply);
    const after = await this.store.append(turn.key, [user, answer]);
    return { reply, messagesSeen: before + 1, before, after, key: turn.key };
  }
}
